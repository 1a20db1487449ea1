"""Speed of calibration (``python -m pytest benchmarks --benchmark-only``): one cell x 30 days."""
from __future__ import annotations

import numpy as np

import twin
from twin.calibrate import Measurement, Parameter, calibrate_cell, one_cell_config
from twin.replay import inputs_from_results


def test_one_cell_30_days_calibrated(benchmark, tmp_path):
    base = twin.load_config(output_interval_s=600.0)
    twin.run(one_cell_config(base, {"ua_top_W_per_K": 610.0, "r_anode_uohm": 0.66}), tmp_path / "p.nc", days=30)
    rec = twin.open_results(tmp_path / "p.nc", load=True)
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


def test_720_cells_30_days_through_the_batch_path(benchmark, tmp_path):
    """The reference park's 720 cells, each with its own top heat loss and anode resistance, 30 days of
    10-min voltages and 4-hourly bath temperatures, calibrated through ``calibrate_cells`` (batches on a
    LocalCluster of 2 workers). Goal: <= 15 minutes on 2 cores."""
    from twin.calibrate import calibrate_cells
    from twin.config import parse_config

    rng = np.random.default_rng(7)
    base = twin.load_config(output_interval_s=600.0).model_copy(update={"refinery": None, "fume": None})
    truth_ua = 600.0 * rng.uniform(0.93, 1.07, 720)
    truth_r = 0.60 * rng.uniform(0.93, 1.07, 720)
    data = base.model_dump(mode="json", by_alias=True)
    data["smelter"]["cell_overrides"] = [{"cells": [k], "ua_top_W_per_K": float(truth_ua[k]),
                                          "r_anode_uohm": float(truth_r[k])} for k in range(720)]
    twin.run(parse_config(data, source="<plant>"), tmp_path / "plant.nc", days=30)
    rec = twin.open_results(tmp_path / "plant.nc", load=True)
    inputs = inputs_from_results(rec)
    problems = {}
    for k in range(720):
        volts = rec.cell_voltage.values[:, k] + rng.normal(0, 0.01, rec.sizes["time"])
        temps = np.full(rec.sizes["time"], np.nan)
        temps[::24] = rec.bath_temperature.values[::24, k] + rng.normal(0, 1.0, len(temps[::24]))
        problems[k] = (inputs.isel(cell=[k], line=[int(rec.cell_line.values[k])]),
                       [Measurement("cell_voltage", volts, 0.01), Measurement("bath_temperature", temps, 1.0)])
    parameters = [Parameter("ua_top_W_per_K", 300.0, 1200.0, log=True), Parameter("r_anode_uohm", 0.2, 1.5)]

    result = benchmark.pedantic(calibrate_cells, args=(base, problems, parameters), kwargs={"n_workers": 2},
                                rounds=1, iterations=1)
    est = result.estimate.values
    error = np.abs(est / np.stack([truth_ua, truth_r], axis=1) - 1.0)
    benchmark.extra_info.update({"minutes": benchmark.stats.stats.mean / 60.0,
                                 "evaluations": int(result.evaluations.max()),
                                 "median_relative_error": [float(v) for v in np.median(error, axis=0)],
                                 "within_2_se": float(np.mean(np.abs(est - np.stack([truth_ua, truth_r], axis=1))
                                                              < 2 * result.std_error.values))})
