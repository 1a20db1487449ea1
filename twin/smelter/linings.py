"""Cathode linings: ages, cut-outs at the end of a lining's life, and the restart of the relined cell.

A cell whose lining reaches ``pot_life_days`` is cut out: its metal and bath are tapped out (booked as
tapped), shorting bars carry the line current past it (the kernel skips it; the rectifier, holding the
current, lowers the line voltage by the cell's voltage) and it is dug out and relined. ``reline_days``
later it is cut in again on a start-up bath: its own steady state of the run's start, but with a basic
bath (``startup_alf3_wt``), ``startup_superheat_K`` above that bath's liquidus, no ledge yet and a new
cathode (age 0: it takes up sodium fast). What goes in is booked (``reline_*_in`` counters), so the
cell's balances close across the reline.
"""
from __future__ import annotations

import numpy as np

from twin._core import pot
from twin.smelter.bath import liquidus
from twin.smelter.cell import (
    COUNTER,
    PARAM,
    STATE,
    bath_weight_fractions,
    cathode_age_resistance,
    crushed_fluorine_fraction,
    fluorine_of,
)
from twin.smelter.config import CellConfig, LiningConfig
from twin.smelter.operations import OPS

_BATH = [STATE[name] for name in ("cryolite", "alf3", "caf2", "alumina")]
# what a cut-out cell holds no more (its feeders stay as they are; temperatures fall to the potroom's)
_EMPTIED = [STATE[name] for name in ("cryolite", "alf3", "caf2", "alumina", "undissolved", "metal", "crushed",
                                     "ledge", "zone_dissolved_0", "zone_dissolved_1", "zone_dissolved_2",
                                     "zone_dissolved_3", "zone_undissolved_0", "zone_undissolved_1",
                                     "zone_undissolved_2", "zone_undissolved_3", "ae_on", "lvae_hold")]
_COOLED = [STATE[name] for name in ("t_bath", "t_shell", "t_cathode", "t_top")]
ROWS = {"age_days": 0, "back_at_s": 1, "started_at_s": 2}


class Linings:
    """Lining age of every cell and the relines; ``block`` (ages in days; run time each cut-out cell comes
    back, nan while in the line; run time of each cell's last cut-in, nan if none) and ``start_state`` (each
    cell's steady start) are checkpointed."""

    def __init__(self, cfg: LiningConfig, cell: CellConfig, cell_line: np.ndarray):
        self.cfg = cfg
        self.cell = cell
        n = len(cell_line)
        self.block = np.full((len(ROWS), n), np.nan)
        if cfg.start_ages == "spread":
            # the lines' cells interleaved over one life, so each line relines a cell every life / cells
            n_lines = int(cell_line.max()) + 1 if n else 1
            place = np.empty(n)
            for j in range(n_lines):
                mine = np.flatnonzero(cell_line == j)
                place[mine] = np.arange(len(mine)) * n_lines + j
            self.block[ROWS["age_days"]] = (place + 0.5) / max(n, 1) * cfg.pot_life_days
        else:
            self.block[ROWS["age_days"]] = cell.cathode_age_days
        self.start_state = np.zeros((len(STATE), n))     # set by the potlines' steady start

    @property
    def age_days(self) -> np.ndarray:
        return self.block[ROWS["age_days"]]

    def step(self, potlines, t0: float, t1: float) -> None:
        """Cut out the cells whose lining is spent and cut in those whose reline is done, at ``t0``; the
        linings in the line age by the interval."""
        p = potlines.params
        in_service = p[PARAM["in_service"]] > 0.5
        back_at = self.block[ROWS["back_at_s"]]
        for k in np.flatnonzero(~in_service & (back_at <= t0)):
            self.cut_in(potlines, int(k), t0)
        for k in np.flatnonzero(in_service & (self.age_days >= self.cfg.pot_life_days)):
            self.cut_out(potlines, int(k), t0)
        self.grow_older(potlines, t1 - t0)

    def grow_older(self, potlines, seconds: float) -> None:
        """The linings of the cells in the line age by ``seconds``; their cathode drops with them."""
        self.age_days[potlines.in_service()] += seconds / 86400.0
        self.set_cathode_resistance(potlines.params)

    def set_cathode_resistance(self, params: np.ndarray) -> None:
        """Each cell's cathode resistance above or below its reference, from its lining's age."""
        params[PARAM["r_cathode_age"]] = cathode_age_resistance(self.cell, self.age_days)

    def _days_since_start(self, k: int, time_s: float) -> float:
        """Days since cell k's last cut-in (inf if it has none in this run)."""
        started = self.block[ROWS["started_at_s"], k]
        return np.inf if np.isnan(started) else (time_s - started) / 86400.0

    def starting(self, k: int, time_s: float) -> bool:
        """Cell k is in its start-up's high-voltage phase."""
        return self._days_since_start(k, time_s) < self.cfg.startup_voltage_days

    def startup_additive(self, potlines, k: int, time_s: float) -> float:
        """Resistance-target additive (ohm) of cell k's start-up: ``startup_extra_V`` at the design current at
        the cut-in, lowered linearly to nothing over ``startup_voltage_days``."""
        left = max(1.0 - self._days_since_start(k, time_s) / self.cfg.startup_voltage_days, 0.0)
        return left * self.cfg.startup_extra_V / potlines.params[PARAM["nominal_current"], k]

    def alf3_target(self, k: int, time_s: float, line_target: float) -> float:
        """The crew's AlF3 target (wt %) for cell k: from the start-up bath's to the line's over
        ``startup_alf3_days`` after a cut-in, the line's otherwise."""
        share = min(self._days_since_start(k, time_s) / self.cfg.startup_alf3_days, 1.0)
        return self.cfg.startup_alf3_wt + share * (line_target - self.cfg.startup_alf3_wt)

    def cut_out(self, potlines, k: int, time_s: float) -> None:
        x, c, p = potlines.state, potlines.counters, potlines.params
        bath, crushed = x[_BATH, k].copy(), x[STATE["crushed"], k]
        c[COUNTER["metal_tapped"], k] += x[STATE["metal"], k]
        c[COUNTER["bath_tapped"], k] += bath.sum() + crushed
        c[COUNTER["bath_tapped_alumina"], k] += (bath[3] + x[STATE["undissolved"], k]
                                                 + p[PARAM["crushed_alumina"], k] * crushed)
        c[COUNTER["bath_tapped_fluorine"], k] += fluorine_of(*bath[:3]) + crushed_fluorine_fraction(p)[k] * crushed
        c[COUNTER["relines"], k] += 1.0
        potlines.ops.event(time_s, k, "cut_out", float(self.age_days[k]))
        x[_EMPTIED, k] = 0.0
        x[_COOLED, k] = potlines.params[PARAM["t_ambient"], k]
        potlines.params[PARAM["in_service"], k] = 0.0
        self.block[ROWS["back_at_s"], k] = time_s + self.cfg.reline_days * 86400.0

    def cut_in(self, potlines, k: int, time_s: float) -> None:
        x, c, cfg = potlines.state, potlines.counters, self.cfg
        x[:, k] = self.start_state[:, k]
        bath = x[_BATH, k].sum()
        others = x[STATE["caf2"], k] + x[STATE["alumina"], k]
        x[STATE["alf3"], k] = bath * cfg.startup_alf3_wt / 100.0
        x[STATE["cryolite"], k] = bath - x[STATE["alf3"], k] - others
        x[STATE["ledge"], k] = potlines.params[PARAM["ledge_min"], k]
        wt = bath_weight_fractions(x[:, k:k + 1])
        x[STATE["t_bath"], k] = float(np.asarray(liquidus(wt["alf3"], wt["caf2"], wt["alumina"]))[0]) \
            + cfg.startup_superheat_K
        c[COUNTER["reline_metal_in"], k] += x[STATE["metal"], k]
        c[COUNTER["reline_bath_in"], k] += bath + x[STATE["crushed"], k]
        c[COUNTER["reline_alumina_in"], k] += x[STATE["alumina"], k] + x[STATE["undissolved"], k]
        c[COUNTER["reline_fluorine_in"], k] += fluorine_of(*x[_BATH[:3], k])
        potlines.ops.event(time_s, k, "cut_in", (time_s - self.block[ROWS["back_at_s"], k]) / 86400.0
                           + cfg.reline_days)
        potlines.ops.block[OPS["lab_alf3"], k] = cfg.startup_alf3_wt       # the crew knows its start-up bath
        potlines.params[PARAM["in_service"], k] = 1.0
        self.block[ROWS["back_at_s"], k] = np.nan
        self.block[ROWS["started_at_s"], k] = time_s
        potlines.params[PARAM["r_additive"], k] = self.startup_additive(potlines, k, time_s)   # hot from the start
        self.age_days[k] = 0.0
        self.set_cathode_resistance(potlines.params)
        pot.refresh(x, potlines.params, potlines.aux, np.array([k], dtype=np.intp))   # its properties, anew
