"""Speed of the command line's answers that must feel instant (``twin --help``: no model is loaded)."""
from __future__ import annotations

import subprocess
import sys


def test_twin_help(benchmark):
    """`twin --help` in a fresh interpreter, as a user types it (issue: under 1 s)."""
    def help_once():
        subprocess.run([sys.executable, "-m", "twin.cli", "--help"], check=True, capture_output=True)

    benchmark.pedantic(help_once, rounds=5, iterations=1, warmup_rounds=1)


def test_twin_check_config(benchmark):
    """`twin check-config configs/park.toml` in a fresh interpreter (issue 22: under 1 s): it loads and validates
    the park, and imports no solver, no pandas and no pint."""
    from twin.config import default_config_path

    def check_once():
        subprocess.run([sys.executable, "-m", "twin.cli", "check-config", str(default_config_path())], check=True,
                       capture_output=True)

    benchmark.pedantic(check_once, rounds=5, iterations=1, warmup_rounds=1)
