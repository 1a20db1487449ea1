"""Replay: the potlines driven by what operators and the plant did, instead of by their controllers.

Inputs are a dataset on a clock of steps labelled by their ends (attribute ``input_interval_s``: the
park's output interval or a whole fraction of it): ``line_current`` (time, line) A, ``feed_rate``
(time, cell) kg/s of alumina as fed, and per step ``beam_move`` (m, + raises the anodes),
``metal_tapped`` (kg), ``alf3_added`` (kg), ``anodes_set`` (count), ``bath_tapped`` and ``bath_added``
(kg) by cell.
``inputs_from_results`` makes them from a twin results file (so a run can be replayed);
``inputs_from_historian`` from an ingested historian dataset. Missing variables leave that part to
the model (e.g. no ``feed_rate``: the cell's own feed control).

Taps, AlF3 additions and anode settings are applied at the start of their step (as the twin's
routine does them), beam moves in its middle (at the end of a step of one slow step, where the pot
controller makes them). In replay the resistance control, the AE quench's
alumina dump and the crew's routine are off:
their actions come from the inputs. The physics, the anode-effect onset and the results are the
twin's own, fluoride included: with a ``[fume]`` section each cell loses the fluoride it evolves and
gets back its feed share of what the scrubbers caught (``twin.site.fume``), at the end of each
interval as in a forward run. (Without it a replay keeps ~0.5 kg/day more AlF3 than the plant it
replays; over ten days the liquidus falls, ledge melts into the bath, and the voltage drifts up ~1 mV.)
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

from twin.park import Park, RunSummary, mean_in_line
from twin.results import VARIABLES, ResultsWriter, counter_record, smelter_layout
from twin.site.fume import FumeTreatment
from twin.site.site import interval_of
from twin.smelter.cell import COUNTER, LINE_PARAM, PARAM, STATE

__all__ = ["ReplayError", "input_clock", "inputs_from_historian", "inputs_from_results", "replay"]

ACTIONS = ("beam_move", "metal_tapped", "alf3_added", "anodes_set", "bath_tapped", "bath_added", "in_service")


class ReplayError(ValueError):
    """Inputs that do not fit the park being replayed."""


def inputs_from_results(results: xr.Dataset) -> xr.Dataset:
    """Replay inputs from a twin run, on its output clock: interval means and the per-interval
    increments of its counters."""
    dt = float(results.attrs["output_interval_s"])

    def per_interval(name: str) -> xr.DataArray:
        total = results[name].astype(float)
        return total if VARIABLES[name].method == "sum" else \
            total.diff("time", label="upper").reindex(time=results.time, fill_value=0.0) \
            + xr.where(results.time == results.time[0], total.isel(time=0), 0.0)

    inputs = xr.Dataset({
        "line_current": results["line_current"],
        "feed_rate": per_interval("alumina_fed") / dt,
        "beam_move": per_interval("beam_position"),        # its net travel since the start
        "metal_tapped": per_interval("metal_tapped"),
        "alf3_added": per_interval("alf3_added"),
        "anodes_set": per_interval("anodes_set"),
    }, attrs={"input_interval_s": dt})
    for name in ("bath_tapped", "bath_added"):      # results written before bath management have none
        if name in results:
            inputs[name] = per_interval(name)
    if "in_service" in results:                     # cut-outs for relining (they happen at interval starts)
        inputs["in_service"] = results["in_service"].astype(float)
    return inputs


def inputs_from_historian(data: xr.Dataset, step_s: float | None = None) -> xr.Dataset:
    """Replay inputs from an ingested historian dataset (``twin.historian.ingest``) on a clock of
    ``step_s`` (default: the dataset's interval; a whole fraction of it, e.g. the park's slow step):
    signals held over the steps of their interval, event samples (taps in kg, AlF3 additions, beam
    moves in mm, the feed log in kg, anodes set) summed into the step that holds their time stamp
    (the feed log as a rate)."""
    interval = float(data.attrs["interval_s"])
    dt = float(step_s or interval)
    per_interval = round(interval / dt)
    if per_interval < 1 or abs(per_interval * dt - interval) > 1e-6:
        raise ReplayError(f"step_s = {dt:g} s must divide the data's interval ({interval:g} s) into whole steps")
    ends = data.time.values[0] - np.timedelta64(round(interval * 1e6), "us") \
        + np.timedelta64(round(dt * 1e6), "us") * np.arange(1, data.sizes["time"] * per_interval + 1)
    out = xr.Dataset(coords={"time": ends, "cell": data.cell, "line": data.line}, attrs={"input_interval_s": dt})
    for name in ("line_current", "feed_rate"):
        if name in data:
            out[name] = (data[name].dims, np.repeat(np.asarray(data[name].values, float), per_interval, axis=0),
                         data[name].attrs)
    for variable, target, scale in (("tap_weight", "metal_tapped", 1.0), ("alf3_addition", "alf3_added", 1.0),
                                    ("beam_move", "beam_move", 1e-3), ("alumina_fed", "feed_rate", 1.0 / dt),
                                    ("anodes_set", "anodes_set", 1.0), ("bath_tap", "bath_tapped", 1.0),
                                    ("bath_addition", "bath_added", 1.0)):
        chosen = data.sample_variable.values == variable
        if not chosen.any():
            continue
        total = np.zeros((len(ends), data.sizes["cell"]))
        bins = np.searchsorted(ends, data.sample_time.values[chosen], side="right")
        inside = bins < len(ends)
        np.add.at(total, (bins[inside], data.sample_index.values[chosen][inside]),
                  scale * data.sample_value.values[chosen][inside])
        out[target] = (("time", "cell"), total)
    return out


def replay(config, inputs: xr.Dataset, out: str | Path | None,
           progress: Callable[[float], None] | None = None,
           collect: tuple[str, ...] = (), independent_cells: bool = False) -> RunSummary | dict[str, np.ndarray]:
    """Run the park from its steady state through the inputs' intervals, writing results to ``out``.

    The inputs' clock (``input_interval_s``) may be finer than the park's output interval, a whole
    number of its slow steps: the records are then means over several input steps. A finer clock
    puts the feed and the beam moves nearer their moments (10-min inputs misplace a feed-cycle's
    switch by minutes, which shifts the voltage of that record by up to ~10 mV; 1-min inputs by
    ~1 mV). With ``out=None`` nothing is written: the variables named in ``collect`` come back as
    arrays (record x cell or line), which is what a calibration loop wants, with ``left_physics`` (by
    cell: the replay drove it out of physics, after which it is taken out of the line and its values are
    missing) and ``physics_messages``. Writing a file, a cell leaving physics stops the replay as it stops
    a run (``CellPhysicsError``). Only the smelter is replayed.

    ``independent_cells`` replays the cells as separate problems (a calibration batch): each has its own
    secondary-alumina fluoride store instead of the line's shared one, so none feels the others.
    """
    if config.smelter is None:
        raise ReplayError(f"{config.source}: replay drives potlines, and this config has no [smelter]")
    config = config.model_copy(update={"refinery": None})
    park = Park(config)
    s = park.smelter
    run = config.run
    step_s, per_record = input_clock(inputs, run)
    for name, size in (("cell", s.n_cells), ("line", len(s.lines))):
        if name in inputs.dims and inputs.sizes[name] != size:
            raise ReplayError(f"inputs have {inputs.sizes[name]} {name}s, the park has {size}")
    # plain arrays before the loop: one xarray lookup per step would cost more than the kernel
    given = {name: np.asarray(inputs[name].values, float) for name in ("feed_rate", *ACTIONS) if name in inputs}
    current = np.asarray(_fill_gaps(inputs["line_current"]).values, float) if "line_current" in inputs else None
    if "feed_rate" in given:
        # each step's recorded feed is whole shots; with the feeder half a shot into its demand the
        # replay fires that many shots in the step, centred in their periods. From an empty demand
        # it would fire the last one a step late, and run a shot's alumina (~0.015 wt %) short.
        s.state[STATE["feed_demand"]] = 0.5 * s.params[PARAM["shot_mass"]]
        given["feed_rate"] = np.nan_to_num(given["feed_rate"], nan=-1.0)   # -1: the cell's own feed control
    s.params[PARAM["resistance_control"]] = 0.0
    s.params[PARAM["quench_mass"]] = 0.0
    s.line_params[LINE_PARAM["tau"]] = 0.0               # the recorded current is the line current
    fume = park.site.fume if park.site is not None else None
    if fume is not None and independent_cells:
        fume = FumeTreatment(fume.cfg, per_cell=True)
    writer = None if out is None else ResultsWriter(
        out, run.start, smelter_layout([ln.name for ln in config.smelter.potlines], s.cell_line),
        buffer_size=run.buffer_records,
        attrs={"source_config": config.source, "replay": 1, "output_interval_s": run.output_interval_s,
               "input_interval_s": step_s, "fast_step_s": run.fast_step_s, "slow_step_s": run.slow_step_s})
    collected: dict[str, list[np.ndarray]] = {name: [] for name in collect}
    left, messages = np.zeros(s.n_cells, bool), [""] * s.n_cells
    tally = {"start_counters": s.counters.copy(), "charge": 0.0, "voltage_sum": 0.0, "intervals": 0}
    n_sub = round(run.slow_step_s / run.fast_step_s)
    n_slow = round(step_s / run.slow_step_s)
    # beam moves land mid-step: unbiased for moves spread over it (at its start they add half a
    # step of the new ACD: a mean voltage bias of ~1 mV with 10-min steps). In a step of one slow step
    # they land before its last fast step, where the pot controller makes them (it acts after measuring
    # a fast step's voltage): at the step's end instead, each move's minute missed 10 s of it, and as the
    # moves mostly go one way (up, against the rising pad) replay's CE and voltage drifted (-0.13 mV
    # after 10 days of a run's own inputs; -0.09 mV with the moves in place)
    half = n_slow // 2 if n_slow > 1 else 1
    before = s.counters.copy()
    complete = False
    try:
        for i in range(inputs.sizes["time"]):
            row = {name: v[i] for name, v in given.items()}
            if "in_service" in row:
                row["in_service"] = np.where(left, 0.0, row["in_service"])   # cells that left physics stay out
            _apply_actions(park, row)
            s.linings.grow_older(s, step_s)
            amps = current[i] if current is not None else park.setpoints(park.time_s)
            if "feed_rate" in given:
                s.params[PARAM["feed_override"]] = given["feed_rate"][i]
            moves = np.nan_to_num(given["beam_move"][i]) if "beam_move" in given else None
            if n_slow == 1 and moves is not None and np.any(moves):
                s.advance(1, n_sub - 1, run.fast_step_s, amps, amps)
                s.state[STATE["acd"]] += moves
                s.advance(1, 1, run.fast_step_s, amps, amps)
            else:
                s.advance(half, n_sub, run.fast_step_s, amps, amps)
                if moves is not None:
                    s.state[STATE["acd"]] += moves
                if n_slow > half:
                    s.advance(n_slow - half, n_sub, run.fast_step_s, amps, amps)
            park.time_s += step_s
            s.take_up_sodium(step_s)
            if out is not None:
                stamp = (run.start + dt.timedelta(seconds=park.time_s)).astimezone(dt.UTC)
                s.check_physics(f"{stamp:%Y-%m-%d %H:%M} UTC (replay hour {park.time_s / 3600:.1f})")
            else:
                bad, what = s.cells_leaving_physics()
                for k in np.flatnonzero(bad):        # a trial design that left physics: out of the line
                    left[k], messages[k] = True, f"{what[k]} at replay hour {park.time_s / 3600:.1f}"
                    s.params[PARAM["in_service"], k] = 0.0
            if (i + 1) % per_record:
                continue
            record = s.take_means()
            record.update(counter_record(s, before))
            if fume is not None:
                # the fluoride of the record's interval, as a forward run books it
                done = interval_of(s, before, record, run.output_interval_s)
                fume.exchange(s, done.metal_kg, done.fed_kg, done.seconds)
            before = s.counters.copy()
            for name in collect:
                collected[name].append(record[name])
            if writer is not None:
                writer.append(park.time_s, record)
            tally["charge"] += (float(np.sum(record["line_current"][s.cell_line] * record["in_service"]))
                                * run.output_interval_s)
            tally["voltage_sum"] += mean_in_line(record["cell_voltage"])
            tally["intervals"] += 1
            if progress is not None:
                progress(run.output_interval_s)
        complete = True
    finally:
        if writer is not None:
            writer.close(complete=complete)
    if out is None:
        return {**{name: np.array(rows) for name, rows in collected.items()}, "left_physics": left,
                "physics_messages": np.array(messages, dtype=object)}
    return park._summary(Path(out), tally)


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


def _apply_actions(park: Park, row: dict[str, np.ndarray]) -> None:
    """What the crew did in this step (cut-outs and cut-ins for relining, taps, AlF3, anodes, bath), applied at
    its start as the twin's own routine does them; beam moves are applied mid-step by the caller."""
    s = park.smelter
    cut = np.zeros(s.n_cells, dtype=bool)
    if "in_service" in row:
        wanted = np.nan_to_num(row["in_service"], nan=1.0) > 0.5
        cut = s.in_service() & ~wanted
        for k in np.flatnonzero(cut):             # its metal and bath leave with it: not tapped again below
            s.linings.cut_out(s, int(k), park.time_s)
        for k in np.flatnonzero(~s.in_service() & wanted & ~cut):
            s.linings.cut_in(s, int(k), park.time_s)
    if "metal_tapped" in row:
        for k in np.flatnonzero((row["metal_tapped"] > 0) & ~cut):
            s.remove_metal(int(k), float(row["metal_tapped"][k]))
    if "alf3_added" in row:
        add = np.nan_to_num(row["alf3_added"])
        s.state[STATE["alf3"]] += add
        s.counters[COUNTER["alf3_added"]] += add
    if "anodes_set" in row:
        cells = np.flatnonzero(row["anodes_set"] > 0)
        if cells.size:
            s.set_anodes(cells, park.time_s)
    for k in np.flatnonzero((np.nan_to_num(row.get("bath_tapped", np.zeros(s.n_cells))) > 0) & ~cut):
        s.remove_bath(int(k), float(row["bath_tapped"][k]))
    for k in np.flatnonzero(np.nan_to_num(row.get("bath_added", np.zeros(0))) > 0):
        s.add_bath(int(k), float(row["bath_added"][k]))
