"""The run loop: a built park advanced one coordination interval at a time, its inputs from a driver and its
records to a sink.

Every way of running the twin goes through ``run``: a forward run (``twin.drivers.ScheduleDriver``, records
into a results file), a replay of recorded inputs (``twin.drivers.RecordedDriver``) into a file or, for a
calibration trial, into a ``CollectSink`` that keeps the variables it is asked for. The park takes a step
(``Park.step_interval``) the same way whoever drives it; drivers say what the plant's inputs were, sinks what
becomes of its records.

A sink has ``record(park, record)`` (after each interval, ``park.time_s`` at the interval's end) and
``close(complete)`` (once, ``complete`` False if the loop stopped on an error). A driver has
``start_interval(park, t0)`` (inputs due at the interval's start), ``line_setpoints(park, time_s)`` and
``advance_smelter(park, t0, t1, start_A, end_A)`` (``twin.drivers``).

A Ctrl-C (SIGINT) or a SIGTERM during a run stops it between intervals, where every record handed to the sink
is whole: the signal is noted and ``Interrupted`` raised after the interval (a second signal stops at once).
An exception raised by the signal itself could land inside a flush, or in a callback that swallows it.
"""
from __future__ import annotations

import contextlib
import logging
import signal
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Protocol

import numpy as np
from threadpoolctl import threadpool_limits

from twin import checkpoint
from twin.results import ResultsWriter

__all__ = ["CollectSink", "Interrupted", "ResultsSink", "Sink", "new_tally", "run"]

_LOG = logging.getLogger("twin.results")
# how long a checkpoint waits for a reader to let the file go before it is postponed to the next interval (s)
CHECKPOINT_WAIT_S = 5.0


class Sink(Protocol):
    def record(self, park, record: dict[str, np.ndarray]) -> None: ...

    def close(self, complete: bool) -> None: ...


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal (SIGINT or SIGTERM, ``signum``) between two intervals."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def _signals_noted() -> Iterator[list[int]]:
    """SIGINT and SIGTERM noted in the list yielded instead of raising where they land (a second one raises
    ``Interrupted`` at once); the handlers before are put back. Only the main thread can take signals: elsewhere
    (a Dask worker's thread) nothing changes."""
    noted: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield noted
        return

    def note(signum: int, _frame) -> None:
        if noted:
            raise Interrupted(signum)
        noted.append(signum)

    before = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield noted
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def run(park, driver, sink: Sink, end_s: float, progress: Callable[[float], None] | None = None,
        until: Callable[[], bool] | None = None) -> None:
    """Advance ``park`` driven by ``driver`` to plant time ``end_s`` (whole output intervals), each interval's
    record to ``sink``; ``progress`` is told the plant seconds of each interval done; ``until`` (asked after
    each interval) ends the run early, complete (a trainee ending a session). The sink is closed however the
    loop ends (incomplete if it stopped on an error, a cell leaving physics or a signal included)."""
    interval = park.config.run.output_interval_s
    complete = False
    # the kernel's OpenMP threads own the cores; idle BLAS threads spinning beside them cost ~30 %
    limits = threadpool_limits(limits=1, user_api="blas")
    try:
        with _signals_noted() as noted:
            while park.time_s < end_s - 1e-6:
                sink.record(park, park.step_interval(driver))
                if progress is not None:
                    progress(interval)
                if noted:
                    raise Interrupted(noted[0])
                if until is not None and until():
                    break
        complete = True
    finally:
        limits.restore_original_limits()
        sink.close(complete)


def new_tally(park, run_id: str | None = None) -> dict:
    """What a run's summary counts from its start (JSON and arrays, carried by checkpoints)."""
    tally: dict = {"charge": 0.0, "voltage_sum": 0.0, "intervals": 0, "run_id": run_id or uuid.uuid4().hex}
    if park.smelter is not None:
        tally["start_counters"] = park.smelter.counters.copy()
        # by line: the charge through its cells in the line, and the sums of its interval means of LINE_MEANS
        tally["line_charge"] = np.zeros(park.smelter.n_lines)
        tally["line_sums"] = np.zeros((len(LINE_MEANS), park.smelter.n_lines))
    if park.refinery is not None:
        tally["refinery_start"] = np.array(list(park.refinery.cumulative.values()))
    return tally


class ResultsSink:
    """Records into a results file (events too), with the run's tally for its summary; with
    ``checkpoint_every`` records (> 0) a checkpoint beside the file that matches it, the last before
    ``end_s``."""

    def __init__(self, writer: ResultsWriter, tally: dict, end_s: float = np.inf, checkpoint_every: int = 0):
        self.writer = writer
        self.tally = tally
        self.end_s = end_s
        self.every = checkpoint_every
        self.postponed = False          # a checkpoint a reader made wait: tried again after the next interval

    def record(self, park, record: dict[str, np.ndarray]) -> None:
        tally, interval = self.tally, park.config.run.output_interval_s
        if park.smelter is not None:
            self.writer.append_events(park.smelter.ops.take_events())
            # the charge through the cells in the line (cut-out cells are bypassed)
            cell_line = park.smelter.cell_line
            charge = record["line_current"][cell_line] * record["in_service"] * interval
            tally["charge"] += float(np.sum(charge))
            tally["voltage_sum"] += mean_in_line(record["cell_voltage"])
            tally["line_charge"] += np.bincount(cell_line, charge, minlength=park.smelter.n_lines)
            for i, name in enumerate(LINE_MEANS):
                tally["line_sums"][i] += [mean_in_line(record[name][park.smelter.cells_of(j)])
                                          for j in range(park.smelter.n_lines)]
        self.writer.append(park.time_s, record)
        tally["intervals"] += 1
        due = self.every > 0 and round(park.time_s / interval) % self.every == 0
        if (due or self.postponed) and park.time_s < self.end_s - 1e-6:
            self.checkpoint(park)

    def checkpoint(self, park) -> None:
        """Flush the results, then save the checkpoint that matches them. A reader holding the file does not stop
        the run: the checkpoint is postponed to the next interval, said once on the log (the writer keeps the
        records in memory meanwhile, up to its limit, then waits for the reader)."""
        if park.site is not None:
            self.tally.update(park.site.state())
        if not self.writer.flush(wait=CHECKPOINT_WAIT_S):
            if not self.postponed:
                _LOG.warning("%s: a reader holds the file: the checkpoint waits for it (the records stay in memory)",
                             self.writer.path)
            self.postponed = True
            return
        self.postponed = False
        checkpoint.save(checkpoint.checkpoint_path(self.writer.path),
                        config=park.config.model_dump(mode="json"), source=park.config.source,
                        time_s=park.time_s, end_s=self.end_s, records=self.writer.written,
                        events=self.writer.events_written, blocks=park.blocks(),
                        rng=park.smelter.rng_states() if park.smelter is not None else [], tally=self.tally)

    def close(self, complete: bool) -> None:
        self.writer.close(complete=complete)


class CollectSink:
    """Keeps the variables named in ``names`` of every record in memory (record x cell or line): what a
    calibration trial compares with the plant's measurements. Nothing is written."""

    def __init__(self, names: tuple[str, ...]):
        self.rows: dict[str, list[np.ndarray]] = {name: [] for name in names}

    def record(self, park, record: dict[str, np.ndarray]) -> None:
        if park.smelter is not None:
            park.smelter.ops.take_events()            # events are not collected; they must not pile up
        for name, rows in self.rows.items():
            rows.append(record[name])

    def close(self, complete: bool) -> None:
        pass

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: np.array(rows) for name, rows in self.rows.items()}


# the cell means a run's summary gives by line (each the mean over the run of the line's interval means)
LINE_MEANS = ("cell_voltage", "bath_temperature", "superheat", "excess_alf3")


def mean_in_line(values: np.ndarray) -> float:
    """Mean over the cells in the line (cut-out cells have no values); 0 with none in the line."""
    finite = np.isfinite(values)
    return float(np.mean(values[finite])) if finite.any() else 0.0
