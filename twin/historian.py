"""Plant historian exports -> a tidy xarray.Dataset on the model's clock, with a data-quality report.

Exports come as they come (park notes sec. 6): long format (timestamp, tag, value[, quality]) in CSV
or Parquet, or wide CSV (a timestamp column and one column per tag); timestamps with zones or UTC
offsets (naive ones take the tag map's zone); quality flags; duplicates, out-of-order rows, gaps,
stuck values and compressed (irregular) sampling. A tag map (TOML) says which tags are which model
variable, cell or line and unit; units are converted once, here, with pint.

Continuous signals are averaged over the model's output interval (good and questionable values;
bad ones and stuck runs are rejected); manual samples (``kind = "sample"``) keep their own
timestamps in a sample table. Unknown tags are listed in the report, never silently dropped.

How a signal was stored decides its mean (the tag map's ``storage``): ``"sampled"`` (regular scans or
averages: the mean of the values in the interval), ``"step"`` (compressed, exception/deadband: a value
holds until the next row) or ``"interpolated"`` (linear between rows), both averaged over time with the
last value carried into the next interval, for at most ``hold_hours`` (a historian's maximum time between
stored values, PI's CompMax: 8 h by default). What cannot be a value is dropped and counted, and ends the
value held before it: rows of bad quality, status strings in the value column (``"Bad Input"``, ``"I/O
Timeout"``, ``"Shutdown"``, ``"No Data"`` ...), blanks and nulls, non-finite values, configured sentinels
(``sentinels``) and values outside the variable's physical range (``valid_min``/``valid_max``, in the
tag's unit; defaults per variable). Naive local times across a clock change are resolved by row order
(the first pass of a repeated hour is daylight time), or refused naming the row.
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
# values a historian writes for "no value" instead of a number (OSIsoft PI system digital states and the
# like); matched without case
STATUS_STRINGS = frozenset(s.lower() for s in (
    "Bad Input", "I/O Timeout", "Shutdown", "No Data", "Comm Fail", "Calc Failed", "Calc Off", "Scan Off",
    "Scan Timeout", "Pt Created", "Configure", "Out of Serv", "Bad", "Bad Data", "Over Range", "Under Range",
    "Intf Shut", "Failed", "Error", "No Sample", "Invalid Data", "Not Connect", "Equip Fail", "Set to Bad",
    "Trace", "Manual", "Doubtful", "Unit Down", "No Result", "Bad Quality", "Questionable"))
# physical range of each model variable (model units): a value outside is a sensor fault or a sentinel
VALID_RANGE = {
    "cell_voltage": (0.0, 80.0), "line_current": (0.0, 1.0e6), "bath_temperature": (600.0, 1200.0),
    "excess_alf3": (0.0, 40.0), "alumina": (0.0, 15.0), "metal_height": (0.0, 100.0), "bath_height": (0.0, 100.0),
    "tap_weight": (0.0, 2.0e4), "alf3_addition": (0.0, 2000.0), "beam_move": (-500.0, 500.0),
    "alumina_fed": (0.0, 5.0e4), "anodes_set": (0.0, 100.0), "bath_tap": (0.0, 1.0e4), "bath_addition": (0.0, 1.0e4),
    "anode_effect": (0.0, 1000.0),
}
STORAGE = ("sampled", "step", "interpolated")
_UREG: pint.UnitRegistry = pint.UnitRegistry()
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
    storage: str = "sampled"   # how the historian stored it (STORAGE)
    valid: tuple[float, float] = (-np.inf, np.inf)     # physical range in model units
    sentinels: tuple[float, ...] = ()                  # values meaning "no value", in the tag's unit


@dataclass(frozen=True)
class TagMap:
    source: str
    cells: int
    lines: int
    timezone: str
    stuck_hours: float
    signals: tuple[Signal, ...] = field(default_factory=tuple)
    hold_hours: float = 8.0

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
    except UnicodeDecodeError as exc:
        raise HistorianError(f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
                             "save the tag map as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise HistorianError(f"{path}: not valid TOML: {exc}") from None
    allowed = {"cells", "lines", "timezone", "stuck_hours", "hold_hours", "signal"}
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
        extra = set(raw) - {"pattern", "variable", "unit", "kind", "cells_per_line", "storage", "valid_min",
                            "valid_max", "sentinels"}
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
        storage = raw.get("storage", "sampled")
        if storage not in STORAGE or (storage != "sampled" and kind == "sample"):
            raise HistorianError(f"{where}.storage = {storage!r}: allowed: {', '.join(STORAGE)} (signals only)")
        low, high = VALID_RANGE[variable]
        try:
            to_model = _UREG.Quantity(np.array([float(raw.get("valid_min", np.nan)), float(raw.get("valid_max",
                                                                                                     np.nan))]), unit)
            lo, hi = to_model.to(MODEL_VARIABLES[variable][0]).magnitude
            sentinels = tuple(float(v) for v in raw.get("sentinels", []))
        except (TypeError, ValueError):
            raise HistorianError(f"{where}: valid_min, valid_max and sentinels must be numbers") from None
        valid = (low if np.isnan(lo) else float(lo), high if np.isnan(hi) else float(hi))
        if not valid[0] < valid[1]:
            raise HistorianError(f"{where}: valid_min must be below valid_max, got {valid} "
                                 f"{MODEL_VARIABLES[variable][0]}")
        signals.append(Signal(pattern, variable, unit, kind, int(raw.get("cells_per_line", cells // lines)), storage,
                              valid, sentinels))
    try:
        hold = float(data.get("hold_hours", 8.0))
        stuck = float(data.get("stuck_hours", 6.0))
    except (TypeError, ValueError):
        raise HistorianError(f"{path}: hold_hours and stuck_hours must be numbers of hours") from None
    if not (0 < hold <= 24 * 31 and 0 < stuck <= 24 * 365):
        raise HistorianError(f"{path}: hold_hours = {hold:g} must be in (0, 744] and stuck_hours = {stuck:g} in "
                             "(0, 8760]")
    return TagMap(str(path), cells, lines, str(data.get("timezone", "UTC")), stuck, tuple(signals), hold)


def read_export(path: str | Path, timezone: str = "UTC") -> pd.DataFrame:
    """Read one export into long format: UTC ``time``, ``tag``, float ``value``, ``quality``, ``row`` and
    ``flag`` ("" for a value; "status" for a status string or another non-number of bad quality, "blank" for
    an empty or null value: their ``value`` is NaN and their quality bad, so they end a held value).

    Long CSV/Parquet need columns timestamp, tag, value (quality optional); any other CSV is read as
    wide (a timestamp column, one column per tag).
    """
    if is_database(path):
        return _long_format(read_table(str(path)), _shown(path), timezone, first_row=1)
    path = Path(path)
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            # nulls (None, NaN, NaT) are blanks, as an empty CSV field is
            raw = pd.read_parquet(path).astype("string").fillna("").astype(str)
        else:
            raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise HistorianError(f"{path}: cannot read the export ({exc})") from None
    return _long_format(raw, path, timezone, first_row=2)


def is_database(source: str | Path) -> bool:
    """A database URL (``postgresql://...``) rather than a file."""
    return isinstance(source, str) and "://" in source and source.split("://")[0].startswith("postgresql")


def read_table(url: str) -> pd.DataFrame:
    """The rows of a historian table in PostgreSQL (through SQLAlchemy), as text like an export's fields.

    ``url`` is a SQLAlchemy URL (``postgresql://user@host/db?table=historian``; ``table`` names the table, by
    default ``historian``); the table has columns timestamp, tag, value and optionally quality (timestamps as
    ``timestamptz`` or text), read in the order of its primary key (or of its first column).
    """
    import sqlalchemy as sa

    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise HistorianError(f"{url}: not a database URL ({exc})") from None
    table = str(parsed.query.get("table", "historian"))
    parsed = parsed.difference_update_query(["table"])
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")          # psycopg 3, on the system's libpq
    shown = parsed.render_as_string(hide_password=True)
    try:
        engine = sa.create_engine(parsed)
    except sa.exc.SQLAlchemyError as exc:
        raise HistorianError(f"{shown}: cannot use this database ({str(exc).splitlines()[0]})") from None
    try:
        with engine.connect() as connection:
            found = sa.Table(table, sa.MetaData(), autoload_with=connection)
            order = list(found.primary_key.columns) or [next(iter(found.columns))]
            rows = connection.execute(sa.select(found).order_by(*order)).all()
            names = [c.name for c in found.columns]
    except sa.exc.NoSuchTableError:
        raise HistorianError(f"{shown}: no table {table!r} (give ?table=NAME)") from None
    except sa.exc.SQLAlchemyError as exc:
        raise HistorianError(f"{shown}: cannot read table {table!r} ({str(exc).splitlines()[0]})") from None
    finally:
        engine.dispose()
    frame = pd.DataFrame(rows, columns=names)
    for column in frame.columns:                  # as text, like an export's fields; NULL is a blank
        frame[column] = frame[column].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
                                          else (v.isoformat() if hasattr(v, "isoformat") else str(v)))
    return frame


def _long_format(raw: pd.DataFrame, path, timezone: str, first_row: int) -> pd.DataFrame:
    """An export's text fields in long format (see ``read_export``); ``path`` names the source in errors, rows
    are counted from ``first_row`` (2 in a file with a header line, 1 in a table)."""
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
        long["row"] = np.arange(len(raw)) + first_row
        value_column = {i: "value" for i in range(len(raw))}
    else:
        tags = [c for c in raw.columns if c != cols["timestamp"]]
        long = raw.melt(id_vars=[cols["timestamp"]], value_vars=tags, var_name="tag", value_name="value",
                        ignore_index=False).rename(columns={cols["timestamp"]: "timestamp"})
        long["row"] = long.index.to_numpy() + first_row
        long["quality"] = "good"
        long = long[long["value"].str.strip() != ""].reset_index(drop=True)
        value_column = dict(enumerate(long["tag"]))
    long["time"] = _parse_times(path, long["timestamp"], long["row"], timezone, long["tag"])
    long["quality"] = long["quality"].str.strip().str.lower().replace("", "good")
    unknown = ~long["quality"].isin(QUALITY)
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise HistorianError(f"{path}: row {long['row'].iloc[i]}, column 'quality': {long['quality'].iloc[i]!r}; "
                             f"allowed: {', '.join(QUALITY)}")
    text = long["value"].str.strip()
    values = pd.to_numeric(text, errors="coerce")
    blank = text.str.lower().isin(("", "nan", "none", "null", "<na>", "nat"))
    status = values.isna() & ~blank & (text.str.lower().isin(STATUS_STRINGS) | (long["quality"] == "bad"))
    wrong = values.isna() & ~blank & ~status
    if wrong.any():
        i = int(np.flatnonzero(wrong.to_numpy())[0])
        raise HistorianError(f"{path}: row {long['row'].iloc[i]}, column {value_column[i]!r}: "
                             f"{long['value'].iloc[i]!r} is not a number (nor a status string, nor of bad quality)")
    long["value"] = values.astype(float)
    long["flag"] = np.where(blank, "blank", np.where(status, "status", ""))
    long.loc[blank | status, "quality"] = "bad"
    return long[["time", "tag", "value", "quality", "row", "flag"]]


_ZONED = re.compile(r"(?:Z|[+-]\d\d:?\d\d)$")


def _parse_iso(text: pd.Series, utc: bool) -> pd.Series:
    """ISO 8601 text to nanosecond times; what is no time, or outside the years nanoseconds hold, is NaT."""
    parsed = pd.to_datetime(text, utc=utc, errors="coerce", format="ISO8601")
    low, high = pd.Timestamp.min.ceil("s"), pd.Timestamp.max.floor("s")
    if utc:
        low, high = low.tz_localize("UTC"), high.tz_localize("UTC")
    return parsed.where((parsed >= low) & (parsed <= high)).dt.as_unit("ns")


def _parse_times(path: Path, text: pd.Series, rows: pd.Series, timezone: str, tags: pd.Series) -> pd.Series:
    text = text.str.strip()
    zoned = text.str.contains(_ZONED)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    if zoned.any():
        out[zoned] = _parse_iso(text[zoned], utc=True)
    if (~zoned).any():
        naive = _parse_iso(text[~zoned], utc=False)
        # a repeated hour (the clock set back): by row order within each tag, a time not after one already seen
        # is on the second pass, in standard time; the first pass is daylight time
        seen = naive.groupby(tags[~zoned]).transform(lambda t: t.cummax().shift(1))
        first_pass = ~(seen >= naive).to_numpy()
        try:
            local = naive.dt.tz_localize(timezone, nonexistent="NaT", ambiguous=first_pass)
        except Exception as exc:          # pytz/zoneinfo errors differ by pandas version
            raise HistorianError(f"{path}: naive times in zone {timezone!r} cannot be placed ({exc})") from None
        gap = local.isna() & naive.notna()
        if gap.any():
            i = int(np.flatnonzero((~zoned).to_numpy())[np.flatnonzero(gap.to_numpy())[0]])
            raise HistorianError(f"{path}: row {rows.iloc[i]}, column 'timestamp': {text.iloc[i]!r} does not exist "
                                 f"in zone {timezone!r} (the clock jumped forward over it): write the time with its "
                                 "UTC offset")
        out[~zoned] = local.dt.tz_convert("UTC")
    if out.isna().any():
        i = int(np.flatnonzero(out.isna().to_numpy())[0])
        raise HistorianError(f"{path}: row {rows.iloc[i]}, column 'timestamp': {text.iloc[i]!r} is not a "
                             "time (ISO 8601 with a zone or offset, or naive in the tag map's zone; between "
                             "1677-09-22 and 2262-04-11)")
    return out


def ingest(exports: list[str | Path], tag_map: TagMap, interval_s: float = 600.0, start: str | None = None,
           end: str | None = None, max_days: float = 3660.0) -> tuple[xr.Dataset, pd.DataFrame]:
    """Read exports, map tags, clean, convert units and put signals on the model clock.

    Returns the dataset (signals by ``time`` x ``cell`` or ``line``; samples as a table on ``sample``)
    and the data-quality report (one row per tag, unknown tags included). Data spanning more than
    ``max_days`` (a mistyped year) is refused, naming the earliest and the latest row.
    """
    frames = [read_export(p, tag_map.timezone).assign(file=_shown(p)) for p in exports]
    data = pd.concat(frames, ignore_index=True)
    report_rows = []
    kept = []
    weighted = []        # step and interpolated signals: (variable, index, storage, times, values or NaN)
    mapped = []          # the times of every row of a known tag, before cleaning (the data's horizon)
    for tag, group in data.groupby("tag", sort=True):
        stats = {"tag": tag, "rows": len(group)}
        found = tag_map.match(str(tag))
        if found is None:
            report_rows.append({**stats, "status": "unknown tag"})
            continue
        sig, index = found
        mapped.append(group["time"])
        stats["out_of_order"] = int((group["time"].diff().dt.total_seconds() < 0).sum())
        g = group.sort_values("time", kind="stable")
        dup = g.duplicated(subset="time", keep="last")
        g = g[~dup]
        stats["duplicates"] = int(dup.sum())
        stats["status_strings"] = int((g["flag"] == "status").sum())
        stats["blank"] = int((g["flag"] == "blank").sum())
        stats["bad"] = int(((g["quality"] == "bad") & (g["flag"] == "")).sum())
        stats["questionable"] = int((g["quality"] == "questionable").sum())
        raw = g["value"].to_numpy(float)
        with np.errstate(over="ignore", invalid="ignore"):        # 1e308 kA is no current: counted below
            values = _UREG.Quantity(raw, sig.unit).to(MODEL_VARIABLES[sig.variable][0]).magnitude
        value = (g["quality"] != "bad").to_numpy().copy()
        with np.errstate(invalid="ignore"):
            sentinel = value & np.isin(raw, sig.sentinels)
            outside = value & ~sentinel & ~((values >= sig.valid[0]) & (values <= sig.valid[1]))
        stats["sentinels"], stats["out_of_range"] = int(sentinel.sum()), int(outside.sum())
        value &= ~(sentinel | outside)
        if sig.storage != "sampled":
            # the rows that are not values end the value held before them
            weighted.append((sig.variable, index, sig.storage, g["time"].to_numpy(), np.where(value, values, np.nan)))
            g = g[value]
            stats["stuck"] = 0           # stored on change: a long steady value is no sign of a frozen sensor
        else:
            g, values = g[value], values[value]
            stuck = _stuck(g, tag_map.stuck_hours) if sig.kind == "signal" else np.zeros(len(g), bool)
            stats["stuck"] = int(stuck.sum())
            g, values = g[~stuck], values[~stuck]
            kept.append(pd.DataFrame({"time": g["time"].to_numpy(), "variable": sig.variable, "index": index,
                                      "kind": sig.kind, "value": values}))
        gaps = g["time"].diff().dt.total_seconds().to_numpy()[1:]
        stats.update({"kept": len(g), "status": "ok", "variable": sig.variable, "index": index,
                      "longest_gap_h": float(np.max(gaps) / 3600.0) if len(gaps) else np.nan})
        report_rows.append(stats)
    report = pd.DataFrame(report_rows)
    if not kept and not weighted:
        raise HistorianError(f"no tag of {[_shown(p) for p in exports]} matches the tag map {tag_map.source}")
    clean = pd.concat(kept or [pd.DataFrame({"time": [], "variable": [], "index": [], "kind": [], "value": []})],
                      ignore_index=True)
    clean["time"] = pd.to_datetime(clean["time"], utc=True)
    stamps = pd.concat(mapped)
    t0 = pd.Timestamp(start, tz="UTC") if start else stamps.min().floor(f"{int(interval_s)}s")
    t1 = pd.Timestamp(end, tz="UTC") if end else stamps.max()
    _check_horizon(data[data["tag"].isin(report.loc[report["status"] == "ok", "tag"])], t0, t1, max_days)
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
    edges = (t0 - pd.Timestamp(0, tz="UTC")).total_seconds() + interval_s * np.arange(n_bins + 1)
    for variable, index, storage, times, values in weighted:
        dim = MODEL_VARIABLES[variable][1]
        if variable not in ds:
            ds[variable] = (("time", dim), np.full((n_bins, tag_map.cells if dim == "cell" else tag_map.lines), np.nan),
                            {"units": MODEL_VARIABLES[variable][0], "cell_methods": "time: mean",
                             "long_name": f"{variable}, interval mean of historian values"})
        seconds = (pd.to_datetime(times, utc=True) - pd.Timestamp(0, tz="UTC")).total_seconds().to_numpy()
        mean, covered = time_weighted_means(seconds, values, edges, tag_map.hold_hours * 3600.0,
                                            storage == "interpolated")
        ds[variable].values[:, index] = mean
        coverage[(variable, int(index))] = float(np.mean(covered > 0))
    samples = clean[clean["kind"] == "sample"]
    ds = ds.assign_coords(sample=np.arange(len(samples)))
    ds["sample_time"] = ("sample", samples["time"].dt.tz_localize(None).to_numpy())
    ds["sample_index"] = ("sample", samples["index"].to_numpy(dtype="i4"))
    ds["sample_variable"] = ("sample", samples["variable"].to_numpy(dtype=str))
    ds["sample_value"] = ("sample", samples["value"].to_numpy(float))
    ds.attrs.update({"title": "alutwin historian data on the model clock", "interval_s": interval_s,
                     "tag_map": tag_map.source, "exports": ", ".join(_shown(p) for p in exports)})
    if len(report):
        report["coverage"] = [coverage.get((r.get("variable"), r.get("index")), np.nan)
                              if r.get("status") == "ok" else np.nan for r in report.to_dict("records")]
    return ds, report


def time_weighted_means(times: np.ndarray, values: np.ndarray, edges: np.ndarray, hold: float,
                        linear: bool) -> tuple[np.ndarray, np.ndarray]:
    """Means over the intervals between ``edges`` of a signal stored at ``times`` (s, sorted): each value holds
    until the next row (``linear``: runs straight to the next value) for at most ``hold`` s; a NaN value (a
    row that is no value) holds nothing. Exact: the integral is evaluated at the edges in closed form. Returns
    the means (NaN where nothing covers an interval) and the share of each interval covered."""
    t, v = np.asarray(times, float), np.asarray(values, float)
    nxt = np.append(t[1:], np.inf)
    end = np.minimum(nxt, t + hold)
    slope = np.zeros_like(v)
    if linear:
        reach = np.isfinite(np.append(v[1:], np.nan)) & (nxt - t <= hold)
        end = np.where(reach, nxt, t)               # interpolated: only between two values
        slope[reach] = (np.append(v[1:], np.nan)[reach] - v[reach]) / (nxt[reach] - t[reach])
    end = np.where(np.isfinite(v), end, t)          # a row that is no value covers nothing
    v, slope = np.nan_to_num(v), np.nan_to_num(slope)
    span = end - t
    integral0 = np.concatenate([[0.0], np.cumsum(v * span + 0.5 * slope * span * span)])
    covered0 = np.concatenate([[0.0], np.cumsum(span)])

    def at(e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        i = np.searchsorted(t, e, side="right") - 1
        j = np.maximum(i, 0)
        d = np.where(i >= 0, np.clip(e - t[j], 0.0, span[j]), 0.0)
        return (np.where(i >= 0, integral0[j] + v[j] * d + 0.5 * slope[j] * d * d, 0.0),
                np.where(i >= 0, covered0[j] + d, 0.0))

    integral, covered = at(np.asarray(edges, float))
    di, dc = np.diff(integral), np.diff(covered)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(dc > 1e-9, di / dc, np.nan)
    return mean, dc / np.diff(edges)


def _shown(source: str | Path) -> str:
    """A source as messages and attributes name it (a database URL without its password)."""
    if is_database(source):
        import sqlalchemy as sa

        return sa.engine.make_url(str(source)).render_as_string(hide_password=True)
    return str(source)


def _check_horizon(data: pd.DataFrame, t0: pd.Timestamp, t1: pd.Timestamp, max_days: float) -> None:
    """Refuse data spanning more than ``max_days``: name the earliest and the latest row."""
    if (t1 - t0).total_seconds() <= max_days * 86400.0:
        return
    first, last = data.loc[data["time"].idxmin()], data.loc[data["time"].idxmax()]
    raise HistorianError(
        f"the data span {(t1 - t0).total_seconds() / 86400.0:,.0f} days, more than max_days = {max_days:g}: the "
        f"earliest row is {first['file']} row {first['row']} ({first['tag']}, {first['time']:%Y-%m-%d %H:%M} UTC), "
        f"the latest {last['file']} row {last['row']} ({last['tag']}, {last['time']:%Y-%m-%d %H:%M} UTC); "
        "a mistyped year? Give start and end to take a window")


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
