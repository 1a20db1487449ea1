"""The park: the smelter (potlines of Hall-Heroult cells), the Bayer refinery and the site around them.

A park is built once on its steady operating point and steps one coordination interval at a time
(``step_interval``): the refinery's steps that fall in the interval, the driver's set-points and actions with one
kernel call for every cell of every line, the site's books, one record of means and counters. Runs go through
the one run loop (``twin.loop.run``) with a driver (``twin.drivers``) and a sink. A park has a smelter, a
refinery or both.
"""
from __future__ import annotations

import copy
import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from twin import checkpoint, loop
from twin._core.pot import AL_KG_PER_COULOMB
from twin._version import __version__
from twin.carbon import LOW_CARBON_LINE
from twin.config import ParkConfig, parse_config
from twin.drivers.schedule import ScheduleDriver
from twin.refinery.outputs import refinery_layout
from twin.refinery.plant import Refinery
from twin.results import Layout, ResultsWriter, check_file_format, output_lock, recover
from twin.site.site import Site
from twin.smelter.anode_effects import COUNTERS as AE_COUNTERS
from twin.smelter.anode_effects import AnodeEffectSummary, summarise
from twin.smelter.limits import WINDOW
from twin.smelter.outputs import counter_record, smelter_layout
from twin.smelter.potline import Potlines

_LOG = logging.getLogger("twin.power")

__all__ = ["LineSummary", "Park", "RunSummary", "Snapshot", "run"]


@dataclass(frozen=True)
class LineSummary:
    """A potline's figures over a run (the means are over the run of the line's interval means)."""

    name: str
    metal_t: float
    current_efficiency: float
    specific_energy_kWh_per_kg: float
    mean_voltage_V: float
    bath_temperature_C: float
    superheat_K: float
    excess_alf3_wt: float


@dataclass(frozen=True)
class RunSummary:
    """Plant figures of a finished run (all cells of all lines; the refinery's totals)."""

    path: Path
    hours: float
    cells: int = 0
    metal_t: float = float("nan")
    mean_voltage_V: float = float("nan")
    current_efficiency: float = float("nan")
    specific_energy_kWh_per_kg: float = float("nan")
    ae_minutes_per_cell_day: float = float("nan")
    alumina_t: float = float("nan")
    caustic_kg_per_t: float = float("nan")
    bauxite_factor: float = float("nan")
    footprint: dict[str, float] | None = None     # t CO2e per t Al by source (scope 1 and 2)
    anode_effects: AnodeEffectSummary | None = None
    bath_temperature_C: float = float("nan")       # the mean over the run of the lines' interval means
    superheat_K: float = float("nan")
    excess_alf3_wt: float = float("nan")
    lines: list[LineSummary] | None = None

    @property
    def co2e_per_t(self) -> float:
        return sum(self.footprint.values()) if self.footprint else float("nan")

    def __str__(self) -> str:
        text = f"{self.hours:g} h -> {self.path}"
        if self.cells:
            text += (f"\n  smelter: {self.cells} cells\n"
                     f"  metal made            {self.metal_t:,.1f} t\n"
                     f"  mean cell voltage     {self.mean_voltage_V:.3f} V\n"
                     f"  current efficiency    {100 * self.current_efficiency:.2f} %\n"
                     f"  DC specific energy    {self.specific_energy_kWh_per_kg:.2f} kWh/kg Al\n"
                     f"  bath                  {self.bath_temperature_C:.1f} degC, superheat {self.superheat_K:.1f} K, "
                     f"excess AlF3 {self.excess_alf3_wt:.2f} wt %"
                     + (f"\n{self.anode_effects}" if self.anode_effects else ""))
            if self.lines and len(self.lines) > 1:
                text += "\n  by line               metal t    CE %  DC kWh/kg  cell V  bath degC  superheat K  AlF3 %"
                text += "".join(f"\n    {ln.name:<20}{ln.metal_t:>8,.1f}  {100 * ln.current_efficiency:6.2f}"
                                f"  {ln.specific_energy_kWh_per_kg:9.2f}  {ln.mean_voltage_V:6.3f}"
                                f"  {ln.bath_temperature_C:9.1f}  {ln.superheat_K:11.1f}  {ln.excess_alf3_wt:6.2f}"
                                for ln in self.lines)
        if self.footprint:
            line = "under" if self.co2e_per_t < LOW_CARBON_LINE else "over"
            parts = ", ".join(f"{k} {v:.2f}" for k, v in self.footprint.items())
            text += (f"\n  footprint             {self.co2e_per_t:.2f} t CO2e/t Al, {line} the "
                     f"{LOW_CARBON_LINE:g} t low-carbon line\n    by source: {parts}")
        if np.isfinite(self.alumina_t):
            text += (f"\n  refinery:\n"
                     f"  alumina made          {self.alumina_t:,.1f} t\n"
                     f"  caustic make-up       {self.caustic_kg_per_t:.1f} kg NaOH/t\n"
                     f"  bauxite factor        {self.bauxite_factor:.3f} t/t")
        return text


@dataclass(frozen=True)
class Snapshot:
    """Everything a run changes in a built park (``Park.snapshot``), for ``Park.restore``."""

    time_s: float
    blocks: dict[str, np.ndarray]
    rng: list[dict]
    site: dict | None


class Park:
    """A configured park, started on its steady operating point, ready to advance (``started=False``: built, not
    yet started; ``start`` does that)."""

    def __init__(self, config: ParkConfig, started: bool = True):
        self._build(config)
        if started:
            self.start()

    def start(self) -> None:
        """Put the potlines on their steady operating point at the schedules' set-points (power programs act from
        then on)."""
        if self.smelter is not None:
            self.smelter.start(self.setpoints(0.0))

    def snapshot(self) -> Snapshot:
        """A copy of everything a run changes: the potlines' and the refinery's arrays and generators, the
        site's books and the clock. Build once, run many: a calibration restores its batch's built park for
        every trial instead of building, validating and starting a new one."""
        return Snapshot(self.time_s, {name: np.array(block, copy=True) for name, block in self.blocks().items()},
                        self.smelter.rng_states() if self.smelter is not None else [],
                        copy.deepcopy(self.site.state()) if self.site is not None else None)

    def restore(self, snapshot: Snapshot) -> None:
        """Take the park back to ``snapshot`` (of this park), exactly."""
        if self.smelter is not None:
            self.smelter.restore(snapshot.blocks, snapshot.rng)
        if self.refinery is not None:
            self.refinery.restore(snapshot.blocks)
        if self.site is not None and snapshot.site is not None:
            self.site.restore(copy.deepcopy(snapshot.site))     # the site's restore takes its dict apart
        self.time_s = snapshot.time_s
        self._window_warned.clear()

    def _build(self, config: ParkConfig) -> None:
        self.config = config
        self.smelter = _potlines(config) if config.smelter is not None else None
        self.refinery = Refinery(config.refinery) if config.refinery is not None else None
        alumina_na2o = self.refinery.product_soda_fraction() if self.refinery is not None else None
        if self.smelter is not None and alumina_na2o is not None:
            self.smelter.set_alumina_na2o(alumina_na2o)          # the refinery's product, not the cells' default
        self.site = (Site(config, self.smelter.n_cells, alumina_na2o) if self.smelter is not None else None)
        self.time_s = 0.0
        self.schedule = ScheduleDriver()
        self.leaving_physics = "stop"             # or "take_out": see _after_smelter_steps
        self._window_warned: set[int] = set()

    def layout(self, training: bool = False) -> Layout:
        """What the results file holds for this park (``training``: a training session's, its actions' values)."""
        layout = Layout()
        if self.smelter is not None:
            layout += smelter_layout([ln.name for ln in self.smelter.lines], self.smelter.cell_line, training)
        if self.refinery is not None:
            layout += refinery_layout(self.refinery.train.tanks, self.refinery.sizes_um)
        if self.site is not None:
            layout += self.site.layout()
        return layout

    def blocks(self) -> dict[str, np.ndarray]:
        blocks = self.smelter.blocks() if self.smelter is not None else {}
        return {**blocks, **(self.refinery.blocks() if self.refinery is not None else {})}

    def setpoints(self, time_s: float) -> np.ndarray:
        """The potline schedules' line-current set-points (A) at a run time (before any power program: the
        driver says what the lines run at)."""
        hour = time_s / 3600.0
        assert self.config.smelter is not None, "a park without potlines has no line set-points"
        return np.array([ln.setpoint_A(hour) for ln in self.config.smelter.potlines])

    def step_interval(self, driver=None) -> dict[str, np.ndarray]:
        """Advance one output interval driven by ``driver`` (default: the park on its own schedules,
        ``twin.drivers.ScheduleDriver``); return the record of means and counters for it."""
        driver = driver or self.schedule
        run = self.config.run
        t0, t1 = self.time_s, self.time_s + run.output_interval_s
        record: dict[str, Any] = {}
        if self.refinery is not None:
            if self.site is not None:
                self.site.before_refinery(self.refinery)
            record.update(self.refinery.advance(run.output_interval_s))
            if self.site is not None:
                self.site.after_refinery(record, run.output_interval_s)
        if self.smelter is not None:
            assert self.site is not None                 # a park with potlines has their site
            before = self.smelter.counters.copy()
            driver.start_interval(self, t0)          # what is due now counts in this interval
            start, end = driver.line_setpoints(self, t0), driver.line_setpoints(self, t1)
            self.site.before_smelter(self.smelter, start)
            driver.advance_smelter(self, t0, t1, start, end)
            self._after_smelter_steps(t1 - t0, t1)
            record.update(self.smelter.take_means())
            record.update(counter_record(self.smelter, before))
            self._warn_window(record["cells_outside_window"], self._when(t1))
            done = self.smelter.interval_since(before, record, run.output_interval_s)
            record.update(self.site.after_smelter(self.smelter, done, t0 / 3600.0))
        self.time_s = t1
        return record

    def _after_smelter_steps(self, seconds: float, time_s: float) -> None:
        """After the driver took the potlines through the interval (``seconds``, to plant time ``time_s``): the
        cathodes' sodium uptake, then the physics check. A cell that left physics stops the run
        (``CellPhysicsError``) or, with ``leaving_physics = "take_out"`` (a calibration's trial), is taken out
        of the line for good, its values missing from this interval on."""
        s = self.smelter
        assert s is not None
        s.take_up_sodium(seconds)
        if self.leaving_physics == "stop":
            s.check_physics(self._when(time_s))
            return
        bad, what = s.cells_leaving_physics()
        cells = np.flatnonzero(bad)
        if cells.size:
            s.take_out_of_line(cells, [f"{what[k]} at plant hour {time_s / 3600:.1f}" for k in cells])

    def _when(self, time_s: float) -> str:
        stamp = (self.config.run.start + dt.timedelta(seconds=time_s)).astimezone(dt.UTC)
        return f"{stamp:%Y-%m-%d %H:%M} UTC (plant hour {time_s / 3600:.1f})"

    def _warn_window(self, outside: np.ndarray, when: str) -> None:
        """Log once per episode when a power program or supply-following keeps cells of a line (``outside``:
        how many, per line) outside their operating window (logger ``twin.power``)."""
        assert self.smelter is not None and self.site is not None
        acting = self.site.power.power_fraction < 1.0 - 1e-9
        for j, ln in enumerate(self.smelter.lines):
            n = int(outside[j])
            if acting and n and j not in self._window_warned:
                _LOG.warning("%s: %s: power at %.2f of the schedule drives %d of %d cells outside their operating "
                             "window (bath %g-%g degC, superheat %g-%g K, ledge %g-%g cm)", when, ln.name,
                             self.site.power.power_fraction, n, ln.cells, *WINDOW["bath_temperature"],
                             *WINDOW["superheat"], *WINDOW["ledge_thickness"])
                self._window_warned.add(j)
            elif not n:
                self._window_warned.discard(j)

    def writer_attrs(self, driver=None) -> dict:
        """The attributes of a results file of this park driven by ``driver``."""
        run = self.config.run
        return {"source_config": self.config.source, "alutwin_version": __version__,
                "fast_step_s": run.fast_step_s, "slow_step_s": run.slow_step_s,
                "output_interval_s": run.output_interval_s, "run_id": uuid.uuid4().hex,
                **(driver or self.schedule).attrs}

    def run(self, out: str | Path, seconds: float,
            progress: Callable[[float], None] | None = None) -> RunSummary:
        """Run for ``seconds`` of plant time (whole output intervals), streaming to ``out``.

        A checkpoint is kept beside the results (``<out>.checkpoint.npz``) every
        ``run.checkpoint_interval_h``; ``Park.resume(out)`` continues from it.
        """
        with output_lock(out):
            return self._run(Path(out), seconds, progress)

    def _run(self, out: Path, seconds: float, progress: Callable[[float], None] | None) -> RunSummary:
        run = self.config.run
        n_out = int(np.ceil(seconds / run.output_interval_s - 1e-9))
        stale = checkpoint.checkpoint_path(out)
        if run.checkpoint_interval_h == 0 and stale.exists():
            stale.unlink()                    # it belongs to the results file this run replaces
        # a run's id ties its checkpoints to its results: a checkpoint of a run whose file was replaced
        # cannot be resumed into the new file
        attrs = self.writer_attrs()
        writer = ResultsWriter(out, run.start, self.layout(), buffer_size=run.buffer_records, attrs=attrs)
        end_s = self.time_s + n_out * run.output_interval_s
        sink = loop.ResultsSink(writer, loop.new_tally(self, attrs["run_id"]), end_s, self._checkpoint_every())
        if run.checkpoint_interval_h > 0:
            sink.checkpoint(self)                       # so a run killed at any moment can resume
        loop.run(self, self.schedule, sink, end_s, progress)
        return self.summary(out, sink.tally)

    def _checkpoint_every(self) -> int:
        run = self.config.run
        return round(run.checkpoint_interval_h * 3600.0 / run.output_interval_s)

    @classmethod
    def resume(cls, out: str | Path, progress: Callable[[float], None] | None = None) -> RunSummary:
        """Continue the run that writes ``out`` from its last checkpoint to its planned end.

        Records written after the checkpoint are replaced; the result is identical, bit for
        bit, to a run that was never interrupted. A checkpoint of another run (its results file since
        replaced) is refused.
        """
        if Path(out).is_symlink():     # its writes never go through a link (its target would be changed)
            raise checkpoint.CheckpointError(f"{out}: is a symbolic link; a run resumes only the plain results file "
                                             "it wrote")
        with output_lock(out):
            return cls._resume(Path(out), progress)

    @classmethod
    def _resume(cls, out: Path, progress: Callable[[float], None] | None) -> RunSummary:
        recover(out)                # killed inside a flush: the file as the flush before left it
        ckpt = checkpoint.load(checkpoint.checkpoint_path(out))
        checkpoint.check_run(checkpoint.checkpoint_path(out), ckpt["tally"].get("run_id"), out)
        config = parse_config(ckpt["config"], source=ckpt["source"])
        try:
            check_file_format(out)
        except ValueError as exc:                    # records of another meaning: nothing is changed in it
            raise checkpoint.CheckpointError(str(exc)) from None
        checkpoint.check_against_results(checkpoint.checkpoint_path(out), ckpt, out, config.run.output_interval_s)
        park = cls.__new__(cls)
        park._build(config)
        needed, held = set(park.blocks()), set(ckpt["blocks"])
        if needed != held:
            raise checkpoint.CheckpointError(
                f"{checkpoint.checkpoint_path(out)}: its state blocks {sorted(held ^ needed)} are not those of its "
                "configuration: it was changed or damaged")
        try:
            if park.smelter is not None:
                park.smelter.restore(ckpt["blocks"], ckpt["rng"])
            if park.refinery is not None:
                park.refinery.restore(ckpt["blocks"])
            missing = set(loop.new_tally(park)) - set(ckpt["tally"])
            if missing:
                raise KeyError(f"tally {sorted(missing)}")
            if park.site is not None:
                park.site.restore(ckpt["tally"])
        except (KeyError, ValueError, TypeError, AttributeError, StopIteration) as exc:
            raise checkpoint.CheckpointError(f"{checkpoint.checkpoint_path(out)}: does not fit its configuration "
                                             f"({type(exc).__name__}: {exc}); it was changed or damaged") from None
        park.time_s = float(ckpt["time_s"])
        try:
            writer = ResultsWriter.reopen(out, records=int(ckpt["records"]), events=int(ckpt["events"]),
                                          layout=park.layout(), buffer_size=config.run.buffer_records)
        except ValueError as exc:            # a file of another format or layout: nothing was changed in it
            raise checkpoint.CheckpointError(str(exc)) from None
        if progress is not None:
            progress(park.time_s)              # plant time done before the checkpoint
        sink = loop.ResultsSink(writer, ckpt["tally"], ckpt["end_s"], park._checkpoint_every())
        loop.run(park, park.schedule, sink, ckpt["end_s"], progress)
        return park.summary(out, sink.tally)

    def _line_figures(self, tally: dict) -> dict[str, Any]:
        """The summary's bath figures (means over the lines' cells) and each line's, from ``tally``."""
        s, since = self.smelter, tally["start_counters"]
        assert s is not None and self.config.smelter is not None
        n_out = max(tally["intervals"], 1)
        metal = np.bincount(s.cell_line, s.counted_since(since, "metal_produced"), minlength=s.n_lines)
        energy = np.bincount(s.cell_line, s.counted_since(since, "energy_dc"), minlength=s.n_lines)
        means = dict(zip(loop.LINE_MEANS, tally["line_sums"] / n_out, strict=True))
        with np.errstate(invalid="ignore", divide="ignore"):
            lines = [LineSummary(name=ln.name, metal_t=metal[j] / 1e3,
                                 current_efficiency=metal[j] / (tally["line_charge"][j] * AL_KG_PER_COULOMB),
                                 specific_energy_kWh_per_kg=energy[j] / metal[j],
                                 mean_voltage_V=means["cell_voltage"][j],
                                 bath_temperature_C=means["bath_temperature"][j], superheat_K=means["superheat"][j],
                                 excess_alf3_wt=means["excess_alf3"][j])
                     for j, ln in enumerate(self.config.smelter.potlines)]
        cells = np.bincount(s.cell_line, minlength=s.n_lines)       # the park's means weigh lines by their cells
        return {"bath_temperature_C": float(np.average(means["bath_temperature"], weights=cells)),
                "superheat_K": float(np.average(means["superheat"], weights=cells)),
                "excess_alf3_wt": float(np.average(means["excess_alf3"], weights=cells)), "lines": lines}

    def summary(self, path: Path, tally: dict) -> RunSummary:
        """The plant figures of a run into ``path`` from its ``tally`` (``twin.loop.new_tally``) to now."""
        n_out = tally["intervals"]
        hours = n_out * self.config.run.output_interval_s / 3600.0
        figures: dict[str, Any] = {}
        if self.smelter is not None:
            assert self.site is not None
            s, since = self.smelter, tally["start_counters"]
            metal = float(s.counted_since(since, "metal_produced").sum())
            cells = s.n_cells
            charge = tally["charge"]
            figures.update(
                cells=cells, metal_t=metal / 1e3, mean_voltage_V=tally["voltage_sum"] / max(n_out, 1),
                current_efficiency=metal / (charge * AL_KG_PER_COULOMB) if charge > 0 else float("nan"),
                specific_energy_kWh_per_kg=float(s.counted_since(since, "energy_dc").sum()) / metal if metal > 0
                else float("nan"),
                ae_minutes_per_cell_day=float(s.counted_since(since, "ae_minutes").sum()) / (cells * hours / 24.0)
                if hours > 0 else float("nan"),
                anode_effects=summarise({name: s.counted_since(since, name) for name in AE_COUNTERS},
                                        cells * hours / 24.0, s.cell_names) if hours > 0 else None,
                footprint=self.site.footprint(), **self._line_figures(tally))
        if self.refinery is not None:
            made = dict(zip(self.refinery.cumulative, np.array(list(self.refinery.cumulative.values()))
                            - tally["refinery_start"], strict=True))
            alumina = made["alumina_produced"]
            figures.update(alumina_t=alumina, caustic_kg_per_t=1e3 * made["caustic_used"] / alumina,
                           bauxite_factor=made["bauxite_used"] / alumina)
        return RunSummary(path=path, hours=hours, **figures)


def _potlines(config: ParkConfig) -> Potlines:
    sm = config.smelter
    assert sm is not None
    overridden = {k for o in sm.cell_overrides for k in o.cells}
    return Potlines(sm.cell, sm.control, sm.potlines, sm.operations, config.run.seed,
                    {k: sm.cell_design(k) for k in sorted(overridden)}, sm.variation, config.lining)


def run(config: ParkConfig, out: str | Path = "alutwin-results.nc", *, days: float | None = None,
        hours: float | None = None, progress: bool | Callable[[float], None] | None = None) -> RunSummary:
    """Run a park from its steady state and stream results to ``out``.

    The horizon is ``hours`` or ``days`` if given, else the config's ``run.days``. ``progress=True`` shows a
    progress bar of plant hours (tqdm, on stderr); a callable is told the plant seconds of each interval done.
    """
    if days is not None and hours is not None:
        raise ValueError("give days or hours, not both")
    seconds = (hours * 3600.0 if hours is not None else (days if days is not None else config.run.days) * 86400.0)
    if not seconds > 0:
        raise ValueError(f"the run horizon must be positive, got {seconds} s")
    park = Park(config)
    if progress is not True:
        return park.run(out, seconds, progress=progress or None)
    with plant_time_bar(seconds) as bar:
        return park.run(out, seconds, progress=lambda s: bar.update(round(s)))


def plant_time_bar(seconds: float | None, disable: bool = False):
    """A progress bar (tqdm, on stderr) of plant hours, to ``seconds`` (None: no total known)."""
    from tqdm import tqdm

    # the bar counts whole plant seconds (no float round-off at the end), shown in hours
    if seconds is None:
        return tqdm(unit="h", unit_scale=1 / 3600, desc="plant time", disable=disable,
                    bar_format="{l_bar}{n:.1f} h [{elapsed}]")
    return tqdm(total=round(seconds), unit="h", unit_scale=1 / 3600, desc="plant time", disable=disable,
                bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} h [{elapsed}<{remaining}]")
