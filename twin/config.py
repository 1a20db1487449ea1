"""Plant configuration: TOML -> validated, typed objects (pydantic v2, unknown keys are errors).

Units live in the key names (``current_kA``, ``acd_cm``); values are converted to SI once, when
the kernel's parameter arrays are built (``twin.smelter.cell``), never in the kernel.
"""
from __future__ import annotations

import datetime as dt
import difflib
import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    model_validator,
)

from twin.refinery.config import (
    DISTURBANCE_RANGES,
    Disturbance,
    ImpuritiesConfig,
    PrecipitationConfig,
    RefineryConfig,
    RefineryControlConfig,
)
from twin.refinery.design import Bauxite, DesignBasis
from twin.schema import ConfigError, Section
from twin.site.config import (
    CarbonAccountingConfig,
    CarbonPlantConfig,
    CasthouseConfig,
    FumeConfig,
    HeatConfig,
    PowerConfig,
    ProductConfig,
    ProgramPoint,
    SiloConfig,
)
from twin.smelter.config import (
    PER_CELL_KEYS,
    CellConfig,
    CellOverride,
    ControlConfig,
    LiningConfig,
    OperationsConfig,
    PotlineConfig,
    SchedulePoint,
    SmelterConfig,
    VariationConfig,
    cell_key_allows,
)

# the sections live beside the models they configure; they are importable from here too, as the park's parts
__all__ = ["DISTURBANCE_RANGES", "PER_CELL_KEYS", "Bauxite", "CarbonAccountingConfig", "CarbonPlantConfig",
           "CasthouseConfig", "CellConfig", "CellOverride", "ConfigError", "ControlConfig", "DesignBasis",
           "Disturbance", "FumeConfig", "HeatConfig", "ImpuritiesConfig", "LiningConfig",
           "OperationsConfig", "ParkConfig", "PotlineConfig", "PowerConfig", "PrecipitationConfig",
           "ProductConfig", "ProgramPoint", "RefineryConfig", "RefineryControlConfig", "RunConfig",
           "SchedulePoint", "SiloConfig", "SmelterConfig", "VariationConfig", "cell_key_allows",
           "default_config_path", "load_config", "parse_config"]


class RunConfig(Section):
    """Clock and output of a run."""

    start: dt.datetime = Field(default=dt.datetime(2027, 1, 1, tzinfo=dt.UTC), description="UTC start time")
    days: Annotated[float, Field(gt=0, le=36600)] = 1.0     # at most a century of plant time
    fast_step_s: Annotated[float, Field(gt=0, le=30)] = 10.0
    slow_step_s: Annotated[float, Field(gt=0, le=600)] = 60.0
    output_interval_s: Annotated[float, Field(gt=0, le=86400)] = 600.0
    seed: Annotated[int, Field(ge=0)] = 0
    buffer_records: Annotated[int, Field(ge=1, le=100000)] = 144   # output records held between writes
    checkpoint_interval_h: Annotated[float, Field(ge=0, le=8760)] = 24.0   # plant hours; 0: no checkpoints

    @model_validator(mode="after")
    def _steps_nest(self) -> RunConfig:
        for name, big, small in (("slow_step_s", self.slow_step_s, self.fast_step_s),
                                 ("output_interval_s", self.output_interval_s, self.slow_step_s)):
            ratio = big / small
            if abs(ratio - round(ratio)) > 1e-9 or round(ratio) < 1:
                raise ValueError(f"{name} = {big} must be a whole multiple of the step below it ({small})")
        ckpt = self.checkpoint_interval_h * 3600.0 / self.output_interval_s
        if self.checkpoint_interval_h > 0 and (abs(ckpt - round(ckpt)) > 1e-9 or round(ckpt) < 1):
            raise ValueError(f"checkpoint_interval_h = {self.checkpoint_interval_h} must be a whole multiple of "
                             f"output_interval_s ({self.output_interval_s} s)")
        if self.start.tzinfo is None:
            raise ValueError(f"start = {self.start.isoformat()} needs a time zone (e.g. 'Z' for UTC)")
        # results carry real times (numpy's datetime64[ns] reaches 2262): a run starts between 1970 and 2100 and
        # lasts at most a century
        if not dt.datetime(1970, 1, 1, tzinfo=dt.UTC) <= self.start < dt.datetime(2100, 1, 1, tzinfo=dt.UTC):
            raise ValueError(f"start = {self.start.isoformat()}: a run starts between 1970-01-01 and 2100-01-01")
        return self



class ParkConfig(Section):
    """A whole plant as read from one TOML file: a smelter, a refinery or both, and the site around them."""

    name: str = "alutwin park"
    run: RunConfig = Field(default_factory=RunConfig)
    smelter: SmelterConfig | None = None
    refinery: RefineryConfig | None = None
    silo: SiloConfig = Field(default_factory=SiloConfig)
    fume: FumeConfig | None = None
    power: PowerConfig = Field(default_factory=PowerConfig)
    carbon_plant: CarbonPlantConfig = Field(default_factory=CarbonPlantConfig)
    casthouse: CasthouseConfig = Field(default_factory=CasthouseConfig)
    lining: LiningConfig = Field(default_factory=LiningConfig)
    heat: HeatConfig = Field(default_factory=HeatConfig)
    carbon: CarbonAccountingConfig = Field(default_factory=CarbonAccountingConfig)
    source: str = Field(default="<memory>", exclude=True, description="file the config came from")


def default_config_path() -> Path:
    """The reference park: ``configs/park.toml``, packaged as ``twin.configs`` when installed.

    Run from a source checkout (``twin`` imported from the working tree), the same file is found
    beside the package; there is one copy of it either way.
    """
    try:
        return Path(str(resources.files("twin.configs").joinpath("park.toml")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "configs" / "park.toml"


def _section_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The config model that holds the key at ``loc`` (list indices skipped), or None."""
    model: Any = ParkConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = _fields(model).get(part)
        if field is None:
            return None
        annotation = field.annotation
        inner = getattr(annotation, "__args__", None)          # list[X] -> X, X | None -> X
        model = inner[0] if inner else annotation
        if not _fields(model):
            return None
    return model


def _fields(model: Any) -> dict[str, Any]:
    """Fields of a pydantic model or pydantic dataclass (empty for anything else)."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model.model_fields
    return getattr(model, "__pydantic_fields__", {}) if isinstance(model, type) else {}


def _format_errors(source: str, err: ValidationError) -> str:
    lines = [f"{source}: invalid configuration ({err.error_count()} problem(s))"]
    for e in err.errors():
        loc = ".".join(str(part) for part in e["loc"])
        if e["type"] == "extra_forbidden":
            section = _section_at(e["loc"])
            known = [k for k in (_fields(section) if section else {}) if k != "source"]
            close = difflib.get_close_matches(str(e["loc"][-1]), known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(known)}"
            lines.append(f"  {loc}: unknown key (value {e['input']!r}); {hint}")
        elif e["type"] == "missing":
            lines.append(f"  {loc}: required key is missing")
        else:
            value = e.get("input")
            shown = f" = {value!r}" if not isinstance(value, dict) else ""
            lines.append(f"  {loc}{shown}: {e['msg']}")
    return "\n".join(lines)


def parse_config(data: dict[str, Any], source: str = "<memory>") -> ParkConfig:
    """Validate a TOML-shaped mapping; raise ConfigError naming source, key, value and the rule."""
    try:
        cfg = ParkConfig.model_validate({**data, "source": source})
    except ValidationError as err:
        raise ConfigError(_format_errors(source, err)) from None
    if cfg.smelter is None and cfg.refinery is None:
        raise ConfigError(f"{source}: a park needs a [smelter], a [refinery] or both; found neither")
    if cfg.refinery is not None:
        step, out = cfg.refinery.step_s, cfg.run.output_interval_s
        if abs(out / step - round(out / step)) > 1e-9 or round(out / step) < 1:
            raise ConfigError(f"{source}: run.output_interval_s = {out:g} must be a whole multiple of "
                              f"refinery.step_s = {step:g} (each record covers whole refinery steps)")
    for ptl in (cfg.smelter.potlines if cfg.smelter else []):
        for key, amps in (("current_kA", ptl.current_kA * 1e3),
                          *((f"schedule hour {p.hour}", p.current_kA * 1e3) for p in ptl.schedule)):
            assert cfg.smelter is not None           # the loop runs over its potlines
            cell = cfg.smelter.cell
            if amps / (cell.anodes * cell.anode_length_m * cell.anode_width_m * 1e4) > 1.5:
                raise ConfigError(f"{source}: smelter.potlines[{ptl.name}].{key}: {amps / 1e3:g} kA on "
                                  f"smelter.cell.anodes = {cell.anodes} of anode_length_m = {cell.anode_length_m:g} x "
                                  f"anode_width_m = {cell.anode_width_m:g} gives an anode current density above "
                                  "1.5 A/cm2, outside the correlations' range")
    if not math.isfinite(cfg.run.days):
        raise ConfigError(f"{source}: run.days must be finite")
    return cfg


def read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
                          "save the configuration as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


# ``base = "reference"`` builds on the packaged reference park wherever the file is
REFERENCE_BASE = "reference"


def config_data(path: str | Path) -> dict[str, Any]:
    """A park config file as TOML data with what it builds on merged in (``base``), not yet validated."""
    return _read_with_base(Path(path))


def _read_with_base(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A config file with what it builds on (see ``_base_and_own``), merged."""
    base, own = _base_and_own(path, seen)
    return own if base is None else _merge(base, own, str(path))


def _base_and_own(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """What a config file builds on and what it writes itself: ``base = "FILE"`` (relative to it; or
    ``"reference"``, the packaged reference park) is read first (with its own base), and this file's tables
    are merged into it by ``_merge``. No base: (None, the file)."""
    if path.resolve() in seen:
        raise ConfigError(f"{path}: base files include each other ({' -> '.join(map(str, seen))})")
    data = _include_refinery(read_toml(path), path)
    base = data.pop("base", None)
    if base is None:
        return None, data
    target = default_config_path() if base == REFERENCE_BASE else path.parent / str(base)
    if base != REFERENCE_BASE and (not isinstance(base, str) or Path(base).is_absolute() or target.is_file()):
        _referenced(path, "base", base)
    if not isinstance(base, str) or not target.is_file():
        raise ConfigError(f"{path}: base = {base!r}: no such file beside {path.name} (or base = "
                          f"\"{REFERENCE_BASE}\" for the packaged reference park)")
    return _read_with_base(target, (*seen, path.resolve())), data


def files_read(path: str | Path) -> list[Path]:
    """Every file a config reads: itself, its bases, the refinery files it includes and its wind profile
    (what no command may write its output over)."""
    path = Path(path)
    files, seen = [], set()
    while path.resolve() not in seen:
        seen.add(path.resolve())
        files.append(path)
        data = read_toml(path)
        include = data.get("refinery", {}).get("include") if isinstance(data.get("refinery"), dict) else None
        if isinstance(include, str):
            files.append(path.parent / include)
        wind = data.get("power", {}).get("wind_profile_file") if isinstance(data.get("power"), dict) else None
        if isinstance(wind, str):
            files.append(path.parent / wind)
        base = data.get("base")
        if not isinstance(base, str):
            break
        path = default_config_path() if base == REFERENCE_BASE else path.parent / base
        if not path.is_file():
            break
    return files


def _named_tables(value: Any) -> bool:
    # an empty list is not one: ``products = []`` clears the base's list
    return isinstance(value, list) and bool(value) and all(isinstance(i, dict) and "name" in i for i in value)


def _merge(base: dict[str, Any], over: dict[str, Any], source: str, where: str = "") -> dict[str, Any]:
    """``over`` merged into ``base``: tables key by key; lists of named tables (``[[smelter.potlines]]``, the
    products) by name, so a what-if on PL1 leaves PL2 as it was: a table of a name in the base is merged into
    it, a new name is added, ``remove = true`` takes a name out; other lists and values replace the base's."""
    merged = dict(base)
    for key, value in over.items():
        old = merged.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            merged[key] = _merge(old, value, source, f"{where}{key}.")
        elif isinstance(old, list) and _named_tables(value) and _named_tables(old):
            merged[key] = _merge_by_name(old, value, source, f"{where}{key}")
        else:
            merged[key] = value
    return merged


def merge_tables(base: dict[str, Any], over: dict[str, Any], source: str) -> dict[str, Any]:
    """``over``'s tables merged into ``base`` as a config file's own tables are merged into its ``base``."""
    return _merge(base, over, source)


def _merge_by_name(base: list[dict[str, Any]], over: list[dict[str, Any]], source: str,
                   where: str) -> list[dict[str, Any]]:
    tables = {item["name"]: item for item in base}
    for item in over:
        name, remove = item["name"], item.get("remove", False)
        if remove is not False and remove is not True:
            raise ConfigError(f"{source}: {where} {name!r}: remove = {remove!r}; remove takes true or false")
        if remove:
            if name not in tables:
                raise ConfigError(f"{source}: {where} {name!r}: remove = true, but the base has no {name!r} "
                                  f"(it has {', '.join(map(repr, tables)) or 'none'})")
            del tables[name]
        else:
            own = {k: v for k, v in item.items() if k != "remove"}
            tables[name] = _merge(tables[name], own, source, f"{where}[{name}].") if name in tables else own
    return list(tables.values())


_TABLE = object()      # _flatten's mark of a named table, so a table added or removed is one change


def _flatten(data: Any, where: str = "") -> dict[str, Any]:
    """Dotted keys of a TOML mapping, named tables by name (``smelter.potlines[PL1].current_kA``)."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{where}.{key}" if where else str(key)))
        return out
    if _named_tables(data) and data:
        out = {}
        for item in data:
            table = f"{where}[{item['name']}]"
            out[table] = _TABLE
            out.update(_flatten({k: v for k, v in item.items() if k != "name"}, table))
        return out
    return {where: data}


def changes_against_base(path: str | Path) -> list[str] | None:
    """What a config file changes against its base, one line per key (``None`` without a base): what
    ``twin check-config`` shows, so a what-if that drops a potline says so."""
    base, own = _base_and_own(Path(path))
    if base is None:
        return None
    before, after = _flatten(base), _flatten(_merge(base, own, str(path)))
    whole = [k for k in (before.keys() ^ after.keys()) if before.get(k, after.get(k)) is _TABLE]
    lines = []
    for key in sorted(before.keys() | after.keys()):
        if any(key.startswith(f"{table}.") for table in whole):
            continue                                    # inside a table added or removed as a whole
        if key not in after:
            lines.append(f"{key}: removed" if before[key] is _TABLE else f"{key}: {before[key]!r} removed")
        elif key not in before:
            lines.append(f"{key}: added" if after[key] is _TABLE else f"{key}: added {after[key]!r}")
        elif before[key] != after[key]:
            lines.append(f"{key}: {before[key]!r} -> {after[key]!r}")
    return lines


def _referenced(path: Path, key: str, name: Any, suffix: str = ".toml") -> None:
    """A file a config names (``base``, ``refinery.include``) is a ``suffix`` file given relative to the config:
    an absolute path, or another kind of file (a ``.env``, a system file), is refused without reading it."""
    if not isinstance(name, str):
        raise ConfigError(f"{path}: {key} = {name!r}: a file name (text) is needed here")
    if Path(name).is_absolute():
        raise ConfigError(f"{path}: {key} = {name!r}: give the file relative to {path.name}, not as an absolute "
                          "path")
    if Path(name).suffix.lower() != suffix:
        raise ConfigError(f"{path}: {key} = {name!r}: a {suffix} file is needed here")


def _include_refinery(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """``[refinery] include = "FILE"`` takes FILE's [refinery] (path relative to the including file);
    keys given beside ``include`` replace the included ones, table by table."""
    refinery = data.get("refinery")
    if not isinstance(refinery, dict) or "include" not in refinery:
        return data
    name = refinery["include"]
    _referenced(path, "refinery.include", name)
    target = path.parent / str(name)
    if not isinstance(name, str) or not target.is_file():
        raise ConfigError(f"{path}: refinery.include = {name!r}: no such file beside {path.name} (expected "
                          f"a TOML with a [refinery] table, e.g. 'refinery.toml')")
    included = read_toml(target).get("refinery")
    if not isinstance(included, dict):
        raise ConfigError(f"{target}: has no [refinery] table for {path}'s refinery.include")
    merged = dict(included)
    for key, value in refinery.items():
        if key == "include":
            continue
        merged[key] = {**merged[key], **value} if isinstance(value, dict) and isinstance(merged.get(key), dict) \
            else value
    return {**data, "refinery": merged}


def load_config(path: str | Path | None = None, calibration: str | Path | None = None,
                **run_overrides: Any) -> ParkConfig:
    """Read and validate a park TOML file (the packaged reference park when ``path`` is None).

    ``calibration`` is a TOML of ``[[smelter.cell_overrides]]`` (as ``twin.calibrate`` writes them)
    appended to the park's own. ``run_overrides`` replace keys of ``[run]`` (e.g. ``days=2``).
    """
    path = Path(path) if path is not None else default_config_path()
    data = _read_with_base(path)
    source = str(path)
    if calibration is not None:
        extra = read_toml(Path(calibration))
        table = extra.get("smelter")
        overrides = table.get("cell_overrides") if isinstance(table, dict) else None
        unknown = set(extra) - {"smelter"} or (set(table) - {"cell_overrides"} if isinstance(table, dict) else set())
        if not unknown and table is None:
            overrides = []                   # an empty file: what a calibration whose fits all failed writes
        if unknown or not isinstance(overrides, list) or not all(isinstance(o, dict) for o in overrides):
            raise ConfigError(f"{calibration}: a calibration file holds [[smelter.cell_overrides]] tables only (as "
                              "twin calibrate writes them); found "
                              + (f"{sorted(unknown)}" if unknown else "no such tables" if overrides is None
                                 else f"cell_overrides = {type(overrides).__name__}"))
        if not overrides:
            raise ConfigError(f"{calibration}: holds no cell overrides (a calibration whose fits all failed writes "
                              "none): nothing to run with")
        if not isinstance(data.get("smelter"), dict):
            raise ConfigError(f"{calibration}: per-cell parameters need a park with potlines; {path} has none")
        smelter = dict(data["smelter"])
        smelter["cell_overrides"] = [*smelter.get("cell_overrides", []), *overrides]
        data = {**data, "smelter": smelter}
        source = f"{path} + {calibration}"
    if run_overrides:
        data = {**data, "run": {**data.get("run", {}), **run_overrides}}
    cfg = parse_config(data, source=source)
    if cfg.power.wind_profile_file is not None:
        from twin.site.power import read_wind_profile

        read_wind_profile(cfg.power.wind_profile_file, str(path))     # read at load: its errors before a run
    return cfg
