"""Checkpoints: everything a run needs to continue exactly where it was, in one file beside its results.

A checkpoint holds the validated configuration, the clock, every per-cell and per-line block of
the potlines and every state block of the refinery, the summary tallies and how many output
records the results file held when it was taken. It is written to a temporary file and renamed
into place, so a kill at any moment leaves either the previous checkpoint or the new one, never a
half-written file.
"""
from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = 12         # 12: the run's tally by line (charge, sums of the lines' means) for its summary (issue 23);
                    # 11: the LVAE state is the time a running LVAE lasts with no zone below (issue 19);
                    # 10: the refinery's cooler set-point, liquor impurities, bound soda in the solids and
                    # the silo's Na2O (issue 21);
                    # 9: CaO, excess carbon, anode and cathode drops, the beam's mean (issue 19);
                    # 8: dissolution by superheat, rows renamed by layout (issue 19); 7: anode effects drawn per
                    # AE, quench retries (issue 19); 6: the back reaction's loss flux
                    # in the cells' parameters (issue 19); 5: a digest of the contents, results of format 2;
                    # 4: zones, feeders and LVAE states (issue 12)


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, unreadable or does not fit its results file."""


def checkpoint_path(results: str | Path) -> Path:
    """The checkpoint that belongs to a results file: ``<results>.checkpoint.npz``."""
    results = Path(results)
    return results.with_name(results.name + ".checkpoint.npz")


def save(path: Path, *, config: dict[str, Any], source: str, time_s: float, end_s: float, records: int,
         events: int, blocks: dict[str, np.ndarray], rng: list[dict], tally: dict[str, Any]) -> None:
    """Write a checkpoint atomically (temporary file + rename)."""
    meta = {"format": FORMAT, "config": config, "source": source, "time_s": time_s, "end_s": end_s,
            "records": records, "events": events, "rng": rng,
            "tally": {k: v for k, v in tally.items() if not isinstance(v, np.ndarray)}}
    arrays = {f"block_{name}": np.asarray(block) for name, block in blocks.items()}
    arrays.update({f"tally_{k}": v for k, v in tally.items() if isinstance(v, np.ndarray)})
    arrays["meta"] = np.array(json.dumps(meta))
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)        # a killed save's leftover, or a link planted there: not followed
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644), "wb") as f:
            np.savez(f, digest=np.array(_digest(arrays)), **arrays)   # type: ignore[arg-type]  # numpy's stub
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:                  # a full disk: the previous checkpoint stays, nothing half-written
        tmp.unlink(missing_ok=True)
        raise OSError(f"{path}: cannot write the checkpoint ({exc.strerror or exc}); the previous one is kept") \
            from None
    os.replace(tmp, path)


def _digest(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of every array's name, type, shape and bytes: a checkpoint changed or damaged after it was written
    is refused instead of resumed from."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape}:".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def check_run(path: Path, run_id: str | None, results: Path) -> None:
    """Refuse a checkpoint whose run did not write ``results`` (a later run replaced the file)."""
    import h5py

    try:
        with h5py.File(results, "r") as f:
            written_by = f.attrs.get("run_id")
    except OSError as exc:
        raise CheckpointError(f"{results}: cannot read the results file to resume ({exc})") from None
    if isinstance(written_by, bytes):
        written_by = written_by.decode()
    if run_id is None or written_by != run_id:
        raise CheckpointError(f"{path}: this checkpoint belongs to run {run_id}, but {results} was written by run "
                              f"{written_by} (a later run replaced it): nothing to resume; run it again")


def check_against_results(path: Path, ckpt: dict[str, Any], results: Path, interval_s: float) -> None:
    """Refuse (before anything is written) a checkpoint whose clock does not fit its run or its results file: a
    time outside 0 .. end, records that are not the time's, more records or events than the file holds, records
    up to the checkpoint not one per interval (one changed, or of another run), or
    a file already complete (nothing to resume: a resume would cut it back first)."""
    import h5py

    time_s, end_s = float(ckpt["time_s"]), float(ckpt["end_s"])
    records, events = ckpt["records"], ckpt["events"]
    if not (np.isfinite(time_s) and np.isfinite(end_s) and 0.0 <= time_s <= end_s):
        raise CheckpointError(f"{path}: its time {time_s:g} s and planned end {end_s:g} s do not make a run "
                              "(0 <= time <= end); it cannot be resumed from")
    if (not isinstance(records, int) or not isinstance(events, int) or records < 0 or events < 0
            or abs(records * interval_s - time_s) > 1e-6 * max(interval_s, 1.0)):
        raise CheckpointError(f"{path}: {records!r} records and {events!r} events do not fit its time {time_s:g} s "
                              f"(one record every {interval_s:g} s); it cannot be resumed from")
    try:
        with h5py.File(results, "r") as f:
            complete = int(np.ravel(f.attrs.get("run_complete", 0))[0])      # h5netcdf writes a 1-array
            times = f["time"]
            have, have_events = len(times), len(f["event_time"]) if "event_time" in f else 0
            kept = np.asarray(times[:records], dtype=float) if 0 < records <= have else np.empty(0)
    except (OSError, KeyError) as exc:
        raise CheckpointError(f"{results}: cannot read the results file to resume ({exc})") from None
    if complete:
        raise CheckpointError(f"{results}: the run is complete (run_complete = 1): nothing to resume")
    if records > have or events > have_events:
        raise CheckpointError(f"{path}: needs {records} records and {events} events, {results} holds {have} and "
                              f"{have_events}: they do not belong together")
    # the records kept are one per interval from the start: the last at the checkpoint's time, none damaged
    expected = interval_s * np.arange(1, len(kept) + 1)
    wrong = np.flatnonzero(~(np.abs(kept - expected) <= 1e-6 * max(interval_s, 1.0)))
    if len(wrong):
        i = int(wrong[0])
        raise CheckpointError(f"{path}: record {i + 1} of {results} is at {kept[i]:g} s, not {expected[i]:g} s "
                              f"(one every {interval_s:g} s up to the checkpoint's {time_s:g} s): they do not "
                              "belong together, or the file was changed")


# what a checkpoint's metadata holds, of which JSON type: a checkpoint forged with its digest recomputed is refused
# naming the entry, not met later as a KeyError or as text where a number was
_META_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "config": ((dict,), "a table"), "source": ((str,), "a text"), "time_s": ((int, float), "a number"),
    "end_s": ((int, float), "a number"), "records": ((int,), "a whole number"),
    "events": ((int,), "a whole number"), "rng": ((list,), "a list"), "tally": ((dict,), "a table")}


def _check_contents(path: Path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Refuse metadata missing an entry or of the wrong type, and arrays that are not numbers."""
    for key, (kinds, wanted) in _META_TYPES.items():
        value = meta.get(key)
        if not isinstance(value, kinds) or isinstance(value, bool):
            found = "missing" if key not in meta else repr(value)[:40]
            raise CheckpointError(f"{path}: its entry {key!r} is {found} where a checkpoint holds {wanted}: "
                                  "it cannot be resumed from")
    for name, values in arrays.items():
        if name != "meta" and values.dtype.kind not in "biuf":
            raise CheckpointError(f"{path}: its array {name!r} holds {values.dtype} where a checkpoint holds numbers: "
                                  "it cannot be resumed from")


def horizon(path: Path) -> tuple[float, float] | None:
    """(plant seconds done, plant seconds at the run's planned end) of a checkpoint, read from its metadata alone
    (for a progress bar); None if it cannot be read (``load`` then says why)."""
    try:
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
        return float(meta["time_s"]), float(meta["end_s"])
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        return None


def load(path: Path) -> dict[str, Any]:
    """Read a checkpoint; raise CheckpointError with the path and the reason if it cannot be used."""
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint (a run writes one every run.checkpoint_interval_h)")
    try:
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as data:    # closed also when not a zip
            arrays = {k: data[k].copy() for k in data.files}
        meta = json.loads(str(arrays["meta"]))
    except ValueError as exc:
        if "allow_pickle" in str(exc):       # numpy's advice would run what the file holds: never taken
            raise CheckpointError(f"{path}: holds Python objects where a checkpoint holds only numbers and text; "
                                  "refused unread (it was not written by alutwin)") from None
        raise CheckpointError(f"{path}: unreadable checkpoint (ValueError: {exc})") from None
    except (OSError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{path}: unreadable checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise CheckpointError(f"{path}: checkpoint format {found!r}, this alutwin reads {FORMAT}")
    written = str(arrays.pop("digest", ""))
    if written != _digest(arrays):
        raise CheckpointError(f"{path}: damaged or changed since it was written (its contents do not match their "
                              "SHA-256 digest): it cannot be resumed from")
    _check_contents(path, meta, arrays)
    blocks = {k[len("block_"):]: v for k, v in arrays.items() if k.startswith("block_")}
    tally_arrays = {k[len("tally_"):]: v for k, v in arrays.items() if k.startswith("tally_")}
    meta["blocks"] = blocks
    meta["tally"].update(tally_arrays)
    return meta
