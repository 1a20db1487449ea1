"""Streaming results: one netCDF4/HDF5 file, appended in buffered blocks while a run goes on.

The file is opened, appended and closed at each flush, so between flushes it is a complete,
consistent netCDF4 file that any reader can open. A flush changes the file in place under an undo
journal (``twin.undo``): a run killed inside one, or a write the system refuses half-way, leaves the
file as the flush before left it once the journal is rolled back (by the writer at once, by the next
reader or resume after a kill; ``recover``). Writer and readers share HDF5's file lock: a reader never
sees a half-written flush; while a reader holds the file, the writer keeps its records buffered and
writes them at its next chance, so a reader never stops a run. Memory holds one buffer of outputs,
whatever the simulated horizon (plus what piles up while a reader keeps the file open). xarray reads the file with
``open_results``: lazily (values read when used, the file held until the dataset is closed) or,
with ``load=True``, all at once, letting go of it.

What a record means is in each variable's ``cell_methods`` (interval mean, total over the
interval, value at its end; see ``Variable.method``); files of another ``results_format`` are
refused. The cells' means are bit-rounded before compression (``MEAN_BITS``); a write the disk
has no room for is not started (``DiskFullError``).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import io
import logging
import os
import shutil
import time as _time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import h5netcdf
import h5py
import numpy as np
import xarray as xr

from twin._version import __version__
from twin.undo import UndoFile, journal_path, roll_back

_LOG = logging.getLogger("twin.results")
# a run's end waits this long for a reader holding its file before it says so; it then waits until the reader lets
# go (a reader never stops a writer: Ctrl-C or SIGTERM stops the wait, the file incomplete, resumable)
CLOSE_TELL_AFTER_S = 5.0
# records a writer keeps in memory while a reader holds its file before the run waits for it (at least twice its
# buffer; a day of 10-min records: ~85 MB for 720 cells): memory stays flat whatever a reader does
MAX_HELD_RECORDS = 144

__all__ = [
    "DiskFullError",
    "EventLayout",
    "Layout",
    "OutputLockedError",
    "ResultsWriter",
    "Variable",
    "bitround",
    "open_results",
    "output_lock",
    "recover",
    "write_whole",
]


class OutputLockedError(OSError):
    """Another run is writing the results file."""


class DiskFullError(OSError):
    """No room on the disk for the next records; the file keeps what it had."""


# files are written with h5py/h5netcdf and read with the netCDF-C library: h5netcdf's reader looks up every
# dimension's size through h5py for each variable (a park-day's file took 6-25 s to open, netCDF-C 0.1-0.8 s)
READ_ENGINE = "netcdf4"


def _hdf5_state(path: str | Path) -> str:
    """After a failed read of ``path``: "held" if a writer holds the file now (HDF5's lock), "whole" if HDF5 opens
    it (the read may have met a flush that has ended since), "damaged" if HDF5 cannot read it."""
    try:
        with h5py.File(path, "r"):
            return "whole"
    except BlockingIOError:
        return "held"
    except OSError:
        return "damaged"


@contextlib.contextmanager
def _in_place(path: Path) -> Iterator[h5py.File]:
    """``path`` opened with h5py to be changed in place under an undo journal (``twin.undo``): a change that fails
    (a write the system refuses, any error) is undone at once, so the file is as it was before it; a kill leaves
    the journal for ``recover``. ``BlockingIOError`` if a reader holds the file."""
    handle = UndoFile(path)
    try:
        with h5py.File(handle, "a") as f:
            yield f
        if handle.failed is not None:
            raise handle.failed
    except BaseException:
        handle.close()
        roll_back(path)
        raise
    handle.commit()


def recover(path: str | Path) -> bool:
    """Undo the write a killed writer left unfinished in ``path`` (its journal), so the file is whole again with
    everything flushed before it. True if there was one; a writer alive in a write now is left alone."""
    try:
        return roll_back(path)
    except BlockingIOError:
        return False
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise OSError(f"{path}: its writer was killed inside a write and the file cannot be put back as its last "
                      f"flush left it ({exc.strerror}; the undo journal is {journal_path(path)}); open it where it "
                      "can be written, or run twin run --resume") from None


@contextlib.contextmanager
def output_lock(path: str | Path) -> Iterator[None]:
    """Hold ``<path>.lock`` (an exclusive ``flock``) while a run writes ``path``: a second run on the same
    file stops at once with the pid of the first, instead of both writing and one being lost. The
    operating system drops the lock when the process ends, however it ends; a run that ends removes the file
    (a killed one leaves it, unlocked: the next run takes it)."""
    lock = Path(path).with_name(Path(path).name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = _locked(lock, path)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        lock.unlink(missing_ok=True)         # still held: whoever opens the name next makes a new file and locks it
        os.close(fd)


def _locked(lock: Path, path: str | Path) -> int:
    """The descriptor of ``lock``, flocked, and still the file at that name (a run that ended in between removed
    the one opened: lock the new one instead)."""
    while True:
        try:                # never through a symbolic link: its target would be truncated
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            raise OSError(f"{lock}: the lock beside the results is a symbolic link; a run writes only a plain lock "
                          "file there: remove the link") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise OutputLockedError(f"{path}: another run (pid {holder}) is writing this results file; "
                                    "wait for it or choose another --out") from None
        try:
            now = os.stat(lock, follow_symlinks=False)
        except FileNotFoundError:
            now = None
        held = os.fstat(fd)
        if now is not None and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
            return fd
        os.close(fd)


# The cells' interval means keep 16 significant bits (relative resolution 2**-17 = 7.6e-6: 0.007 K of a 960 degC
# bath, 0.1 kg of a 12 t bath), far below what the model or a plant measures; the zeroed low bits are what lets gzip
# halve them (a reference park-day 3.3 -> 2.4 MB of means). Everything else keeps float precision: the cell voltage
# (the signal calibration fits and historians are compared on; rounded, it would also change which samples a
# synthetic export's compression keeps), the cells' totals over the interval ("sum"), whose sums and differences
# must stay exact, states ("point"; but those shown only for reading, ``rounded``, are rounded as means), and the few
# series of lines and the park (a line current rounded so would be off by up to 4 A, which a replay's alumina
# balance integrates).
MEAN_BITS = 16


@dataclass(frozen=True)
class Variable:
    dims: tuple[str, ...]
    units: str
    long_name: str
    dtype: str = "f4"
    # what a record holds over its interval (CF cell_methods): "mean" of the interval, "point" (the value at
    # its end: states and totals since the start), "sum" (the total over the interval: the cells' counters)
    method: str = "mean"
    flags: tuple[str, ...] = ()  # a flag variable: the meanings of the values 0, 1, ... (CF flag_meanings)
    exact: bool = False          # an interval mean of cells kept at float precision (never bit-rounded)
    rounded: bool = False        # a cell state shown for reading (not a total, not a replay input): bit-rounded
    keep_bits: int = MEAN_BITS   # significant bits a bit-rounded variable keeps (fewer where its use needs fewer)



# what the records of a file mean; a file of another format is refused, not misread or appended to
RESULTS_FORMAT = 2
# gzip after the byte shuffle. Level 4: a reference park-day of records 7.4 % smaller than at level 1 for +0.04 s of
# its ~1.4 s wall (level 6: 9 % for +0.2 s; level 9: 10 % for +5 s)
COMPRESSION = {"compression": "gzip", "compression_opts": 4, "shuffle": True}


def _quantized(var: Variable) -> bool:
    return ((var.method == "mean" or var.rounded) and var.dtype == "f4" and "cell" in var.dims
            and not var.exact)


def bitround(values: np.ndarray, keep_bits: int) -> np.ndarray:
    """Round float32 ``values`` to ``keep_bits`` explicit mantissa bits (to nearest, ties away from zero); the
    dropped bits become zeros. NaN and infinities pass unchanged. CF 1.11 sec. 8.4 "bitround"
    (``quantization_nsb`` = ``keep_bits``), as netCDF-C's ``nc_def_var_quantize`` writes it."""
    values = np.ascontiguousarray(values, dtype=np.float32)
    drop = 23 - keep_bits
    if drop <= 0:
        return values
    bits = values.view(np.uint32)
    rounded = ((bits + np.uint32(1 << (drop - 1))) & np.uint32(~((1 << drop) - 1) & 0xFFFFFFFF)).view(np.float32)
    return np.where(np.isfinite(values), rounded, values)


@dataclass
@dataclass(frozen=True)
class EventLayout:
    """The event table of a results file: ``kinds`` (name -> code of ``event_kind``) and ``values`` (variable name
    -> (units, long name, the kinds whose value it holds))."""

    kinds: dict[str, int]
    values: dict[str, tuple[str, str, tuple[str, ...]]]


@dataclass
class Layout:
    """What a results file holds: dimension sizes, coordinate variables, the output variables and, for a park
    with cells, the event table."""

    dims: dict[str, int] = field(default_factory=dict)
    coords: dict[str, tuple[tuple[str, ...], np.ndarray, dict[str, str]]] = field(default_factory=dict)
    variables: dict[str, Variable] = field(default_factory=dict)
    events: EventLayout | None = None

    def __add__(self, other: Layout) -> Layout:
        return Layout({**self.dims, **other.dims}, {**self.coords, **other.coords},
                      {**self.variables, **other.variables}, self.events or other.events)


class ResultsWriter:
    """Append interval outputs to a netCDF4 file in blocks of ``buffer_size`` records.

    Parameters
    ----------
    path : path of the file to create (overwritten; written beside it first and renamed into place).
    start : UTC start of the run; ``time`` is written as seconds since it.
    line_names : names of the potlines (the ``line`` coordinate).
    cell_line : index of each cell's line (length = number of cells).
    attrs : global attributes (config source, model version ...).
    buffer_size : records kept in memory between writes.
    flush_seconds : also write when this much wall time has passed since the last write.
    """

    def __init__(self, path: str | Path, start: dt.datetime, layout: Layout,
                 attrs: dict[str, str | float | int] | None = None, buffer_size: int = 144,
                 flush_seconds: float = 20.0):
        self.path = Path(path)
        self.layout = layout
        self.buffer_size = int(buffer_size)
        self.flush_seconds = float(flush_seconds)
        self.written = 0
        self.events_written = 0
        self.interval_s = float((attrs or {}).get("output_interval_s", 0.0))
        self._events: list[tuple[float, int, int, float]] = []
        self._times: list[float] = []
        self._buffer: dict[str, list[np.ndarray]] = {name: [] for name in layout.variables}
        self._last_flush = _time.monotonic()
        self._stopped = ""                     # why nothing more can be written (full disk, failed write)
        stamp = start.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # created beside its place and renamed into it: a kill while the layout is written leaves the old
        # file (or none), never one that does not open
        creating = self.path.with_name(self.path.name + ".creating")
        creating.unlink(missing_ok=True)      # a killed creation's leftover, or a link planted there: not followed
        journal_path(self.path).unlink(missing_ok=True)     # of a file this one replaces
        try:
            with h5netcdf.File(creating, "w") as f:
                f.dimensions = {"time": None, **layout.dims, **({"event": None} if layout.events else {}),
                                "bounds": 2}
                t = f.create_variable("time", ("time",), "f8", chunks=(self.buffer_size,))
                t.attrs.update({"units": f"seconds since {stamp}", "long_name": "end of the output interval",
                                "standard_name": "time", "calendar": "proleptic_gregorian",
                                "units_metadata": "leap_seconds: none"})
                if self.interval_s:
                    # each record covers (time - interval, time]: CF cell boundaries for the means
                    t.attrs["bounds"] = "time_bounds"
                    f.create_variable("time_bounds", ("time", "bounds"), "f8", chunks=(self.buffer_size, 2))
                for name, (dims, values, coord_attrs) in layout.coords.items():
                    dtype = h5py.string_dtype() if values.dtype == object else values.dtype
                    f.create_variable(_on_disk(name, dims, values), dims, dtype, data=values).attrs.update(coord_attrs)
                if layout.events is not None:
                    _create_events(f, layout.events, stamp)
                for name, var in layout.variables.items():
                    shape = (self.buffer_size, *(layout.dims[d] for d in var.dims[1:]))
                    v = f.create_variable(name, var.dims, var.dtype, chunks=shape, **COMPRESSION)
                    v.attrs.update({"units": var.units, "long_name": var.long_name,
                                    "cell_methods": f"time: {var.method}"})
                    labels = [label for label, (dims, _, _) in layout.coords.items()
                              if dims[0] in var.dims[1:] and label not in layout.dims]
                    labels += [f"{d}{LABEL}" for d in var.dims[1:] if _labelled(layout, d)]
                    if labels:
                        v.attrs["coordinates"] = " ".join(labels)
                    if _quantized(var):
                        v.attrs.update({"quantization": "quantization_info", "quantization_nsb": var.keep_bits})
                    if var.flags:
                        v.attrs.update({"flag_values": np.arange(len(var.flags), dtype=var.dtype),
                                        "flag_meanings": " ".join(var.flags)})
                q = f.create_variable("quantization_info", (), "i1")
                q.attrs.update({"algorithm": "bitround", "implementation": f"alutwin {__version__} (numpy)",
                                "long_name": "how interval means are rounded before compression (CF 8.4)"})
                written = f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ} written by alutwin {__version__}"
                f.attrs.update({"Conventions": "CF-1.11", "title": "alutwin results", "results_format": RESULTS_FORMAT,
                                "history": written,
                                "run_complete": 0, **(attrs or {})})
        except BaseException:
            creating.unlink(missing_ok=True)
            raise
        os.replace(creating, self.path)

    @classmethod
    def reopen(cls, path: str | Path, records: int, events: int, layout: Layout, buffer_size: int = 144,
               flush_seconds: float = 20.0) -> ResultsWriter:
        """Continue writing an existing results file after its first ``records`` records.

        Later records (written after the checkpoint being resumed) are dropped: they are
        written again, identically, by the resumed run.
        """
        self = cls.__new__(cls)
        self.path = Path(path)
        self.layout = layout
        self.buffer_size = int(buffer_size)
        self.flush_seconds = float(flush_seconds)
        self._times = []
        self._events = []
        self._buffer = {name: [] for name in layout.variables}
        self._last_flush = _time.monotonic()
        self._stopped = ""
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no results file to resume")
        recover(self.path)
        with _in_place(self.path) as f:
            check_format(self.path, f.attrs)
            sizes = {name: len(f[name]) for name in layout.dims if name in f}
            have = len(f["time"])
            if sizes != layout.dims or have < records:
                raise ValueError(f"{self.path}: holds {have} records of {sizes}; the checkpoint "
                                 f"needs at least {records} records of {layout.dims}")
            missing = [name for name in layout.variables if name not in f]
            if missing:
                raise ValueError(f"{self.path}: lacks the variables {missing[:5]} its run writes: it was changed "
                                 "since; it cannot be resumed")
            # every variable along an unlimited dimension cut back to the checkpoint's records and events
            for dim, size in (("time", records), ("event", events)):
                for name in _along(f, dim):
                    f[name].resize(size, axis=0)
            f.attrs["run_complete"] = 0
            self.interval_s = float(_scalar(f.attrs.get("output_interval_s", 0.0))) if "time_bounds" in f else 0.0
        self.written = records
        self.events_written = events
        return self

    def append_events(self, events: list[tuple[float, int, int, float]]) -> None:
        """Buffer operations events (time s, cell, kind code, value); written with the next records."""
        self._events.extend(events)

    def append(self, time_s: float, values: dict[str, np.ndarray]) -> None:
        """Buffer one output record (every variable of the layout); write when the buffer is full."""
        variables = self.layout.variables
        missing = set(variables) - set(values)
        if missing:
            raise KeyError(f"output record lacks {sorted(missing)}")
        self._times.append(float(time_s))
        for name, var in variables.items():
            self._buffer[name].append(np.asarray(values[name], dtype=var.dtype))
        if (len(self._times) >= self.buffer_size
                or _time.monotonic() - self._last_flush >= self.flush_seconds):
            if not self.flush() and self.held >= max(2 * self.buffer_size, MAX_HELD_RECORDS):
                self._flush_when_let_go()

    @property
    def held(self) -> int:
        """Records buffered, not yet written."""
        return len(self._times)

    def flush(self, wait: float = 0.0) -> bool:
        """Write the buffered records and close the file, so it is whole on disk.

        If a reader holds the file, keep the records and return False (after retrying for up to
        ``wait`` seconds); they go out with a later flush.
        """
        if not self._times:
            return True
        deadline = _time.monotonic() + wait
        while True:
            try:
                self._write_buffer()
                return True
            except BlockingIOError:
                if _time.monotonic() >= deadline:
                    return False
                _time.sleep(0.05)

    def _check_space(self) -> None:
        """Stop before a write the disk cannot take: a write that fails half-way leaves an HDF5 file that does not
        open, so the records go out only with room for all of them uncompressed (and 1 MB for the file's index)."""
        needed = sum(sum(row.nbytes for row in rows) for rows in self._buffer.values()) \
            + 32 * len(self._events) + 2**20
        free = shutil.disk_usage(self.path.parent).free
        if free < needed:
            self._stopped = (f"{self.path}: the disk is full ({free / 2**20:.2f} MB free, {needed / 2**20:.2f} MB "
                             f"needed for the next {len(self._times)} records): the file keeps its {self.written} "
                             "records; free some space and continue with twin run --resume")
            raise DiskFullError(self._stopped)

    def _write_buffer(self) -> None:
        if self._stopped:
            raise OSError(self._stopped)
        self._check_space()
        try:
            self._write_records()
        except BlockingIOError:
            raise
        except (OSError, RuntimeError, ValueError) as exc:       # h5py reports a failed write as any of these
            self._stopped = (f"{self.path}: writing records {self.written + 1}-{self.written + len(self._times)} "
                             f"failed ({str(exc).splitlines()[0]}); the file keeps its {self.written} records as the "
                             "last flush left them; twin run --resume continues from the last checkpoint")
            raise OSError(self._stopped) from None

    def _write_records(self) -> None:
        n0, n1 = self.written, self.written + len(self._times)
        e0, e1 = self.events_written, self.events_written + len(self._events)
        columns: dict[str, np.ndarray] = {}
        if e1 > e0:
            table = np.array(self._events, dtype=float)
            kinds = table[:, 2].astype(int)
            ev = self.layout.events
            assert ev is not None                    # a layout with cells has its event table
            columns = {"event_time": table[:, 0], "event_cell": table[:, 1].astype("i4"),
                       "event_kind": table[:, 2].astype("i1"),
                       **{name: np.where(np.isin(kinds, [ev.kinds[k] for k in names]), table[:, 3], np.nan)
                          for name, (_, _, names) in ev.values.items()}}
        times = np.asarray(self._times)
        rows = {"time": times}
        if self.interval_s:
            rows["time_bounds"] = np.stack([times - self.interval_s, times], axis=1)
        for name, buffered in self._buffer.items():
            block = np.stack(buffered)
            var = self.layout.variables[name]
            rows[name] = bitround(block, var.keep_bits) if _quantized(var) else block
        # appended with h5py itself: each variable on an unlimited dimension grows, the dimension's scale with it
        # (what h5netcdf's resize_dimension does, without its ~1,000 look-ups of every dimension's size per flush)
        with _in_place(self.path) as f:
            if columns:
                f["event"].resize((e1,))
                for name, values in columns.items():
                    f[name].resize((e1,))
                    f[name][e0:e1] = values
            for name, values in rows.items():
                f[name].resize(n1, axis=0)
                f[name][n0:n1, ...] = values
        self.written = n1
        self.events_written = e1
        self._events.clear()
        self._times.clear()
        for buffered in self._buffer.values():
            buffered.clear()
        self._last_flush = _time.monotonic()

    def _flush_when_let_go(self, waiting: str = "") -> None:
        """Flush, waiting as long as a reader holds the file (``waiting`` says what waits, once on the log after
        ``CLOSE_TELL_AFTER_S``): a reader never stops a writer. A signal stops the wait."""
        self._when_let_go(lambda: self.flush(wait=0.5),
                          waiting or f"{self.held} records wait for it to let go, and the run with them")

    def _when_let_go(self, write, waiting: str) -> None:
        started = _time.monotonic()
        told = False
        while not write():
            if not told and _time.monotonic() - started >= CLOSE_TELL_AFTER_S:
                _LOG.warning("%s: a reader holds the file: %s (close the dataset; Ctrl-C stops the wait, and "
                             "twin run --resume continues the run later)", self.path, waiting)
                told = True
            _time.sleep(0.05)

    def close(self, complete: bool = True) -> None:
        """Flush and mark the file complete (a run that stopped early leaves ``run_complete = 0``), waiting for a
        reader that holds the file. After a write that could not be made (full disk) nothing more is written."""
        if self._stopped:
            return

        def mark() -> bool:
            try:
                with _in_place(self.path) as f:
                    f.attrs["run_complete"] = int(complete)
                return True
            except BlockingIOError:
                return False

        self._flush_when_let_go(f"the run's end waits for it to let go (its last {self.held} records)")
        self._when_let_go(mark, "the run's end waits for it to let go (to mark the file complete)")


class _RefusalKept(io.FileIO):
    """A file for HDF5's ``fileobj`` driver that keeps the first write the system refuses (a full disk, a file-size
    limit) in ``failed`` and takes nothing more, instead of raising into HDF5, which would leave its library
    half-way and crash the process as it lets go of the file."""

    failed: OSError | None = None

    def write(self, data) -> int:
        size = memoryview(data).nbytes
        if self.failed is None:
            try:
                done = 0
                while done < size:
                    done += super().write(memoryview(data).cast("B")[done:]) or 0
            except OSError as exc:
                self.failed = exc
        return size

    def truncate(self, size: int | None = None) -> int:
        size = self.tell() if size is None else size
        if self.failed is None:
            try:
                super().truncate(size)
            except OSError as exc:
                self.failed = exc
        return size


def write_whole(path: str | Path, write) -> None:
    """``write(f)`` into a new binary file beside ``path`` (never through a link planted there), then rename it over
    ``path``: a reader never meets half a file. On an error (a write refused included) the new file is removed,
    ``path`` is as it was, and the OSError is one line naming ``path``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.writing")
    tmp.unlink(missing_ok=True)
    try:
        with _RefusalKept(os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644), "r+") as f:
            write(f)
            if f.failed is not None:
                raise f.failed
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except (OSError, RuntimeError, ValueError) as exc:     # h5py reports a failed write as any of these
        raise OSError(f"{path}: cannot be written ({str(exc).splitlines()[0]}); "
                      f"{'it is as it was' if path.exists() else 'nothing was written'}") from None
    finally:
        tmp.unlink(missing_ok=True)


def _along(f: h5py.File, dim: str) -> list[str]:
    """The variables whose first dimension is ``dim`` (its coordinate among them): netCDF-4 keeps the dimensions
    of a variable as HDF5 dimension scales."""
    if dim not in f:
        return []
    scale = f[dim]
    return [name for name, v in f.items()
            if isinstance(v, h5py.Dataset) and v.ndim and (name == dim or scale in v.dims[0].values())]


def _create_events(f, events: EventLayout, stamp: str) -> None:
    """The event table's variables on the unlimited ``event`` dimension."""
    et = f.create_variable("event_time", ("event",), "f8", chunks=(4096,), **COMPRESSION)
    et.attrs.update({"units": f"seconds since {stamp}", "long_name": "time of an operations event",
                     "calendar": "proleptic_gregorian", "units_metadata": "leap_seconds: none"})
    ec = f.create_variable("event_cell", ("event",), "i4", chunks=(4096,), **COMPRESSION)
    ec.attrs.update({"long_name": "cell of the event", "units": "1"})
    ek = f.create_variable("event_kind", ("event",), "i1", chunks=(4096,), **COMPRESSION)
    ek.attrs.update({"long_name": "kind of operations event", "units": "1",
                     "flag_values": np.array(list(events.kinds.values()), dtype="i1"),
                     "flag_meanings": " ".join(events.kinds)})
    # each event's value in the variable of its unit, missing (NaN) in the others
    for name, (units, long_name, kinds) in events.values.items():
        ev = f.create_variable(name, ("event",), "f8", chunks=(4096,), fillvalue=np.nan, **COMPRESSION)
        ev.attrs.update({"units": units, "long_name": f"{long_name} (events {', '.join(kinds)})",
                         "coordinates": "event_time event_cell event_kind"})


def open_results(path: str | Path, load: bool = False, chunks: dict[str, int] | str | None = None) -> xr.Dataset:
    """Open a results file as an ``xarray.Dataset``.

    By default the dataset is lazy: values are read from the file when used (a plant-year holds several GB of
    values once decompressed), and the file stays open until ``ds.close()`` or the end of a ``with`` block; a
    run writing the file meanwhile keeps its records in memory and writes them once the file is let go. With
    ``load=True`` everything is read at once and the file let go (small files; a file a run is still writing).
    ``chunks`` (as ``xarray.open_dataset`` takes them, e.g. ``{"time": 4320}``) makes the arrays Dask arrays, so a
    plant-year's variables are computed block by block.

    Works while a run is still writing it: the dataset then holds what was flushed so far and
    ``ds.attrs["run_complete"]`` is 0.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such results file")
    recover(path)                 # a writer killed inside a flush: the file as the flush before left it
    for attempt in range(50):
        try:
            ds = xr.open_dataset(path, engine=READ_ENGINE, chunks=chunks)
        except (OSError, RuntimeError) as exc:
            # a writer holds the file for the few milliseconds of a flush (or let go of it since; a run writing
            # every record can meet each try): wait and retry; a file HDF5 cannot read is damaged
            state = _hdf5_state(path)
            if state != "damaged" and attempt < 49:
                _time.sleep(0.1)
                continue
            if state == "held":
                raise BlockingIOError(errno.EAGAIN, f"{path}: its writer held the file for 5 s") from None
            raise OSError(f"{path}: not a readable results file ({exc}); a file cut short in a copy or "
                          "a transfer cannot be opened: take it again from its source") from None
        try:
            check_format(path, ds.attrs)
            _check_clock(path, ds)
            if load:
                ds.load()
                ds.close()
        except BaseException:
            ds.close()
            raise
        named = _labels_as_index(ds)
        if named is not ds:
            named.set_close(ds.close)         # closing what is returned lets go of the file
        return named
    raise AssertionError("unreachable")


def totals(ds: xr.Dataset, names: list[str] | tuple[str, ...], block: int = 1008) -> dict[str, np.ndarray]:
    """The run's totals of "sum" variables (``name`` -> array over the other dimensions), read ``block`` records
    at a time: memory stays that of a block, not of the file (a plant-year of one cell variable is 150 MB)."""
    out = {name: np.zeros(ds[name].shape[1:]) for name in names}
    for start in range(0, ds.sizes["time"], block):
        part = ds.isel(time=slice(start, start + block))
        for name in names:
            out[name] += np.nansum(np.asarray(part[name].values, float), axis=0)
    return out


# CF: a coordinate variable (named as its dimension) is numeric; names of lines, footprint sources and products are
# string labels (auxiliary coordinates, CF 6.1) stored as <dimension>_name, which open_results makes the index again
LABEL = "_name"


def _labelled(layout: Layout, dim: str) -> bool:
    return dim in layout.coords and layout.coords[dim][1].dtype == object


def _on_disk(name: str, dims: tuple[str, ...], values: np.ndarray) -> str:
    return f"{name}{LABEL}" if values.dtype == object and dims == (name,) else name


def _labels_as_index(ds: xr.Dataset) -> xr.Dataset:
    for dim in list(ds.dims):
        label = f"{dim}{LABEL}"
        if label in ds.variables and ds[label].dims == (dim,):
            ds = ds.assign_coords({dim: ds[label].values}).drop_vars(label)
    return ds


def _scalar(value):
    """A number attribute as netCDF keeps it (a 1-element array, as h5py reads it) or as xarray gives it."""
    return np.asarray(value).reshape(-1)[0]


def _check_clock(path: Path, ds: xr.Dataset) -> None:
    """Refuse a file whose records are not one per output interval from the run's start (a time missing, going
    back or out of step): it was changed after its run wrote it, and every figure over its time axis would be
    wrong."""
    interval = ds.attrs.get("output_interval_s")
    units = str(ds["time"].encoding.get("units", "")) if "time" in ds.coords else ""
    if interval is None or not units.startswith("seconds since ") or ds["time"].size == 0:
        return
    start = np.datetime64(units[len("seconds since "):].rstrip("Z"), "ns")
    expected = start + (np.arange(1, ds["time"].size + 1) * float(_scalar(interval)) * 1e9).astype("timedelta64[ns]")
    times = ds["time"].values
    wrong = np.flatnonzero(times != expected)            # NaT never equals
    if wrong.size:
        i = int(wrong[0])
        raise ValueError(f"{path}: record {i + 1} is at {times[i]}, not {expected[i]} (one record every "
                         f"{float(_scalar(interval)):g} s from the run's start): the file was changed after its run "
                         "wrote it")


def check_file_format(path: Path) -> None:
    """``check_format`` of the file at ``path`` (an OSError if it does not open)."""
    with h5py.File(path, "r") as f:
        check_format(path, f.attrs)


def check_format(path: Path, attrs) -> None:
    """Refuse a results file whose records mean something else than this version's (``results_format``)."""
    found = int(_scalar(attrs.get("results_format", 1)))
    if found != RESULTS_FORMAT:
        raise ValueError(f"{path}: results format {found}, this alutwin ({__version__}) reads format "
                         f"{RESULTS_FORMAT} only (format 1, before alutwin 0.2, kept the cells' counters as totals "
                         "since the start of the run, format 2 keeps each interval's): run it again with this version")
