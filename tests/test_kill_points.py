"""Results that survive a kill at any instruction (issue 26): a flush changes the file in place under an undo journal
(``twin.undo``). Killed before each of the writes of a flush (to the file or to its journal), the file opens with
every record of the flushes before it, bit for bit, and a resume from the checkpoint is identical to a run never
stopped. Before, 8 of 16 kills placed inside flushes left a file HDF5 could not read."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import assert_identical

import twin
from twin import undo
from twin.results import ResultsWriter, open_results, recover

pytestmark = pytest.mark.xdist_group("test_kill_points")

BUFFER = 3
CONFIG = """
[run]
output_interval_s = 600.0
checkpoint_interval_h = 1.0
buffer_records = 3
[smelter.operations]
feeder_fault_rate_per_day = 1.0      # events in the event table (taps, settings, faults)
[[smelter.potlines]]
name = "A"
cells = 3
"""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A small park's layout and the records and events of 4 hours of it (24 records, 8 flushes of 3)."""
    tmp = tmp_path_factory.mktemp("kill")
    (tmp / "park.toml").write_text(CONFIG)
    park = twin.Park(twin.load_config(tmp / "park.toml"))
    records, events = [], []
    for _ in range(24):
        records.append((park.time_s + 600.0, park.step_interval()))
        events.append(park.smelter.ops.take_events())
    # the file as the run creates it (created beside and renamed: not a write in place), copied for every kill
    ResultsWriter(tmp / "empty.nc", park.config.run.start, park.layout(), attrs=park.writer_attrs(),
                  buffer_size=BUFFER)
    return tmp, park, records, events


def _write(path: Path, park, records, events, kill_at: int, resume_at: int = 0, close: bool = True) -> int:
    """Write ``records`` after the first ``resume_at`` of them into ``path`` (the run's new file if 0, else a file
    already there, reopened as a resume does) in a forked child killed before its ``kill_at``-th write through the
    undo journal (0: never), then closed (``close``: marked complete). Returns the number of writes the child made
    (``kill_at`` if it was killed)."""
    if not resume_at:
        path.write_bytes((path.parent / "empty.nc").read_bytes())
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:                        # the child: only the writer runs here (no kernel, no OpenMP after a fork)
        os.close(read)
        count = [0]

        def mutating(self):
            count[0] += 1
            if count[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

        undo.UndoFile._mutating = mutating
        code = 1
        try:
            n_events = sum(len(e) for e in events[:resume_at])
            writer = ResultsWriter.reopen(path, resume_at, n_events, park.layout(), buffer_size=BUFFER)
            for (time_s, record), evs in list(zip(records, events, strict=True))[resume_at:]:
                writer.append_events(evs)
                writer.append(time_s, record)
            if close:
                writer.close()
            else:
                writer.flush()
            os.write(write, str(count[0]).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    told = os.read(read, 64)
    os.close(read)
    if os.WIFSIGNALED(status):
        assert kill_at and os.WTERMSIG(status) == signal.SIGKILL, status
        return kill_at
    assert os.WEXITSTATUS(status) == 0, f"the writer failed (kill_at = {kill_at}); its traceback is above"
    return int(told)


def _contents(path: Path) -> dict[str, np.ndarray]:
    """Every variable of a results file as HDF5 reads it (each chunk decompressed)."""
    with h5py.File(path, "r") as f:
        return {name: obj[...] for name, obj in f.items() if isinstance(obj, h5py.Dataset)}


def _holds_a_prefix(path: Path, reference: dict[str, np.ndarray], at_least: int) -> int:
    """The file opens (its journal rolled back, as a reader or a resume does) and holds the reference's first records
    and events, bit for bit: whole flushes, at least ``at_least`` records."""
    recover(path)
    assert not undo.journal_path(path).exists()
    got = _contents(path)
    n, total = len(got["time"]), len(reference["time"])
    assert n >= at_least and (n % BUFFER == 0 or n == total), n
    for name, values in reference.items():
        if len(values.shape) and len(values) == total and name != "event_time":
            np.testing.assert_array_equal(got[name], values[:n], name)
    m = len(got.get("event_time", []))
    np.testing.assert_array_equal(got.get("event_time", []), reference.get("event_time", np.zeros(0))[:m])
    return n


def test_a_kill_before_any_write_of_a_flush_loses_nothing_flushed(recorded):
    tmp, park, records, events = recorded
    _write(tmp / "reference.nc", park, records, events, kill_at=0)
    reference = _contents(tmp / "reference.nc")
    first, second = (_write(tmp / "count.nc", park, records[:k], events[:k], kill_at=0, close=False) for k in (3, 6))
    total = _write(tmp / "count.nc", park, records, events, kill_at=0)
    # the writes of the second flush (the first that rewrites what a flush wrote: chunk indexes, dimension scales,
    # the event table's chunk), every third of them, and a spread over the later flushes and the close
    points = [*range(first + 1, second + 1, 3), *range(second + 1, total + 1, (total - second) // 25)]
    assert len(points) >= 100
    for k in points:
        _write(tmp / "killed.nc", park, records, events, kill_at=k)
        _holds_a_prefix(tmp / "killed.nc", reference, at_least=3)
    # a reader meets the journal of a killed flush first: it rolls it back and reads what the flushes before wrote
    _write(tmp / "killed.nc", park, records, events, kill_at=(first + second) // 2)
    assert undo.journal_path(tmp / "killed.nc").exists()
    with open_results(tmp / "killed.nc") as ds:
        assert ds.sizes["time"] == 3 and not undo.journal_path(tmp / "killed.nc").exists()


def test_a_kill_inside_a_resumes_writes_loses_nothing_flushed(recorded):
    """A resume's own writes (cutting the file back to its checkpoint, then its flushes) are undone the same way."""
    tmp, park, records, events = recorded
    _write(tmp / "reference_2.nc", park, records, events, kill_at=0)
    reference = _contents(tmp / "reference_2.nc")
    cut = tmp / "cut.nc"
    _write(cut, park, records[:12], events[:12], kill_at=0)     # a run stopped after 12 records, resumed from 6
    base = cut.read_bytes()
    writes = _write(cut, park, records, events, kill_at=0, resume_at=6)
    for k in range(1, writes + 1, writes // 40):
        cut.write_bytes(base)
        _write(cut, park, records, events, kill_at=k, resume_at=6)
        _holds_a_prefix(cut, reference, at_least=6)


KILLED_RUN = """
import os, signal, sys
from twin import undo

at, count = int(sys.argv[1]), [0]


def mutating(self):
    count[0] += 1
    if count[0] == at:
        os.kill(os.getpid(), signal.SIGKILL)


undo.UndoFile._mutating = mutating
from twin.cli import main

sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("kill_at", [40, 700, 1500, 2300])
def test_a_run_killed_inside_a_flush_resumes_bit_identical(tmp_path, kill_at):
    """The whole command: ``twin run`` killed before a write inside one of its flushes, then ``--resume``."""
    (tmp_path / "park.toml").write_text(CONFIG)
    reference = tmp_path / "reference.nc"
    twin.run(twin.load_config(tmp_path / "park.toml"), reference, hours=4)
    out = tmp_path / "killed.nc"
    done = subprocess.run([sys.executable, "-c", KILLED_RUN, str(kill_at), "run", str(tmp_path / "park.toml"),
                           "--hours", "4", "--out", str(out), "--quiet"], capture_output=True, text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, (done.returncode, done.stderr)
    assert undo.journal_path(out).exists()             # it died inside a write
    assert subprocess.run([sys.executable, "-m", "twin.cli", "run", "--resume", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=300).returncode == 0
    assert_identical(reference, out)
