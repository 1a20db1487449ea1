"""The kernel's rows are written twice: the enums of twin/_core/layout.pxd (what the kernel indexes) and the name
tuples of twin/_core/pot.pyx (what Python indexes by name). Issue 20: a reordered row was caught only by the
tuples' lengths; here every row must carry its enum's name, in the enum's order."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from twin._core import pot

LAYOUT = Path(pot.__file__).with_name("layout.pxd")
TUPLES = {"X": pot.STATE_NAMES, "P": pot.PARAM_NAMES, "A": pot.AUX_NAMES, "S": pot.SUM_NAMES,
          "C": pot.COUNTER_NAMES, "L": pot.LINE_NAMES, "LP": pot.LINE_PARAM_NAMES}


def enums() -> dict[str, list[str]]:
    """The rows of each ``cdef enum`` block of layout.pxd, by prefix, without the N_ count."""
    blocks = re.findall(r"^cdef enum:\n((?:[ \t]+.*\n|[ \t]*\n)+)", LAYOUT.read_text(), re.M)
    rows: dict[str, list[str]] = {}
    for block in blocks:
        names = [m.group(1) for m in re.finditer(r"^    ([A-Z][A-Z0-9_]*)\b", block, re.M)]
        names = [n for n in names if not n.startswith("N_") and n != "MAX_ZONES"]
        if names:
            rows[names[0].split("_")[0] if not names[0].startswith("LP_") else "LP"] = names
    return rows


@pytest.mark.parametrize("prefix", sorted(TUPLES))
def test_every_row_has_its_enums_name_in_order(prefix):
    rows = enums()[prefix]
    names = TUPLES[prefix]
    assert len(rows) == len(names)
    for k, (row, name) in enumerate(zip(rows, names, strict=True)):
        expected = row[len(prefix) + 1:].lower()
        # the first row of a numbered group (zone 0, feeder 0) is named by the group in the enum
        assert name in (expected, f"{expected}_0"), f"row {k}: {row} in layout.pxd, {name!r} in pot.pyx"


@pytest.mark.parametrize("module", ["pot", "precip", "props"])
def test_every_compiled_module_has_a_stub_that_names_what_it_has(module):
    """A .pyi beside each compiled module (py.typed promises types): every public name in both, no more."""
    import ast
    import importlib
    import types

    compiled = importlib.import_module(f"twin._core.{module}")
    stub = ast.parse(Path(compiled.__file__).with_name(f"{module}.pyi").read_text())
    declared = {node.name for node in stub.body if isinstance(node, ast.FunctionDef)}
    declared |= {node.target.id for node in stub.body if isinstance(node, ast.AnnAssign)}
    public = {name for name in dir(compiled) if not name.startswith("_")
              and not isinstance(getattr(compiled, name), types.ModuleType)}
    assert declared == public, (public - declared, declared - public)


def test_imports_run_one_way():
    """The import-linter contracts of pyproject.toml (the layers of DESIGN.md, the plants below the runs). In a
    process of its own: import-linter's command configures logging and disables every logger that exists."""
    import subprocess
    import sys

    check = ("import sys; from importlinter.cli import lint_imports; "
             "sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True, no_logo=True))")
    done = subprocess.run([sys.executable, "-c", check, str(Path(__file__).parents[1] / "pyproject.toml")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
