"""Replay: the potlines driven by what operators and the plant did, instead of by their controllers.

Inputs are a dataset on the model clock (one value per output interval, labelled by its end):
``line_current`` (time, line) A, ``feed_rate`` (time, cell) kg/s of alumina as fed, and per
interval ``beam_move`` (m, + raises the anodes), ``metal_tapped`` (kg), ``alf3_added`` (kg) and
``anodes_set`` (count) by cell. ``inputs_from_results`` makes them from a twin results file (so a
run can be replayed); ``inputs_from_historian`` from an ingested historian dataset. Missing
variables leave that part to the model (e.g. no ``feed_rate``: the cell's own feed control).

Taps, AlF3 additions and anode settings are applied at the start of their interval (as the twin's
routine does them), beam moves in its middle. In replay the resistance control, the AE quench's
alumina dump and the crew's routine are off:
their actions come from the inputs. The physics, the anode-effect onset and the results are the
twin's own.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

from twin.park import Park, RunSummary
from twin.results import COUNTER_OUTPUTS, ResultsWriter, smelter_layout
from twin.smelter.cell import COUNTER, LINE_PARAM, PARAM, STATE

__all__ = ["ReplayError", "inputs_from_historian", "inputs_from_results", "replay"]

ACTIONS = ("beam_move", "metal_tapped", "alf3_added", "anodes_set")


class ReplayError(ValueError):
    """Inputs that do not fit the park being replayed."""


def inputs_from_results(results: xr.Dataset) -> xr.Dataset:
    """Replay inputs from a twin run: interval means and the per-interval increments of its counters."""
    dt = float(results.attrs["output_interval_s"])

    def per_interval(name: str) -> xr.DataArray:
        counter = results[name]
        return counter.diff("time", label="upper").reindex(time=results.time, fill_value=0.0) \
            + xr.where(results.time == results.time[0], counter.isel(time=0), 0.0)

    return xr.Dataset({
        "line_current": results["line_current"],
        "feed_rate": per_interval("alumina_fed") / dt,
        "beam_move": per_interval("beam_position"),
        "metal_tapped": per_interval("metal_tapped"),
        "alf3_added": per_interval("alf3_added"),
        "anodes_set": per_interval("anodes_set"),
    }, attrs={"output_interval_s": dt})


def inputs_from_historian(data: xr.Dataset) -> xr.Dataset:
    """Replay inputs from an ingested historian dataset (``twin.historian.ingest``): signals as they
    are, event samples (taps in kg, AlF3 additions, beam moves in mm, the feed log in kg, anodes set)
    summed into their intervals (the feed log as a rate)."""
    dt = float(data.attrs["interval_s"])
    out = xr.Dataset(coords={"time": data.time, "cell": data.cell, "line": data.line},
                     attrs={"output_interval_s": dt})
    for name in ("line_current", "feed_rate"):
        if name in data:
            out[name] = data[name]
    ends = data.time.values
    for variable, target, scale in (("tap_weight", "metal_tapped", 1.0), ("alf3_addition", "alf3_added", 1.0),
                                    ("beam_move", "beam_move", 1e-3), ("alumina_fed", "feed_rate", 1.0 / dt),
                                    ("anodes_set", "anodes_set", 1.0)):
        chosen = data.sample_variable.values == variable
        if not chosen.any():
            continue
        total = np.zeros((data.sizes["time"], data.sizes["cell"]))
        bins = np.searchsorted(ends, data.sample_time.values[chosen], side="right")
        inside = bins < len(ends)
        np.add.at(total, (bins[inside], data.sample_index.values[chosen][inside]),
                  scale * data.sample_value.values[chosen][inside])
        out[target] = (("time", "cell"), total)
    return out


def replay(config, inputs: xr.Dataset, out: str | Path | None,
           progress: Callable[[float], None] | None = None,
           collect: tuple[str, ...] = ()) -> RunSummary | dict[str, np.ndarray]:
    """Run the park from its steady state through the inputs' intervals, writing results to ``out``.

    With ``out=None`` nothing is written: the variables named in ``collect`` come back as arrays
    (time x cell or line), which is what a calibration loop wants. Only the smelter is replayed.
    """
    if config.smelter is None:
        raise ReplayError(f"{config.source}: replay drives potlines, and this config has no [smelter]")
    config = config.model_copy(update={"refinery": None})
    park = Park(config)
    s = park.smelter
    dt = float(inputs.attrs.get("output_interval_s", config.run.output_interval_s))
    if abs(dt - config.run.output_interval_s) > 1e-9:
        raise ReplayError(f"inputs are on a {dt} s clock, the park's output interval is "
                          f"{config.run.output_interval_s} s: ingest or run them on the same interval")
    for name, size in (("cell", s.n_cells), ("line", len(s.lines))):
        if name in inputs.dims and inputs.sizes[name] != size:
            raise ReplayError(f"inputs have {inputs.sizes[name]} {name}s, the park has {size}")
    if "line_current" in inputs:
        inputs = inputs.assign(line_current=_fill_gaps(inputs["line_current"]))
    if "feed_rate" in inputs:
        # each interval's recorded feed is whole shots; with the feeder half a shot into its demand the
        # replay fires that many shots in the interval, centred in their periods. From an empty demand
        # it would fire the last one an interval late, and run a shot's alumina (~0.015 wt %) short.
        s.state[STATE["feed_demand"]] = 0.5 * s.params[PARAM["shot_mass"]]
    s.params[PARAM["resistance_control"]] = 0.0
    s.params[PARAM["quench_mass"]] = 0.0
    s.line_params[LINE_PARAM["tau"]] = 0.0               # the recorded current is the line current
    run = config.run
    writer = None if out is None else ResultsWriter(
        out, run.start, smelter_layout([ln.name for ln in config.smelter.potlines], s.cell_line),
        buffer_size=run.buffer_records,
        attrs={"source_config": config.source, "replay": 1, "output_interval_s": dt,
               "fast_step_s": run.fast_step_s, "slow_step_s": run.slow_step_s})
    collected: dict[str, list[np.ndarray]] = {name: [] for name in collect}
    tally = {"start_counters": s.counters.copy(), "charge": 0.0, "voltage_sum": 0.0, "intervals": 0}
    n_sub = round(run.slow_step_s / run.fast_step_s)
    n_slow = round(dt / run.slow_step_s)
    complete = False
    try:
        for i in range(inputs.sizes["time"]):
            row = inputs.isel(time=i)
            _apply_actions(park, row)
            current = np.asarray(row["line_current"].values, float) if "line_current" in row \
                else park.setpoints(park.time_s)
            if "feed_rate" in row:
                s.params[PARAM["feed_override"]] = np.nan_to_num(np.asarray(row["feed_rate"].values, float),
                                                                 nan=-1.0)
            # beam moves land mid-interval: unbiased for moves spread over it (at its start they add
            # half an interval of the new ACD: a mean voltage bias of ~1 mV at 10-min intervals)
            half = n_slow // 2
            if half:
                s.advance(half, n_sub, run.fast_step_s, current, current)
            if "beam_move" in row:
                s.state[STATE["acd"]] += np.nan_to_num(np.asarray(row["beam_move"].values, float))
            s.advance(n_slow - half, n_sub, run.fast_step_s, current, current)
            park.time_s += dt
            record = s.take_means()
            for kernel_name, out_name in COUNTER_OUTPUTS.items():
                record[out_name] = s.counter(kernel_name).copy()
            for name in collect:
                collected[name].append(record[name])
            if writer is not None:
                writer.append(park.time_s, record)
            tally["charge"] += float(np.sum(record["line_current"][s.cell_line])) * dt
            tally["voltage_sum"] += float(np.mean(record["cell_voltage"]))
            tally["intervals"] += 1
            if progress is not None:
                progress(dt)
        complete = True
    finally:
        if writer is not None:
            writer.close(complete=complete)
    if out is None:
        return {name: np.array(rows) for name, rows in collected.items()}
    return park._summary(Path(out), tally)


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


def _apply_actions(park: Park, row: xr.Dataset) -> None:
    """What the crew did in this interval (taps, AlF3, anodes), applied at its start as the twin's
    own routine does; beam moves are applied mid-interval by the caller."""
    s = park.smelter
    if "metal_tapped" in row:
        for k in np.flatnonzero(np.asarray(row["metal_tapped"].values) > 0):
            s.remove_metal(int(k), float(row["metal_tapped"].values[k]))
    if "alf3_added" in row:
        add = np.nan_to_num(np.asarray(row["alf3_added"].values, float))
        s.state[STATE["alf3"]] += add
        s.counters[COUNTER["alf3_added"]] += add
    if "anodes_set" in row:
        cells = np.flatnonzero(np.asarray(row["anodes_set"].values) > 0)
        if cells.size:
            s.set_anodes(cells, park.time_s)
