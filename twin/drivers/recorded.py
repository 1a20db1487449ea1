"""The recorded driver: the potlines driven by what operators and the plant did, instead of by their controllers.

Inputs are a dataset on a clock of steps labelled by their ends (attribute ``input_interval_s``: the park's
output interval or a whole fraction of it; ``twin.replay`` makes them from results or historian data):
``line_current`` (time, line) A, ``feed_rate`` (time, cell) kg/s of alumina as fed (NaN: the cell's own feed
control), and per step ``beam_move`` (m, + raises the anodes), ``metal_tapped`` (kg), ``alf3_added`` (kg),
``anodes_set`` (count), ``bath_tapped`` and ``bath_added`` (kg) and ``in_service`` (0/1) by cell, and
``pot_age`` (cell) the linings' ages in days at the inputs' start (the cathode drop rises with them), and
``beam_moved_at`` and ``alumina_fed_at`` (time, cell): when in its step the beam moved and the alumina was fed
(time centroids, 0 its start, 1 its end; NaN: not known). Missing variables leave that part to the model.

Taps, AlF3 additions, anode settings and cut-outs are applied at the start of their step (as the twin's routine
does them), beam moves at the slow step nearest their ``beam_moved_at``, or in the step's middle where it is not
known (before the last fast step of a step of one slow step, where the pot controller makes them). A step's feed
comes at an even rate over the widest whole slow steps centred on its ``alumina_fed_at`` (the whole step where it
is not known). The resistance control, the AE quench's alumina dump and the crew's routine are off
(``Potlines.drive_by_record``): their actions come from the inputs.
"""
from __future__ import annotations

from itertools import pairwise

import numpy as np
import xarray as xr

ACTIONS = ("beam_move", "metal_tapped", "alf3_added", "anodes_set", "bath_tapped", "bath_added", "in_service")


class ReplayError(ValueError):
    """Inputs that do not fit the park being replayed."""


class RecordedDriver:
    """Drives a park by recorded ``inputs``: made once for a park's layout (``park`` need not be started), it takes
    the park over with ``take_over``, once for every run from a steady start (a calibration's trials)."""

    def __init__(self, park, inputs: xr.Dataset):
        s = park.smelter
        if s is None:
            raise ReplayError(f"{park.config.source}: replay drives potlines, and this config has no [smelter]")
        self.step_s, _ = input_clock(inputs, park.config.run)
        for name, size in (("cell", s.n_cells), ("line", len(s.lines))):
            if name in inputs.dims and inputs.sizes[name] != size:
                raise ReplayError(f"inputs have {inputs.sizes[name]} {name}s, the park has {size}")
        self.steps = inputs.sizes["time"]
        self.t_start = 0.0                        # set by take_over
        self.attrs = {"replay": 1, "input_interval_s": self.step_s}
        # plain arrays before the loop, missing values made what they mean (no action; in the line; the cell's own
        # feed control, -1): one xarray lookup or NaN pass per step would cost more than the kernel
        missing = {"in_service": 1.0, "feed_rate": -1.0}
        self.given = {name: np.nan_to_num(np.asarray(inputs[name].values, float), nan=missing.get(name, 0.0))
                      for name in ("feed_rate", *ACTIONS) if name in inputs}
        # the steps with a crew action in them (most have none)
        acts = [v != 0 for name, v in self.given.items() if name not in ("feed_rate", "in_service")]
        self.acting = np.any(np.stack(acts), axis=(0, 2)) if acts else np.zeros(self.steps, bool)
        # slow steps of each input step before each cell's beam move, and the slow steps its feed comes in
        n_slow = round(self.step_s / park.config.run.slow_step_s)
        self.moved_after = np.where(np.isnan(at := _fraction(inputs, "beam_moved_at", self.steps, s.n_cells)),
                                    n_slow // 2, np.rint(at * n_slow)).astype(int)
        self.feed_from, self.feed_to = _feed_windows(_fraction(inputs, "alumina_fed_at", self.steps, s.n_cells),
                                                     n_slow)
        self.ages = None
        if "pot_age" in inputs:
            self.ages = np.asarray(inputs["pot_age"].values, float)
            if self.ages.shape != (s.n_cells,) or not np.all(np.isfinite(self.ages) & (self.ages >= 0)):
                raise ReplayError(f"inputs' pot_age must be one finite age >= 0 days per cell, got {self.ages!r}")
        self.current = (np.asarray(_fill_gaps(inputs["line_current"]).values, float) if "line_current" in inputs
                        else None)

    def take_over(self, park) -> None:
        """Drive ``park`` (on its steady start) from its present time on: the linings at their recorded ages, the
        controllers whose actions the record holds switched off (``Potlines.drive_by_record``)."""
        s = park.smelter
        self.t_start = park.time_s
        if self.ages is not None:
            s.set_lining_ages(self.ages)
        s.drive_by_record(feed="feed_rate" in self.given)

    @property
    def end_s(self) -> float:
        """The plant time at which the inputs end."""
        return self.t_start + self.steps * self.step_s

    def _step(self, time_s: float) -> int:
        return min(int(np.floor((time_s - self.t_start) / self.step_s + 1e-9)), self.steps - 1)

    def start_interval(self, park, t0: float) -> None:
        """Nothing due at an interval's start: the record's actions come with its input steps."""

    def line_setpoints(self, park, time_s: float) -> np.ndarray:
        """The recorded line current of the step holding ``time_s`` (without one: the schedules after the power
        programs)."""
        if self.current is None:
            return park.schedule.line_setpoints(park, time_s)
        return self.current[self._step(time_s)]

    def advance_smelter(self, park, t0: float, t1: float, start_A: np.ndarray, end_A: np.ndarray) -> None:
        """Every input step of [t0, t1): its actions at its start, the cells through it at its recorded current
        (``start_A`` and ``end_A`` are not used: the record has the current of every step)."""
        s, run = park.smelter, park.config.run
        n_sub = round(run.slow_step_s / run.fast_step_s)
        n_slow = round(self.step_s / run.slow_step_s)
        # beam moves and feed land at the slow steps nearest to when they came: at the step's middle (moves) and
        # spread over it (feed) instead, a move early or late in a 10-min step, or a feed cycle turning in it,
        # put the interval's mean voltage 5-20 mV off, and a calibration fitted to a run's own noiseless data
        # leaned 1 % on the top's heat loss (616 for 610 W/K) to absorb it. Where the time is not
        # known the middle is unbiased for moves spread over the step. In a step of one slow step they land
        # before its last fast step, where the pot controller makes them (it acts after measuring a fast step's
        # voltage): at the step's end instead, each move's minute missed 10 s of it, and as the moves mostly go
        # one way (up, against the rising pad) replay's CE and voltage drifted (-0.13 mV after 10 days)
        time_s = t0
        while time_s < t1 - 1e-6:
            i = self._step(time_s)
            if "in_service" in self.given:
                _cut_out_and_in(s, self.given["in_service"][i] > 0.5, time_s)
            if self.acting[i]:
                _apply_actions(s, {name: v[i] for name, v in self.given.items()}, time_s)
            s.linings.grow_older(s, self.step_s)
            amps = self.line_setpoints(park, time_s)
            moves = self.given["beam_move"][i] if "beam_move" in self.given else np.zeros(s.n_cells)
            if n_slow == 1:
                if "feed_rate" in self.given:
                    s.set_feed(self.given["feed_rate"][i])
                if np.any(moves):
                    s.advance(1, n_sub - 1, run.fast_step_s, amps, amps)
                    s.move_beams(moves)
                    s.advance(1, 1, run.fast_step_s, amps, amps)
                else:
                    s.advance(1, n_sub, run.fast_step_s, amps, amps)
            else:
                self._through_step(s, i, n_slow, moves, n_sub, run.fast_step_s, amps)
            time_s += self.step_s

    def _through_step(self, s, i: int, n_slow: int, moves: np.ndarray, n_sub: int, dt: float,
                      amps: np.ndarray) -> None:
        """Input step ``i`` in runs of slow steps, each cell's beam move and feed window starting and ending
        where they came (the step's feed rates: at the rate recorded over its window, nothing outside it)."""
        moving = moves != 0
        rate = self.given.get("feed_rate")
        cuts = {0, n_slow, *self.moved_after[i][moving]}
        if rate is not None:
            own = rate[i] < 0                       # the cell's own feed control
            cuts |= {*self.feed_from[i][~own], *self.feed_to[i][~own]}
            window = self.feed_to[i] - self.feed_from[i]
        bounds = sorted(cuts)
        for start, end in pairwise(bounds):
            here = moving & (self.moved_after[i] == start)
            if here.any():
                s.move_beams(np.where(here, moves, 0.0))
            if rate is not None:
                inside = (self.feed_from[i] <= start) & (start < self.feed_to[i])
                s.set_feed(np.where(own, rate[i], np.where(inside, rate[i] * n_slow / window, 0.0)))
            s.advance(end - start, n_sub, dt, amps, amps)
        here = moving & (self.moved_after[i] == n_slow)
        if here.any():
            s.move_beams(np.where(here, moves, 0.0))


def _fraction(inputs: xr.Dataset, name: str, steps: int, cells: int) -> np.ndarray:
    """A when-in-the-step input (time, cell) in 0..1, NaN where it is not known or not given."""
    if name not in inputs:
        return np.full((steps, cells), np.nan)
    return np.clip(np.asarray(inputs[name].values, float).reshape(steps, cells), 0.0, 1.0)


def _feed_windows(fed_at: np.ndarray, n_slow: int) -> tuple[np.ndarray, np.ndarray]:
    """First and past-last slow step of each step's feed: the widest window centred on its time centroid
    (the whole step where that is not known), at least one slow step."""
    centre = np.where(np.isnan(fed_at), 0.5, fed_at)
    half = np.minimum(centre, 1.0 - centre)
    start = np.clip(np.rint((centre - half) * n_slow), 0, n_slow - 1).astype(int)
    end = np.maximum(np.rint((centre + half) * n_slow).astype(int), start + 1)
    return start, end


def input_clock(inputs: xr.Dataset, run) -> tuple[float, int]:
    """The inputs' step (s) and how many of them make one output interval; a clear error otherwise."""
    step_s = float(inputs.attrs.get("input_interval_s", inputs.attrs.get("output_interval_s", run.output_interval_s)))
    per_record = round(run.output_interval_s / step_s)
    slow_steps = round(step_s / run.slow_step_s)
    if (per_record < 1 or slow_steps < 1 or abs(per_record * step_s - run.output_interval_s) > 1e-6
            or abs(slow_steps * run.slow_step_s - step_s) > 1e-6):
        raise ReplayError(f"inputs are on a {step_s:g} s clock; replay needs a whole number of the park's slow "
                          f"steps ({run.slow_step_s:g} s) in each input step and a whole number of input steps in "
                          f"its output interval ({run.output_interval_s:g} s): ingest or run on such a clock")
    if inputs.sizes["time"] % per_record:
        raise ReplayError(f"inputs have {inputs.sizes['time']} steps of {step_s:g} s, not a whole number of the "
                          f"park's {run.output_interval_s:g} s output intervals ({per_record} steps each)")
    return step_s, per_record


def _fill_gaps(current: xr.DataArray) -> xr.DataArray:
    """Line current over historian gaps: linear between the values on either side, held at the ends.

    The rectifier holds the line current near its set-point, so a gap of minutes to hours is bridged
    well by its neighbours. A line with no value at all cannot be replayed.
    """
    values = np.array(current.values, dtype=float)
    index = np.arange(values.shape[0])
    for j in range(values.shape[1]):
        known = np.isfinite(values[:, j])
        if not known.any():
            raise ReplayError(f"line {j}: no line current in the inputs at all; cannot replay it")
        values[:, j] = np.interp(index, index[known], values[known, j])
    return current.copy(data=values)


def _cut_out_and_in(s, wanted: np.ndarray, time_s: float) -> None:
    """Cells the record has cut out for relining since the last step, and cut in again (a cell that left physics
    stays out for good); at the step's start, as the twin's routine does it."""
    wanted = wanted & ~s.left_physics
    in_line = s.in_service()
    if np.array_equal(wanted, in_line):
        return
    for k in np.flatnonzero(in_line & ~wanted):        # its metal and bath leave with it
        s.linings.cut_out(s, int(k), time_s)
    for k in np.flatnonzero(~in_line & wanted):
        s.linings.cut_in(s, int(k), time_s)


def _apply_actions(s, row: dict[str, np.ndarray], time_s: float) -> None:
    """What the crew did in this step (taps, AlF3, anodes, bath) in the cells in the line, applied at its start as
    the twin's own routine does them; beam moves are applied mid-step by the caller."""
    in_line = s.in_service()
    if "metal_tapped" in row:
        for k in np.flatnonzero((row["metal_tapped"] > 0) & in_line):
            s.remove_metal(int(k), float(row["metal_tapped"][k]))
    if "alf3_added" in row:
        s.add_alf3(row["alf3_added"])
    if "anodes_set" in row:
        cells = np.flatnonzero(row["anodes_set"] > 0)
        if cells.size:
            s.set_anodes(cells, time_s)
    if "bath_tapped" in row:
        for k in np.flatnonzero((row["bath_tapped"] > 0) & in_line):
            s.remove_bath(int(k), float(row["bath_tapped"][k]))
    if "bath_added" in row:
        for k in np.flatnonzero(row["bath_added"] > 0):
            s.add_bath(int(k), float(row["bath_added"][k]))
