"""Writes in place that a kill cannot leave half done: an undo journal beside the file.

HDF5 appends records by rewriting parts of the file in place (chunk indexes, object headers, the superblock's end
of file) in an order of its own; a process killed between two of those writes leaves a file HDF5 cannot read, and
everything flushed before is lost with it. ``UndoFile`` is the file a writer hands to HDF5 instead (h5py's
``fileobj`` driver): before any byte the file held when it was opened is overwritten or truncated away, the old bytes
go to the journal ``<path>.undo``, and the file's size at the start is its first entry. A writer that closes
normally removes the journal (``commit``). A journal left behind means its writer died inside a write: ``roll_back``
puts every saved byte back in reverse order and cuts the file to its old size, so it is again, byte for byte, the
file it was before that write began. Bytes appended past the old end need no saving: the cut removes them.

A kill cannot tear one entry in two ways that matter: an entry is appended to the journal before its write starts,
so an entry cut short belongs to a write that never began and is dropped. A journal protects against the process
dying (a kill, a crash, a write the system refuses half-way), not against the machine losing power (that would need
every entry forced to disk before its write).

While a writer has the file, it holds an exclusive ``flock`` on it, as HDF5's own file locking does: HDF5 readers (h5py,
the netCDF-C library) see it held and wait; a reader that holds the file keeps the writer out
(``BlockingIOError``).
"""
from __future__ import annotations

import fcntl
import io
import os
import struct
from pathlib import Path

__all__ = ["UndoFile", "journal_path", "roll_back"]

_MAGIC = b"alutwin undo 1\n\0"
_ENTRY = struct.Struct("<QQ")          # offset, length of the old bytes that follow
_SIZE = struct.Struct("<Q")            # the file's size when the writer opened it


def journal_path(path: str | Path) -> Path:
    return Path(path).with_name(Path(path).name + ".undo")


class UndoFile(io.RawIOBase):
    """``path`` opened for reading and writing in place, each overwrite journaled first (see the module). After a
    write the system refuses, ``failed`` holds its error and nothing more is written: the writer must ``roll_back``.

    Raises ``BlockingIOError`` if another process holds the file (a reader), ``FileExistsError`` if a journal is
    already there (an earlier writer died: ``roll_back`` first).
    """

    def __init__(self, path: str | Path):
        super().__init__()
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_RDWR | os.O_NOFOLLOW)
        self._journal = -1
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._size0 = os.fstat(self._fd).st_size
            self._journal = os.open(journal_path(self.path), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                                    0o644)
            self._append(_MAGIC + _SIZE.pack(self._size0))
        except BaseException:
            self._release()
            raise
        self._pos = 0
        # the first write the system refused (a full disk, a file-size limit): nothing more is written, and the
        # writer undoes what was (HDF5 would report it from a destructor, where it can only be printed)
        self.failed: OSError | None = None

    # -- what the fileobj driver calls --------------------------------------------------------------------------
    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: os.fstat(self._fd).st_size}[whence]
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer) -> int:
        data = os.pread(self._fd, len(buffer), self._pos)
        buffer[:len(data)] = data
        self._pos += len(data)
        return len(data)

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        if self.failed is None:
            try:
                if self._pos < self._size0:    # bytes the file held at the start: saved before they are overwritten
                    self._save(self._pos, min(self._pos + len(view), self._size0))
                done = 0
                while done < len(view):
                    self._mutating()
                    done += os.pwrite(self._fd, view[done:], self._pos + done)
            except OSError as exc:
                self.failed = exc
        self._pos += len(view)
        return len(view)

    def truncate(self, size: int | None = None) -> int:
        size = self._pos if size is None else size
        if self.failed is None:
            try:
                end = min(os.fstat(self._fd).st_size, self._size0)
                if size < end:                 # bytes of the start that the cut would lose
                    self._save(size, end)
                self._mutating()
                os.ftruncate(self._fd, size)
            except OSError as exc:
                self.failed = exc
        return size

    def flush(self) -> None:
        pass

    # -- the journal -------------------------------------------------------------------------------------------
    def commit(self) -> None:
        """The writer is done and HDF5 has closed the file: it is whole, the journal goes."""
        self._release()
        journal_path(self.path).unlink()

    def close(self) -> None:
        """Let go of the file (the journal stays unless ``commit`` removed it)."""
        self._release()
        super().close()

    def _save(self, start: int, end: int) -> None:
        self._append(_ENTRY.pack(start, end - start) + os.pread(self._fd, end - start, start))

    def _append(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            self._mutating()
            view = view[os.write(self._journal, view):]

    def _mutating(self) -> None:
        """Called before every write to the file or its journal (the points a kill may land between)."""

    def _release(self) -> None:
        for fd in (self._journal, self._fd):
            if fd >= 0:
                os.close(fd)
        self._journal = self._fd = -1


def roll_back(path: str | Path) -> bool:
    """Undo a write its writer did not finish: ``path`` back to the bytes it held before it, the journal removed.
    False if there is no journal; ``BlockingIOError`` if a writer holds the file now (it is alive: not undone)."""
    journal = journal_path(path)
    if not journal.exists():
        return False
    fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        data = journal.read_bytes()
        head = len(_MAGIC) + _SIZE.size
        if data[:len(_MAGIC)] == _MAGIC and len(data) >= head:      # else: killed before the file was touched
            entries, at = [], head
            while at + _ENTRY.size <= len(data):
                offset, length = _ENTRY.unpack_from(data, at)
                if at + _ENTRY.size + length > len(data):
                    break                      # cut short: its write never began
                entries.append((offset, data[at + _ENTRY.size:at + _ENTRY.size + length]))
                at += _ENTRY.size + length
            for offset, old in reversed(entries):
                os.pwrite(fd, old, offset)
            os.ftruncate(fd, _SIZE.unpack_from(data, len(_MAGIC))[0])
            os.fsync(fd)
        journal.unlink()
    finally:
        os.close(fd)
    return True
