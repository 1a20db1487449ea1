"""Speed of the command line's answers that must feel instant (``twin --help``: no model is loaded)."""
from __future__ import annotations

import subprocess
import sys


def test_twin_help(benchmark):
    """`twin --help` in a fresh interpreter, as a user types it (issue: under 1 s)."""
    def help_once():
        subprocess.run([sys.executable, "-m", "twin.cli", "--help"], check=True, capture_output=True)

    benchmark.pedantic(help_once, rounds=5, iterations=1, warmup_rounds=1)
