"""Streamed results, the twin command and the public API."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import twin
from twin.cli import main
from twin.smelter.outputs import VARIABLES

SMALL_PARK = """
name = "small test park"
[run]
days = 1.0
output_interval_s = 600.0
buffer_records = {buffer}
[smelter.cell]
[[smelter.potlines]]
name = "A"
cells = {cells}
"""


def write_config(tmp_path: Path, cells: int = 4, buffer: int = 144) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL_PARK.format(cells=cells, buffer=buffer))
    return path


def test_run_api_writes_cf_dataset(tmp_path):
    cfg = twin.load_config(write_config(tmp_path))
    summary = twin.run(cfg, tmp_path / "out.nc", hours=2)
    ds = twin.open_results(tmp_path / "out.nc", load=True)
    assert ds.attrs["run_complete"] == 1
    assert ds.sizes == {"time": 12, "cell": 4, "line": 1, "event": 6, "source": 7, "bounds": 2}
    # CF: each record's interval as time bounds; flags with their values and meanings
    assert ds.time.attrs["bounds"] == "time_bounds"
    np.testing.assert_array_equal(ds.time_bounds.values[:, 1], ds.time.values)
    np.testing.assert_array_equal(ds.time_bounds.values[:, 0], ds.time.values - np.timedelta64(600, "s"))
    for flag in ("in_service", "low_carbon"):
        assert len(ds[flag].attrs["flag_values"]) == len(ds[flag].attrs["flag_meanings"].split()) == 2, flag
    # cell 0 is visited at the start: temperature, metal dip, bath sample, tap, AlF3 addition, anode setting
    kinds = dict(zip(ds.event_kind.attrs["flag_meanings"].split(), ds.event_kind.attrs["flag_values"], strict=True))
    routine = ("temperature", "metal_dip", "bath_sample_alf3", "tap_weight", "alf3_addition", "anode_setting")
    assert sorted(ds.event_kind.values) == sorted(kinds[kind] for kind in routine)    # the bath is in its band
    assert np.all(ds.event_cell.values == 0) and np.all(ds.event_time.values == np.datetime64("2027-01-01"))
    tap = float(ds.event_mass[ds.event_kind == kinds["tap_weight"]][0])
    assert 3000 < tap < 5000                                           # about a day's production
    assert ds.event_mass.attrs["units"] == "kg" and ds.event_temperature.attrs["units"] == "degC"
    dipped = ds.event_temperature[ds.event_kind == kinds["temperature"]]
    assert 940 < float(dipped[0]) < 1000 and np.isnan(ds.event_temperature[ds.event_kind == kinds["tap_weight"]][0])
    assert str(ds.time.dtype).startswith("datetime64")
    assert ds.time.values[0] == np.datetime64("2027-01-01T00:10:00")
    for name in VARIABLES:
        assert ds[name].attrs["units"] and ds[name].attrs["long_name"], name
        assert np.all(np.isfinite(ds[name].values)), name
    # the summary is what the file says (each record's totals kept in float32: 7 digits)
    metal = float(ds.metal_produced.sum(dtype=float)) / 1e3
    assert summary.metal_t == pytest.approx(metal, rel=1e-6)
    assert summary.specific_energy_kWh_per_kg == pytest.approx(
        float(ds.energy_dc.sum(dtype=float)) / (1e3 * metal), rel=1e-6)
    assert 12.5 < summary.specific_energy_kWh_per_kg < 14.0


def test_cli_run_and_summary(tmp_path, capsys):
    out = tmp_path / "cli.nc"
    assert main(["run", str(write_config(tmp_path)), "--hours", "1", "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    for words in ("metal made", "mean cell voltage", "current efficiency", "kWh/kg", "AE-min per cell-day"):
        assert words in text
    assert twin.open_results(out, load=True).sizes["time"] == 6


def test_cli_default_run_writes_in_the_current_directory(tmp_path, monkeypatch):
    """`twin run` with no config runs the reference park; here for one hour to keep the test short."""
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--hours", "1", "--quiet"]) == 0
    ds = twin.open_results(tmp_path / "park-results.nc", load=True)
    assert ds.sizes["cell"] == 720 and list(ds.line.values) == ["PL1", "PL2"]
    assert float(ds.line_current.mean()) == pytest.approx(500e3, rel=1e-3)


def test_a_run_never_replaces_earlier_results_unless_forced(tmp_path, monkeypatch, capsys):
    """Issue 23: with no --out a second run writes the next free name (no spaces in it); an --out that exists is
    refused unless --force."""
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "my what if.toml"
    config.write_text(write_config(tmp_path).read_text())
    for _ in range(2):
        assert main(["run", str(config), "--hours", "1", "--quiet"]) == 0
    assert (tmp_path / "my-what-if-results.nc").exists() and (tmp_path / "my-what-if-results-2.nc").exists()
    assert "my-what-if-results.nc exists: writing my-what-if-results-2.nc" in capsys.readouterr().out
    first = (tmp_path / "my-what-if-results.nc").read_bytes()
    assert main(["run", str(config), "--hours", "2", "--out", "my-what-if-results.nc", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "my-what-if-results.nc exists" in err and "--force" in err
    assert (tmp_path / "my-what-if-results.nc").read_bytes() == first
    assert main(["run", str(config), "--hours", "2", "--out", "my-what-if-results.nc", "--force", "--quiet"]) == 0
    assert twin.open_results(tmp_path / "my-what-if-results.nc", load=True).sizes["time"] == 12


def test_results_readable_mid_run_and_after_a_kill(tmp_path):
    """A running twin's file opens with what was flushed; killing it between flushes leaves a file that opens."""
    config = write_config(tmp_path, cells=60, buffer=1)
    out = tmp_path / "live.nc"
    log = tmp_path / "stderr.txt"
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "twin.cli", "run", str(config), "--days", "30", "--out",
                                 str(out), "--quiet"], stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 60
        seen = 0
        while time.monotonic() < deadline and seen < 5:
            time.sleep(0.3)
            if out.exists():
                try:
                    seen = twin.open_results(out, load=True).sizes["time"]
                except (OSError, KeyError, ValueError):
                    seen = 0    # created but not yet holding a record
        assert seen >= 5, log.read_text() if proc.poll() is not None else "no records in 60 s"
        # killed while this reader holds the file, so between two flushes: a kill inside a flush can still
        # leave a chunk half written (issue 26, the writer's redesign)
        with twin.open_results(out) as ds:
            assert ds.attrs["run_complete"] == 0
            assert np.all(np.isfinite(ds.cell_voltage.values))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    after = twin.open_results(out, load=True)
    assert after.sizes["time"] >= seen and after.attrs["run_complete"] == 0
    assert np.all(np.isfinite(after.metal_produced.values))


def test_memory_does_not_grow_with_the_horizon(tmp_path):
    """Peak Python memory of a 4-day run is that of a 1-day run: results stream to disk."""
    cfg = twin.load_config(write_config(tmp_path, cells=20, buffer=24))
    peaks = []
    for days in (1, 4):
        park = twin.Park(cfg)
        tracemalloc.start()
        park.run(tmp_path / f"mem{days}.nc", days * 86400.0)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.2 * peaks[0] + 100_000, peaks


@pytest.mark.skipif(os.environ.get("CI") is None and sys.platform == "win32", reason="posix console script")
def test_console_script_check_config(tmp_path):
    good = write_config(tmp_path)
    res = subprocess.run([sys.executable, "-m", "twin.cli", "check-config", str(good)], capture_output=True, text=True)
    assert res.returncode == 0 and "valid" in res.stdout


def test_the_commands_log_warnings_as_warnings_and_not_dasks_info(tmp_path, capsys):
    """Issue 23: `twin calibrate` printed Dask's INFO records ("Start Nanny at ...") as `twin: warning:`
    lines. After a command, the model's warnings are one `twin: warning:` line, a library's carry its
    logger's name, and nothing below WARNING is shown."""
    import logging

    assert main(["check-config", str(write_config(tmp_path))]) == 0
    capsys.readouterr()
    logging.getLogger("distributed.nanny").info("Start Nanny at: 'tcp://127.0.0.1:1'")
    logging.getLogger("twin.power").warning("power fraction 1.250 asks for more")
    logging.getLogger("distributed.worker").warning("memory use is high")
    logging.getLogger("twin.cli").error("bad thing")
    err = capsys.readouterr().err.splitlines()
    assert err == ["twin: warning: power fraction 1.250 asks for more",
                   "twin: warning: distributed.worker: memory use is high", "twin: error: bad thing"], err


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_shows_the_informational_records_too_and_only_when_asked(tmp_path, capsys, where):
    """`--verbose` (before or after the command) shows INFO, Dask's with its logger's name; the next command
    without it shows warnings only again."""
    import logging

    argv = ["check-config", str(write_config(tmp_path))]
    assert main(["--verbose", *argv] if where == "before" else [*argv, "--verbose"]) == 0
    capsys.readouterr()
    logging.getLogger("distributed.nanny").info("Start Nanny at: 'tcp://127.0.0.1:1'")
    assert capsys.readouterr().err.splitlines() == ["twin: info: distributed.nanny: Start Nanny at: 'tcp://127.0.0.1:1'"]
    assert main(argv) == 0
    capsys.readouterr()
    logging.getLogger("distributed.nanny").info("Start Nanny at: 'tcp://127.0.0.1:1'")
    assert capsys.readouterr().err == ""


def test_a_second_run_on_the_same_results_file_stops(tmp_path, capsys):
    """While a run writes a file (holds its lock), another run on it stops at once with a clear error."""
    from twin.results import OutputLockedError, output_lock

    out = tmp_path / "out.nc"
    cfg = twin.load_config(write_config(tmp_path))
    with output_lock(out):
        with pytest.raises(OutputLockedError, match=rf"out\.nc: another run \(pid {os.getpid()}\) is writing"):
            twin.run(cfg, out, hours=1)
        assert main(["run", str(write_config(tmp_path)), "--hours", "1", "--out", str(out), "--quiet"]) == 1
        assert "another run" in capsys.readouterr().err
    twin.run(cfg, out, hours=1)                              # free again once the first run is over
    assert twin.open_results(out, load=True).attrs["run_complete"] == 1
    # a run that ends removes its lock (issue 23: every run left one); a killed run's, unlocked, is taken over
    assert not (tmp_path / "out.nc.lock").exists()
    stale = tmp_path / "again.nc.lock"
    stale.write_text("99999999")
    twin.run(cfg, tmp_path / "again.nc", hours=1)
    assert not stale.exists()


def test_version_and_an_interrupt_are_one_line(tmp_path, capsys, monkeypatch):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"alutwin {twin.__version__}"

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(twin.Park, "run", interrupted)
    assert main(["run", str(write_config(tmp_path)), "--hours", "1", "--out", str(tmp_path / "o.nc"),
                 "--quiet"]) == 130
    err = capsys.readouterr().err
    assert err.startswith("twin: interrupted") and "Traceback" not in err


def test_a_results_file_appears_whole_or_not_at_all(tmp_path, monkeypatch):
    """A failure while the file's layout is written (a kill, a full disk) leaves no file that does not open:
    the old results stay as they were."""
    import h5netcdf

    from twin.results import ResultsWriter

    out = tmp_path / "out.nc"
    cfg = twin.load_config(write_config(tmp_path))
    twin.run(cfg, out, hours=1)
    before = out.read_bytes()
    park = twin.Park(cfg)
    create = h5netcdf.File.create_variable

    def fails_midway(self, name, *args, **kwargs):
        if name == "cell_voltage":
            raise OSError(28, "No space left on device")
        return create(self, name, *args, **kwargs)

    monkeypatch.setattr(h5netcdf.File, "create_variable", fails_midway)
    with pytest.raises(OSError, match="No space left"):
        ResultsWriter(out, park.config.run.start, park.layout())
    assert out.read_bytes() == before
    assert twin.open_results(out, load=True).attrs["run_complete"] == 1
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out.nc")) == [
        "out.nc", "out.nc.checkpoint.npz"]                 # nothing half-made left behind, no lock


def test_help_and_version_do_not_load_the_model():
    """`twin --help` answers in well under a second because it imports no model (numpy, xarray, the core)."""
    code = ("import sys\nfrom twin.cli import main\n"
            "for argv in (['--help'], ['--version'], ['run', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "heavy = sorted(m for m in ('numpy', 'xarray', 'twin.park', 'twin._core.pot') if m in sys.modules)\n"
            "print('LOADED', heavy)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "LOADED []" in done.stdout
    assert "usage: twin" in done.stdout and f"alutwin {twin.__version__}" in done.stdout


def test_cells_carry_their_pot_names(tmp_path):
    out = tmp_path / "out.nc"
    twin.run(twin.load_config(write_config(tmp_path, cells=3)), out, hours=1)
    ds = twin.open_results(out, load=True)
    assert list(ds.pot.values) == ["A.P001", "A.P002", "A.P003"]
    by_name = ds.set_index(cell="pot")
    np.testing.assert_array_equal(by_name.cell_voltage.sel(cell="A.P002").values, ds.cell_voltage.isel(cell=1).values)


def test_results_are_compressed(tmp_path):
    import h5py

    out = tmp_path / "out.nc"
    twin.run(twin.load_config(write_config(tmp_path, cells=20)), out, hours=24)
    with h5py.File(out) as f:
        assert f["cell_voltage"].compression == "gzip" and f["cell_voltage"].shuffle
        stored = sum(f[k].id.get_storage_size() for k in VARIABLES if k in f)
        raw = sum(f[k].size * f[k].dtype.itemsize for k in VARIABLES if k in f)
    assert stored < 0.4 * raw


def test_no_link_planted_beside_the_results_is_followed(tmp_path, capsys):
    """Issue 26: a symbolic link planted where a run makes its temporary files (OUT.creating,
    OUT.checkpoint.npz.tmp) had its target truncated and overwritten; one planted as OUT.lock too. Now the
    temporary ones are removed and made afresh, and a linked lock is refused in one line: the target is untouched."""
    from twin.checkpoint import checkpoint_path

    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    config = write_config(tmp_path)
    out = tmp_path / "out.nc"
    for planted in (out.with_name(out.name + ".creating"),
                    checkpoint_path(out).with_name(checkpoint_path(out).name + ".tmp")):
        planted.symlink_to(victim)
    assert main(["run", str(config), "--hours", "2", "--out", str(out), "--quiet"]) == 0
    assert victim.read_text() == "precious\n"
    assert twin.open_results(out, load=True).attrs["run_complete"] == 1 and checkpoint_path(out).is_file()
    capsys.readouterr()
    linked = tmp_path / "linked.nc"
    linked.with_name(linked.name + ".lock").symlink_to(victim)
    assert main(["run", str(config), "--hours", "2", "--out", str(linked), "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "linked.nc.lock" in err and "symbolic link" in err, err
    assert victim.read_text() == "precious\n" and not linked.exists()


def test_eight_runs_at_once_with_one_seed_are_identical(tmp_path):
    """Eight `twin run` processes of one config (seeded feeder faults and cell variation) side by side on this
    machine's cores: every results file holds the same records, bit for bit (no shared state, no race on the
    disk, the kernel's threads deterministic under load)."""
    from conftest import assert_identical

    cfg = tmp_path / "park.toml"
    cfg.write_text(SMALL_PARK.format(cells=4, buffer=6) + "[smelter.operations]\nfeeder_fault_rate_per_day = 0.5\n"
                   "[smelter.variation]\nr_anode_sd_pct = 3.0\n")
    outs = [tmp_path / f"run{i}.nc" for i in range(8)]
    procs = [subprocess.Popen([sys.executable, "-m", "twin.cli", "run", str(cfg), "--hours", "6", "--out", str(out),
                               "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for out in outs]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    for out in outs[1:]:
        assert_identical(outs[0], out)
