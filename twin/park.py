"""The park and its run loop. For now the park is its smelter: potlines of Hall-Heroult cells.

One coordination interval at a time (the output interval): scheduled events (taps, AlF3),
one kernel call for every cell of every line, then one output record to the results file.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from twin import __version__, checkpoint
from twin._core.pot import AL_KG_PER_COULOMB
from twin.config import ParkConfig, parse_config
from twin.results import COUNTER_OUTPUTS, ResultsWriter
from twin.smelter.potline import Potlines

__all__ = ["Park", "RunSummary", "run"]


@dataclass(frozen=True)
class RunSummary:
    """Plant figures of a finished run (all cells of all lines)."""

    path: Path
    hours: float
    cells: int
    metal_t: float
    mean_voltage_V: float
    current_efficiency: float
    specific_energy_kWh_per_kg: float
    ae_minutes_per_cell_day: float

    def __str__(self) -> str:
        return (f"{self.hours:g} h, {self.cells} cells -> {self.path}\n"
                f"  metal made            {self.metal_t:,.1f} t\n"
                f"  mean cell voltage     {self.mean_voltage_V:.3f} V\n"
                f"  current efficiency    {100 * self.current_efficiency:.2f} %\n"
                f"  DC specific energy    {self.specific_energy_kWh_per_kg:.2f} kWh/kg Al\n"
                f"  anode effects         {self.ae_minutes_per_cell_day:.3f} AE-min per cell-day")


class Park:
    """A configured park, started on its steady operating point, ready to advance."""

    def __init__(self, config: ParkConfig):
        self.config = config
        self.smelter = _potlines(config)
        self.time_s = 0.0
        self.smelter.start(self.setpoints(0.0))

    def setpoints(self, time_s: float) -> np.ndarray:
        hour = time_s / 3600.0
        return np.array([ln.setpoint_A(hour) for ln in self.config.smelter.potlines])

    def step_interval(self) -> dict[str, np.ndarray]:
        """Advance one output interval; return the record of means and counters for it."""
        run = self.config.run
        t0, t1 = self.time_s, self.time_s + run.output_interval_s
        if t0 > 0 and np.floor(t0 / 86400.0) != np.floor((t0 - run.output_interval_s) / 86400.0):
            self.smelter.new_day()
        self.smelter.operate(t0, t1)
        n_sub = round(run.slow_step_s / run.fast_step_s)
        n_slow = round(run.output_interval_s / run.slow_step_s)
        self.smelter.advance(n_slow, n_sub, run.fast_step_s, self.setpoints(t0), self.setpoints(t1))
        self.time_s = t1
        record = self.smelter.take_means()
        for kernel_name, out_name in COUNTER_OUTPUTS.items():
            record[out_name] = self.smelter.counter(kernel_name).copy()
        return record

    def run(self, out: str | Path, seconds: float,
            progress: Callable[[float], None] | None = None) -> RunSummary:
        """Run for ``seconds`` of plant time (whole output intervals), streaming to ``out``.

        A checkpoint is kept beside the results (``<out>.checkpoint.npz``) every
        ``run.checkpoint_interval_h``; ``Park.resume(out)`` continues from it.
        """
        run = self.config.run
        n_out = int(np.ceil(seconds / run.output_interval_s - 1e-9))
        writer = ResultsWriter(out, run.start, [ln.name for ln in self.config.smelter.potlines],
                               self.smelter.cell_line, buffer_size=run.buffer_records,
                               attrs={"source_config": self.config.source, "alutwin_version": __version__,
                                      "fast_step_s": run.fast_step_s, "slow_step_s": run.slow_step_s,
                                      "output_interval_s": run.output_interval_s})
        tally = {"start_counters": self.smelter.counters.copy(), "charge": 0.0, "voltage_sum": 0.0, "intervals": 0}
        end_s = self.time_s + n_out * run.output_interval_s
        if run.checkpoint_interval_h > 0:
            self._checkpoint(writer, end_s, tally)      # so a run killed at any moment can resume
        return self._loop(writer, end_s, tally, progress)

    @classmethod
    def resume(cls, out: str | Path, progress: Callable[[float], None] | None = None) -> RunSummary:
        """Continue the run that writes ``out`` from its last checkpoint to its planned end.

        Records written after the checkpoint are replaced; the result is identical, bit for
        bit, to a run that was never interrupted.
        """
        ckpt = checkpoint.load(checkpoint.checkpoint_path(out))
        config = parse_config(ckpt["config"], source=ckpt["source"])
        park = cls.__new__(cls)
        park.config = config
        park.smelter = _potlines(config)
        park.smelter.restore(ckpt["blocks"], ckpt["rng"])
        park.time_s = float(ckpt["time_s"])
        writer = ResultsWriter.reopen(out, records=int(ckpt["records"]), events=int(ckpt["events"]),
                                      n_cells=park.smelter.n_cells, buffer_size=config.run.buffer_records)
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
                writer.append_events(self.smelter.ops.take_events())
                writer.append(self.time_s, record)
                tally["charge"] += float(np.sum(record["line_current"][self.smelter.cell_line])) * run.output_interval_s
                tally["voltage_sum"] += float(np.mean(record["cell_voltage"]))
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
        if not writer.flush(wait=120.0):
            raise OSError(f"{writer.path}: a reader has held the file for 2 minutes; cannot checkpoint")
        checkpoint.save(checkpoint.checkpoint_path(writer.path),
                        config=self.config.model_dump(mode="json"), source=self.config.source,
                        time_s=self.time_s, end_s=end_s, records=writer.written, events=writer.events_written,
                        blocks=self.smelter.blocks(), rng=self.smelter.ops.rng_states(), tally=tally)

    def _summary(self, path: Path, tally: dict) -> RunSummary:
        from twin.smelter.cell import COUNTER

        delta = self.smelter.counters - tally["start_counters"]
        n_out = tally["intervals"]
        hours = n_out * self.config.run.output_interval_s / 3600.0
        metal = float(delta[COUNTER["metal_produced"]].sum())
        cells = self.smelter.n_cells
        charge = tally["charge"]
        return RunSummary(
            path=path, hours=hours, cells=cells, metal_t=metal / 1e3,
            mean_voltage_V=tally["voltage_sum"] / max(n_out, 1),
            current_efficiency=metal / (charge * AL_KG_PER_COULOMB) if charge > 0 else float("nan"),
            specific_energy_kWh_per_kg=float(delta[COUNTER["energy_dc"]].sum()) / metal if metal > 0 else float("nan"),
            ae_minutes_per_cell_day=float(delta[COUNTER["ae_minutes"]].sum()) / (cells * hours / 24.0)
            if hours > 0 else float("nan"),
        )


def _potlines(config: ParkConfig) -> Potlines:
    sm = config.smelter
    overridden = {k for o in sm.cell_overrides for k in o.cells}
    return Potlines(sm.cell, sm.control, sm.potlines, sm.operations, config.run.seed,
                    {k: sm.cell_design(k) for k in sorted(overridden)})


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
