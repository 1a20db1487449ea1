"""alutwin: a digital twin of a green-aluminium park on a compiled Hall-Heroult core.

Public API: ``load_config``, ``Park``, ``run``, ``open_results``, ``sweep``; ``twin.report.report`` for a report.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from twin._version import __version__

# the public names, imported when first used (PEP 562), so `twin --help` does not load the model
_PUBLIC = {"ConfigError": "twin.config", "ParkConfig": "twin.config", "load_config": "twin.config",
           "Park": "twin.park", "RunSummary": "twin.park", "run": "twin.park", "open_results": "twin.results",
           "sweep": "twin.sweeps"}

if TYPE_CHECKING:
    from twin.config import ConfigError, ParkConfig, load_config
    from twin.park import Park, RunSummary, run
    from twin.results import open_results
    from twin.sweeps import sweep

__all__ = ["ConfigError", "Park", "ParkConfig", "RunSummary", "__version__", "load_config", "open_results", "run",
           "sweep"]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'twin' has no attribute {name!r}")
