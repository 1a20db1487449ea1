"""alutwin: a digital twin of a green-aluminium park on a compiled Hall-Heroult core.

Public API: ``load_config``, ``Park``, ``run``, ``open_results``; ``twin.report.report`` for a report.
"""
__version__ = "0.1.0"

from twin.config import ConfigError, ParkConfig, load_config
from twin.park import Park, RunSummary, run
from twin.results import open_results

__all__ = ["ConfigError", "Park", "ParkConfig", "RunSummary", "__version__", "load_config", "open_results", "run"]
