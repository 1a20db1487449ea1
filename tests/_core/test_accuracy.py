"""The fixed-step multirate core against scipy's Radau on the same right-hand side (no events)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from twin._core import pot
from twin.smelter.cell import COUNTER, STATE
from twin.smelter.potline import Potlines

CURRENT = 500e3


def perturbed_cell(make_park, **run):
    # no events: the placeholder feeder fed continuously, no tracking modes, no beam moves
    cfg = make_park(cells=1, lines=1, run=run, line={"regulator_time_constant_s": 0.0, "voltage_ceiling_V": 1e4},
                    control={"feed_control": "nominal", "resistance_control": False})
    pl = Potlines(cfg.smelter.cell, cfg.smelter.control, cfg.smelter.potlines)
    pl.start(np.array([CURRENT]))
    x = pl.state
    x[STATE["t_bath"]] += 5.0                 # hot: ledge melts, superheat relaxes over hours
    x[STATE["ledge"]] -= 0.01
    x[STATE["alumina"]] = 0.030 * 12e3       # 3 wt %: the feeder pulls it back toward 2.5 %
    x[STATE["undissolved"]] = 50.0
    pot.prepare(pl.state, pl.params, pl.aux, pl.counters, pl.line, pl.line_start)
    return cfg, pl


def reference(x0: np.ndarray, params: np.ndarray, t_end: float, t_eval: np.ndarray) -> np.ndarray:
    aux = np.zeros((len(pot.AUX_NAMES), 1))

    def rhs(_t, y):
        return pot.cell_rhs(np.ascontiguousarray(y.reshape(-1, 1)), params, aux, CURRENT)[:, 0]

    sol = solve_ivp(rhs, (0.0, t_end), x0[:, 0], method="Radau", rtol=1e-8, atol=1e-10, t_eval=t_eval)
    assert sol.success, sol.message
    return sol.y


COMPARED = ("cryolite", "alf3", "alumina", "undissolved", "metal", "ledge", "t_bath", "t_shell", "acd")


@pytest.mark.parametrize("fast_step", [10.0, 1.0])
def test_core_matches_radau_over_6_hours(make_park, fast_step):
    _cfg, pl = perturbed_cell(make_park)
    x0 = pl.state.copy()
    t_eval = np.arange(1, 37) * 600.0
    ref = reference(x0, pl.params, t_eval[-1], t_eval)
    n_sub = round(60.0 / fast_step)
    for i in range(len(t_eval)):
        pl.advance(10, n_sub, fast_step, np.array([CURRENT]), np.array([CURRENT]), continuous_feed=True)
        for name in COMPARED:
            k = STATE[name]
            value, expected = pl.state[k, 0], ref[k, i]
            if name in ("t_bath", "t_shell"):
                value, expected = value + 273.15, expected + 273.15      # relative in kelvin
            assert value == pytest.approx(expected, rel=1e-3), f"{name} at {t_eval[i] / 3600:.1f} h"
    # the comparison is not trivial: the states did move
    assert abs(ref[STATE["t_bath"], -1] - x0[STATE["t_bath"], 0]) > 1.0
    assert abs(ref[STATE["alumina"], -1] - x0[STATE["alumina"], 0]) > 20.0


def test_error_shrinks_with_the_step(make_park):
    """Convergence: halving the slow step halves (first order) the temperature error after 6 h."""
    errors = []
    for slow in (120.0, 60.0, 30.0):
        _cfg, pl = perturbed_cell(make_park)
        x0 = pl.state.copy()
        if not errors:
            ref = reference(x0, pl.params, 6 * 3600.0, np.array([6 * 3600.0]))
        n_sub = round(slow / 5.0)
        pl.advance(round(6 * 3600 / slow), n_sub, 5.0, np.array([CURRENT]), np.array([CURRENT]),
                   continuous_feed=True)
        errors.append(abs(pl.state[STATE["ledge"], 0] - ref[STATE["ledge"], 0]))
    assert errors[0] > errors[1] > errors[2]
    assert errors[1] / errors[2] == pytest.approx(2.0, rel=0.35)


def lean_zone_cell(make_park, slow: float, fast: float = 5.0, hours: float = 12.0) -> Potlines:
    """One cell on tracking feed whose feeder 3 delivers half its dose, so its zone runs lean and below the LVAE
    alumina (2.3 wt %) for most of ``hours``: shots, feed modes and LVAE are events; no noise, no beam moves."""
    cfg = make_park(cells=1, lines=1, line={"regulator_time_constant_s": 0.0, "voltage_ceiling_V": 1e4},
                    control={"feed_control": "tracking", "resistance_control": False},
                    cell={"lvae_alumina_wt": 2.3})
    pl = Potlines(cfg.smelter.cell, cfg.smelter.control, cfg.smelter.potlines)
    pl.start(np.array([CURRENT]))
    pl.state[STATE["feeder_3"], 0] = 0.5
    pot.prepare(pl.state, pl.params, pl.aux, pl.counters, pl.line, pl.line_start)
    pl.advance(round(hours * 3600 / slow), round(slow / fast), fast, np.array([CURRENT]), np.array([CURRENT]))
    return pl


def test_zone_depletion_and_lvae_converge_with_the_slow_step(make_park):
    """Issue 19: a lean zone's LVAE minutes and CF4 do not depend on the slow step. They were sampled once per
    slow step and the step's feed mixed as if it all came at its start, so a 600-s step made 38 % less LVAE CF4
    than a 10-s one; now the zones are solved exactly over the step and their crossings followed within it."""
    slows = (600.0, 300.0, 120.0, 60.0, 30.0)
    finest = lean_zone_cell(make_park, 10.0).counters
    minutes, cf4 = finest[COUNTER["lvae_minutes"], 0], finest[COUNTER["cf4_lvae"], 0]
    assert minutes > 600.0 and cf4 > 0.0                 # the lean zone was below the LVAE alumina most of 12 h
    errors = []
    for slow in slows:
        c = lean_zone_cell(make_park, slow).counters
        assert c[COUNTER["lvae_minutes"], 0] == pytest.approx(minutes, rel=2e-3), f"{slow:g} s"
        assert c[COUNTER["lvae_count"], 0] == finest[COUNTER["lvae_count"], 0], f"{slow:g} s"
        errors.append(abs(c[COUNTER["cf4_lvae"], 0] / cf4 - 1.0))
    assert max(errors) < 0.02, errors
    assert errors[0] >= errors[2] >= errors[4], errors       # smaller with the step
