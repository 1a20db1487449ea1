"""Speed of a sweep on Dask (``python -m pytest benchmarks/test_sweep_speed.py --benchmark-only``): a 6 x 6 grid
(both lines' current x the AlF3 target) of 7-day runs of two 4-cell lines of the reference cell on 2 local
workers, against the same points run one after another on one worker (``extra_info``: that wall time and the
speed-up; near 2 on 2 idle cores). The grid's CE, superheat and DC energy are checked against the directions the
smelter model's physics gives, so the figure is of sweeps that compute the right thing."""
from __future__ import annotations

import time

import numpy as np

import twin

PARK = """
name = "sweep benchmark park"
[run]
output_interval_s = 600.0
[smelter.operations]
feeder_fault_rate_per_day = 0.0          # the grid's differences are the axes', not a fault drawn here or there
[[smelter.potlines]]
name = "L1"
cells = 4
[[smelter.potlines]]
name = "L2"
cells = 4
"""

SWEEP = """
base = "park.toml"
days = 7
[[axis]]
keys = ["smelter.potlines.L1.current_kA", "smelter.potlines.L2.current_kA"]
values = [[480, 480], [490, 490], [500, 500], [510, 510], [520, 520], [530, 530]]
[[axis]]
keys = ["smelter.cell.alf3_wt", "smelter.operations.alf3_target_wt"]
values = [[10.0, 10.0], [10.6, 10.6], [11.2, 11.2], [11.8, 11.8], [12.4, 12.4], [13.0, 13.0]]
"""


def test_a_6x6_grid_of_week_runs_on_two_workers(benchmark, tmp_path):
    (tmp_path / "park.toml").write_text(PARK)
    sweep = tmp_path / "grid.toml"
    sweep.write_text(SWEEP)
    started = time.perf_counter()
    serial = twin.sweep(sweep, tmp_path / "serial.nc", n_workers=1)       # the same points, one after another
    serial_s = time.perf_counter() - started

    def grid():
        return twin.sweep(sweep, tmp_path / "grid.nc", n_workers=2)

    ds = benchmark.pedantic(grid, rounds=1, iterations=1)
    benchmark.extra_info["serial_s"] = serial_s
    benchmark.extra_info["speed_up"] = serial_s / benchmark.stats.stats.mean
    assert not ds.failed.any()
    np.testing.assert_array_equal(ds.current_efficiency.values, serial.current_efficiency.values)
    # the grid's directions, recorded before they are checked: more excess AlF3 lowers the metal's solubility in
    # the bath, so CE rises with it at every current (Dewing's AlF3 term of the back reaction); more current at the
    # same cell and resistance target makes more heat, so the superheat rises with it, and with it the back
    # reaction (Dewing's superheat term), so CE does not rise: over a week the crew has not taken the heat back out
    ce = ds.current_efficiency.mean("line").values                         # current x AlF3
    energy = ds.specific_energy.mean("line").values
    superheat = ds.superheat.mean("line").values
    benchmark.extra_info.update({"ce_pct": ce.round(3).tolist(), "kWh_per_kg": energy.round(4).tolist(),
                                 "superheat_K": superheat.round(2).tolist()})
    assert (np.diff(ce, axis=1) > 0).all(), ce
    assert (np.diff(superheat, axis=0) > 0).all(), superheat
    assert (np.diff(energy, axis=0) > 0).all(), energy
