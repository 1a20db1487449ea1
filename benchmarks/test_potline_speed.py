"""Speed of the compiled core: run with ``python -m pytest benchmarks --benchmark-only``.

Figures are put in ``extra_info`` (cell-steps per second, extrapolated plant-year wall time) and
shown with ``--benchmark-columns=mean,min,rounds --benchmark-verbose`` or saved with
``--benchmark-json=FILE``. Nothing here asserts a speed.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from threadpoolctl import threadpool_limits

from twin import Park, load_config
from twin._core import pot
from twin.smelter.cell import STATE

HOURS_PER_YEAR = 8760.0


@pytest.fixture(autouse=True)
def one_blas_thread():
    """As in `twin run`: idle BLAS threads must not spin beside the kernel's OpenMP threads."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.mark.parametrize("controllers", ["on", "off"])
def test_kernel_720_cells_one_hour(benchmark, controllers):
    """One plant-hour of the reference potlines (720 cells) in the kernel alone, with the pot
    controllers (tracking, resistance control, AE quench) on as configured, or all off."""
    config = load_config()
    if controllers == "off":
        control = config.smelter.control.model_copy(update={"feed_control": "nominal", "resistance_control": False})
        config = config.model_copy(update={"smelter": config.smelter.model_copy(update={"control": control})})
    park = Park(config)
    s, run = park.smelter, park.config.run
    n_sub = round(run.slow_step_s / run.fast_step_s)
    n_slow = round(3600 / run.slow_step_s)
    setpoint = park.setpoints(0.0)

    def one_hour():
        s.advance(n_slow, n_sub, run.fast_step_s, setpoint, setpoint)

    benchmark.pedantic(one_hour, rounds=10, iterations=1, warmup_rounds=1)
    cell_steps = s.n_cells * n_slow * n_sub
    best, mean = benchmark.stats.stats.min, benchmark.stats.stats.mean
    benchmark.extra_info.update({
        "cells": s.n_cells, "fast_step_s": run.fast_step_s, "openmp": pot.openmp_enabled(),
        "cell_steps_per_s_best": cell_steps / best, "ns_per_cell_step_best": 1e9 * best / cell_steps,
        "plant_year_s_extrapolated_best": best * HOURS_PER_YEAR,
        "plant_year_s_extrapolated_mean": mean * HOURS_PER_YEAR,
    })


def test_reference_park_one_day(benchmark, tmp_path):
    """One plant-day of the reference park as `twin run` does it: events, kernel, streamed output."""
    config = load_config()

    def setup():
        return (Park(config),), {}

    def one_day(park):
        park.run(tmp_path / "day.nc", 86400.0)

    benchmark.pedantic(one_day, setup=setup, rounds=3, iterations=1)
    benchmark.extra_info.update({"plant_year_s_extrapolated_best": benchmark.stats.stats.min * 365.0,
                                 "plant_year_s_extrapolated_mean": benchmark.stats.stats.mean * 365.0,
                                 "openmp": pot.openmp_enabled()})


def test_same_cell_under_solve_ivp(benchmark):
    """The same right-hand side under scipy's Radau (rtol 1e-8), one cell for one hour, for comparison."""
    park = Park(load_config())
    s = park.smelter
    x0 = np.ascontiguousarray(s.state[:, :1])
    x0[STATE["t_bath"]] += 2.0          # off steady state, so the solver has work to do
    p = np.ascontiguousarray(s.params[:, :1])
    aux = np.zeros((len(pot.AUX_NAMES), 1))
    current = float(park.setpoints(0.0)[0])

    def rhs(_t, y):
        return pot.cell_rhs(np.ascontiguousarray(y.reshape(-1, 1)), p, aux, current)[:, 0]

    def one_hour():
        sol = solve_ivp(rhs, (0.0, 3600.0), x0[:, 0], method="Radau", rtol=1e-8, atol=1e-10)
        assert sol.success

    benchmark.pedantic(one_hour, rounds=3, iterations=1)
    mean = benchmark.stats.stats.mean
    benchmark.extra_info.update({"cell_hours_per_s": 1.0 / mean,
                                 "plant_year_s_extrapolated_720_cells": mean * 720 * HOURS_PER_YEAR})
