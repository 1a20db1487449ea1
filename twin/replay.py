"""Replay: the potlines driven by what operators and the plant did, instead of by their controllers.

``inputs_from_results`` makes replay inputs from a twin results file (so a run can be replayed);
``inputs_from_historian`` from an ingested historian dataset; ``replay`` runs a park through them on the one
run loop (``twin.loop``) with the recorded driver (``twin.drivers.recorded``, which says what the inputs hold and
when each action lands). The physics, the anode-effect onset and the results are the twin's own, the site's
books included: with a ``[fume]`` section each cell loses the fluoride it evolves and gets back its feed share
of what the scrubbers caught (``twin.site.fume``), at the end of each interval as in a forward run. (Without it
a replay keeps ~0.5 kg/day more AlF3 than the plant it replays; over ten days the liquidus falls, ledge melts
into the bath, and the voltage drifts up ~1 mV.)
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

from twin import loop
from twin.drivers.recorded import RecordedDriver, ReplayError, input_clock
from twin.loop import CollectSink, ResultsSink, new_tally
from twin.park import Park, RunSummary
from twin.results import ResultsWriter
from twin.smelter.outputs import VARIABLES

__all__ = ["BatchReplay", "ReplayError", "input_clock", "inputs_from_historian", "inputs_from_results", "replay"]


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
    for name in ("beam_moved_at", "alumina_fed_at"):   # when in each interval the moves and feed came
        if name in results:
            inputs[name] = results[name].astype(float)
    if "in_service" in results:                     # cut-outs for relining (they happen at interval starts)
        inputs["in_service"] = results["in_service"].astype(float)
    if "pot_age" in results:                        # the linings' ages at the start: a first record's less its
        first = results["pot_age"].isel(time=0)     # interval in the line (a cell cut in then starts at 0)
        if "in_service" in results:
            first = first - dt / 86400.0 * results["in_service"].isel(time=0)
        inputs["pot_age"] = first.clip(min=0.0).drop_vars("time", errors="ignore")
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
    arrays (``BatchReplay``). Writing a file, a cell leaving physics stops the replay as it stops
    a run (``CellPhysicsError``). Only the smelter is replayed (with the site's books around it).

    ``independent_cells`` replays the cells as separate problems (a calibration batch): each has its own
    secondary-alumina fluoride store instead of the line's shared one, so none feels the others.
    """
    if out is None:
        return BatchReplay(config, inputs, collect, independent_cells)(progress=progress)
    _smelter_only(config)
    park = Park(config.model_copy(update={"refinery": None}))
    driver = RecordedDriver(park, inputs)
    driver.take_over(park)
    assert park.site is not None                          # a park with potlines has their site
    if independent_cells:
        park.site.separate_cells()
    attrs = park.writer_attrs(driver)
    writer = ResultsWriter(out, park.config.run.start, park.layout(), buffer_size=park.config.run.buffer_records,
                           attrs=attrs)
    sink = ResultsSink(writer, new_tally(park, attrs["run_id"]))
    loop.run(park, driver, sink, driver.end_s, progress)
    return park.summary(Path(out), sink.tally)


class BatchReplay:
    """Replays of one park through one set of inputs with the cells' values changed from replay to replay (a
    calibration's trials): the park is built once and each replay restores it, gives the cells their values,
    starts it on its steady state and runs the inputs. No config is validated, no site built and no parameter
    block made per replay (build once, run many).

    A replay returns the variables named in ``collect`` as arrays (record x cell or line), with ``left_physics``
    (by cell: the replay drove it out of physics, after which it is taken out of the line and its values are
    missing) and ``physics_messages``. ``independent_cells``: see ``replay``.
    """

    def __init__(self, config, inputs: xr.Dataset, collect: tuple[str, ...] = (), independent_cells: bool = False):
        _smelter_only(config)
        self.park = Park(config.model_copy(update={"refinery": None}), started=False)
        self.park.leaving_physics = "take_out"
        assert self.park.site is not None                 # a park with potlines has their site
        if independent_cells:
            self.park.site.separate_cells()
        self.built = self.park.snapshot()
        self.driver = RecordedDriver(self.park, inputs)
        self.collect = collect

    def __call__(self, values: list[dict[str, float]] | None = None, inputs: xr.Dataset | None = None,
                 progress: Callable[[float], None] | None = None) -> dict[str, np.ndarray]:
        """One replay with cell k's ``values[k]`` (keys of ``twin.config.PER_CELL_KEYS``, within their
        configured ranges: they are not validated again) through the inputs, or through ``inputs`` (other inputs
        of the same layout). Raises ``SteadyStateError`` for values that have no steady start."""
        park, s = self.park, self.park.smelter
        assert s is not None
        park.restore(self.built)
        s.set_designs({k: s.cell.model_copy(update=v) for k, v in enumerate(values or []) if v})
        park.start()
        driver = self.driver if inputs is None else RecordedDriver(park, inputs)
        driver.take_over(park)
        collected = CollectSink(self.collect)
        loop.run(park, driver, collected, driver.end_s, progress)
        return {**collected.arrays(), "left_physics": s.left_physics.copy(),
                "physics_messages": np.array(s.physics_messages, dtype=object)}


def _smelter_only(config) -> None:
    if config.smelter is None:
        raise ReplayError(f"{config.source}: replay drives potlines, and this config has no [smelter]")
