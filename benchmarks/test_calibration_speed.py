"""Speed of calibration (``python -m pytest benchmarks --benchmark-only``): one cell x 30 days."""
from __future__ import annotations

import numpy as np

import twin
from twin.calibrate import Measurement, Parameter, calibrate_cell, one_cell_config
from twin.replay import inputs_from_results


def test_one_cell_30_days_calibrated(benchmark, tmp_path):
    base = twin.load_config(output_interval_s=600.0)
    twin.run(one_cell_config(base, {"ua_top_W_per_K": 610.0, "r_anode_uohm": 0.66}), tmp_path / "p.nc", days=30)
    rec = twin.open_results(tmp_path / "p.nc")
    rng = np.random.default_rng(1)
    volts = rec.cell_voltage.values[:, 0] + rng.normal(0, 0.01, rec.sizes["time"])
    temps = np.full(rec.sizes["time"], np.nan)
    temps[::24] = rec.bath_temperature.values[::24, 0] + rng.normal(0, 1.0, len(temps[::24]))
    inputs = inputs_from_results(rec)

    def fit():
        return calibrate_cell(base, inputs, [Measurement("cell_voltage", volts, 0.01),
                                             Measurement("bath_temperature", temps, 1.0)],
                              [Parameter("ua_top_W_per_K", 300.0, 1200.0, log=True),
                               Parameter("r_anode_uohm", 0.2, 1.5)])

    result = benchmark.pedantic(fit, rounds=1, iterations=1)
    mean = benchmark.stats.stats.mean
    benchmark.extra_info.update({"evaluations": result.evaluations,
                                 "batch_720_cells_on_2_cores_h_extrapolated": mean * 720 / 2 / 3600})
