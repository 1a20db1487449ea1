"""The park and its run loop: the smelter (potlines of Hall-Heroult cells) and the Bayer refinery.

One coordination interval at a time (the output interval): scheduled events (taps, AlF3), one
kernel call for every cell of every line, the refinery's steps that fall in the interval, then
one output record to the results file. A park has a smelter, a refinery or both.
"""
from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from twin import __version__, checkpoint
from twin._core.pot import AL_KG_PER_COULOMB
from twin.carbon import LOW_CARBON_LINE
from twin.config import ParkConfig, parse_config
from twin.refinery.plant import Refinery
from twin.results import Layout, ResultsWriter, counter_record, output_lock, refinery_layout, smelter_layout
from twin.site.site import Site, interval_of
from twin.smelter.anode_effects import COUNTERS as AE_COUNTERS
from twin.smelter.anode_effects import AnodeEffectSummary, summarise
from twin.smelter.limits import WINDOW
from twin.smelter.potline import Potlines

_LOG = logging.getLogger("twin.power")

__all__ = ["Park", "RunSummary", "run"]


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
                     f"  DC specific energy    {self.specific_energy_kWh_per_kg:.2f} kWh/kg Al"
                     + (f"\n{self.anode_effects}" if self.anode_effects else ""))
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


class Park:
    """A configured park, started on its steady operating point, ready to advance."""

    def __init__(self, config: ParkConfig):
        self.config = config
        self.smelter = _potlines(config) if config.smelter is not None else None
        self.refinery = Refinery(config.refinery) if config.refinery is not None else None
        self.site = (Site(config, self.smelter.n_cells, coupled=self.refinery is not None)
                     if self.smelter is not None else None)
        self.time_s = 0.0
        self._window_warned: set[int] = set()
        if self.smelter is not None:
            # the steady start is at the schedules' set-points; power programs act from then on
            self.smelter.start(self.setpoints(0.0))

    def layout(self) -> Layout:
        """What the results file holds for this park."""
        layout = Layout()
        if self.smelter is not None:
            layout += smelter_layout([ln.name for ln in self.config.smelter.potlines], self.smelter.cell_line)
        if self.refinery is not None:
            layout += refinery_layout(self.refinery.train.tanks, self.refinery.sizes_um)
        if self.site is not None:
            layout += self.site.layout()
        return layout

    def blocks(self) -> dict[str, np.ndarray]:
        blocks = self.smelter.blocks() if self.smelter is not None else {}
        return {**blocks, **(self.refinery.blocks() if self.refinery is not None else {})}

    def setpoints(self, time_s: float) -> np.ndarray:
        """The potline schedules' line-current set-points (A) at a run time."""
        hour = time_s / 3600.0
        return np.array([ln.setpoint_A(hour) for ln in self.config.smelter.potlines])

    def line_setpoints(self, time_s: float) -> np.ndarray:
        """The set-points the lines run at: the schedules after the power programs."""
        return self.site.line_setpoints(time_s / 3600.0, self.setpoints(time_s), self.smelter)

    def step_interval(self) -> dict[str, np.ndarray]:
        """Advance one output interval; return the record of means and counters for it."""
        run = self.config.run
        t0, t1 = self.time_s, self.time_s + run.output_interval_s
        record: dict[str, np.ndarray] = {}
        if self.refinery is not None:
            if self.site is not None:
                self.site.before_refinery(self.refinery)
            record.update(self.refinery.advance(run.output_interval_s))
            if self.site is not None:
                self.site.after_refinery(record, run.output_interval_s)
        if self.smelter is not None:
            before = self.smelter.counters.copy()
            self.site.before_smelter(self.smelter, self.setpoints(t0))
            record.update(self._smelter_interval(t0, t1, before))
            done = interval_of(self.smelter, before, record, run.output_interval_s)
            record.update(self.site.after_smelter(self.smelter, done, t0 / 3600.0))
        self.time_s = t1
        return record

    def _smelter_interval(self, t0: float, t1: float, before: np.ndarray) -> dict[str, np.ndarray]:
        run = self.config.run
        if t0 > 0 and np.floor(t0 / 86400.0) != np.floor((t0 - run.output_interval_s) / 86400.0):
            self.smelter.new_day()
        start, scheduled = self.line_setpoints(t0), self.setpoints(t0)
        # the crew holds its temperature terms on lines a power program or the supply holds off their schedule (a
        # scheduled outage, 0 kA on both, is not a modulation)
        self.smelter.ops.modulated_lines = (np.abs(start - scheduled) > np.maximum(scheduled, 1.0)
                                            * self.config.smelter.operations.temperature_hold_current_fraction)
        self.smelter.operate(t0, t1)
        n_sub = round(run.slow_step_s / run.fast_step_s)
        n_slow = round(run.output_interval_s / run.slow_step_s)
        self.smelter.advance(n_slow, n_sub, run.fast_step_s, start, self.line_setpoints(t1))
        self.smelter.take_up_sodium(t1 - t0)
        stamp = (run.start + dt.timedelta(seconds=t1)).astimezone(dt.UTC)
        when = f"{stamp:%Y-%m-%d %H:%M} UTC (plant hour {t1 / 3600:.1f})"
        self.smelter.check_physics(when)
        record = self.smelter.take_means()
        record.update(counter_record(self.smelter, before))
        self._warn_window(record["cells_outside_window"], when)
        return record

    def _warn_window(self, outside: np.ndarray, when: str) -> None:
        """Log once per episode when a power program or supply-following keeps cells of a line (``outside``:
        how many, per line) outside their operating window (logger ``twin.power``)."""
        acting = self.site is not None and self.site.power.power_fraction < 1.0 - 1e-9
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
        # a run's id ties its checkpoints to its results: a checkpoint of a run whose file was replaced
        # cannot be resumed into the new file
        run_id = uuid.uuid4().hex
        stale = checkpoint.checkpoint_path(out)
        if run.checkpoint_interval_h == 0 and stale.exists():
            stale.unlink()                    # it belongs to the results file this run replaces
        writer = ResultsWriter(out, run.start, self.layout(), buffer_size=run.buffer_records,
                               attrs={"source_config": self.config.source, "alutwin_version": __version__,
                                      "fast_step_s": run.fast_step_s, "slow_step_s": run.slow_step_s,
                                      "output_interval_s": run.output_interval_s, "run_id": run_id})
        tally = {"charge": 0.0, "voltage_sum": 0.0, "intervals": 0, "run_id": run_id}
        if self.smelter is not None:
            tally["start_counters"] = self.smelter.counters.copy()
        if self.refinery is not None:
            tally["refinery_start"] = np.array(list(self.refinery.cumulative.values()))
        end_s = self.time_s + n_out * run.output_interval_s
        if run.checkpoint_interval_h > 0:
            self._checkpoint(writer, end_s, tally)      # so a run killed at any moment can resume
        return self._loop(writer, end_s, tally, progress)

    @classmethod
    def resume(cls, out: str | Path, progress: Callable[[float], None] | None = None) -> RunSummary:
        """Continue the run that writes ``out`` from its last checkpoint to its planned end.

        Records written after the checkpoint are replaced; the result is identical, bit for
        bit, to a run that was never interrupted. A checkpoint of another run (its results file since
        replaced) is refused.
        """
        with output_lock(out):
            return cls._resume(Path(out), progress)

    @classmethod
    def _resume(cls, out: Path, progress: Callable[[float], None] | None) -> RunSummary:
        ckpt = checkpoint.load(checkpoint.checkpoint_path(out))
        checkpoint.check_run(checkpoint.checkpoint_path(out), ckpt["tally"].get("run_id"), out)
        config = parse_config(ckpt["config"], source=ckpt["source"])
        park = cls.__new__(cls)
        park.config = config
        park.smelter = _potlines(config) if config.smelter is not None else None
        park.refinery = Refinery(config.refinery) if config.refinery is not None else None
        try:
            if park.smelter is not None:
                park.smelter.restore(ckpt["blocks"], ckpt["rng"])
            if park.refinery is not None:
                park.refinery.restore(ckpt["blocks"])
        except (KeyError, ValueError, TypeError, StopIteration) as exc:
            raise checkpoint.CheckpointError(f"{checkpoint.checkpoint_path(out)}: does not fit its configuration "
                                             f"({type(exc).__name__}: {exc}); it was changed or damaged") from None
        park.site = (Site(config, park.smelter.n_cells, coupled=park.refinery is not None)
                     if park.smelter is not None else None)
        if park.site is not None:
            park.site.restore(ckpt["tally"])
        park.time_s = float(ckpt["time_s"])
        park._window_warned = set()
        writer = ResultsWriter.reopen(out, records=int(ckpt["records"]), events=int(ckpt["events"]),
                                      layout=park.layout(), buffer_size=config.run.buffer_records)
        if progress is not None:
            progress(park.time_s)              # plant time done before the checkpoint
        return park._loop(writer, ckpt["end_s"], ckpt["tally"], progress)

    def _loop(self, writer: ResultsWriter, end_s: float, tally: dict, progress) -> RunSummary:
        run = self.config.run
        every = round(run.checkpoint_interval_h * 3600.0 / run.output_interval_s)
        path = writer.path
        complete = False
        # the kernel's OpenMP threads own the cores; idle BLAS threads spinning beside them cost ~30 %
        limits = threadpool_limits(limits=1, user_api="blas")
        try:
            while self.time_s < end_s - 1e-6:
                record = self.step_interval()
                if self.smelter is not None:
                    writer.append_events(self.smelter.ops.take_events())
                    # the charge through the cells in the line (cut-out cells are bypassed)
                    tally["charge"] += (float(np.sum(record["line_current"][self.smelter.cell_line]
                                                     * record["in_service"])) * run.output_interval_s)
                    tally["voltage_sum"] += mean_in_line(record["cell_voltage"])
                writer.append(self.time_s, record)
                tally["intervals"] += 1
                if every > 0 and round(self.time_s / run.output_interval_s) % every == 0 and self.time_s < end_s - 1e-6:
                    self._checkpoint(writer, end_s, tally)
                if progress is not None:
                    progress(run.output_interval_s)
            complete = True
        finally:
            limits.restore_original_limits()
            writer.close(complete=complete)
        return self._summary(path, tally)

    def _checkpoint(self, writer: ResultsWriter, end_s: float, tally: dict) -> None:
        """Flush the results, then save the checkpoint that matches them."""
        if self.site is not None:
            tally.update(self.site.state())
        if not writer.flush(wait=120.0):
            raise OSError(f"{writer.path}: a reader has held the file for 2 minutes; cannot checkpoint")
        checkpoint.save(checkpoint.checkpoint_path(writer.path),
                        config=self.config.model_dump(mode="json"), source=self.config.source,
                        time_s=self.time_s, end_s=end_s, records=writer.written, events=writer.events_written,
                        blocks=self.blocks(),
                        rng=self.smelter.rng_states() if self.smelter is not None else [], tally=tally)

    def _summary(self, path: Path, tally: dict) -> RunSummary:
        from twin.smelter.cell import COUNTER

        n_out = tally["intervals"]
        hours = n_out * self.config.run.output_interval_s / 3600.0
        figures: dict[str, float] = {}
        if self.smelter is not None:
            delta = self.smelter.counters - tally["start_counters"]
            metal = float(delta[COUNTER["metal_produced"]].sum())
            cells = self.smelter.n_cells
            charge = tally["charge"]
            figures.update(
                cells=cells, metal_t=metal / 1e3, mean_voltage_V=tally["voltage_sum"] / max(n_out, 1),
                current_efficiency=metal / (charge * AL_KG_PER_COULOMB) if charge > 0 else float("nan"),
                specific_energy_kWh_per_kg=float(delta[COUNTER["energy_dc"]].sum()) / metal if metal > 0
                else float("nan"),
                ae_minutes_per_cell_day=float(delta[COUNTER["ae_minutes"]].sum()) / (cells * hours / 24.0)
                if hours > 0 else float("nan"),
                anode_effects=summarise({name: delta[COUNTER[name]] for name in AE_COUNTERS}, cells * hours / 24.0,
                                        self.smelter.cell_names) if hours > 0 else None,
                footprint=self.site.footprint())
        if self.refinery is not None:
            made = dict(zip(self.refinery.cumulative, np.array(list(self.refinery.cumulative.values()))
                            - tally["refinery_start"], strict=True))
            alumina = made["alumina_produced"]
            figures.update(alumina_t=alumina, caustic_kg_per_t=1e3 * made["caustic_used"] / alumina,
                           bauxite_factor=made["bauxite_used"] / alumina)
        return RunSummary(path=path, hours=hours, **figures)


def mean_in_line(values: np.ndarray) -> float:
    """Mean over the cells in the line (cut-out cells have no values); 0 with none in the line."""
    finite = np.isfinite(values)
    return float(np.mean(values[finite])) if finite.any() else 0.0


def _potlines(config: ParkConfig) -> Potlines:
    sm = config.smelter
    overridden = {k for o in sm.cell_overrides for k in o.cells}
    return Potlines(sm.cell, sm.control, sm.potlines, sm.operations, config.run.seed,
                    {k: sm.cell_design(k) for k in sorted(overridden)}, sm.variation, config.lining)


def run(config: ParkConfig, out: str | Path = "alutwin-results.nc", *, days: float | None = None,
        hours: float | None = None, progress: Callable[[float], None] | None = None) -> RunSummary:
    """Run a park from its steady state and stream results to ``out``.

    The horizon is ``hours`` or ``days`` if given, else the config's ``run.days``.
    """
    if days is not None and hours is not None:
        raise ValueError("give days or hours, not both")
    seconds = (hours * 3600.0 if hours is not None else (days if days is not None else config.run.days) * 86400.0)
    if not seconds > 0:
        raise ValueError(f"the run horizon must be positive, got {seconds} s")
    return Park(config).run(out, seconds, progress=progress)
