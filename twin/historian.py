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
from typing import Annotated, Literal

import numpy as np
import pandas as pd
import pint
import xarray as xr
from pydantic import Field, ValidationError, field_validator, model_validator
from tqdm import tqdm

from twin.schema import HistorianError, Section

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
            line, pot = _number(groups.get("line")), _number(groups.get("pot"))
            if line is not None and not 1 <= line <= self.lines:
                raise HistorianError(f"{self.source}: tag {tag!r} (pattern {sig.pattern.pattern!r}) is on line "
                                     f"{groups['line']}; the map has lines 1..{self.lines}")
            line = (line or 1) - 1
            if MODEL_VARIABLES[sig.variable][1] == "line":
                return sig, line
            if pot is None or not 1 <= pot <= sig.cells_per_line:
                # a pot beyond its line's cells would land in the next line's cells
                raise HistorianError(f"{self.source}: tag {tag!r} (pattern {sig.pattern.pattern!r}) is pot "
                                     f"{groups.get('pot')}; a line has pots 1..{sig.cells_per_line}")
            index = line * sig.cells_per_line + pot - 1
            if not 0 <= index < self.cells:
                raise HistorianError(f"{self.source}: tag {tag!r} maps to cell {index}, outside 0..{self.cells - 1}")
            return sig, index
        return None


class SignalSpec(Section):
    """One ``[[signal]]`` of a tag map: the tags a regular expression matches, the model variable they hold."""

    pattern: str
    variable: str
    unit: str | None = None
    kind: Literal["signal", "sample"] = "signal"
    cells_per_line: Annotated[int, Field(ge=1, le=100000)] | None = None
    storage: Literal["sampled", "step", "interpolated"] = "sampled"
    valid_min: float | None = None
    valid_max: float | None = None
    sentinels: list[float] = Field(default_factory=list)

    @field_validator("variable")
    @classmethod
    def _known(cls, variable: str) -> str:
        if variable not in MODEL_VARIABLES:
            raise ValueError(f"allowed: {', '.join(MODEL_VARIABLES)}")
        return variable

    @field_validator("pattern")
    @classmethod
    def _regular_expression(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a regular expression ({exc})") from None
        return pattern

    @model_validator(mode="after")
    def _consistent(self) -> SignalSpec:
        if self.storage != "sampled" and self.kind == "sample":
            raise ValueError(f"storage = {self.storage!r}: for signals only (kind = \"signal\"), not samples")
        return self


class TagMapSpec(Section):
    """A tag map file (``configs/historian/``)."""

    cells: Annotated[int, Field(ge=1, le=100000)]
    lines: Annotated[int, Field(ge=1, le=100)] = 1
    timezone: str = "UTC"
    stuck_hours: Annotated[float, Field(gt=0, le=8760)] = 6.0
    hold_hours: Annotated[float, Field(gt=0, le=744)] = 8.0
    signal: list[SignalSpec] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, zone: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError("not a time zone of the IANA database (e.g. \"Asia/Almaty\", \"UTC\")") from None
        return zone

    @model_validator(mode="after")
    def _lines_of_cells(self) -> TagMapSpec:
        if self.cells % self.lines:
            raise ValueError(f"cells = {self.cells} do not make {self.lines} lines of equal length")
        for i, sig in enumerate(self.signal):
            groups = re.compile(sig.pattern).groupindex
            per_line = sig.cells_per_line or self.cells // self.lines
            if MODEL_VARIABLES[sig.variable][1] == "cell" and per_line > 1 and "pot" not in groups:
                # without it every pot of a line would land on the line's first cell, their values averaged
                raise ValueError(f"signal[{i}].pattern {sig.pattern!r} of the cell variable {sig.variable} has no "
                                 f"(?P<pot>...) group, and a line has {per_line} cells: it cannot say which cell a "
                                 "tag is")
            if self.lines > 1 and "line" not in groups:
                raise ValueError(f"signal[{i}].pattern {sig.pattern!r} has no (?P<line>...) group, and there are "
                                 f"{self.lines} lines: it cannot say which line a tag is on")
        return self


# a tag whose values mostly leave its variable's physical range, and fall inside it this many times smaller or
# larger, has the wrong unit in the tag map (kA for a current in A, V for a voltage in mV)
_UNIT_FACTORS = (1e-3, 1e3, 1e-6, 1e6)


def _check_unit(tag: str, sig: Signal, values: np.ndarray) -> None:
    """Refuse a tag whose unit is off by a factor of 1000 (or a million): more than half of its values outside the
    variable's range, and nine in ten of them inside it at one of ``_UNIT_FACTORS``."""
    finite = values[np.isfinite(values)]
    low, high = sig.valid
    inside = (finite >= low) & (finite <= high)
    if finite.size < 3 or inside.mean() >= 0.5:
        return
    for factor in _UNIT_FACTORS:
        scaled = finite * factor
        if np.mean((scaled >= low) & (scaled <= high)) >= 0.9:
            unit = MODEL_VARIABLES[sig.variable][0]
            raise HistorianError(f"tag {tag!r}: {100 * (1 - inside.mean()):.0f} % of its values are outside "
                                 f"{sig.variable}'s range {low:g}..{high:g} {unit} read as {sig.unit!r} (the tag map); "
                                 f"{factor:g} times them would be inside: is its unit off by that factor?")


# a counted current's dropout: at most this many zero rows in a row, between non-zero values at most this far apart
# (a scan that read 0 A; a line trip shows zeros for minutes) [A]
DROPOUT_ROWS = 2
DROPOUT_S = 300.0


def _zero_dropouts(seconds: np.ndarray, values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Rows of a line current (at ``seconds``) that read zero for a scan or two between currents (a dropout, not an
    outage): they would pull the interval's mean and the charge counted through the cells down."""
    out = np.zeros(len(values), dtype=bool)
    rows = np.flatnonzero(valid)
    if rows.size < 3:
        return out
    v, t = values[rows], seconds[rows]
    zero = np.abs(v) <= 0.01 * np.median(np.abs(v))
    i = 0
    while i < len(v):
        if not zero[i]:
            i += 1
            continue
        j = i
        while j < len(v) and zero[j]:
            j += 1
        if 0 < i and j < len(v) and j - i <= DROPOUT_ROWS and t[j] - t[i - 1] <= 2.0 * DROPOUT_S:
            out[rows[i:j]] = True
        i = j
    return out


def _number(text: str | None) -> int | None:
    """A pattern group's line or pot number (None: the pattern has no such group)."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return -1                   # not a number: outside every range, refused by the caller


def load_tag_map(path: str | Path) -> TagMap:
    """Read and check a tag map (``TagMapSpec``); errors name the file, the signal, the key and the value."""
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
    try:
        spec = TagMapSpec.model_validate(data)
    except ValidationError as err:
        lines = [f"{path}: invalid tag map ({err.error_count()} problem(s))"]
        for e in err.errors():
            loc = ".".join(f"[{part}]" if isinstance(part, int) else str(part) for part in e["loc"]).replace(".[", "[")
            value = e.get("input")
            if e["type"] == "extra_forbidden":
                model = SignalSpec if "signal" in e["loc"][:-1] else TagMapSpec
                lines.append(f"  {loc}: unknown key (value {value!r}); allowed: {', '.join(model.model_fields)}")
            elif e["type"] == "missing":
                lines.append(f"  {loc}: required key is missing")
            else:
                shown = f" = {value!r}" if not isinstance(value, dict) else ""
                lines.append(f"  {loc or 'the file'}{shown}: {e['msg'].removeprefix('Value error, ')}")
        raise HistorianError("\n".join(lines)) from None
    signals = []
    for i, raw in enumerate(spec.signal):
        where = f"{path}: signal[{i}]"
        model_unit = MODEL_VARIABLES[raw.variable][0]
        unit = raw.unit or model_unit
        try:
            _UREG.Quantity(1.0, unit).to(model_unit)
        except (pint.errors.UndefinedUnitError, pint.errors.DimensionalityError, AttributeError, TypeError,
                ValueError, AssertionError) as exc:
            raise HistorianError(f"{where}.unit = {unit!r}: cannot be converted to {model_unit} ({exc})") from None
        low, high = VALID_RANGE[raw.variable]
        given = np.array([np.nan if raw.valid_min is None else raw.valid_min,
                          np.nan if raw.valid_max is None else raw.valid_max])
        lo, hi = _UREG.Quantity(given, unit).to(model_unit).magnitude
        valid = (low if np.isnan(lo) else float(lo), high if np.isnan(hi) else float(hi))
        if not valid[0] < valid[1]:
            raise HistorianError(f"{where}: valid_min must be below valid_max, got {valid} {model_unit}")
        signals.append(Signal(re.compile(raw.pattern), raw.variable, unit, raw.kind,
                              raw.cells_per_line or spec.cells // spec.lines, raw.storage, valid,
                              tuple(raw.sentinels)))
    return TagMap(str(path), spec.cells, spec.lines, spec.timezone, spec.stuck_hours, tuple(signals),
                  spec.hold_hours)


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
    except (sa.exc.ArgumentError, ValueError):
        raise HistorianError(f"{_shown(url)}: not a database URL (postgresql://user@host/db?table=NAME)") from None
    if "@" in (parsed.host or ""):
        raise HistorianError(f"{_shown(url)}: the password holds an '@' written as it is; write it %40 (URL "
                             "encoding), or give the password in PGPASSWORD or ~/.pgpass instead of the URL")
    table = str(parsed.query.get("table", "historian"))
    parsed = parsed.difference_update_query(["table"])
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")          # psycopg 3, on the system's libpq
    shown = _shown(url)
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


def _clock(interval_s: float, start: str | None, end: str | None) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The model clock asked for: a whole number of seconds from 1 s to a day, start and end as UTC times (ISO
    8601; a time without a zone is UTC), the end after the start; a one-line HistorianError otherwise."""
    if isinstance(interval_s, bool) or not (np.isfinite(interval_s) and 1.0 <= interval_s <= 86400.0
                                            and float(interval_s).is_integer()):
        raise HistorianError(f"interval (--interval) = {interval_s!r} s: the model's output interval is a whole "
                             "number of seconds from 1 to 86400")
    times: list[pd.Timestamp | None] = []
    for option, text in (("--start", start), ("--end", end)):
        if text is None:
            times.append(None)
            continue
        try:
            stamp = pd.Timestamp(text)
        except (ValueError, TypeError):
            raise HistorianError(f"{option} {text!r}: not a time; give one in ISO 8601, e.g. "
                                 "2027-01-01T00:00:00Z") from None
        if stamp is pd.NaT:
            raise HistorianError(f"{option} {text!r}: not a time; give one in ISO 8601, e.g. 2027-01-01T00:00:00Z")
        times.append(stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC"))
    if times[0] is not None and times[1] is not None and not times[1] > times[0]:
        raise HistorianError(f"--end {end} is not after --start {start}: nothing to ingest")
    return times[0], times[1]


def ingest(exports: list[str | Path], tag_map: TagMap, interval_s: float = 600.0, start: str | None = None,
           end: str | None = None, max_days: float = 3660.0,
           progress: bool = False) -> tuple[xr.Dataset, pd.DataFrame]:
    """Read exports, map tags, clean, convert units and put signals on the model clock (``progress``: a bar over
    the tags, tqdm on stderr).

    Returns the dataset (signals by ``time`` x ``cell`` or ``line``; samples as a table on ``sample``)
    and the data-quality report (one row per tag, unknown tags included). Data spanning more than
    ``max_days`` (a mistyped year) is refused, naming the earliest and the latest row.
    """
    given_start, given_end = _clock(interval_s, start, end)
    frames = [read_export(p, tag_map.timezone).assign(file=_shown(p))
              for p in tqdm(exports, desc="exports read", unit="file", disable=not progress or len(exports) < 2)]
    data = pd.concat(frames, ignore_index=True)
    report_rows = []
    kept = []
    weighted = []        # step and interpolated signals: (variable, index, storage, times, values or NaN)
    mapped = []          # the times of every row of a known tag, before cleaning (the data's horizon)
    tags = data.groupby("tag", sort=True)
    for tag, group in tqdm(tags, total=tags.ngroups, desc="tags", unit="tag", disable=not progress, leave=False):
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
        # rows at one instant that disagree: the last is kept, as for any duplicate, and the instants counted
        stats["conflicting"] = int((g[g.duplicated(subset="time", keep=False)].groupby("time")["value"]
                                    .nunique() > 1).sum())
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
        _check_unit(str(tag), sig, values[value & ~sentinel])
        value &= ~(sentinel | outside)
        dropout = np.zeros(len(g), dtype=bool)
        if sig.variable == "line_current":
            dropout = _zero_dropouts((g["time"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(), values,
                                     value)
        stats["zero_dropouts"] = int(dropout.sum())
        value &= ~dropout
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
    t0 = given_start if given_start is not None else stamps.min().floor(f"{int(interval_s)}s")
    t1 = given_end if given_end is not None else stamps.max()
    if t1 < t0:
        raise HistorianError(f"nothing to ingest between {t0.isoformat()} and {t1.isoformat()}: the end (--end, or "
                             "the last value) must come after the start (--start, or the first value)")
    _check_horizon(data[data["tag"].isin(report.loc[report["status"] == "ok", "tag"])], t0, t1, max_days)
    # intervals are [start, start + interval), every value in one: a given --end ends the last interval (values at
    # it or after are left out, as a run's horizon), else the last interval is the one that holds the last value
    # (a last value on an interval boundary starts an interval of its own, as any value there does)
    if given_end is not None:
        clean = clean[(clean["time"] >= t0) & (clean["time"] < t1)]
        n_bins = int(np.ceil((t1 - t0).total_seconds() / interval_s)) or 1
    else:
        clean = clean[(clean["time"] >= t0) & (clean["time"] <= t1)]
        n_bins = int((t1 - t0).total_seconds() // interval_s) + 1
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
        bins = ((group["time"] - t0).dt.total_seconds().to_numpy() // interval_s).astype(int)
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


# query keys of a database URL that carry secrets (libpq's password, sslpassword; tokens and keys of others)
_SECRET_KEYS = ("password", "passwd", "pwd", "secret", "token", "key")


def _shown(source: str | Path) -> str:
    """A source as messages and attributes name it: a database URL with every secret in it as ``***`` (the
    password of ``user:pw@``, one with an unencoded ``@``, and ``?password=``-like query keys)."""
    if not is_database(source):
        return str(source)
    import sqlalchemy as sa

    text = str(source)
    try:
        url = sa.engine.make_url(text)
    except (sa.exc.ArgumentError, ValueError):
        return f"{text.split('://', 1)[0]}://***"
    if "@" in (url.host or ""):                      # an '@' in the password, not encoded: all of it is secret
        url = url.set(host=str(url.host).rsplit("@", 1)[1], password="***")
    secret = {key: "***" for key in url.query if any(word in key.lower() for word in _SECRET_KEYS)}
    if secret:
        url = url.update_query_dict(secret)
    return url.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


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
