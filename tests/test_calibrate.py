"""Calibration recovers the parameters that made synthetic plant data, within two standard errors."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import design_cells, with_run

import twin
from twin.calibrate import Measurement, Parameter, calibrate_cell, load_fit, one_cell_config
from twin.config import ConfigError
from twin.replay import inputs_from_results


@pytest.mark.slow
def test_recover_top_heat_loss_and_anode_resistance(tmp_path):
    base = twin.load_config(output_interval_s=600.0)
    truth = {"ua_top_W_per_K": 610.0, "r_anode_uohm": 0.66}
    plant = one_cell_config(base, truth)
    twin.run(plant, tmp_path / "plant.nc", days=3)
    recorded = twin.open_results(tmp_path / "plant.nc", load=True)
    rng = np.random.default_rng(11)
    # voltage noise as replay reproduces a run (actions at interval starts): ~10 mV; lab temperatures 1 K
    volts = recorded.cell_voltage.values[:, 0] + rng.normal(0, 0.01, recorded.sizes["time"])
    temps = np.full(recorded.sizes["time"], np.nan)
    temps[::24] = recorded.bath_temperature.values[::24, 0] + rng.normal(0, 1.0, len(temps[::24]))  # 6 a day
    fit = calibrate_cell(base, inputs_from_results(recorded),
                         [Measurement("cell_voltage", volts, 0.01), Measurement("bath_temperature", temps, 1.0)],
                         [Parameter("ua_top_W_per_K", 300.0, 1200.0, log=True),
                          Parameter("r_anode_uohm", 0.2, 1.5)])
    assert fit.success, fit.message
    for name, est, se in zip(fit.names, fit.estimates, fit.std_errors, strict=True):
        assert abs(est - truth[name]) < 2 * se + 1e-12, (name, est, se)
        assert abs(est / truth[name] - 1) < 0.05, (name, est)
    assert np.all(fit.std_errors > 0) and abs(fit.correlation[0, 1]) < 1


def test_bad_calibration_requests(tmp_path):
    base = twin.load_config(output_interval_s=3600.0)
    twin.run(one_cell_config(base, {}), tmp_path / "p.nc", hours=3)
    inputs = inputs_from_results(twin.open_results(tmp_path / "p.nc", load=True))
    m = [Measurement("cell_voltage", np.full(3, 4.2), 0.01)]
    with pytest.raises(ValueError, match="not cell parameters"):
        calibrate_cell(base, inputs, m, [Parameter("colour", 0, 1)])
    with pytest.raises(ValueError, match="cannot determine"):
        calibrate_cell(base, inputs, m, [Parameter("ua_top_W_per_K", 300, 900), Parameter("r_anode_uohm", 0.2, 1),
                                         Parameter("ce_ref", 0.9, 0.97)])


@pytest.mark.slow
def test_batch_of_cells_on_a_local_cluster(tmp_path, capsys):
    """Three cells with different anode resistances, calibrated in parallel on a real LocalCluster, in batches of
    one cell, with a bar of the cells fitted."""
    from twin.calibrate import calibrate_cells

    base = twin.load_config(output_interval_s=600.0)
    truths = {0: 0.55, 1: 0.62, 2: 0.70}
    problems = {}
    rng = np.random.default_rng(5)
    for k, r in truths.items():
        twin.run(one_cell_config(base, {"r_anode_uohm": r}), tmp_path / f"cell{k}.nc", days=1)
        rec = twin.open_results(tmp_path / f"cell{k}.nc", load=True)
        volts = rec.cell_voltage.values[:, 0] + rng.normal(0, 0.01, rec.sizes["time"])
        problems[k] = (inputs_from_results(rec), [Measurement("cell_voltage", volts, 0.01)])
    capsys.readouterr()
    result = calibrate_cells(base, problems, [Parameter("r_anode_uohm", 0.2, 1.5)], n_workers=2, batch_size=1,
                             progress=True)
    bar = capsys.readouterr().err
    assert "cells fitted: 100%" in bar and "3/3" in bar, bar
    est = result.estimate.sel(parameter="r_anode_uohm").values
    se = result.std_error.sel(parameter="r_anode_uohm").values
    truth = np.array([truths[k] for k in result.cell.values])
    assert np.all(result.success.values)
    assert np.all(np.abs(est - truth) < np.maximum(2 * se, 0.01 * truth)), (est, se)
    result.to_netcdf(tmp_path / "fit.nc", engine="h5netcdf")


def test_calibrated_parameters_reach_twin_run(tmp_path):
    """Estimates by cell -> TOML of [[smelter.cell_overrides]] -> `twin run --calibration` uses them."""
    import xarray as xr

    from twin.calibrate import write_calibration
    from twin.cli import main
    from twin.smelter.cell import PARAM

    result = xr.Dataset({"estimate": (("cell", "parameter"), [[0.7, 640.0], [0.5, 560.0]]),
                         "std_error": (("cell", "parameter"), [[0.01, 5.0], [0.01, 5.0]]),
                         "success": ("cell", [True, False])},
                        coords={"cell": [3, 700], "parameter": ["r_anode_uohm", "ua_top_W_per_K"]})
    path = write_calibration(result, tmp_path / "cal.toml")
    cfg = design_cells(twin.load_config(calibration=path))     # the other cells at the design, not drawn
    assert cfg.smelter.cell_design(3).r_anode_uohm == 0.7 and cfg.smelter.cell_design(700) == cfg.smelter.cell
    park = twin.Park(cfg.model_copy(update={"run": cfg.run.model_copy(update={"output_interval_s": 600.0})}))
    p = park.smelter.params
    assert p[PARAM["r_anode"], 3] == pytest.approx(0.7e-6) and p[PARAM["ua_top"], 3] == 640.0
    assert p[PARAM["r_anode"], 4] == pytest.approx(0.6e-6)
    record = park.step_interval()
    assert record["cell_voltage"][3] > record["cell_voltage"][4] + 0.03        # 0.1 uohm x 500 kA = 50 mV
    assert main(["run", "--calibration", str(path), "--hours", "1", "--out", str(tmp_path / "r.nc"),
                 "--quiet"]) == 0


@pytest.mark.parametrize(("table", "words"), [
    ("cells = [1]\nua_top = 600\n", ["ua_top", "cannot differ by cell", "did you mean 'ua_top_W_per_K'?"]),
    ("cells = [1]\nanodes = 40\n", ["anodes", "cannot differ by cell"]),
    ("cells = [1]\nce_ref = 1.2\n", ["ce_ref", "1.2", "less than or equal"]),
    ("cells = [9999]\nce_ref = 0.94\n", ["[9999]", "outside 0..719"]),
])
def test_bad_cell_overrides(tmp_path, table, words):
    path = tmp_path / "cal.toml"
    path.write_text("[[smelter.cell_overrides]]\n" + table)
    with pytest.raises(twin.ConfigError) as err:
        twin.load_config(calibration=path)
    for w in words:
        assert w in str(err.value), str(err.value)




def test_a_batch_fits_every_cell_as_if_alone(tmp_path):
    """Cells fitted together in one replay (block-diagonal Jacobian) land where each lands alone."""
    from twin.calibrate import calibrate_batch
    from twin.config import parse_config

    base = twin.load_config(output_interval_s=600.0)
    data = base.model_dump(mode="json", by_alias=True)
    data["smelter"]["potlines"] = [{**data["smelter"]["potlines"][0], "cells": 3}]
    truths = [0.56, 0.63, 0.69]
    data["smelter"]["cell_overrides"] = [{"cells": [k], "r_anode_uohm": r} for k, r in enumerate(truths)]
    data["refinery"] = None
    twin.run(parse_config(data, source="<plant>"), tmp_path / "plant.nc", hours=12)
    rec = twin.open_results(tmp_path / "plant.nc", load=True)
    inputs = inputs_from_results(rec)
    rng = np.random.default_rng(3)
    problems = {k: (inputs.isel(cell=[k], line=[0]),
                    [Measurement("cell_voltage", rec.cell_voltage.values[:, k] + rng.normal(0, 0.005, 72), 0.005)])
                for k in range(3)}
    parameters = [Parameter("r_anode_uohm", 0.2, 1.5)]
    together = calibrate_batch(base, problems, parameters)
    # cell 0 starts at the same place in its tap and anode cycles alone as on its line (phase 0)
    alone = calibrate_cell(base, *problems[0], parameters)
    for fit, truth in zip(together, truths, strict=True):
        assert fit.success and abs(fit.estimates[0] - truth) < max(2 * fit.std_errors[0], 0.005 * truth)
    assert together[0].estimates[0] == pytest.approx(alone.estimates[0], rel=1e-4)
    assert together[0].std_errors[0] == pytest.approx(alone.std_errors[0], rel=0.05)


def test_a_trial_on_the_batch_built_once_is_a_replay_of_a_park_built_for_it(tmp_path):
    """Build once, run many: a calibration batch's park is built once and restored for every trial. A trial after
    others (other values, one driven out of its steady state by other inputs) gives, to the last bit, the replay of
    a park built and validated for its values."""
    from twin.calibrate import batch_config
    from twin.replay import BatchReplay, replay

    base = twin.load_config(output_interval_s=600.0)
    twin.run(one_cell_config(base, {"ua_top_W_per_K": 610.0}), tmp_path / "p.nc", hours=12)
    inputs = inputs_from_results(twin.open_results(tmp_path / "p.nc", load=True))
    names = ("cell_voltage", "bath_temperature", "alumina", "ledge_thickness", "anode_effect_count")
    batch = BatchReplay(batch_config(base, [{}, {}], [2]), inputs.isel(cell=[0, 0]), names, independent_cells=True)
    wanted = [{"ua_top_W_per_K": 580.0, "r_anode_uohm": 0.63}, {"ua_top_W_per_K": 640.0}]
    batch([{"ua_top_W_per_K": 900.0, "r_anode_uohm": 0.9}, {"ce_ref": 0.93}])
    batch(wanted, inputs.isel(cell=[0, 0]).assign(line_current=inputs.line_current * 0.9))
    got = batch(wanted)
    fresh = replay(batch_config(base, wanted, [2]), inputs.isel(cell=[0, 0]), None, collect=names,
                   independent_cells=True)
    assert isinstance(fresh, dict)
    for name in names:
        assert np.array_equal(got[name], fresh[name], equal_nan=True), name
    assert not np.array_equal(got["cell_voltage"][:, 0], got["cell_voltage"][:, 1])   # each its own values

def test_twin_calibrate_from_files(tmp_path, capsys):
    """`twin calibrate CONFIG --data RESULTS --fit FIT --out OUT`: estimates by cell and a TOML for twin run."""
    from twin.cli import main

    config = tmp_path / "park.toml"
    config.write_text('base = "reference"\n'
                      "[run]\noutput_interval_s = 600.0\n[[smelter.potlines]]\nname = \"A\"\ncells = 2\n"
                      # potlines merge by name: the base's two are taken out
                      "[[smelter.potlines]]\nname = \"PL1\"\nremove = true\n"
                      "[[smelter.potlines]]\nname = \"PL2\"\nremove = true\n"
                      # the plant's cells at the design: a fit of r_anode alone cannot see a drawn ACD offset
                      "[smelter.variation]\nacd_sd_mm = 0.0\nr_anode_sd_pct = 0.0\nua_top_sd_pct = 0.0\n"
                      "[smelter.operations]\nfeeder_fault_rate_per_day = 0.0\n")
    cfg = twin.load_config(config)
    cfg = cfg.model_copy(update={"refinery": None})
    twin.run(cfg, tmp_path / "plant.nc", hours=12)
    fit = tmp_path / "fit.toml"
    fit.write_text('[[parameter]]\nname = "r_anode_uohm"\nlower = 0.2\nupper = 1.5\n'
                   '[[measurement]]\nvariable = "cell_voltage"\nnoise = 0.01\n'
                   '[[input]]\nvariable = "line_current"\nnoise = 200.0\n')
    out = tmp_path / "cal.nc"
    assert main(["calibrate", str(config), "--data", str(tmp_path / "plant.nc"), "--fit", str(fit), "--out", str(out),
                 "--workers", "1"]) == 0
    import xarray as xr

    result = xr.open_dataset(out, engine="h5netcdf").load()
    assert list(result.cell.values) == [0, 1] and bool(result.success.all())
    np.testing.assert_allclose(result.estimate.values[:, 0], cfg.smelter.cell.r_anode_uohm, rtol=0.01)
    assert (tmp_path / "cal.toml").read_text().count("[[smelter.cell_overrides]]") == 2
    assert np.all(result.std_error_inputs.values > 0) and result.attrs["input_noise_line_current"] == 200.0
    printed = capsys.readouterr().out
    assert "2 of 2 fits converged" in printed and "line_current: noise 200 per value" in printed
    # bad fit files and unknown measurements are named
    fit.write_text('[[parameter]]\nname = "colour"\nlower = 0\nupper = 1\n[[measurement]]\nvariable = "x"\nnoise = 1\n')
    assert main(["calibrate", str(config), "--data", str(tmp_path / "plant.nc"), "--fit", str(fit), "--out",
                 str(out)]) == 2
    assert "is not a per-cell parameter" in capsys.readouterr().err
    # --out park.nc would write park.toml, the park config itself: refused, nothing written
    before = config.read_text()
    assert main(["calibrate", str(config), "--data", str(tmp_path / "plant.nc"), "--fit", str(fit), "--out",
                 str(tmp_path / "park.nc")]) == 2
    assert "the park config (or a file it reads); choose another --out" in capsys.readouterr().err
    assert config.read_text() == before and not (tmp_path / "park.nc").exists()


@pytest.mark.slow
def test_recover_parameters_from_a_messy_historian_export(tmp_path):
    """Truth -> twin run (1-min records) -> export with noise, compression, gaps, bad flags, jitter and the
    control logs -> twin ingest (10-min clock) -> replay on 1-min input steps -> fit with the line
    current's noise carried into the standard errors: both parameters within 2 SE and within 1 %.

    Without the 1-min steps replay puts feed-cycle switches and beam moves minutes off (3.6 mV RMS in
    10-min voltages, where the voltage is most sensitive), and without the input noise the standard
    errors miss that the bath integrates a noisy current: each moved the top heat loss 3-5 SE off."""
    from twin.calibrate import FitSpec, problems_from_data
    from twin.config import default_config_path
    from twin.historian import ingest, load_tag_map
    from twin.synthetic import Defects, historian_export

    base = twin.load_config(output_interval_s=600.0)
    truth = {"ua_top_W_per_K": 600.0, "r_anode_uohm": 0.66}
    twin.run(with_run(one_cell_config(base, truth), output_interval_s=60.0), tmp_path / "plant.nc", days=10)
    defects = Defects(seed=0)
    export = historian_export(tmp_path / "plant.nc", tmp_path / "export.csv", defects)
    tags = tmp_path / "tags.toml"
    tags.write_text((default_config_path().parent / "historian" / "reference.toml").read_text()
                    .replace("cells = 720", "cells = 2"))
    data, _ = ingest([export], load_tag_map(tags), interval_s=600.0, start="2027-01-01T00:00:00")
    spec = FitSpec.model_validate({
        "parameter": [{"name": "ua_top_W_per_K", "lower": 400, "upper": 900, "log": True},
                      {"name": "r_anode_uohm", "lower": 0.2, "upper": 1.5}],
        "measurement": [{"variable": "cell_voltage", "noise": 0.01}, {"variable": "bath_temperature", "noise": 1.0}],
        "input": [{"variable": "line_current"}]})
    inputs, measured = problems_from_data(data, [0], spec, step_s=base.run.slow_step_s)[0]
    assert {"feed_rate", "beam_move", "anodes_set", "alf3_added", "metal_tapped"} <= set(inputs.data_vars)
    assert inputs.attrs["input_interval_s"] == 60.0 and inputs.sizes["time"] == 10 * data.sizes["time"]
    assert np.isnan(data.line_current.values).any()                     # gaps the replay bridges
    # the noise of a 10-min mean of 1-min values (fewer where compression or gaps dropped some)
    noise = spec.input_noise(data)
    per_mean = defects.current_noise_kA * 1e3 / np.sqrt(10)
    assert per_mean < noise["line_current"] < 1.3 * per_mean
    fit = calibrate_cell(base, inputs, measured, spec.parameters(), input_noise=noise)
    assert fit.success, fit.message
    assert np.all(fit.input_std_errors > 0) and np.all(fit.input_std_errors < fit.std_errors)
    for name, est, se in zip(fit.names, fit.estimates, fit.std_errors, strict=True):
        assert abs(est / truth[name] - 1) < 0.01, (name, est)
        assert abs(est - truth[name]) < 2 * se, (name, est, se)


def test_fit_bounds_outside_the_configuration_are_refused(tmp_path):
    """Bounds a cell configuration would refuse are an error at load (naming file, key and range), not a crash
    inside least_squares or a calibration twin run refuses."""
    from twin.calibrate import calibrate_batch

    fit = tmp_path / "fit.toml"
    fit.write_text('[[parameter]]\nname = "ce_ref"\nlower = 0.5\nupper = 1.2\n'
                   '[[measurement]]\nvariable = "cell_voltage"\nnoise = 0.01\n')
    with pytest.raises(ConfigError) as err:
        load_fit(fit)
    for words in (str(fit), "ce_ref", "0.5..1.2", "> 0.8 and <= 0.99"):
        assert words in str(err.value)
    base = twin.load_config(output_interval_s=3600.0)
    with pytest.raises(ValueError, match=r"ce_ref: bounds 0.5..1.2 reach outside"):
        calibrate_batch(base, {}, [Parameter("ce_ref", 0.5, 1.2)])
    with pytest.raises(ValueError, match=r"r_anode_uohm: the start 0.6 is outside the bounds 0.7..0.9"):
        calibrate_batch(base, {}, [Parameter("r_anode_uohm", 0.7, 0.9)])


def test_a_fit_whose_replay_leaves_physics_is_failed_not_converged(tmp_path):
    """The feed log counted in shots but read as kg (1 kg a shot of 1.8 kg): replay starves the cell, which goes
    on anode effect and overheats. The fit must say so, not report a converged estimate with nan errors."""
    base = design_cells(twin.load_config(output_interval_s=600.0))
    plant = one_cell_config(base, {})
    twin.run(plant, tmp_path / "plant.nc", hours=12)
    recorded = twin.open_results(tmp_path / "plant.nc", load=True)
    inputs = inputs_from_results(recorded)
    inputs["feed_rate"] = inputs["feed_rate"] / 1.8            # shots read as kg
    fit = calibrate_cell(base, inputs, [Measurement("cell_voltage", recorded.cell_voltage.values[:, 0], 0.01)],
                         [Parameter("r_anode_uohm", 0.2, 1.5)])
    assert not fit.success
    assert "leaves physics" in fit.message and "bath temperature" in fit.message


def test_calibration_refuses_what_it_cannot_fit_before_a_cluster_starts(tmp_path, capsys, monkeypatch):
    """Reversed or out-of-range --cells, data of another park, a start outside its bounds and too few observations
    per parameter: one line each, exit 2, and no cluster (``calibrate_cells`` is never reached)."""
    import twin.calibrate
    from twin.cli import main

    config = tmp_path / "park.toml"
    config.write_text('base = "reference"\n[run]\noutput_interval_s = 600.0\n[[smelter.potlines]]\nname = "A"\n'
                      'cells = 2\n[[smelter.potlines]]\nname = "PL1"\nremove = true\n[[smelter.potlines]]\n'
                      'name = "PL2"\nremove = true\n')
    cfg = twin.load_config(config).model_copy(update={"refinery": None})
    twin.run(cfg, tmp_path / "short.nc", hours=0.2)                  # 2 records
    other = tmp_path / "other.toml"
    other.write_text(config.read_text().replace("cells = 2", "cells = 3"))
    fit = tmp_path / "fit.toml"
    body = '[[measurement]]\nvariable = "cell_voltage"\nnoise = 0.01\n'
    fit.write_text('[[parameter]]\nname = "r_anode_uohm"\nlower = 0.2\nupper = 1.5\n' + body)
    narrow = tmp_path / "narrow.toml"
    narrow.write_text('[[parameter]]\nname = "ua_top_W_per_K"\nlower = 100.0\nupper = 200.0\n' + body)

    def no_cluster(*args, **kwargs):
        raise AssertionError("a cluster was started")

    monkeypatch.setattr(twin.calibrate, "calibrate_cells", no_cluster)
    data = str(tmp_path / "short.nc")
    cases = [
        ([str(config), "--fit", str(fit), "--cells", "1-0"], "--cells '1-0': '1-0' is not a range of cells in 0..1"),
        ([str(config), "--fit", str(fit), "--cells", "5"], "'5' is not a range of cells in 0..1"),
        ([str(other), "--fit", str(fit)], "holds 2 cells on 1 lines, the park 3 cells on 1 lines"),
        ([str(config), "--fit", str(narrow)], "parameter ua_top_W_per_K: the fit starts at the park's 570, outside"),
        ([str(config), "--fit", str(fit)], "cell 0 has 2 observations of cell_voltage; 1 parameters need at least 5"),
    ]
    for args, words in cases:
        code = main(["calibrate", *args[:1], "--data", data, *args[1:], "--out", str(tmp_path / "cal.nc")])
        err = capsys.readouterr().err
        assert code == 2 and words in err and len(err.strip().splitlines()) == 1, (words, err)
