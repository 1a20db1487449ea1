"""Checkpoints: everything a run needs to continue exactly where it was, in one file beside its results.

A checkpoint holds the validated configuration, the clock, every per-cell and per-line block of
the potlines and every state block of the refinery, the summary tallies and how many output
records the results file held when it was taken. It is written to a temporary file and renamed
into place, so a kill at any moment leaves either the previous checkpoint or the new one, never a
half-written file.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = 4          # 4: zones, feeders and LVAE states (issue 12); 3: the envelope issue


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
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez(f, meta=np.array(json.dumps(meta)), **arrays)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


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


def load(path: Path) -> dict[str, Any]:
    """Read a checkpoint; raise CheckpointError with the path and the reason if it cannot be used."""
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint (a run writes one every run.checkpoint_interval_h)")
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            blocks = {k[len("block_"):]: data[k].copy() for k in data.files if k.startswith("block_")}
            tally_arrays = {k[len("tally_"):]: data[k].copy() for k in data.files if k.startswith("tally_")}
    except (OSError, ValueError, KeyError) as exc:
        raise CheckpointError(f"{path}: unreadable checkpoint ({exc})") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: checkpoint format {meta.get('format')!r}, this alutwin reads {FORMAT}")
    meta["blocks"] = blocks
    meta["tally"].update(tally_arrays)
    return meta
