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
