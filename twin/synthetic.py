"""Synthetic plant data: a twin run written out as a historian would export it, with its defects.

What the recovery tests use, and what users use to try their pipelines (park notes sec. 6.3):
sensor noise, gaps (communication failures), bad-quality flags with garbage values, compression
(a value is stored only when it moved more than a deadband since the last stored one, as PI's
exception reporting does), clock jitter, and the lab/manual records of the run's events (bath
temperatures, AlF3 samples, tap weights) at their own times. Tag names follow
``configs/historian/reference.toml``: ``PL<line>.P<pot>.VOLT``, ``PL<line>.AMPS``, ``...TEMP``,
``...ALF3``, ``...TAPWT``.

The export has the run's clock: signals one value per record, the control logs one entry per record
with something in it. A run with 1-min records gives control logs that place feed-cycle switches and
beam moves within their minute, as a pot control system's event log does (the recovery tests use it).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from twin.results import open_results
from twin.smelter.operations import EVENT_KINDS, EVENT_VALUE_OF
from twin.smelter.outputs import VARIABLES

__all__ = ["Defects", "historian_export"]


@dataclass(frozen=True)
class Defects:
    """How imperfect the export is. All noise is Gaussian with the given standard deviations."""

    voltage_noise_mV: float = 5.0
    current_noise_kA: float = 0.5
    gap_fraction: float = 0.02          # share of each tag's time lost in gaps of 1-6 h
    bad_fraction: float = 0.01          # share of stored values flagged bad (their values are garbage)
    deadband_mV: float = 2.0            # compression deadband of voltages (current: 10x in A terms)
    jitter_s: float = 20.0              # clock offset of each stored value
    seed: int = 0


def historian_export(results: str | Path, out: str | Path, defects: Defects | None = None) -> Path:
    """Write the run in ``results`` as a long-format CSV historian export at ``out``."""
    d = defects or Defects()
    with open_results(results) as ds:
        rng = np.random.default_rng(d.seed)
        interval = float(ds.attrs["output_interval_s"])
        mid = pd.DatetimeIndex(ds.time.values) - pd.Timedelta(seconds=interval / 2)   # each record's middle
        cell_line = ds.cell_line.values
        first_of_line = {j: int(np.flatnonzero(cell_line == j)[0]) for j in np.unique(cell_line)}
        frames = []
        voltage, current = ds.cell_voltage.values, ds.line_current.values       # read once, not once a tag
        for k in range(ds.sizes["cell"]):
            line = int(cell_line[k])
            tag = f"PL{line + 1}.P{k - first_of_line[line] + 1:03d}.VOLT"
            values = voltage[:, k] + rng.normal(0.0, d.voltage_noise_mV * 1e-3, len(mid))
            frames.append(_signal(tag, mid, values, d.deadband_mV * 1e-3, d, rng, interval))
        for j in range(ds.sizes["line"]):
            values = current[:, j] / 1e3 + rng.normal(0.0, d.current_noise_kA, len(mid))
            frames.append(_signal(f"PL{j + 1}.AMPS", mid, values, 10 * d.deadband_mV * 1e-3, d, rng, interval))
        frames.append(_events(ds, cell_line, first_of_line))
        frames.append(_control_log(ds, mid, cell_line, first_of_line))
    table = pd.concat(frames, ignore_index=True)
    out = Path(out)
    table.to_csv(out, index=False)
    return out


def _signal(tag: str, times: pd.DatetimeIndex, values: np.ndarray, deadband: float, d: Defects,
            rng: np.random.Generator, interval_s: float) -> pd.DataFrame:
    keep = np.ones(len(values), bool)
    last = None
    for i, v in enumerate(values):                # exception reporting: store moves beyond the deadband
        if last is not None and abs(v - last) < deadband:
            keep[i] = False
        else:
            last = v
    hour = max(round(3600.0 / interval_s), 1)    # records in an hour
    n_gaps = rng.poisson(d.gap_fraction * len(values) / (3.5 * hour)) if d.gap_fraction > 0 else 0
    for _ in range(n_gaps):                       # gaps of 1-6 h (mean 3.5 h)
        start = rng.integers(0, len(values))
        keep[start:start + rng.integers(hour, 6 * hour + 1)] = False
    idx = np.flatnonzero(keep)
    quality = np.where(rng.random(len(idx)) < d.bad_fraction, "bad", "good")
    stored = values[idx].copy()
    stored[quality == "bad"] = rng.uniform(-1e3, 1e3, int(np.sum(quality == "bad")))
    jitter = pd.to_timedelta(rng.uniform(-d.jitter_s, d.jitter_s, len(idx)), unit="s")
    stamps = (times[idx] + jitter).tz_localize("UTC")
    return pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "tag": tag,
                         "value": np.round(stored, 6), "quality": quality})


def _control_log(ds, mid: pd.DatetimeIndex, cell_line: np.ndarray, first_of_line: dict[int, int]) -> pd.DataFrame:
    """The pot control system's log of each record: alumina fed (kg), beam moves (mm), AlF3 added (kg),
    anodes set, bath tapped and added (kg), anode effects started; stamped at the record's middle, only
    where something happened (from a run with 1-min records, within half a minute of when it happened). Control logs are
    event records, not compressed signals: no noise, gaps or flags."""
    stamps = np.asarray(mid.tz_localize("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"))
    pots = np.array([f"PL{int(cell_line[k]) + 1}.P{k - first_of_line[int(cell_line[k])] + 1:03d}"
                     for k in range(len(cell_line))])
    frames = []
    for name, suffix, scale in (("alumina_fed", "FEED", 1.0), ("beam_position", "BEAM", 1e3),
                                ("alf3_added", "ALF3ADD", 1.0), ("anodes_set", "ANODE", 1.0),
                                ("bath_tapped", "BATHTAP", 1.0), ("bath_added", "BATHADD", 1.0),
                                ("anode_effect_count", "AE", 1.0)):
        values = np.asarray(ds[name].values, float)
        per_record = values if VARIABLES[name].method == "sum" else \
            np.diff(values, axis=0, prepend=np.zeros((1, values.shape[1])))     # beam_position: travel since start
        i, k = np.nonzero(np.abs(per_record) > 1e-12)
        frames.append(pd.DataFrame({"timestamp": stamps[i], "tag": np.char.add(pots[k], "." + suffix),
                                    "value": np.round(per_record[i, k] * scale, 9), "quality": "good"}))
    return pd.concat(frames, ignore_index=True)


def _events(ds, cell_line: np.ndarray, first_of_line: dict[int, int]) -> pd.DataFrame:
    reported = {"temperature": ("TEMP", 1.0), "bath_sample_alf3": ("ALF3", 1.0),
                "tap_weight": ("TAPWT", 1e-3)}                               # tap weights reported in t
    kinds = {EVENT_KINDS[name]: (*how, ds[EVENT_VALUE_OF[name]].values) for name, how in reported.items()}
    rows = []
    for i, (t, k, kind) in enumerate(zip(ds.event_time.values, ds.event_cell.values, ds.event_kind.values,
                                         strict=True)):
        if int(kind) not in kinds:
            continue
        suffix, scale, values = kinds[int(kind)]
        v = values[i]
        line = int(cell_line[int(k)])
        rows.append({"timestamp": pd.Timestamp(t).tz_localize("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "tag": f"PL{line + 1}.P{int(k) - first_of_line[line] + 1:03d}.{suffix}",
                     "value": round(float(v) * scale, 6), "quality": "good"})
    return pd.DataFrame(rows, columns=["timestamp", "tag", "value", "quality"])
