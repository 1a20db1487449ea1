"""Shared helpers: small parks built from the reference cell, so tests run in seconds."""
from __future__ import annotations

from typing import Any

import pytest

from twin.config import ParkConfig, parse_config


def small_park(cells: int = 4, lines: int = 2, run: dict[str, Any] | None = None,
               cell: dict[str, Any] | None = None, line: dict[str, Any] | None = None,
               control: dict[str, Any] | None = None) -> ParkConfig:
    """A park of ``lines`` potlines of ``cells`` reference cells each (defaults of the schema)."""
    data = {
        "name": "test park",
        "run": {"days": 1.0, **(run or {})},
        "smelter": {
            "cell": dict(cell or {}),
            "control": dict(control or {}),
            "potlines": [{"name": f"L{j + 1}", "cells": cells, **(line or {})} for j in range(lines)],
        },
    }
    return parse_config(data, source="<test>")


def reference_with_cells(cells: int, **run: Any) -> ParkConfig:
    """The reference park's smelter (its two potlines, cell design, control) with ``cells`` cells per line."""
    from twin import load_config

    cfg = load_config(**run)
    smelter = cfg.smelter.model_copy(update={"potlines": [p.model_copy(update={"cells": cells})
                                                          for p in cfg.smelter.potlines]})
    return cfg.model_copy(update={"smelter": smelter, "refinery": None})


@pytest.fixture
def make_park():
    return small_park
