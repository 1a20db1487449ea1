"""Training scenarios: what a trainee is told, the potline they stand in front of, the faults that will come and
the targets they are scored against, as TOML files (``configs/training/`` ships a few; ``twin train --scenario
NAME`` takes one of them by name or a file).

A scenario builds on a park config (``park``: the packaged reference park or a file beside the scenario) and
takes one of its potlines (``line``) with the cell design, control and crew of that park, without the refinery:
the trainee runs the cell room of one line. ``[park_overrides]`` holds keys merged into that park's tables (as a config
file's own tables over its ``base``), so a scenario can give its line fewer cells or its controller another
setting. A session records every minute of plant time (``record_s``), so actions and alarms land to the minute.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator

from twin.config import (
    REFERENCE_BASE,
    ConfigError,
    ParkConfig,
    config_data,
    default_config_path,
    merge_tables,
    parse_config,
    read_toml,
)
from twin.schema import Name, Section

__all__ = ["Fault", "Scenario", "Targets", "load_scenario", "scenario_names", "scenarios_dir"]

# what a fault injected at a time does (``twin.drivers.training`` applies them):
#   feeder_blocked: feeder ``feeder`` of ``cell`` delivers nothing until someone clears it (an AE calls the crew)
#   power_cut: the line's current off for ``hours``
#   curtailment_order: the grid asks the line down to ``fraction`` of its line current for ``hours``; the trainee
#   accepts
#   hot_cell: ``cell``'s resistance target raised by ``acd_cm`` of ACD (a target left raised): it runs hot
FAULT_KINDS = ("feeder_blocked", "power_cut", "curtailment_order", "hot_cell")


class Fault(Section):
    """A fault the scenario injects at plant hour ``at_h`` of the session."""

    at_h: Annotated[float, Field(ge=0, le=8760)]
    kind: Literal["feeder_blocked", "power_cut", "curtailment_order", "hot_cell"]
    cell: str | None = None            # a pot name (e.g. "PL1.P017"): feeder_blocked, hot_cell
    feeder: Annotated[int, Field(ge=0, le=3)] = 0
    hours: Annotated[float, Field(gt=0, le=72)] = 1.0
    fraction: Annotated[float, Field(ge=0.5, le=1.0)] = 0.8
    acd_cm: Annotated[float, Field(ge=-2.0, le=3.0)] = 1.5

    @model_validator(mode="after")
    def _cell_where_needed(self) -> Fault:
        if self.kind in ("feeder_blocked", "hot_cell") and self.cell is None:
            raise ValueError(f"a {self.kind} fault needs the cell it happens in (cell = \"PL1.P017\")")
        return self


class Targets(Section):
    """The bands a trainee keeps the line in (the score counts cell-hours outside them)."""

    bath_temperature_C: tuple[float, float] = (950.0, 980.0)
    alumina_wt: tuple[float, float] = (1.8, 4.0)

    @model_validator(mode="after")
    def _ordered(self) -> Targets:
        for name in ("bath_temperature_C", "alumina_wt"):
            low, high = getattr(self, name)
            if not low < high:
                raise ValueError(f"{name} = [{low:g}, {high:g}] must be [low, high] with low < high")
        return self


class Instructor(Section):
    """The sizes of the faults an instructor injects from the instructor's page."""

    power_cut_h: Annotated[float, Field(gt=0, le=24)] = 1.0
    curtailment_fraction: Annotated[float, Field(ge=0.5, le=1.0)] = 0.8
    curtailment_h: Annotated[float, Field(gt=0, le=72)] = 4.0
    hot_cell_acd_cm: Annotated[float, Field(gt=0, le=3.0)] = 1.5


class Scenario(Section):
    """A training scenario (one TOML file)."""

    title: Annotated[str, Field(min_length=1, max_length=120)]
    brief: str = ""
    park: str = REFERENCE_BASE
    line: Name = "PL1"
    hours: Annotated[float, Field(gt=0, le=8760)] = 8.0
    watch: str | None = None
    speed: Annotated[float, Field(ge=1, le=3600)] = 60.0
    record_s: Annotated[float, Field(ge=10, le=600)] = 60.0
    # the pot control system's own quench waits this long after it sees an anode effect (the park's controller:
    # smelter.control.quench_delay_s, 30 s), so the trainee has the time to quench it by hand; the automatic
    # quench stays as the backstop (without it a cell left on AE without alumina heats until it leaves physics)
    auto_quench_after_s: Annotated[float, Field(ge=0, le=1800)] = 300.0
    targets: Targets = Field(default_factory=Targets)
    instructor: Instructor = Field(default_factory=Instructor)
    faults: list[Fault] = Field(default_factory=list)
    park_overrides: dict[str, Any] = Field(default_factory=dict)
    name: str = Field(default="", exclude=True)
    source: str = Field(default="<memory>", exclude=True)

    def park_config(self, park_path: str | Path | None = None) -> ParkConfig:
        """The park a session of this scenario runs: the named line of ``park`` (or of the file ``park_path``, a
        command line's CONFIG) with ``[park_overrides]``' keys merged in, no refinery, a record a minute
        (``record_s``), no checkpoints (a session's file is its record)."""
        data = self._park_data(park_path)
        lines = [ln for ln in data.get("smelter", {}).get("potlines", []) if ln.get("name") == self.line]
        if not lines:
            names = [ln.get("name") for ln in data.get("smelter", {}).get("potlines", [])]
            raise ConfigError(f"{self.source}: line = {self.line!r}: the park {self.park!r} has no such potline "
                              f"(it has {', '.join(map(repr, names)) or 'none'})")
        data["smelter"] = {**data["smelter"], "potlines": lines}
        data.pop("refinery", None)
        data["run"] = {**data.get("run", {}), "output_interval_s": self.record_s, "checkpoint_interval_h": 0.0,
                       "buffer_records": max(1, round(3600.0 / self.record_s)), "days": self.hours / 24.0}
        data["name"] = f"training: {self.title}"
        data["smelter"]["control"] = {**data["smelter"].get("control", {}),
                                      "quench_delay_s": self.auto_quench_after_s}
        cell = data["smelter"].get("cell", {})
        # the crew's kill (an AE the controller leaves) comes after the controller has had its tries
        data["smelter"]["cell"] = {**cell, "ae_duration_s": max(float(cell.get("ae_duration_s", 300.0)),
                                                                self.auto_quench_after_s + 300.0)}
        cfg = parse_config(data, source=f"{self.source} (park {str(park_path or self.park)!r}, line {self.line})")
        self._check_cells(cfg)
        return cfg

    def _park_data(self, park_path: str | Path | None) -> dict[str, Any]:
        if park_path is not None:
            path = Path(park_path)
        elif self.park == REFERENCE_BASE:
            path = default_config_path()
        else:
            path = Path(self.source).parent / self.park
            if Path(self.park).is_absolute() or ".." in Path(self.park).parts or not path.is_file():
                raise ConfigError(f"{self.source}: park = {self.park!r}: a park config file beside the scenario "
                                  f"(no absolute or ../ paths), or \"{REFERENCE_BASE}\" for the packaged reference "
                                  "park")
        data = json.loads(json.dumps(config_data(path), default=_toml_value))    # a deep copy, dates as text
        return merge_tables(data, self.park_overrides, self.source) if self.park_overrides else data

    def _check_cells(self, cfg: ParkConfig) -> None:
        from twin.smelter.cell import pot_names

        assert cfg.smelter is not None
        names = pot_names([self.line], np.zeros(cfg.smelter.potlines[0].cells, dtype=int))
        for where, cell in [("watch", self.watch), *((f"faults[{i}].cell", f.cell) for i, f in
                                                     enumerate(self.faults))]:
            if cell is not None and cell not in names:
                raise ConfigError(f"{self.source}: {where} = {cell!r}: no such pot on line {self.line} (pots "
                                  f"{names[0]} .. {names[-1]})")
        zones = cfg.smelter.cell.alumina_zones
        for i, fault in enumerate(self.faults):
            if fault.kind == "feeder_blocked" and fault.feeder >= zones:
                raise ConfigError(f"{self.source}: faults[{i}].feeder = {fault.feeder}: the cells have feeders "
                                  f"0 .. {zones - 1}")


def _toml_value(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    raise TypeError(f"cannot copy {type(value).__name__}")


def scenarios_dir() -> Path:
    """The shipped scenarios: ``configs/training/``, packaged as ``twin.configs``."""
    return default_config_path().parent / "training"


def scenario_names() -> list[str]:
    return sorted(p.stem for p in scenarios_dir().glob("*.toml"))


def load_scenario(name_or_path: str | Path | None = None) -> Scenario:
    """A scenario by its shipped name (``blocked-feeder``) or a TOML file; None: the first shipped one."""
    if name_or_path is None:
        name_or_path = "blocked-feeder"
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = scenarios_dir() / f"{name_or_path}.toml"
        if not path.is_file():
            raise ConfigError(f"scenario {str(name_or_path)!r}: no such shipped scenario (there are "
                              f"{', '.join(scenario_names())}) and no such file")
    data = read_toml(path)
    if "park" in data and isinstance(data["park"], dict):
        raise ConfigError(f"{path}: [park] is a file name here (park = \"reference\"); keys over the park go in "
                          "[park_overrides]")
    return parse_scenario(data, str(path), path.stem)


def parse_scenario(data: dict[str, Any], source: str, name: str = "") -> Scenario:
    try:
        scenario = Scenario.model_validate({**data, "source": source, "name": name or Path(source).stem})
    except ValidationError as err:
        lines = [f"{source}: invalid scenario ({err.error_count()} problem(s))"]
        for e in err.errors():
            loc = ".".join(str(part) for part in e["loc"])
            value = e.get("input")
            shown = f" = {value!r}" if not isinstance(value, dict) and e["type"] != "missing" else ""
            lines.append(f"  {loc}{shown}: {e['msg']}")
        raise ConfigError("\n".join(lines)) from None
    scenario.park_config()             # the park, the line and the cells it names must exist
    return scenario


class ScriptedAction(Section):
    """One action of a script (``twin train --script``): at plant hour ``at_h`` of the session."""

    at_h: Annotated[float, Field(ge=0, le=8760)]
    kind: str
    pot: str
    value: float = 0.0


class Script(Section):
    action: list[ScriptedAction] = Field(default_factory=list)


def load_script(path: str | Path) -> list[ScriptedAction]:
    """A file of ``[[action]]`` tables (at_h, kind, pot, value), in the order of their times."""
    try:
        script = Script.model_validate(read_toml(Path(path)))
    except ValidationError as err:
        e = err.errors()[0]
        loc = ".".join(str(part) for part in e["loc"])
        raise ConfigError(f"{path}: {loc}: {e['msg']} ({err.error_count()} problem(s))") from None
    return sorted(script.action, key=lambda a: a.at_h)
