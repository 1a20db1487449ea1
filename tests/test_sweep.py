"""Scenario sweeps (issue 24): axes over config keys, points on a Dask LocalCluster, the KPIs of every point in one
dataset; failed points are results with their message; a re-run computes only what is missing."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import twin
from twin.cli import main
from twin.sweeps import SweepError, load_sweep

PARK = """
name = "sweep park"
[run]
output_interval_s = 600.0
[smelter]
[[smelter.potlines]]
name = "L1"
cells = 2
[[smelter.potlines]]
name = "L2"
cells = 2
"""


def write(tmp_path, axes: str, base: str = "park.toml", hours: float = 3):
    (tmp_path / "park.toml").write_text(PARK)
    path = tmp_path / "sweep.toml"
    path.write_text(f'base = "{base}"\nhours = {hours}\n' + axes)
    return path


def test_a_grid_of_points_runs_on_dask_into_one_dataset(tmp_path, capsys):
    sweep = write(tmp_path, """
[[axis]]
key = "smelter.potlines.L1.current_kA"
values = [350, 480, 520]

[[axis]]
keys = ["smelter.cell.alf3_wt", "smelter.cell.alf3_ref_wt"]
values = [[11.0, 11.0], [12.0, 12.0]]
""")
    assert main(["sweep", str(sweep), "--workers", "2", "--quiet"]) == 0
    assert "6 point(s)" in capsys.readouterr().out
    with xr.open_dataset(tmp_path / "sweep.nc", engine="h5netcdf") as f:
        ds = f.load()
    assert ds.sizes == {"smelter.potlines.L1.current_kA": 3, "smelter.cell.alf3_wt+smelter.cell.alf3_ref_wt": 2,
                        "line": 2, "day": 1}
    assert list(ds["smelter.potlines.L1.current_kA"].values) == [350, 480, 520]
    # 350 kA: no steady heat balance for the cell: the point failed with its message, the others ran
    assert ds.failed.sel({"smelter.potlines.L1.current_kA": 350}).all()
    assert "SteadyStateError" in str(ds.message.values[0, 0]) and "350 kA" in str(ds.message.values[0, 0])
    ran = ds.sel({"smelter.potlines.L1.current_kA": [480, 520]})
    assert not ran.failed.any() and np.isfinite(ran.current_efficiency).all()
    # L1's current is the axis: its metal follows it (Faraday), L2 stays at its own 500 kA
    l1 = ran.metal_t.sel(line="L1")
    axis = "smelter.potlines.L1.current_kA"
    assert (l1.sel({axis: 520}) > 1.05 * l1.sel({axis: 480})).all()
    l2 = ran.metal_t.sel(line="L2")
    np.testing.assert_allclose(l2.values[0], l2.values[1], rtol=0.01)
    assert ds.current_efficiency.attrs["units"] == "%"
    # and day by day: the days' metal adds up to the run's
    assert ds.sizes["day"] == 1 and ds.daily_metal_t.dims[-2:] == ("day", "line")
    np.testing.assert_allclose(ran.daily_metal_t.sum("day").values, ran.metal_t.values, rtol=1e-9)
    # its page: heat maps over the two axes, the failed points with their messages
    assert main(["report", str(tmp_path / "sweep.nc"), "--out", str(tmp_path / "page")]) == 0
    page = (tmp_path / "page" / "index.html").read_text()
    assert "Failed points" in page and "SteadyStateError" in page and "350" in page
    assert (tmp_path / "page" / "map_current_efficiency.png").stat().st_size > 1000
    # a re-run finds every finished point in its cache and runs only the failed one again
    points = tmp_path / "sweep.nc.points"
    finished = {p.name: p.stat().st_mtime_ns for p in points.glob("*.json")}
    assert len(finished) == 6
    twin.sweep(sweep, tmp_path / "sweep.nc", n_workers=1)
    again = {p.name: p.stat().st_mtime_ns for p in points.glob("*.json")}
    changed = [name for name in finished if again[name] != finished[name]]
    assert len(changed) == 2                           # the two 350 kA points, tried again


@pytest.mark.parametrize(("axes", "words"), [
    ('[[axis]]\nkey = "smelter.potlines.L9.current_kA"\nvalues = [500]\n', ["L9", "no table named", "L1"]),
    ('[[axis]]\nkey = "smelter.cell.alf3_wt"\nvalues = [30.0]\n', ["smelter.cell.alf3_wt = 30.0", "alf3_wt"]),
    ('[[axis]]\nkey = "smelter.cell.alf3_wt"\n', ["values", "range"]),
    ('[[axis]]\nkeys = ["smelter.cell.alf3_wt", "smelter.cell.alf3_ref_wt"]\nvalues = [[11.0]]\n', ["zipped"]),
    ('[[axis]]\nkey = "smelter.cell.alf3_wt"\nvalues = []\n', ["at least one value"]),
    ('[[axis]]\nkey = "smelter.cell.alf3_wt"\nrange = {start = 10, stop = 12, num = 5000}\n'
     '[[axis]]\nkey = "smelter.cell.ua_top_W_per_K"\nrange = {start = 500, stop = 700, num = 2000}\n',
     ["10,000,000 points", "smelter.cell.alf3_wt (5000)", "mistyped"]),
])
def test_a_bad_sweep_is_refused_at_load_naming_the_key(tmp_path, axes, words, capsys):
    with pytest.raises(SweepError) as err:
        load_sweep(write(tmp_path, axes))
    for word in [str(tmp_path / "sweep.toml"), *words]:
        assert word in str(err.value), (word, str(err.value))
    # the command: one line, exit 2, nothing run
    assert main(["sweep", str(tmp_path / "sweep.toml"), "--quiet"]) == 2
    assert capsys.readouterr().err.startswith(f"twin: error: {tmp_path / 'sweep.toml'}")
    assert not (tmp_path / "sweep.nc.points").exists()


def test_a_sobol_design_finds_which_key_moves_the_superheat(tmp_path):
    """Saltelli points over two keys, Sobol indices by SALib: the top heat loss moves the superheat, the PFC slope
    factor (emissions only) cannot: its total index is nil."""
    sweep = write(tmp_path, """
[sample]
method = "sobol"
n = 4
seed = 3
sensitivity = ["superheat", "current_efficiency"]
[[sample.parameter]]
key = "smelter.cell.ua_top_W_per_K"
bounds = [500.0, 700.0]
[[sample.parameter]]
key = "smelter.cell.pfc_slope_cf4"
bounds = [0.05, 0.15]
""", hours=1)
    ds = twin.sweep(sweep, tmp_path / "sobol.nc", n_workers=2)
    assert ds.sizes["point"] == 4 * (2 + 2) and not ds.failed.any()
    assert ds["smelter.cell.ua_top_W_per_K"].min() >= 500.0 and ds["smelter.cell.ua_top_W_per_K"].max() <= 700.0
    total = ds.sobol_total.sel(kpi="superheat")
    assert (total.sel(parameter="smelter.cell.pfc_slope_cf4") == 0.0).all()
    assert (total.sel(parameter="smelter.cell.ua_top_W_per_K") > 0.5).all()
    # its page: the KPIs against the keys and the tornado of the total indices
    from twin.sweep_report import sweep_report

    index = sweep_report(tmp_path / "sobol.nc")
    assert "Sensitivity (sobol indices by SALib over 16 points)" in index.read_text()
    assert (index.parent / "tornado_sobol_total.png").is_file()
    # more heat lost through the top, a colder bath: superheat falls with ua_top
    ua = ds["smelter.cell.ua_top_W_per_K"].values
    hot = ds.superheat.isel(line=0).values
    assert np.corrcoef(ua, hot)[0, 1] < -0.8


def test_sampled_bounds_outside_a_keys_range_are_refused_at_load(tmp_path):
    sweep = write(tmp_path, """
[sample]
method = "latin"
n = 8
[[sample.parameter]]
key = "smelter.cell.alf3_wt"
bounds = [10.0, 30.0]
""")
    with pytest.raises(SweepError, match=r"smelter\.cell\.alf3_wt = 30\.0"):
        load_sweep(sweep)


def test_a_base_park_elsewhere_finds_the_files_it_names(tmp_path):
    """A point's park reads what its base config names (a wind profile) beside the base, not beside the sweep."""
    parks = tmp_path / "parks"
    parks.mkdir()
    (parks / "park.toml").write_text(PARK.replace("[smelter]", '[power]\nwind_profile_file = "wind.txt"\n[smelter]'))
    (parks / "wind.txt").write_text("0.3\n0.5\n")
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('base = "parks/park.toml"\nhours = 1\n[[axis]]\nkey = "smelter.potlines.L1.current_kA"\n'
                     'values = [500]\n')
    ds = twin.sweep(sweep, tmp_path / "out.nc", n_workers=1)
    assert not ds.failed.any(), ds.message.values


def test_points_run_on_an_existing_scheduler_as_on_a_local_cluster(tmp_path):
    """A real dask.distributed scheduler and two worker processes on loopback, started here: the sweep sent to its
    address gives the same KPIs as on a LocalCluster."""
    import json
    import subprocess
    import sys
    import time

    from dask.distributed import Client

    axes = '[[axis]]\nkey = "smelter.potlines.L1.current_kA"\nvalues = [480, 520]\n'
    sweep = write(tmp_path, axes, hours=1)
    file = tmp_path / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", "0", "--no-dashboard", "--scheduler-file", str(file)], **quiet)
    workers = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(file),
                                "--nworkers", "2", "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
                               **quiet)
    try:
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        with Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
        remote = twin.sweep(sweep, tmp_path / "remote.nc", scheduler=address)
    finally:
        workers.terminate()
        scheduler.terminate()
        workers.wait(timeout=30)
        scheduler.wait(timeout=30)
    local = twin.sweep(sweep, tmp_path / "local.nc", n_workers=2)
    assert not remote.failed.any()
    for name in ("current_efficiency", "specific_energy", "metal_t", "superheat", "co2e_per_t"):
        np.testing.assert_array_equal(remote[name].values, local[name].values)


def test_the_shipped_sweep_on_the_reference_park_loads_and_keys_every_point():
    """configs/sweeps/line-current.toml varies the reference park, whose run starts at a TOML datetime: copying
    and keying the points made that a TypeError (a traceback for the README's example)."""
    from twin.config import default_config_path
    from twin.sweeps import _load, point_key

    _, _, points = _load(default_config_path().parent / "sweeps" / "line-current.toml")
    assert len(points) == 9 and all(str(p["run"]["start"]).startswith("2027-01-01") for p in points)
    assert len({point_key(p, 86400.0) for p in points}) == 9


def test_a_sweep_killed_mid_way_runs_only_its_missing_points_and_gives_the_same_dataset(tmp_path):
    """`twin sweep` killed with SIGKILL (its cluster's workers with it) once 2 of its 6 points are done: the same
    command again runs only the 4 missing points (the finished ones' files untouched) and writes the dataset an
    uninterrupted sweep writes."""
    import os
    import signal
    import subprocess
    import sys
    import time

    axes = '[[axis]]\nkey = "smelter.potlines.L1.current_kA"\nvalues = [470, 480, 490, 500, 510, 520]\n'
    sweep = write(tmp_path, axes, hours=6)
    points = tmp_path / "sweep.nc.points"
    command = [sys.executable, "-m", "twin.cli", "sweep", str(sweep), "--workers", "1", "--quiet"]
    killed = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while len(list(points.glob("*.json"))) < 2 and time.monotonic() < deadline and killed.poll() is None:
            time.sleep(0.05)
    finally:
        os.killpg(killed.pid, signal.SIGKILL)              # the command and its cluster's processes
        killed.wait(timeout=30)
    finished = {p.name: p.stat().st_mtime_ns for p in points.glob("*.json")}
    assert 2 <= len(finished) < 6 and not (tmp_path / "sweep.nc").exists()
    assert subprocess.run(command, timeout=300).returncode == 0
    again = {p.name: p.stat().st_mtime_ns for p in points.glob("*.json")}
    assert len(again) == 6 and all(again[name] == finished[name] for name in finished)
    with xr.open_dataset(tmp_path / "sweep.nc", engine="h5netcdf") as f:
        resumed = f.load()
    whole = twin.sweep(sweep, tmp_path / "whole.nc", n_workers=2)
    assert not resumed.failed.any()
    for name in resumed.data_vars:                       # the KPIs, the failures and the points' keys
        np.testing.assert_array_equal(resumed[name].values, whole[name].values, err_msg=name)


def test_the_shipped_examples_load_sobol_on_four_keys_and_a_monte_carlo_of_twenty_seeds():
    """configs/sweeps: Sobol over 4 cell keys on superheat and DC energy (16 x 6 points), and 20 seeds of one park
    (an integer range stays integers: `run.seed` takes no 1.0)."""
    from twin.config import default_config_path

    folder = default_config_path().parent / "sweeps"
    sobol, _ = load_sweep(folder / "superheat-sobol.toml")
    assert sobol.sample is not None and len(sobol.sample.parameter) == 4
    assert sobol.sample.sensitivity == ["superheat", "specific_energy"] and len(sobol.sample.design()) == 96
    seeds, _ = load_sweep(folder / "ae-monte-carlo.toml")
    assert seeds.axis[0].points() == [[s] for s in range(1, 21)]


def test_sobol_indices_of_four_keys_rank_the_heat_loss_for_superheat_and_the_resistance_for_energy(tmp_path):
    """Saltelli points over four keys (the shipped example's, a smaller design): superheat answers most to the top
    heat loss, the DC energy to what sets the voltage (the anode's resistance, the ACD), and every index has its
    interval."""
    sweep = write(tmp_path, """
[sample]
method = "sobol"
n = 4
seed = 7
sensitivity = ["superheat", "specific_energy"]
[[sample.parameter]]
key = "smelter.cell.ua_top_W_per_K"
bounds = [520.0, 640.0]
[[sample.parameter]]
key = "smelter.cell.h_shell_W_per_m2K"
bounds = [38.0, 52.0]
[[sample.parameter]]
key = "smelter.cell.r_anode_uohm"
bounds = [0.55, 0.65]
[[sample.parameter]]
key = "smelter.cell.acd_cm"
bounds = [4.0, 5.0]
""", hours=1)
    ds = twin.sweep(sweep, tmp_path / "sobol.nc", n_workers=2)
    assert ds.sizes["point"] == 4 * (4 + 2) and not ds.failed.any()
    total = ds.sobol_total.isel(line=0)
    heat = total.sel(kpi="superheat").to_series()
    energy = total.sel(kpi="specific_energy").to_series()
    assert heat.idxmax() == "smelter.cell.ua_top_W_per_K"
    assert energy.idxmax() in ("smelter.cell.r_anode_uohm", "smelter.cell.acd_cm")
    assert np.isfinite(ds.sobol_total_conf.values).all()


def test_a_monte_carlo_of_twenty_seeds_gives_a_spread_of_anode_effect_frequency(tmp_path):
    """20 seeds of two 8-cell lines over 2 days: each seed draws its own feeder faults and AEs, so AE frequency
    (per pot-day, a new KPI of a point) spreads over the seeds; the same seed twice gives the same value."""
    sweep = write(tmp_path, '[[axis]]\nkey = "run.seed"\nrange = {start = 1, stop = 20, num = 20}\n', hours=48)
    (tmp_path / "park.toml").write_text(PARK.replace("cells = 2", "cells = 8").replace(
        "[smelter]", "[smelter]\n[smelter.operations]\nfeeder_fault_rate_per_day = 0.5"))
    ds = twin.sweep(sweep, tmp_path / "seeds.nc", n_workers=2)
    assert not ds.failed.any() and list(ds["run.seed"].values) == list(range(1, 21))
    frequency = ds.ae_frequency.mean("line").values
    assert ds.ae_frequency.attrs["units"] == "d-1" and np.isfinite(frequency).all()
    assert frequency.std() > 0 and len(np.unique(frequency)) >= 5


def test_sampled_keys_take_distributions_within_their_bounds(tmp_path):
    """A Latin hypercube over a truncated normal top heat loss and a triangular anode resistance: every value
    within its bounds (so within the key's range, checked at load), the normal's mean and the triangle's mode
    where they were put; a distribution missing its parameters, a mode outside its bounds, or Morris over a
    non-uniform key is refused naming the key."""
    sweep = write(tmp_path, """
[sample]
method = "latin"
n = 400
seed = 5
[[sample.parameter]]
key = "smelter.cell.ua_top_W_per_K"
bounds = [520.0, 640.0]
distribution = "normal"
mean = 570.0
sd = 15.0
[[sample.parameter]]
key = "smelter.cell.r_anode_uohm"
bounds = [0.55, 0.70]
distribution = "triangular"
mode = 0.58
""")
    spec, _ = load_sweep(sweep)
    assert spec.sample is not None
    design = spec.sample.design()
    ua, r = design[:, 0], design[:, 1]
    assert 520.0 <= ua.min() and ua.max() <= 640.0 and abs(ua.mean() - 570.0) < 2.0 and 12.0 < ua.std() < 17.0
    assert 0.55 <= r.min() and r.max() <= 0.70 and abs(r.mean() - (0.55 + 0.70 + 0.58) / 3) < 0.003
    for changes, words in (('sd = 15.0', 'takes mean and sd, got [\'mean\']'),
                           ('mode = 0.58', 'mode = 0.8 is outside its bounds'),
                           ('method = "latin"', 'morris: its trajectories step over uniform levels')):
        replaced = {"sd = 15.0": "", "mode = 0.58": "mode = 0.8", 'method = "latin"': 'method = "morris"'}[changes]
        path = tmp_path / "bad.toml"
        path.write_text(sweep.read_text().replace(changes, replaced))
        with pytest.raises(SweepError) as err:
            load_sweep(path)
        assert words in str(err.value) and "bad.toml" in str(err.value), str(err.value)
