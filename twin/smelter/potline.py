"""Potlines: cells in series on their rectifiers, owning the structure-of-arrays blocks of all cells.

Python decides what happens and when (set-points, taps, AlF3 additions); ``twin._core.pot.advance``
decides how a step is taken, for every cell of every line in one call.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from twin._core import pot
from twin.smelter.cell import (
    AUX,
    COUNTER,
    LINE,
    LINE_PARAM,
    PARAM,
    STATE,
    SUM,
    bath_weight_fractions,
    cell_parameters,
    crushed_fluorine_fraction,
    fluorine_of,
    initial_state,
    pot_names,
)
from twin.smelter.config import (
    CellConfig,
    ControlConfig,
    LiningConfig,
    OperationsConfig,
    PotlineConfig,
    VariationConfig,
)
from twin.smelter.feeders import FEEDER_ROWS, FeederFaults
from twin.smelter.limits import check_cells, leaving_physics, outside_window
from twin.smelter.linings import Linings
from twin.smelter.operations import OPS, Operations
from twin.smelter.steady import steady_state

# a line below this share of its design current is off (an outage): the crew's outage routine applies
OUTAGE_FRACTION = 0.05
# NaF taken from cryolite (Na3AlF6 = 3 NaF + AlF3) leaves its AlF3 behind as excess AlF3 (IUPAC g/mol)
CRYOLITE_PER_NAF = 209.9413 / (3 * 41.9882)
ALF3_PER_NAF = 83.9767 / (3 * 41.9882)
F_IN_NAF = 18.998403 / 41.9882
_BATH_ROWS = [STATE[name] for name in ("cryolite", "alf3", "caf2", "alumina")]
_ZONE_ROWS = [STATE[f"zone_dissolved_{z}"] for z in range(pot.ALUMINA_ZONES_MAX)]
# parameter rows that come from a cell's place in the park, not from its design: its noise stream, the controller's
# scaling by its line's design current
_PLACE_ROWS = [PARAM[name] for name in ("noise_seed", "slope_threshold", "nominal_current")]


def vary_cells(params: np.ndarray, state: np.ndarray, variation: VariationConfig, cells: np.ndarray,
               seed: int) -> None:
    """Draw each of ``cells``' own parameters around the design (normal, clipped at 3 sd; seeded): anode
    resistance, top heat loss, ACD set (the resistance target then follows from the steady state), feeder
    doses, and the controller's nominal time, so feed cycles drift apart as in a real line."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 0xCE11])))
    n = params.shape[1]

    def factor(sd_pct: float, size: tuple[int, ...] = (n,)) -> np.ndarray:
        return 1.0 + 0.01 * sd_pct * np.clip(rng.standard_normal(size), -3.0, 3.0)

    draws = {
        "r_anode": factor(variation.r_anode_sd_pct),
        "ua_top": factor(variation.ua_top_sd_pct),
        "nominal_time": factor(variation.nominal_time_sd_pct),
    }
    doses = factor(variation.feeder_dose_sd_pct, (pot.ALUMINA_ZONES_MAX, n))
    acd = 1e-3 * variation.acd_sd_mm * np.clip(rng.standard_normal(n), -3.0, 3.0)
    for name, f in draws.items():
        params[PARAM[name], cells] *= f[cells]
    for z in range(pot.ALUMINA_ZONES_MAX):
        params[PARAM[f"feeder_dose_{z}"], cells] *= doses[z, cells]
    state[STATE["acd"], cells] += acd[cells]


# threads of the kernel's loop over lines (0: one per line); see ``kernel_threads``
_KERNEL_THREADS = [0]


@contextmanager
def kernel_threads(n: int) -> Iterator[None]:
    """Inside the block the kernel steps the lines on ``n`` threads (0: one per line, the default). A process that
    is one of several sharing the machine's cores (a Dask worker's sweep point or calibration batch) takes one:
    two workers of two OpenMP threads each on two cores ran a sweep's points 1.6 times slower than one worker
    alone (threads waiting on each other's cores at every kernel call)."""
    before = _KERNEL_THREADS[0]
    _KERNEL_THREADS[0] = int(n)
    try:
        yield
    finally:
        _KERNEL_THREADS[0] = before


@dataclass
class Interval:
    """What the potlines did in one interval (all cells): what the site books around them."""

    seconds: float
    metal_kg: np.ndarray
    fed_kg: np.ndarray
    tapped_kg: float
    net_carbon_kg: float
    butts_kg: float
    cf4_kg: float
    c2f6_kg: float
    cf4_lvae_kg: float
    relines: float
    dc_kWh: float
    heat_loss_W: float


def _due(phase: np.ndarray, period: float, t0: float, t1: float) -> np.ndarray:
    """Cells whose periodic event (first at ``phase * period``) falls in [t0, t1)."""
    first = phase * period
    k0 = np.ceil((t0 - first) / period)
    return first + k0 * period < t1


class Potlines:
    """All potlines of the smelter as one set of arrays (cells of line j are ``cells_of(j)``).

    Parameters
    ----------
    cell : CellConfig
        Cell design shared by every cell.
    control : ControlConfig
        The pot control system of every cell.
    lines : list of PotlineConfig
        The series circuits, in order.
    """

    def __init__(self, cell: CellConfig, control: ControlConfig, lines: list[PotlineConfig],
                 operations: OperationsConfig | None = None, seed: int = 0,
                 cell_designs: dict[int, CellConfig] | None = None, variation: VariationConfig | None = None,
                 lining: LiningConfig | None = None):
        self.cell = cell
        self.control = control
        self.lines = list(lines)
        counts = [ln.cells for ln in self.lines]
        self.line_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)
        n = int(self.line_start[-1])
        self.n_cells = n
        self.cell_line = np.repeat(np.arange(len(counts)), counts)
        self.cell_names = pot_names([ln.name for ln in self.lines], self.cell_line)
        self.seed = seed
        self.params = cell_parameters(cell, control, n, seed)
        # the feed controller's slope threshold is a normalised voltage slope: mV/min at the line's current
        self.design_current = np.array([ln.current_kA * 1e3 for ln in self.lines])     # A per line
        nominal_current = self.design_current[self.cell_line]
        self.params[PARAM["slope_threshold"]] = control.slope_threshold_mV_per_min * 1e-3 / 60.0 / nominal_current
        self.params[PARAM["nominal_current"]] = nominal_current
        self.set_designs(cell_designs or {})
        self.state = initial_state(cell, n)
        self.aux = np.zeros((len(pot.AUX_NAMES), n))
        self.sums = np.zeros((len(pot.SUM_NAMES), n))
        self.counters = np.zeros((len(pot.COUNTER_NAMES), n))
        self.line = np.zeros((len(pot.LINE_NAMES), len(counts)))
        # each line's back EMF and cell resistance at its steady start: the design against which power
        # programs count their fractions
        self.line_design = np.zeros((2, len(counts)))
        self.line_params = np.zeros((len(pot.LINE_PARAM_NAMES), len(counts)))
        for j, ln in enumerate(self.lines):
            self.line_params[LINE_PARAM["r_bus"], j] = ln.busbar_resistance_uohm * 1e-6
            self.line_params[LINE_PARAM["v_max"], j] = ln.voltage_ceiling_V
            self.line_params[LINE_PARAM["tau"], j] = ln.regulator_time_constant_s
        # each cell's place in the tap cycle, staggered along the line (0 <= phase < 1)
        self.tap_phase = np.concatenate([np.arange(c) / c for c in counts])
        # anode settings follow their own cycle; golden-ratio phases keep them apart from the taps
        self.setting_phase = np.concatenate([(np.arange(c) * 0.6180339887498949) % 1.0 for c in counts])
        self.steps_in_sums = 0
        # the beam's net travel and the alumina fed at the last record (when in an interval they came)
        self.interval_start = np.zeros((2, n))
        self.ops = Operations(cell, operations or OperationsConfig(), n, seed)
        self.ops.modulated_lines = np.zeros(len(lines), bool)
        self.feeders = FeederFaults(self.ops.cfg, n, seed)
        self.linings = Linings(lining or LiningConfig(), cell, self.cell_line)
        self.linings.set_cathode_resistance(self.params)
        own = np.zeros(n, dtype=bool)
        own[list(cell_designs or {})] = True
        vary_cells(self.params, self.state, variation or VariationConfig(), ~own, seed)
        # cells a run took out of the line because they left physics (a calibration's trial), and why
        self.left_physics = np.zeros(n, dtype=bool)
        self.physics_messages = [""] * n
        self.driven_by_record = False

    # ------------------------------------------------------------------ set-up
    @property
    def n_lines(self) -> int:
        return len(self.line_start) - 1

    def cells_of(self, j: int) -> slice:
        return slice(int(self.line_start[j]), int(self.line_start[j + 1]))

    def set_designs(self, designs: dict[int, CellConfig]) -> None:
        """Give cells whose design differs (calibrated parameters, a calibration's trial values) their own
        parameter columns, before ``start``. A column keeps what comes from the cell's place, not its design:
        its noise stream and its line's controller scaling (``_PLACE_ROWS``)."""
        for k, design in designs.items():
            own = cell_parameters(design, self.control, 1, self.seed)[:, 0]
            own[_PLACE_ROWS] = self.params[_PLACE_ROWS, k]
            self.params[:, k] = own

    def start(self, setpoints_A: np.ndarray) -> None:
        """Put every cell on its steady operating point at the lines' set-points.

        Cells then sit at their places in the tap, anode-setting and feed-control cycles (metal
        accumulated since their last tap, anodes at their stage of pick-up), so the line starts as a
        running line, not as freshly tapped cells.
        """
        # the operating point of an average cell: new anodes as far into their pick-up and heat
        # sink as makes the sink equal its average over the setting cycle, t* = tau ln(T / tau)
        tau = self.params[PARAM["setting_heat_time"]]
        self.state[STATE["setting_time"]] = tau * np.log(np.maximum(self.setting_interval_s / tau, 1.0))
        current = np.asarray(setpoints_A, dtype=float)[self.cell_line]
        self._solve_steady(setpoints_A)
        self._acd_for_lining_age(current, self.params[PARAM["r_cathode_age"]])
        self._solve_steady(setpoints_A)
        self.line[LINE["current"]] = setpoints_A
        x, p = self.state, self.params
        # the resistance target, unless configured: the pseudo-resistance at the steady operating point
        unset = np.isnan(p[PARAM["r_target"]])
        p[PARAM["r_target"], unset] = self.pseudo_resistance(current)[unset]

        since_tap = (1.0 - self.tap_phase) * self.tap_interval_s
        metal_rate, acd_rate = self.nominal_rates(current)
        x[STATE["metal"]] += metal_rate * since_tap
        if not self.control.resistance_control:
            x[STATE["acd"]] = self.acd_after_tap(current) + acd_rate * since_tap
        # the crew's target: the plant's, by default the steady temperature of the line's typical cell (cells
        # that differ are brought toward it, not each left at its own)
        if self.ops.cfg.temperature_target_C is not None:
            self.ops.t_target[:] = self.ops.cfg.temperature_target_C
        else:
            for j in range(len(self.lines)):
                cols = self.cells_of(j)
                self.ops.t_target[cols] = np.median(x[STATE["t_bath"], cols])
        self.ops.block[OPS["last_tap_s"]] = -since_tap
        x[STATE["setting_time"]] = (1.0 - self.setting_phase) * self.setting_interval_s
        # controllers: filter on the present pseudo-resistance, cells at staggered places in their cycles
        rp = self.pseudo_resistance(current)
        x[STATE["rp_filtered"]] = rp
        x[STATE["rp_previous"]] = rp
        x[STATE["rp_raw"]] = rp
        # the heat-balance feed-forward's production enthalpy per coulomb at the operating point
        p[PARAM["enthalpy_voltage"]] = self.aux[AUX["h_reaction"]] * pot.AL_KG_PER_COULOMB * self.aux[AUX["ce"]]
        x[STATE["mode_time"]] = self.tap_phase * p[PARAM["nominal_time"]]
        x[STATE["control_timer"]] = (1.0 - self.tap_phase) * p[PARAM["control_period"]]
        x[STATE["beam_timer"]] = (1.0 - self.tap_phase) * p[PARAM["beam_period"]]
        pot.prepare(self.state, self.params, self.aux, self.counters, self.line, self.line_start)
        self.line_design[0] = self.line[LINE["sum_emf"]]
        self.line_design[1] = self.line[LINE["sum_resistance"]]
        self.linings.start_state[...] = self.state        # what a relined cell restarts from
        self.line[LINE["source_voltage"]] = (self.line[LINE["sum_emf"]]
                                             + (self.line[LINE["sum_resistance"]]
                                                + self.line_params[LINE_PARAM["r_bus"]]) * setpoints_A)

    def _solve_steady(self, setpoints_A: np.ndarray) -> None:
        for j in range(len(self.lines)):
            cols = self.cells_of(j)
            self.state[:, cols] = steady_state(self.state[:, cols], self.params[:, cols], float(setpoints_A[j]))

    def _acd_for_lining_age(self, current: np.ndarray, extra_ohm: np.ndarray) -> None:
        """A running line's crew holds each cell's heat at the line's, whatever its lining's age: the ACD of a
        cell whose cathode resistance is ``extra_ohm`` above (below) the reference age's is lowered (raised) by
        as much bath resistance. Left at the design ACD, a young cell's 40-70 mV lower drop (~25 kW) would start
        it on a ledge ~4 cm thicker than its line's."""
        if not np.any(extra_ohm):
            return
        step_m = 1e-3
        base = self.pseudo_resistance(current)
        self.state[STATE["acd"]] += step_m
        per_m = (self.pseudo_resistance(current) - base) / step_m        # bath (and bubble) ohm per m of ACD
        self.state[STATE["acd"]] -= step_m + extra_ohm / per_m

    def set_lining_ages(self, ages_days: np.ndarray) -> None:
        """Put the linings at ``ages_days`` on a started line (a replay's recorded ages), each cell's ACD moved
        as the start would have set it for that age (its heat and ledge then stay those of the start)."""
        before = self.params[PARAM["r_cathode_age"]].copy()
        self.linings.age_days[:] = ages_days
        self.linings.set_cathode_resistance(self.params)
        self._acd_for_lining_age(self.line[LINE["current"]][self.cell_line],
                                 self.params[PARAM["r_cathode_age"]] - before)
        self.linings.start_state[STATE["acd"]] = self.state[STATE["acd"]]
        pot.prepare(self.state, self.params, self.aux, self.counters, self.line, self.line_start)

    def pseudo_resistance(self, current: np.ndarray) -> np.ndarray:
        """(U - E_b)/I of every cell at its present state (ohm), as its controller computes it."""
        pot.prepare(self.state, self.params, self.aux, self.counters, self.line, self.line_start)
        voltage = self.aux[AUX["back_emf"]] + self.aux[AUX["resistance"]] * current
        return (voltage - self.params[PARAM["back_emf"]]) / current

    @property
    def setting_interval_s(self) -> float:
        """Time between two settings in one cell: the anode cycle shared by the pairs."""
        return self.cell.anode_cycle_days * 86400.0 * self.cell.anodes_per_setting / self.cell.anodes

    @property
    def tap_interval_s(self) -> float:
        return self.cell.tap_interval_h * 3600.0

    def nominal_rates(self, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Metal production (kg/s) at the reference CE and the ACD drift (m/s) from burn and metal rise."""
        p = self.params
        metal = p[PARAM["ce_ref"]] * current * pot.AL_KG_PER_COULOMB
        burn = self.net_carbon_kg_per_s(current) / (p[PARAM["rho_anode"]] * p[PARAM["anode_geo_area"]])
        rise = metal / (p[PARAM["rho_metal"]] * p[PARAM["cathode_area"]] * 1e-4)
        return metal, burn - rise

    def nominal_feed_kg_per_s(self, current: np.ndarray) -> np.ndarray:
        """Each cell's nominal feed (kg/s of alumina as fed) at its ``current``: the kernel's, as its controller
        doses around it."""
        return pot.nominal_feed(self.params, np.ascontiguousarray(current, dtype=float))

    def net_carbon_kg_per_s(self, current: np.ndarray) -> np.ndarray:
        """Each cell's net anode carbon (kg/s) at ``current``: Faraday's CO2 and the excess burnt by the hour
        (the kernel's rate)."""
        return current * pot.CARBON_KG_PER_COULOMB + self.params[PARAM["excess_carbon"]]

    def acd_after_tap(self, current: np.ndarray) -> np.ndarray:
        """ACD the beam is set to after a tap: the target minus half a cycle's drift, so ACD averages the target."""
        _, drift = self.nominal_rates(current)
        return self.cell.acd_cm / 100.0 - drift * self.tap_interval_s / 2.0

    def blocks(self) -> dict[str, np.ndarray]:
        """Every array that defines the potlines between two kernel calls (for checkpoints)."""
        return {"state": self.state, "params": self.params, "aux": self.aux, "sums": self.sums,
                "counters": self.counters, "line": self.line, "line_params": self.line_params,
                "line_design": self.line_design,
                "ops": self.ops.block, "t_target": self.ops.t_target, "feeders": self.feeders.block,
                "linings": self.linings.block, "start_state": self.linings.start_state,
                "interval_start": self.interval_start}

    def rng_states(self) -> list[dict]:
        """States of every random generator of the potlines: the cells' routine, then the feeders' faults."""
        return [*self.ops.rng_states(), dict(self.feeders.rng.bit_generator.state)]

    def restore(self, blocks: dict[str, np.ndarray], rng_states: list[dict]) -> None:
        """Take the arrays of ``blocks()`` and the generators of ``rng_states()`` back, exactly."""
        for name, current in self.blocks().items():
            saved = np.asarray(blocks[name])
            if saved.shape != current.shape:
                raise ValueError(f"checkpoint block {name} has shape {saved.shape}, this configuration needs "
                                 f"{current.shape}")
            current[...] = saved
        for g, state in zip([*self.ops.rng, self.feeders.rng], rng_states, strict=True):
            g.bit_generator.state = state
        self.steps_in_sums = 0
        # what a run sets outside the arrays: its pending events, the cells it took out, who drives the cells
        self.ops.events.clear()
        self.ops.modulated_lines[:] = False
        self.left_physics[:] = False
        self.physics_messages = [""] * self.n_cells
        self.driven_by_record = False

    # ------------------------------------------------------------------ time
    def advance(self, n_slow: int, n_sub: int, dt: float, setpoint_start: np.ndarray,
                setpoint_end: np.ndarray, continuous_feed: bool = False) -> None:
        """Advance every line by ``n_slow * n_sub`` fast steps of ``dt`` s (set-points linear in between)."""
        self.line_params[LINE_PARAM["i_set_start"]] = setpoint_start
        self.line_params[LINE_PARAM["i_set_end"]] = setpoint_end
        # the crew's answer to a line run low: extra cover on its cells; to a line that is off: also the
        # exhaust draft to minimum (factors on the top's heat loss to the air)
        highest = np.maximum(setpoint_start, setpoint_end) / self.design_current
        ops = self.ops.cfg
        top = np.where(highest < OUTAGE_FRACTION, ops.outage_top_factor,
                       np.where(highest < ops.low_power_fraction, ops.low_power_top_factor, 1.0))
        self.params[PARAM["top_factor"]] = top[self.cell_line]
        pot.advance(self.state, self.params, self.aux, self.sums, self.counters, self.line, self.line_params,
                    self.line_start, n_slow, n_sub, dt, continuous_feed, _KERNEL_THREADS[0])
        self.steps_in_sums += n_slow * n_sub

    def check_physics(self, when: str) -> None:
        """Stop (``CellPhysicsError``) if a cell in the line has left physics; ``when`` names the plant time."""
        cells = np.flatnonzero(self.in_service())
        check_cells(self.state[:, cells], self.cell.bath_mass_t * 1e3, [self.cell_names[k] for k in cells], when)

    def cells_leaving_physics(self) -> tuple[np.ndarray, list[str]]:
        """Cells in the line whose state no cell can be in, and what is wrong with each ("" where nothing)."""
        bad, what = leaving_physics(self.state, self.cell.bath_mass_t * 1e3)
        return bad & self.in_service(), what

    def take_out_of_line(self, cells: np.ndarray, messages: list[str]) -> None:
        """Take ``cells`` (that left physics) out of the line for good, each with what was wrong with it."""
        for k, message in zip(cells, messages, strict=True):
            self.left_physics[k], self.physics_messages[k] = True, message
        self.params[PARAM["in_service"], cells] = 0.0

    def in_service(self) -> np.ndarray:
        """True for the cells in the line, False for those cut out (relining)."""
        return self.params[PARAM["in_service"]] > 0.5

    def tap_due(self, t0: float, t1: float) -> np.ndarray:
        """Cells whose tap time falls in [t0, t1) of run time (s)."""
        return _due(self.tap_phase, self.tap_interval_s, t0, t1)

    def setting_due(self, t0: float, t1: float) -> np.ndarray:
        """Cells that set a new anode pair in [t0, t1) of run time (s)."""
        return _due(self.setting_phase, self.setting_interval_s, t0, t1)

    def operate(self, t0: float, t1: float) -> None:
        """The routine of every cell whose tap or anode setting falls in [t0, t1), done at t0; feeders that
        fail or are cleared over the interval; cells cut out for relining or cut in again."""
        self.linings.step(self, t0, t1)
        self.feeders.step(self, t0, t1)
        in_line = self.in_service()
        cells = np.flatnonzero(self.tap_due(t0, t1) & in_line)
        if cells.size:
            self.ops.perform(self, cells, t0)
        cells = np.flatnonzero(self.setting_due(t0, t1) & in_line)
        if cells.size:
            self.set_anodes(cells, t0)

    def set_anodes(self, cells: np.ndarray, time_s: float) -> None:
        """Replace a pair of spent anodes (butts out, cold new anodes in) in each of ``cells``.

        Butts are what is left of an anode after its life at the line's net carbon consumption;
        the mean anode height rises by the new pair's share; the heat sink and the current pick-up
        of the new anodes then run in the kernel (from ``setting_time``); resistance control waits.
        """
        x, c = self.state, self.counters
        cell = self.cell
        life_s = cell.anode_cycle_days * 86400.0
        mass = cell.anode_carbon_kg
        butt = np.clip(mass - self.net_carbon_kg_per_s(self.line_current()) * life_s / cell.anodes, 0.0, mass)[cells]
        share = cell.anodes_per_setting / cell.anodes
        x[STATE["setting_time"], cells] = 0.0
        x[STATE["anode_height"], cells] += share * cell.anode_height_m * (1.0 - butt / mass)
        x[STATE["inhibit"], cells] = np.maximum(x[STATE["inhibit"], cells], self.control.setting_inhibit_h * 3600.0)
        c[COUNTER["anodes_set"], cells] += cell.anodes_per_setting
        c[COUNTER["butts"], cells] += cell.anodes_per_setting * butt
        for k, b in zip(cells, butt, strict=True):
            self.ops.event(time_s, int(k), "anode_setting", cell.anodes_per_setting * float(b))

    def remove_metal(self, k: int, kg: float) -> None:
        """Tap ``kg`` of metal from cell k. With resistance control the beam follows the metal down
        (ACD unchanged) and the controller is inhibited for a while; without it, the beam is set
        back to its post-tap position."""
        self.state[STATE["metal"], k] -= kg
        self.counters[COUNTER["metal_tapped"], k] += kg
        if self.control.resistance_control:
            self.state[STATE["inhibit"], k] = self.control.tap_inhibit_min * 60.0
        else:
            self.state[STATE["acd"], k] = self.acd_after_tap(self.line_current())[k]

    def remove_bath(self, k: int, kg: float) -> float:
        """Tap ``kg`` of bath (at most half of it) from cell k, with the bath's composition; return the kg."""
        x, c = self.state, self.counters
        share = min(max(kg, 0.0) / float(x[_BATH_ROWS, k].sum()), 0.5)
        taken = x[_BATH_ROWS, k] * share
        x[_BATH_ROWS, k] -= taken
        x[_ZONE_ROWS, k] *= 1.0 - share           # each zone gives its share of dissolved alumina
        c[COUNTER["bath_tapped"], k] += taken.sum()
        c[COUNTER["bath_tapped_alumina"], k] += taken[3]
        c[COUNTER["bath_tapped_fluorine"], k] += fluorine_of(*taken[:3])
        return float(taken.sum())

    def add_bath(self, k: int, kg: float) -> None:
        """Put ``kg`` of crushed bath (design composition) on cell k; the kernel melts it into the bath over
        ``crushed_bath_melt_h``, the bath paying its heating from the potroom and its heat of fusion."""
        self.state[STATE["crushed"], k] += kg
        self.counters[COUNTER["bath_added"], k] += kg

    def bath_fluorine_out(self) -> np.ndarray:
        """kg fluorine each cell has lost since start other than to the pot gas: in tapped bath and in the
        NaF its cathode took up, less what came in with crushed bath."""
        c = self.counters
        return (c[COUNTER["bath_tapped_fluorine"]] + F_IN_NAF * c[COUNTER["sodium_uptake"]]
                - crushed_fluorine_fraction(self.params) * c[COUNTER["bath_added"]])

    def take_up_sodium(self, seconds: float) -> None:
        """NaF the cathodes in the line take from the bath over ``seconds`` at their linings' ages (new_rate
        exp(-age / time) per day, notes sec. 2.15): their cryolite loses NaF and leaves AlF3 behind."""
        cell, x = self.cell, self.state
        naf = (cell.sodium_uptake_new_kg_per_day * np.exp(-self.linings.age_days / cell.sodium_uptake_time_days)
               * seconds / 86400.0 * self.in_service())
        # never more than 1 % of the cryolite in one call (a new cathode takes ~20 kg/day of ~10 t: this
        # binds only for a configuration no cell has, which must not drive the cryolite negative)
        naf = np.minimum(naf, 0.01 * x[STATE["cryolite"]] / CRYOLITE_PER_NAF)
        x[STATE["cryolite"]] -= CRYOLITE_PER_NAF * naf
        x[STATE["alf3"]] += ALF3_PER_NAF * naf
        self.counters[COUNTER["sodium_uptake"]] += naf

    def set_alumina_na2o(self, fraction: float) -> None:
        """Na2O mass fraction of the alumina every cell is fed from now on (the silo's, in a coupled park)."""
        self.params[PARAM["na2o"]] = fraction

    def add_alf3(self, kg: np.ndarray) -> None:
        """AlF3 the crew adds to each cell (kg; counted as added)."""
        self.state[STATE["alf3"]] += kg
        self.counters[COUNTER["alf3_added"]] += kg

    def exchange_alf3(self, kg: np.ndarray) -> None:
        """AlF3 each cell gains (kg; negative: loses) with the pot gas and the secondary alumina (not an
        addition of the crew's)."""
        self.state[STATE["alf3"]] += kg

    def move_beams(self, moves_m: np.ndarray) -> None:
        """Raise each cell's anode beam by ``moves_m`` (m; negative lowers it): the ACD moves with it, and the
        beam's net travel (a replay's results show the moves it applied)."""
        self.state[STATE["acd"]] += moves_m
        self.counters[COUNTER["beam_position"]] += moves_m

    def quench_by_hand(self, cells: np.ndarray) -> None:
        """An operator kills the anode effect on each of ``cells`` (the controller's quench dump, the beam
        pumped); cells not on anode effect are left as they are."""
        pot.quench_by_hand(self.state, self.params, self.aux, self.counters, np.asarray(cells, dtype=np.intp),
                           self.control.quench_alumina_kg)
        # the cells' back EMF and the line's sums from the state now: the next step would otherwise still see the
        # AE's voltage (the kernel's steps use the electrics of the step before)
        pot.prepare(self.state, self.params, self.aux, self.counters, self.line, self.line_start)

    def on_anode_effect(self) -> np.ndarray:
        """True for the cells on anode effect now."""
        return self.state[STATE["ae_on"]] > 0.5

    def move_beam_by_hand(self, k: int, move_m: float) -> None:
        """An operator raises (lowers) cell k's beam by ``move_m`` through the pot control system: the ACD moves
        and the resistance target with it by the controller's own dR/dACD, so resistance control holds the new
        place instead of undoing the move."""
        moves = np.zeros(self.n_cells)
        moves[k] = move_m
        self.move_beams(moves)
        self.raise_resistance_target(k, move_m)

    def raise_resistance_target(self, k: int, acd_m: float) -> None:
        """Raise cell k's resistance target by as much as ``acd_m`` of ACD (negative lowers it)."""
        self.params[PARAM["r_target"], k] += self.params[PARAM["acd_sensitivity"], k] * acd_m

    def pcs_view(self) -> dict[str, np.ndarray]:
        """What the pot control system shows of every cell now: cell voltage (V), pseudo-resistance as filtered
        and its slope (uohm, uohm/min), its target (uohm), voltage noise (mV), feed mode (0 nominal, 1 underfeed,
        2 overfeed), feeders delivering less than their dose, the anode effect, and the bath's temperature
        (degC) and superheat (K), the metal pad (kg), dissolved alumina (wt %), ACD (cm) and ledge (cm)."""
        x, p, a = self.state, self.params, self.aux
        current = self.line_current()
        zones = np.arange(pot.ALUMINA_ZONES_MAX)[:, None] < p[PARAM["zones"]][None, :]
        return {
            "voltage": a[AUX["back_emf"]] + a[AUX["resistance"]] * current,
            "resistance": 1e6 * x[STATE["rp_filtered"]],
            "slope": 6e7 * x[STATE["rp_slope"]],
            "target": 1e6 * p[PARAM["r_target"]],
            "noise": 1e3 * np.sqrt(np.maximum(x[STATE["rp_noise"]], 0.0)) * current,
            "feed_mode": x[STATE["feed_mode"]].copy(),
            "feeder_faults": np.sum((x[FEEDER_ROWS] < 1.0) & zones, axis=0).astype(float),
            "anode_effect": self.on_anode_effect().astype(float),
            "bath_temperature": x[STATE["t_bath"]].copy(),
            "superheat": x[STATE["t_bath"]] - a[AUX["liquidus"]],
            "metal_mass": x[STATE["metal"]].copy(),
            "alumina": a[AUX["alumina_wt"]].copy(),
            "acd": 100.0 * x[STATE["acd"]],
            "ledge": 100.0 * x[STATE["ledge"]],
        }

    def drive_by_record(self, feed: bool) -> None:
        """Hand the cells to recorded inputs (replay): the line current is what was recorded (the regulator
        bypassed), resistance control and the AE quench's alumina dump are off (their moves and dumps are in
        the record); with ``feed`` the feeders fire what ``set_feed`` gives them."""
        if feed:
            # each step's recorded feed is whole shots; with the feeder half a shot into its demand the
            # replay fires that many shots in the step, centred in their periods. From an empty demand
            # it would fire the last one a step late, and run a shot's alumina (~0.015 wt %) short.
            self.state[STATE["feed_demand"]] = 0.5 * self.params[PARAM["shot_mass"]]
        self.params[PARAM["resistance_control"]] = 0.0
        self.params[PARAM["quench_mass"]] = 0.0
        self.line_params[LINE_PARAM["tau"]] = 0.0
        self.driven_by_record = True

    def set_feed(self, rate_kg_per_s: np.ndarray) -> None:
        """The feed each cell gets until the next call (kg/s of alumina as fed; negative: its own feed control)."""
        self.params[PARAM["feed_override"]] = rate_kg_per_s

    def allow_feeding(self, allowed: bool) -> None:
        """Feeders and the AE quench's alumina dump on (as designed) or off (no alumina in the bunkers)."""
        self.params[PARAM["feed_enabled"]] = 1.0 if allowed else 0.0
        quench = self.control.quench_alumina_kg if allowed and not self.driven_by_record else 0.0
        self.params[PARAM["quench_mass"]] = quench

    def alumina_demand_t_per_h(self, setpoints_A: np.ndarray) -> float:
        """The lines' alumina demand (t/h, as fed) at ``setpoints_A``: Faraday at 100 % CE, with the Na2O the
        alumina carries (the kernel's constant and the cells' own Na2O)."""
        current = setpoints_A[self.cell_line]
        return float(np.sum(current / (1.0 - self.params[PARAM["na2o"]]))) * pot.ALUMINA_KG_PER_COULOMB * 3.6

    def line_emf_resistance(self) -> tuple[np.ndarray, np.ndarray]:
        """Each line's sum of back EMFs (V) and of cell resistances (ohm) at its present state."""
        return self.line[LINE["sum_emf"]], self.line[LINE["sum_resistance"]]

    def counted_since(self, before: np.ndarray, name: str) -> np.ndarray:
        """How much counter ``name`` grew in each cell since the counters were ``before``."""
        return self.counters[COUNTER[name]] - before[COUNTER[name]]

    def interval_since(self, before: np.ndarray, record: dict, seconds: float) -> Interval:
        """What the potlines did since the counters were ``before`` (``record``: the means of the interval)."""
        d = self.counters - before
        # cut-out cells (relining) have no heat loss to show (NaN): the sum is over the cells in the line
        return Interval(seconds=seconds, metal_kg=d[COUNTER["metal_produced"]].copy(),
                        fed_kg=d[COUNTER["alumina_fed"]].copy(), tapped_kg=float(d[COUNTER["metal_tapped"]].sum()),
                        net_carbon_kg=float(d[COUNTER["carbon_consumed"]].sum()),
                        butts_kg=float(d[COUNTER["butts"]].sum()), cf4_kg=float(d[COUNTER["cf4"]].sum()),
                        c2f6_kg=float(d[COUNTER["c2f6"]].sum()), cf4_lvae_kg=float(d[COUNTER["cf4_lvae"]].sum()),
                        relines=float(d[COUNTER["relines"]].sum()), dc_kWh=float(d[COUNTER["energy_dc"]].sum()),
                        heat_loss_W=float(np.nansum(record["heat_loss"])))

    def params_of(self, name: str) -> np.ndarray:
        return self.params[PARAM[name]]

    def line_amps(self) -> np.ndarray:
        """Present current of each line (A)."""
        return self.line[LINE["current"]].copy()

    def line_current(self) -> np.ndarray:
        """Present line current of each cell's line (A)."""
        return self.line[LINE["current"]][self.cell_line]

    def new_day(self) -> None:
        """Daily limits start again (beam moves)."""
        self.state[STATE["beam_moves_today"]] = 0.0

    # ------------------------------------------------------------------ output
    def take_means(self) -> dict[str, np.ndarray]:
        """Means since the last call (per cell and per line), then reset the sums."""
        n = self.steps_in_sums
        if n == 0:
            raise RuntimeError("no steps since the last output")
        s = self.sums
        line_current = self.line[LINE["sum_current"]] / n
        line_voltage = self.line[LINE["sum_voltage"]] / n
        t_bath = s[SUM["t_bath"]] / n
        liquidus = s[SUM["liquidus"]] / n
        out = {
            "line_current": line_current,
            "cell_voltage": s[SUM["voltage"]] / n,
            "bath_temperature": t_bath,
            "liquidus_temperature": liquidus,
            "superheat": t_bath - liquidus,
            "alumina": s[SUM["alumina"]] / n,
            "excess_alf3": s[SUM["alf3"]] / n,
            "bath_mass": s[SUM["bath_mass"]] / n,
            "metal_mass": s[SUM["metal_mass"]] / n,
            "ledge_thickness": 100.0 * s[SUM["ledge"]] / n,
            "acd": 100.0 * s[SUM["acd"]] / n,
            "current_efficiency": self._charge_weighted_ce(),
            "shell_temperature": s[SUM["t_shell"]] / n,
            "heat_loss": s[SUM["q_loss"]] / n,
            "shell_cooling": s[SUM["shell_cooling"]] / n,
        }
        # a cell cut out (relining; cut-outs and cut-ins happen at interval starts) has no bath, voltage or heat
        # to show: no value (NaN), with ``in_service`` saying why
        in_line = self.in_service()
        for name in out:
            if name != "line_current":
                out[name] = np.where(in_line, out[name], np.nan)
        out.update(self._drops_and_caf2(line_current[self.cell_line], in_line))
        out.update(self._when_in_interval(n))
        out["line_voltage"] = line_voltage
        out["in_service"] = in_line.astype(float)
        out["pot_age"] = self.linings.age_days.copy()
        out["cells_outside_window"] = np.bincount(self.cell_line, weights=outside_window(out),
                                                  minlength=len(self.lines)).astype(float)
        self.sums[:] = 0.0
        self.line[LINE["sum_current"]] = 0.0
        self.line[LINE["sum_voltage"]] = 0.0
        self.steps_in_sums = 0
        return out

    def _when_in_interval(self, n: int) -> dict[str, np.ndarray]:
        """When in the interval each cell's beam moved and its alumina was fed: the time centroid of its net beam
        travel and of its feed, as a fraction of the interval (0 its start, 1 its end; 0.5, its middle, where
        none came: a replay then has nothing to place, and every record of a cell in the line stays a number).
        A running total's mean over the interval is its end less each increment times the share of the interval
        before it came. Replay lands moves and feed there: spread over the interval instead, a move or a feed
        cycle's turn early or late in it put the interval's mean voltage 5-20 mV off."""
        rows = [COUNTER["beam_position"], COUNTER["alumina_fed"]]
        end = self.counters[rows]
        total = end - self.interval_start
        means = self.sums[[SUM["beam_position"], SUM["alumina_fed"]]] / n
        with np.errstate(divide="ignore", invalid="ignore"):
            at = np.where(np.abs(total) > 1e-12, np.clip((end - means) / total, 0.0, 1.0), 0.5)
        self.interval_start = end.copy()
        return {"beam_moved_at": at[0], "alumina_fed_at": at[1]}

    def _drops_and_caf2(self, current: np.ndarray, in_line: np.ndarray) -> dict[str, np.ndarray]:
        """CaF2 (wt %), mean anode carbon height (m), and the anode and cathode voltage drops (V) at ``current``
        (each cell's line current): the kernel's series resistances. A cell cut out has no bath: NaN."""
        x, p = self.state[:, in_line], self.params[:, in_line]
        height = x[STATE["anode_height"]]
        r_anode = (p[PARAM["r_anode"]] + p[PARAM["anode_resistivity"]] / p[PARAM["anode_geo_area"]]
                   * (height - p[PARAM["anode_height_ref"]]))
        r_cathode = p[PARAM["r_cathode"]] + p[PARAM["r_cathode_age"]]
        values = {"caf2": bath_weight_fractions(x)["caf2"], "anode_height": height,
                  "anode_drop": r_anode * current[in_line], "cathode_drop": r_cathode * current[in_line]}
        out = {}
        for name, value in values.items():
            out[name] = np.full(in_line.shape, np.nan)
            out[name][in_line] = value
        return out

    def _charge_weighted_ce(self) -> np.ndarray:
        """CE over the interval weighted by charge; with no charge (an outage), the model's present CE."""
        charge = self.line[LINE["sum_current"]][self.cell_line]
        ce = self.aux[AUX["ce"]].copy()
        passed = charge > 0
        ce[passed] = self.sums[SUM["current_ce"], passed] / charge[passed]
        return ce

    def counter(self, name: str) -> np.ndarray:
        return self.counters[COUNTER[name]]
