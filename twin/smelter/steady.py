"""Steady operating point of a cell: heat balance, ledge and shell node solved by scipy.

The residual is the kernel's own right-hand side (``twin._core.pot.cell_rhs``), so the twin
starts on the operating point of the equations it integrates, not on a ramp.
"""
from __future__ import annotations

import numpy as np

from twin._core import pot
from twin.smelter.cell import PARAM, STATE

_UNKNOWNS = (STATE["t_bath"], STATE["ledge"], STATE["t_shell"], STATE["t_top"], STATE["t_cathode"],
             STATE["shell_cooling"])
_SCALE = np.array([1.0, 0.01, 1.0, 1.0, 1.0, 0.01])   # K, cm, K, K, K, %: unknowns of similar size for the solver


class SteadyStateError(RuntimeError):
    """No steady operating point for a cell design at a line current."""


def steady_state(x: np.ndarray, params: np.ndarray, current: float) -> np.ndarray:
    """Return a copy of ``x`` (one column per cell) with temperatures (bath, shell, top and cathode
    nodes) and ledge in steady state, the shell heat exchangers at their setting for ``current``.

    Cells with identical parameter and state columns are solved once. The bath composition,
    metal, ACD and alumina stay as given (they are set by operation, not by the heat balance).
    """
    x = np.array(x, dtype=float, copy=True)
    keys = np.concatenate([params, x], axis=0).T
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    for group, col in enumerate(first):
        solved = _solve_one(x[:, col:col + 1].copy(), np.ascontiguousarray(params[:, col:col + 1]), current)
        members = np.flatnonzero(inverse.reshape(-1) == group)
        x[:, members] = solved[:, None]
    return x


def _solve_one(x1: np.ndarray, p1: np.ndarray, current: float) -> np.ndarray:
    aux = np.zeros((len(pot.AUX_NAMES), 1))
    t_amb = p1[PARAM["t_ambient"], 0]

    def residual(z: np.ndarray) -> np.ndarray:
        x1[list(_UNKNOWNS), 0] = z * _SCALE
        dx = pot.cell_rhs(x1, p1, aux, current)
        # rates in K/h, cm/h and %/h: comparable weights for the balances
        return dx[list(_UNKNOWNS), 0] / _SCALE * 3600.0

    from scipy import optimize  # here: a command that only validates a config does not pay its import

    best = None
    for t_guess, ledge_guess in ((960.0, 0.08), (955.0, 0.15), (965.0, 0.03)):
        node = [t_amb + p1[PARAM[split], 0] * (t_guess - t_amb) for split in ("top_split", "bottom_split")]
        z0 = np.array([t_guess, ledge_guess, 250.0, *node, 1.0]) / _SCALE
        sol = optimize.root(residual, z0, method="hybr", options={"xtol": 1e-12})
        if sol.success and np.max(np.abs(residual(sol.x))) < 1e-8 and sol.x[1] * _SCALE[1] > 0:
            best = sol.x
            break
    if best is None:
        raise SteadyStateError(
            f"no steady heat balance at {current / 1e3:g} kA: the cell cannot hold a positive ledge "
            f"(last try: bath {sol.x[0]:.1f} degC, ledge {100 * sol.x[1] * _SCALE[1]:.2f} cm). Check the "
            "heat-loss keys (ua_top_W_per_K, ua_bottom_W_per_K, h_shell_W_per_m2K) against acd_cm and current_kA.")
    x1[list(_UNKNOWNS), 0] = best * _SCALE
    return x1[:, 0]
