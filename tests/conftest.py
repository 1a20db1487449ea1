"""Shared helpers: small parks built from the reference cell, so tests run in seconds."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twin.config import ParkConfig, parse_config


def small_park(cells: int = 4, lines: int = 2, run: dict[str, Any] | None = None,
               cell: dict[str, Any] | None = None, line: dict[str, Any] | None = None,
               control: dict[str, Any] | None = None, operations: dict[str, Any] | None = None) -> ParkConfig:
    """A park of ``lines`` potlines of ``cells`` reference cells each (defaults of the schema)."""
    data = {
        "name": "test park",
        "run": {"days": 1.0, **(run or {})},
        "smelter": {
            "cell": dict(cell or {}),
            "control": dict(control or {}),
            "operations": dict(operations or {}),
            "potlines": [{"name": f"L{j + 1}", "cells": cells, **(line or {})} for j in range(lines)],
        },
    }
    return parse_config(data, source="<test>")


def park_with(cells: int = 4, **sections: Any) -> ParkConfig:
    """The reference park (refinery included) with ``cells`` cells per line and keys of some sections replaced."""
    from twin import load_config

    data = load_config().model_dump(mode="json", by_alias=True)
    for line in data["smelter"]["potlines"]:
        line["cells"] = cells
    for name, values in sections.items():
        data[name] = {**(data.get(name) or {}), **values}
    return parse_config(data, source="<test park>")


def reference_with_cells(cells: int, **run: Any) -> ParkConfig:
    """The reference park's smelter (its two potlines, cell design, control) with ``cells`` cells per line."""
    from twin import load_config

    cfg = load_config(**run)
    smelter = cfg.smelter.model_copy(update={"potlines": [p.model_copy(update={"cells": cells})
                                                          for p in cfg.smelter.potlines]})
    return cfg.model_copy(update={"smelter": smelter, "refinery": None})


def design_cells(cfg: ParkConfig) -> ParkConfig:
    """``cfg`` with every cell at its design: no drawn cell-to-cell variation, no random feeder faults (for
    tests whose subject is a known cell: replay, calibration)."""
    from twin.config import VariationConfig

    ops = cfg.smelter.operations.model_copy(update={"feeder_fault_rate_per_day": 0.0})
    return cfg.model_copy(update={"smelter": cfg.smelter.model_copy(update={"variation": VariationConfig(),
                                                                          "operations": ops})})


def with_run(cfg: ParkConfig, **run: Any) -> ParkConfig:
    """``cfg`` with keys of ``[run]`` replaced and validated (for a smelter alone: the reference park's
    refinery would hold the output interval to whole refinery steps)."""
    from twin.config import RunConfig

    return cfg.model_copy(update={"run": RunConfig.model_validate({**cfg.run.model_dump(), **run})})


@pytest.fixture
def make_park():
    return small_park


class Stop(Exception):
    """Raised from a progress callback to stop a run as a kill would."""


def stop_after(stop_after_s: float):
    """A run's progress callback that raises ``Stop`` once ``stop_after_s`` of plant time are done (as a kill)."""
    done = {"s": 0.0}

    def stop(step_s: float) -> None:
        done["s"] += step_s
        if done["s"] >= stop_after_s:
            raise Stop

    return stop


def interrupted_then_resumed(config: ParkConfig, out: Path, seconds: float, stop_after_s: float) -> None:
    """Run ``config`` toward ``seconds``, stop it after ``stop_after_s`` of plant time, resume it to the end."""
    import twin

    with pytest.raises(Stop):
        twin.Park(config).run(out, seconds, progress=stop_after(stop_after_s))
    assert twin.open_results(out, load=True).attrs["run_complete"] == 0
    twin.Park.resume(out)


def assert_identical(a: Path, b: Path) -> None:
    """Two results files hold the same records, bit for bit, and the second is complete."""
    import twin

    da, db = twin.open_results(a, load=True), twin.open_results(b, load=True)
    assert da.sizes == db.sizes
    assert db.attrs["run_complete"] == 1
    np.testing.assert_array_equal(da.time.values, db.time.values)
    for name in da.data_vars:
        np.testing.assert_array_equal(da[name].values, db[name].values, err_msg=name)


# Al2O3 the impurities of fed alumina form in the bath (IUPAC g/mol): 3 Na2O + 4 AlF3 -> 2 Na3AlF6 + Al2O3 and
# 3 CaO + 2 AlF3 -> 3 CaF2 + Al2O3
ALUMINA_PER_NA2O = 101.9613 / (3 * 61.9789)
ALUMINA_PER_CAO = 101.9613 / (3 * 56.0774)


def alumina_of_feed(params: np.ndarray, fed: np.ndarray) -> np.ndarray:
    """kg Al2O3 that ``fed`` kg of alumina (as fed) brings each cell: its own Al2O3 and what its Na2O and CaO form."""
    from twin.smelter.cell import PARAM

    na2o, cao = params[PARAM["na2o"]], params[PARAM["cao"]]
    return fed * (1.0 - na2o - cao + na2o * ALUMINA_PER_NA2O + cao * ALUMINA_PER_CAO)


def small_scenario(cells: int = 20, **keys: Any):
    """The shipped blocked-feeder training scenario (PL1.P017's feeders 0 and 1 block at 00:15) on a PL1 of
    ``cells`` cells, with scenario keys replaced."""
    from twin.config import read_toml
    from twin.training.scenario import parse_scenario, scenarios_dir

    data = read_toml(scenarios_dir() / "blocked-feeder.toml")
    data["park_overrides"] = {"smelter": {"potlines": [{"name": "PL1", "cells": cells}]}}
    data.update(keys)
    return parse_scenario(data, str(scenarios_dir() / "blocked-feeder.toml"), "small")
