"""Where a cell leaves physics: the run stops with a message instead of writing nonsense.

Correlations used outside their validity ranges are only counted (``out_of_range`` in the results,
the kernel's ``T_VALID_MIN`` ...); the states checked here are ones no real cell can be in, so nothing the
model says after them means anything:
- a state that is not a number (NaN or infinite);
- a negative mass (bath components, alumina pools, metal);
- a bath frozen to less than ``BATH_MIN_FRACTION`` of the design mass (no electrolyte left to speak of:
  the lumped ledge and bath node do not describe a frozen cell);
- a bath below the solidus of the NaF-AlF3 system or above the temperatures any cell runs at;
- anodes touching the metal pad (ACD below ``ACD_MIN_M``), a ledge wider than a side channel.
"""
from __future__ import annotations

import numpy as np

from twin.smelter.cell import STATE, bath_weight_fractions

# [M] NaF-AlF3 phase diagram (Grjotheim et al., Aluminium Electrolysis, 1982): the chiolite-AlF3
# eutectic at 695 degC is the lowest temperature at which a cryolite-AlF3 bath has any liquid
BATH_SOLIDUS_C = 695.0
# no cell runs above ~1000 degC; at 1100 degC the bath fumes (NaAlF4) and the cell is lost [M]
BATH_MAX_C = 1100.0
BATH_MIN_FRACTION = 0.25
ACD_MIN_M = 0.01
LEDGE_MAX_M = 0.5          # side channels between anodes and sidewall are ~0.3-0.5 m wide [M]
_MASSES = ("cryolite", "alf3", "caf2", "alumina", "undissolved", "metal")
# the operating window of a cell (notes sec. 3.1: bath 950-965 degC, superheat 5-12 K, ledge 5-15 cm), with
# some room: a cell outside it still runs, but a power program that drives cells there is warned about
WINDOW = {"bath_temperature": (940.0, 985.0), "superheat": (3.0, 20.0), "ledge_thickness": (3.0, 25.0)}  # degC, K, cm


class CellPhysicsError(RuntimeError):
    """A cell left physics; the message names the cell, the time, the quantity, its value and the limit."""


def _rules(x: np.ndarray, design_bath_kg: float):
    """Each way of leaving physics: (mask of the cells in it, message for cell k)."""
    finite = np.all(np.isfinite(x), axis=0)
    yield ~finite, lambda k: "state " + ", ".join(n for n, i in STATE.items() if not np.isfinite(x[i, k])) + \
        " is not a number"
    for name in _MASSES:
        yield finite & (x[STATE[name]] < -1e-6), lambda k, name=name: (f"{name} mass {x[STATE[name], k]:.3g} kg is "
                                                                        "negative")
    bath = bath_weight_fractions(x)["bath_mass"]
    yield finite & (bath < BATH_MIN_FRACTION * design_bath_kg), lambda k: (
        f"bath mass {bath[k]:,.0f} kg is below {100 * BATH_MIN_FRACTION:g} % of the design {design_bath_kg:,.0f} kg: "
        f"the bath has frozen (ledge {100 * x[STATE['ledge'], k]:.0f} cm, bath {x[STATE['t_bath'], k]:.0f} degC)")
    t = x[STATE["t_bath"]]
    yield finite & (t < BATH_SOLIDUS_C), lambda k: (f"bath temperature {t[k]:.1f} degC is below the bath solidus "
                                                   f"({BATH_SOLIDUS_C:g} degC)")
    yield finite & (t > BATH_MAX_C), lambda k: (f"bath temperature {t[k]:.1f} degC is above {BATH_MAX_C:g} degC, "
                                               "where no cell runs")
    acd = x[STATE["acd"]]
    yield finite & (acd < ACD_MIN_M), lambda k: (f"ACD {100 * acd[k]:.2f} cm: the anodes touch the metal pad (limit "
                                                f"{100 * ACD_MIN_M:g} cm)")
    ledge = x[STATE["ledge"]]
    yield finite & (ledge > LEDGE_MAX_M), lambda k: (f"side ledge {100 * ledge[k]:.0f} cm is wider than a side channel "
                                                    f"({100 * LEDGE_MAX_M:g} cm): the cell is freezing over")


def leaving_physics(state: np.ndarray, design_bath_kg: float) -> tuple[np.ndarray, list[str]]:
    """Cells whose state no cell can be in (a mask) and, for each cell, what is wrong ("" where nothing)."""
    bad = np.zeros(state.shape[1], bool)
    what = [""] * state.shape[1]
    with np.errstate(invalid="ignore"):
        for mask, message in _rules(state, design_bath_kg):
            for k in np.flatnonzero(mask & ~bad):
                what[k] = message(int(k))
            bad |= mask
    return bad, what


def check_cells(state: np.ndarray, design_bath_kg: float, names: list[str], when: str) -> None:
    """Raise ``CellPhysicsError`` for the first cell (in line order) whose state no cell can be in.

    ``names`` are the cells' names (``PL1.P001`` ...); ``when`` says the plant time for the message.
    """
    bad, what = leaving_physics(state, design_bath_kg)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        _stop(names[k], when, what[k])


def outside_window(record: dict[str, np.ndarray]) -> np.ndarray:
    """Cells whose interval means (bath temperature, superheat, ledge in cm) are outside ``WINDOW``."""
    out = np.zeros(record["superheat"].shape, bool)
    for name, (low, high) in WINDOW.items():
        out |= (record[name] < low) | (record[name] > high)
    return out


def _stop(cell: str, when: str, what: str) -> None:
    raise CellPhysicsError(f"cell {cell} left physics at {when}: {what}. The run stops; the results file holds "
                           "the intervals before this one")
