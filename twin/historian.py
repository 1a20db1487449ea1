"""Plant historian exports -> a tidy xarray.Dataset on the model's clock, with a data-quality report.

Exports come as they come (park notes sec. 6): long format (timestamp, tag, value[, quality]) in CSV
or Parquet, or wide CSV (a timestamp column and one column per tag); timestamps with zones or UTC
offsets (naive ones take the tag map's zone); quality flags; duplicates, out-of-order rows, gaps,
stuck values and compressed (irregular) sampling. A tag map (TOML) says which tags are which model
variable, cell or line and unit; units are converted once, here, with pint.

Continuous signals are averaged over the model's output interval (good and questionable values;
bad ones and stuck runs are rejected); manual samples (``kind = "sample"``) keep their own
timestamps in a sample table. Unknown tags are listed in the report, never silently dropped.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pint
import xarray as xr

__all__ = ["HistorianError", "TagMap", "ingest", "load_tag_map", "read_export"]

# model variables a tag may feed, with the unit the model uses and whether they belong to a cell or a line
MODEL_VARIABLES = {
    "cell_voltage": ("V", "cell"),
    "line_current": ("A", "line"),
    "bath_temperature": ("degC", "cell"),
    "excess_alf3": ("percent", "cell"),
    "alumina": ("percent", "cell"),
    "metal_height": ("cm", "cell"),
    "bath_height": ("cm", "cell"),
    "tap_weight": ("kg", "cell"),
    "alf3_addition": ("kg", "cell"),
    "beam_move": ("mm", "cell"),
    "alumina_fed": ("kg", "cell"),          # the pot control system's feed log (shots x shot mass)
    "anodes_set": ("dimensionless", "cell"),
    "bath_tap": ("kg", "cell"),             # bath the crew tapped (bath height management)
    "bath_addition": ("kg", "cell"),        # crushed bath the crew added
    "anode_effect": ("dimensionless", "cell"),   # anode effects started (the pot control system's AE log)
}
QUALITY = ("good", "substituted", "questionable", "bad")
_UREG = pint.UnitRegistry()
if "percent" not in _UREG:           # pint >= 0.24 defines it; older ones need it (a redefinition would warn)
    _UREG.define("percent = 0.01 = %")


class HistorianError(ValueError):
    """An export or tag map that cannot be read; the message names the file, row or key and the value."""


@dataclass(frozen=True)
class Signal:
    pattern: re.Pattern
    variable: str
    unit: str
    kind: str                  # "signal" (averaged on the model clock) or "sample" (kept as taken)
    cells_per_line: int


@dataclass(frozen=True)
class TagMap:
    source: str
    cells: int
    lines: int
    timezone: str
    stuck_hours: float
    signals: tuple[Signal, ...] = field(default_factory=tuple)

    def match(self, tag: str) -> tuple[Signal, int] | None:
        """The signal a tag belongs to and its cell or line index, or None for an unknown tag."""
        for sig in self.signals:
            m = sig.pattern.fullmatch(tag)
            if m is None:
                continue
            groups = m.groupdict()
            line = int(groups.get("line", 1)) - 1
            if MODEL_VARIABLES[sig.variable][1] == "line":
                index = line
                limit = self.lines
            else:
                index = line * sig.cells_per_line + int(groups.get("pot", 1)) - 1
                limit = self.cells
            if not 0 <= index < limit:
                raise HistorianError(f"{self.source}: tag {tag!r} maps to {MODEL_VARIABLES[sig.variable][1]} "
                                     f"{index}, outside 0..{limit - 1}")
            return sig, index
        return None


def load_tag_map(path: str | Path) -> TagMap:
    """Read and check a tag map; errors name the file, the signal and the key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HistorianError(f"{path}: cannot read the tag map ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise HistorianError(f"{path}: not valid TOML: {exc}") from None
    allowed = {"cells", "lines", "timezone", "stuck_hours", "signal"}
    unknown = set(data) - allowed
    if unknown:
        raise HistorianError(f"{path}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    try:
        cells, lines = int(data["cells"]), int(data.get("lines", 1))
    except (KeyError, ValueError, TypeError):
        raise HistorianError(f"{path}: 'cells' (number of cells) is required and must be an integer") from None
    signals = []
    for i, raw in enumerate(data.get("signal", [])):
        where = f"{path}: signal[{i}]"
        extra = set(raw) - {"pattern", "variable", "unit", "kind", "cells_per_line"}
        if extra:
            raise HistorianError(f"{where}: unknown keys {sorted(extra)}")
        variable = raw.get("variable")
        if variable not in MODEL_VARIABLES:
            raise HistorianError(f"{where}.variable = {variable!r}: allowed: {', '.join(MODEL_VARIABLES)}")
        try:
            pattern = re.compile(raw["pattern"])
        except KeyError:
            raise HistorianError(f"{where}: 'pattern' (a regular expression for the tag names) is required") from None
        except re.error as exc:
            raise HistorianError(f"{where}.pattern = {raw['pattern']!r}: not a regular expression ({exc})") from None
        unit = raw.get("unit", MODEL_VARIABLES[variable][0])
        try:
            _UREG.Quantity(1.0, unit).to(MODEL_VARIABLES[variable][0])
        except (pint.errors.UndefinedUnitError, pint.errors.DimensionalityError, AttributeError, TypeError) as exc:
            raise HistorianError(f"{where}.unit = {unit!r}: cannot be converted to "
                                 f"{MODEL_VARIABLES[variable][0]} ({exc})") from None
        kind = raw.get("kind", "signal")
        if kind not in ("signal", "sample"):
            raise HistorianError(f"{where}.kind = {kind!r}: allowed: signal, sample")
        signals.append(Signal(pattern, variable, unit, kind, int(raw.get("cells_per_line", cells // lines))))
    return TagMap(str(path), cells, lines, str(data.get("timezone", "UTC")), float(data.get("stuck_hours", 6.0)),
                  tuple(signals))


def read_export(path: str | Path, timezone: str = "UTC") -> pd.DataFrame:
    """Read one export into long format: UTC ``time``, ``tag``, float ``value``, ``quality``, ``row``.

    Long CSV/Parquet need columns timestamp, tag, value (quality optional); any other CSV is read as
    wide (a timestamp column, one column per tag).
    """
    path = Path(path)
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            raw = pd.read_parquet(path).astype(str)
        else:
            raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise HistorianError(f"{path}: cannot read the export ({exc})") from None
    cols = {c.lower().strip(): c for c in raw.columns}
    if "timestamp" not in cols:
        raise HistorianError(f"{path}: no 'timestamp' column (columns: {list(raw.columns)})")
    if "tag" in cols or "value" in cols:
        missing = [c for c in ("tag", "value") if c not in cols]
        if missing:
            raise HistorianError(f"{path}: long format needs columns timestamp, tag, value; missing {missing}")
        long = pd.DataFrame({"timestamp": raw[cols["timestamp"]], "tag": raw[cols["tag"]],
                             "value": raw[cols["value"]],
                             "quality": raw[cols["quality"]] if "quality" in cols else "good"})
        long["row"] = np.arange(len(raw)) + 2                      # 1-based, after the header
        value_column = {i: "value" for i in range(len(raw))}
    else:
        tags = [c for c in raw.columns if c != cols["timestamp"]]
        long = raw.melt(id_vars=[cols["timestamp"]], value_vars=tags, var_name="tag", value_name="value",
                        ignore_index=False).rename(columns={cols["timestamp"]: "timestamp"})
        long["row"] = long.index.to_numpy() + 2
        long["quality"] = "good"
        long = long[long["value"].str.strip() != ""].reset_index(drop=True)
        value_column = dict(enumerate(long["tag"]))
    long["time"] = _parse_times(path, long["timestamp"], long["row"], timezone)
    values = pd.to_numeric(long["value"].str.strip(), errors="coerce")
    bad = values.isna() & (long["value"].str.strip() != "")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise HistorianError(f"{path}: row {long['row'].iloc[i]}, column {value_column[i]!r}: "
                             f"{long['value'].iloc[i]!r} is not a number")
    long["value"] = values
    long["quality"] = long["quality"].str.strip().str.lower()
    unknown = ~long["quality"].isin(QUALITY)
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise HistorianError(f"{path}: row {long['row'].iloc[i]}, column 'quality': {long['quality'].iloc[i]!r}; "
                             f"allowed: {', '.join(QUALITY)}")
    long = long[long["value"].notna()]
    return long[["time", "tag", "value", "quality", "row"]]


_ZONED = re.compile(r"(?:Z|[+-]\d\d:?\d\d)$")


def _parse_times(path: Path, text: pd.Series, rows: pd.Series, timezone: str) -> pd.Series:
    text = text.str.strip()
    zoned = text.str.contains(_ZONED)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    if zoned.any():
        out[zoned] = pd.to_datetime(text[zoned], utc=True, errors="coerce", format="ISO8601")
    if (~zoned).any():
        naive = pd.to_datetime(text[~zoned], errors="coerce", format="ISO8601")
        out[~zoned] = naive.dt.tz_localize(timezone, nonexistent="NaT", ambiguous="NaT").dt.tz_convert("UTC")
    if out.isna().any():
        i = int(np.flatnonzero(out.isna().to_numpy())[0])
        raise HistorianError(f"{path}: row {rows.iloc[i]}, column 'timestamp': {text.iloc[i]!r} is not a "
                             "time (ISO 8601 with a zone or offset, or naive in the tag map's zone)")
    return out


def ingest(exports: list[str | Path], tag_map: TagMap, interval_s: float = 600.0, start: str | None = None,
           end: str | None = None) -> tuple[xr.Dataset, pd.DataFrame]:
    """Read exports, map tags, clean, convert units and put signals on the model clock.

    Returns the dataset (signals by ``time`` x ``cell`` or ``line``; samples as a table on ``sample``)
    and the data-quality report (one row per tag, unknown tags included).
    """
    frames = [read_export(p, tag_map.timezone).assign(file=str(p)) for p in exports]
    data = pd.concat(frames, ignore_index=True)
    report_rows = []
    kept = []
    for tag, group in data.groupby("tag", sort=True):
        stats = {"tag": tag, "rows": len(group)}
        found = tag_map.match(str(tag))
        if found is None:
            report_rows.append({**stats, "status": "unknown tag"})
            continue
        sig, index = found
        stats["out_of_order"] = int((group["time"].diff().dt.total_seconds() < 0).sum())
        g = group.sort_values("time", kind="stable")
        dup = g.duplicated(subset="time", keep="last")
        g = g[~dup]
        stats["duplicates"] = int(dup.sum())
        stats["bad"] = int((g["quality"] == "bad").sum())
        stats["questionable"] = int((g["quality"] == "questionable").sum())
        g = g[g["quality"] != "bad"]
        stuck = _stuck(g, tag_map.stuck_hours) if sig.kind == "signal" else np.zeros(len(g), bool)
        stats["stuck"] = int(stuck.sum())
        g = g[~stuck]
        values = _UREG.Quantity(g["value"].to_numpy(float), sig.unit).to(MODEL_VARIABLES[sig.variable][0]).magnitude
        kept.append(pd.DataFrame({"time": g["time"].to_numpy(), "variable": sig.variable, "index": index,
                                  "kind": sig.kind, "value": values}))
        gaps = g["time"].diff().dt.total_seconds().to_numpy()[1:]
        stats.update({"kept": len(g), "status": "ok", "variable": sig.variable, "index": index,
                      "longest_gap_h": float(np.max(gaps) / 3600.0) if len(gaps) else np.nan})
        report_rows.append(stats)
    report = pd.DataFrame(report_rows)
    if not kept:
        raise HistorianError(f"no tag of {[str(p) for p in exports]} matches the tag map {tag_map.source}")
    clean = pd.concat(kept, ignore_index=True)
    t0 = pd.Timestamp(start, tz="UTC") if start else clean["time"].min().floor(f"{int(interval_s)}s")
    t1 = pd.Timestamp(end, tz="UTC") if end else clean["time"].max()
    clean = clean[(clean["time"] >= t0) & (clean["time"] <= t1)]
    n_bins = int(np.ceil((t1 - t0).total_seconds() / interval_s)) or 1
    # each interval is labelled by its end, as the twin's results are
    times = (t0 + pd.to_timedelta(interval_s * np.arange(1, n_bins + 1), unit="s")).tz_localize(None)
    ds = xr.Dataset(coords={"time": times.to_numpy(), "cell": np.arange(tag_map.cells),
                            "line": np.arange(tag_map.lines)})
    # the tag map numbers cells line by line: (line - 1) * cells_per_line + pot - 1
    ds["cell_line"] = ("cell", np.arange(tag_map.cells) // max(tag_map.cells // tag_map.lines, 1),
                       {"long_name": "index of the potline of each cell", "units": "1"})
    signals = clean[clean["kind"] == "signal"]
    coverage = {}
    for variable, group in signals.groupby("variable"):
        dim = MODEL_VARIABLES[variable][1]
        size = tag_map.cells if dim == "cell" else tag_map.lines
        bins = np.minimum(((group["time"] - t0).dt.total_seconds().to_numpy() // interval_s).astype(int), n_bins - 1)
        total = np.zeros((n_bins, size))
        count = np.zeros((n_bins, size))
        np.add.at(total, (bins, group["index"].to_numpy()), group["value"].to_numpy())
        np.add.at(count, (bins, group["index"].to_numpy()), 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, total / count, np.nan)
        ds[variable] = (("time", dim), mean, {"units": MODEL_VARIABLES[variable][0],
                                             "long_name": f"{variable}, interval mean of historian values",
                                             "cell_methods": "time: mean"})
        for idx in np.unique(group["index"]):
            coverage[(variable, int(idx))] = float(np.mean(count[:, idx] > 0))
    samples = clean[clean["kind"] == "sample"]
    ds = ds.assign_coords(sample=np.arange(len(samples)))
    ds["sample_time"] = ("sample", samples["time"].dt.tz_localize(None).to_numpy())
    ds["sample_index"] = ("sample", samples["index"].to_numpy(dtype="i4"))
    ds["sample_variable"] = ("sample", samples["variable"].to_numpy(dtype=str))
    ds["sample_value"] = ("sample", samples["value"].to_numpy(float))
    ds.attrs.update({"title": "alutwin historian data on the model clock", "interval_s": interval_s,
                     "tag_map": tag_map.source, "exports": ", ".join(str(p) for p in exports)})
    if len(report):
        report["coverage"] = [coverage.get((r.get("variable"), r.get("index")), np.nan)
                              if r.get("status") == "ok" else np.nan for r in report.to_dict("records")]
    return ds, report


def _stuck(group: pd.DataFrame, hours: float) -> np.ndarray:
    """Values in runs of one repeated value spanning more than ``hours`` (a frozen sensor), not the first."""
    values = group["value"].to_numpy()
    times = group["time"].to_numpy()
    out = np.zeros(len(values), bool)
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[start]:
            if (times[i - 1] - times[start]) / np.timedelta64(1, "h") > hours:
                out[start + 1:i] = True
            start = i
    return out
