"""Checkpoints: an interrupted run resumed from its last checkpoint equals, bit for bit, one never stopped."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import Stop, assert_identical, stop_after

import twin
from twin import checkpoint
from twin.checkpoint import CheckpointError, checkpoint_path
from twin.cli import main

CONFIG = """
[run]
output_interval_s = 600.0
checkpoint_interval_h = {every}
buffer_records = 3
[smelter.cell]
[smelter.operations]
feeder_fault_rate_per_day = 0.2      # faults drawn, found and cleared across the stop
[smelter.variation]
r_anode_sd_pct = 3.0
feeder_dose_sd_pct = 5.0
nominal_time_sd_pct = 10.0
[[smelter.potlines]]
name = "A"
cells = {cells}
[[smelter.potlines]]
name = "B"
cells = {cells}
schedule = [{{hour = 0, current_kA = 500}}, {{hour = 5, current_kA = 520}}, {{hour = 9, current_kA = 480}}]
"""


def write_config(tmp_path: Path, cells: int, every: float) -> Path:
    path = tmp_path / "park.toml"
    path.write_text(CONFIG.format(cells=cells, every=every))
    return path


def test_resume_after_an_interruption_is_bit_identical(tmp_path):
    cfg = twin.load_config(write_config(tmp_path, cells=6, every=2.0))
    whole = twin.Park(cfg).run(tmp_path / "whole.nc", 12 * 3600.0)

    with pytest.raises(Stop):
        twin.Park(cfg).run(tmp_path / "cut.nc", 12 * 3600.0, progress=stop_after(7 * 3600.0))
    cut = twin.open_results(tmp_path / "cut.nc", load=True)
    assert cut.attrs["run_complete"] == 0 and cut.sizes["time"] >= 36      # flushed up to the stop
    resumed = twin.Park.resume(tmp_path / "cut.nc")
    assert_identical(tmp_path / "whole.nc", tmp_path / "cut.nc")
    assert resumed.metal_t == whole.metal_t and resumed.current_efficiency == whole.current_efficiency
    assert resumed.hours == whole.hours == 12


def test_killed_run_opens_and_resumes_identically(tmp_path):
    config = write_config(tmp_path, cells=150, every=1.0)
    reference = tmp_path / "reference.nc"
    twin.run(twin.load_config(config), reference, hours=24)
    out = tmp_path / "killed.nc"
    proc = subprocess.Popen([sys.executable, "-m", "twin.cli", "run", str(config), "--hours", "24", "--out", str(out),
                             "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # kill it mid-run: past its first checkpoints, with records flushed (however fast this machine is)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and not (
                checkpoint_path(out).exists() and twin.open_results(out, load=True).sizes["time"] >= 9):
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)       # whatever it is doing: between flushes or inside one (twin.undo)
        proc.wait()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert checkpoint_path(out).exists()
    assert twin.open_results(out, load=True).sizes["time"] >= 6          # opens, with what was flushed
    done, end = checkpoint.horizon(checkpoint_path(out))                # what the resume bar counts to
    assert end == 24 * 3600.0 and 0 < done < end
    assert checkpoint.horizon(tmp_path / "nothing.npz") is None
    assert main(["run", "--resume", str(out), "--quiet"]) == 0
    assert_identical(reference, out)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_a_run_between_intervals_with_one_line(tmp_path, signum):
    """Issue 26: SIGTERM exited -15 with no word and lost the unflushed records; SIGINTs were now and then
    swallowed by a callback. Either signal now stops the run after the interval it lands in: its records
    flushed, the file readable and marked incomplete, one line on stderr, exit 128 + the signal's number,
    and the resume equals a run never stopped."""
    config = write_config(tmp_path, cells=20, every=1.0)
    reference = tmp_path / "reference.nc"
    twin.run(twin.load_config(config), reference, hours=12)
    out = tmp_path / "stopped.nc"
    proc = subprocess.Popen([sys.executable, "-m", "twin.cli", "run", str(config), "--hours", "12", "--out", str(out),
                             "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120         # signalled mid-run: past its first hour's checkpoint
    while time.monotonic() < deadline and proc.poll() is None and not (
            checkpoint_path(out).exists() and checkpoint.horizon(checkpoint_path(out))[0] > 0):
        time.sleep(0.02)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, err
    assert len(err.strip().splitlines()) == 1 and ("terminated" if signum == signal.SIGTERM else "interrupted") in err
    stopped = twin.open_results(out, load=True)
    assert stopped.attrs["run_complete"] == 0 and 0 < stopped.sizes["time"] < 72
    assert main(["run", "--resume", str(out), "--quiet"]) == 0
    assert_identical(reference, out)


def test_resume_without_checkpoint_is_a_clear_error(tmp_path, capsys):
    assert main(["run", "--resume", str(tmp_path / "nothing.nc"), "--quiet"]) == 2
    assert "no checkpoint" in capsys.readouterr().err
    with pytest.raises(CheckpointError, match="no checkpoint"):
        twin.Park.resume(tmp_path / "nothing.nc")


def test_a_checkpoint_resumes_only_its_own_run(tmp_path, capsys):
    """Run A stops with a checkpoint; run B replaces the results file. A's checkpoint cannot splice A into
    B's file: resume names both runs and exits with an error; a run without checkpoints removes the stale one."""
    cfg = twin.load_config(write_config(tmp_path, cells=2, every=1.0))
    out = tmp_path / "out.nc"

    def stop_after_2h():
        done = {"s": 0.0}

        def progress(step_s: float) -> None:
            done["s"] += step_s
            if done["s"] >= 2 * 3600:
                raise Stop
        return progress

    with pytest.raises(Stop):
        twin.Park(cfg).run(out, 6 * 3600, progress=stop_after_2h())
    stale = checkpoint_path(out).read_bytes()                   # run A's checkpoint
    twin.Park(cfg).run(out, 3 * 3600)                            # run B replaces the results
    checkpoint_path(out).write_bytes(stale)
    with pytest.raises(CheckpointError, match=r"belongs to run [0-9a-f]{32}, but .*out\.nc was written by run "
                                              r"[0-9a-f]{32}"):
        twin.Park.resume(out)
    assert main(["run", "--resume", str(out), "--quiet"]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    assert twin.open_results(out, load=True).attrs["run_complete"] == 1     # B's file untouched
    # a run that keeps no checkpoints takes the stale one away with the file it replaces
    no_checkpoints = twin.load_config(write_config(tmp_path, cells=2, every=0.0))
    twin.Park(no_checkpoints).run(out, 3600)
    assert not checkpoint_path(out).exists()


def test_a_full_disk_stops_the_run_whole_and_resume_finishes_it(tmp_path, monkeypatch, capsys):
    """When the disk has no room for the next records the run stops before writing them (a write that fails half-way
    leaves an HDF5 file that does not open): one line, exit 1, the file opens with what it had; once there is room,
    --resume finishes it bit for bit as a run that never stopped."""
    from collections import namedtuple

    import twin.results

    config = write_config(tmp_path, cells=4, every=2.0)
    twin.Park(twin.load_config(config)).run(tmp_path / "whole.nc", 8 * 3600.0)
    usage = namedtuple("usage", "total used free")
    flushes = {"n": 0}

    def filling_disk(path):
        flushes["n"] += 1
        return usage(10**9, 10**9 - 10**6, 0 if flushes["n"] > 10 else 10**8)     # full after 10 writes

    monkeypatch.setattr(twin.results.shutil, "disk_usage", filling_disk)
    out = tmp_path / "full.nc"
    assert main(["run", str(config), "--hours", "8", "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "full.nc: the disk is full (0.00 MB free" in err and "twin run --resume" in err and "Traceback" not in err
    cut = twin.open_results(out, load=True)
    assert cut.attrs["run_complete"] == 0 and cut.sizes["time"] == 30          # 10 writes of 3 records
    monkeypatch.undo()                                                          # room again
    assert main(["run", "--resume", str(out), "--quiet"]) == 0
    assert_identical(tmp_path / "whole.nc", out)


def test_a_write_that_fails_is_one_line_not_a_crash(tmp_path):
    """A write the operating system refuses half-way (here: the process's file-size limit, as a full disk the
    space check could not foresee) ends the run with one line naming the file and exit 1, not a traceback or a
    crash."""
    import resource

    config = write_config(tmp_path, cells=4, every=2.0)
    # a limit a few flushes past the size of an hour's file (two flushes of three records)
    twin.run(twin.load_config(config), tmp_path / "hour.nc", hours=1)
    limit = (tmp_path / "hour.nc").stat().st_size + 6_000

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)          # the write fails (EFBIG) instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run([sys.executable, "-m", "twin.cli", "run", str(config), "--hours", "48", "--out",
                           str(tmp_path / "big.nc"), "--quiet"], capture_output=True, text=True,
                          preexec_fn=small_files, timeout=300)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "big.nc: writing records" in lines[0] and "twin run --resume" in lines[0]
    # the refused flush was undone: the file opens with every record of the flushes before it, and no more
    kept = int(lines[0].split("keeps its ")[1].split()[0])
    assert kept > 0 and not (tmp_path / "big.nc.undo").exists()
    with twin.open_results(tmp_path / "big.nc") as ds:
        assert ds.sizes["time"] == kept and np.isfinite(ds.cell_voltage.values).all()


def _forge(path: Path, **changes) -> None:
    """Rewrite the checkpoint of ``path`` with ``changes`` to its clock, its digest recomputed (a forger's)."""
    ckpt = checkpoint.load(checkpoint_path(path))
    keys = ("time_s", "end_s", "records", "events")
    values = {k: changes.get(k, ckpt[k]) for k in keys}
    checkpoint.save(checkpoint_path(path), config=ckpt["config"], source=ckpt["source"], blocks=ckpt["blocks"],
                    rng=ckpt["rng"], tally=ckpt["tally"], **values)


@pytest.mark.parametrize(("changes", "complete", "words"), [
    ({"end_s": 3600.0}, False, "do not make a run"),                  # an end before its time
    ({"time_s": -7200.0}, False, "do not make a run"),
    ({"records": 5}, False, "do not fit its time"),
    ({"events": 10**6}, False, "they do not belong together"),
    ({}, True, "the run is complete (run_complete = 1): nothing to resume"),
])
def test_a_forged_checkpoint_never_cuts_its_results_file(tmp_path, capsys, changes, complete, words):
    """A checkpoint whose digest was recomputed over a changed clock, or one beside a complete file, is refused
    before the results file is touched: it keeps every record."""
    cfg = twin.load_config(write_config(tmp_path, cells=2, every=2.0))
    out = tmp_path / "run.nc"
    done = {"s": 0.0}

    def stop_after_5_hours(seconds):
        done["s"] += seconds
        if done["s"] >= 5 * 3600 and not complete:
            raise Stop

    if complete:
        twin.Park(cfg).run(out, 6 * 3600.0)
        assert checkpoint_path(out).exists()
    else:
        with pytest.raises(Stop):
            twin.Park(cfg).run(out, 8 * 3600.0, progress=stop_after_5_hours)
    _forge(out, **changes)
    before = out.read_bytes()
    assert main(["run", "--resume", str(out)]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert out.read_bytes() == before


def test_a_checkpoint_holding_python_objects_is_refused_without_numpys_advice(tmp_path):
    """np.load refuses object arrays and advises allow_pickle=True, which would run what the file holds: the
    message says what the file is instead."""
    path = tmp_path / "run.nc.checkpoint.npz"
    np.savez(path, meta=np.array([{"format": 1}], dtype=object))
    with pytest.raises(CheckpointError) as err:
        checkpoint.load(path)
    assert "holds Python objects" in str(err.value) and "allow_pickle" not in str(err.value)


def test_a_reader_holding_the_file_postpones_the_checkpoint_and_does_not_stop_the_run(tmp_path, monkeypatch,
                                                                                      caplog):
    """A lazy reader holds the file from plant hour 1.5 to 3.5 (over the checkpoints due at 2 and 3 h): the run
    goes on, says once that the checkpoint waits, saves it when the reader lets go, and a run stopped after it
    resumes from it bit-identically."""
    from twin import loop

    monkeypatch.setattr(loop, "CHECKPOINT_WAIT_S", 0.05)
    cfg = twin.load_config(write_config(tmp_path, cells=2, every=1.0))
    twin.Park(cfg).run(tmp_path / "whole.nc", 6 * 3600.0)
    out = tmp_path / "held.nc"
    state = {"s": 0.0, "reader": None, "saved_at": []}

    def hold(seconds):
        state["s"] += seconds
        h = state["s"] / 3600.0
        if abs(h - 1.5) < 1e-9:
            state["reader"] = twin.open_results(out)            # lazy: holds the file open
        if abs(h - 3.5) < 1e-9:
            state["reader"].close()
        if 2.0 <= h <= 3.5:
            assert checkpoint.horizon(checkpoint_path(out))[0] <= 3600.0      # nothing saved while held
        if h > 3.5 and not state["saved_at"]:
            state["saved_at"].append(checkpoint.horizon(checkpoint_path(out))[0])
        if h >= 4.5:
            raise Stop

    with caplog.at_level("WARNING", logger="twin.results"), pytest.raises(Stop):
        twin.Park(cfg).run(out, 6 * 3600.0, progress=hold)
    assert [r.getMessage().count("a reader holds the file") for r in caplog.records] == [1]
    assert state["saved_at"] == [3.5 * 3600.0 + 600.0]         # postponed to the first interval after it let go
    twin.Park.resume(out)
    assert_identical(tmp_path / "whole.nc", out)


@pytest.mark.parametrize(("open_at_h", "words"), [(1.0, "records wait for it to let go, and the run with them"),
                                                  (2.0, "the run's end waits for it to let go")])
def test_a_reader_holding_the_file_for_long_or_at_the_end_makes_the_run_wait_not_fail(tmp_path, monkeypatch, caplog,
                                                                                        open_at_h, words):
    """A lazy reader opened at plant hour 1 (or at the last interval, 2 h) and let go 3 s of wall time later: the
    run holds its records while it may (6), then waits for the reader (or its end waits); it is said once, and
    the file is complete and equal to one never read."""
    import threading

    from twin import loop, results

    monkeypatch.setattr(loop, "CHECKPOINT_WAIT_S", 0.05)
    monkeypatch.setattr(results, "CLOSE_TELL_AFTER_S", 0.1)
    monkeypatch.setattr(results, "MAX_HELD_RECORDS", 6)
    cfg = twin.load_config(write_config(tmp_path, cells=2, every=1.0))
    twin.Park(cfg).run(tmp_path / "whole.nc", 2 * 3600.0)
    out = tmp_path / "held.nc"
    state = {"s": 0.0}

    def hold(seconds):
        state["s"] += seconds
        if abs(state["s"] - open_at_h * 3600.0) < 1e-9:
            reader = twin.open_results(out)
            threading.Timer(3.0, reader.close).start()

    started = time.monotonic()
    with caplog.at_level("WARNING", logger="twin.results"):
        twin.Park(cfg).run(out, 2 * 3600.0, progress=hold)
    assert time.monotonic() - started >= 3.0
    told = [r.getMessage() for r in caplog.records if "wait for it to let go" in r.getMessage()
            or "waits for it to let go" in r.getMessage()]
    assert len(told) == 1 and words in told[0], told
    assert_identical(tmp_path / "whole.nc", out)
    assert twin.open_results(out, load=True).attrs["run_complete"] == 1


def _edit_checkpoint(out: Path, edit) -> None:
    """Change the arrays (and the metadata, as a dict under "meta") of ``out``'s checkpoint and recompute its
    digest, as a forger who read the code would."""
    import json

    path = checkpoint_path(out)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files if k != "digest"}
    meta = json.loads(str(arrays["meta"]))
    edit(meta, arrays)
    arrays["meta"] = np.array(json.dumps(meta))
    with open(path, "wb") as f:
        np.savez(f, digest=np.array(checkpoint._digest(arrays)), **arrays)


def _edit_results(out: Path, edit) -> None:
    import h5py

    with h5py.File(out, "r+") as f:
        edit(f)


def _set_time(f, i, value):
    f["time"][i] = value


@pytest.mark.parametrize(("damage", "words"), [
    (lambda out: _edit_checkpoint(out, lambda m, a: m.pop("tally")),
     "its entry 'tally' is missing where a checkpoint holds a table"),
    (lambda out: _edit_checkpoint(out, lambda m, a: m.pop("config")), "its entry 'config' is missing"),
    (lambda out: _edit_checkpoint(out, lambda m, a: m.update(records=float(m["records"]))),
     "where a checkpoint holds a whole number"),
    (lambda out: _edit_checkpoint(out, lambda m, a: a.update(block_state=a["block_state"].astype("U12"))),
     "its array 'block_state' holds <U12 where a checkpoint holds numbers"),
    (lambda out: _edit_checkpoint(out, lambda m, a: a.update({"block_../../../evil": np.zeros(3)})),
     "its state blocks ['../../../evil'] are not those of its configuration"),
    (lambda out: _edit_checkpoint(out, lambda m, a: a.update(tally_start_counters=np.array(["x"]))),
     "its array 'tally_start_counters' holds <U1"),
    (lambda out: _edit_checkpoint(out, lambda m, a: m["tally"].pop("charge")), "tally ['charge']"),
    (lambda out: _edit_results(out, lambda f: _set_time(f, 1, np.nan)), "record 2 of "),
    (lambda out: _edit_results(out, lambda f: _set_time(f, 0, -1e9)), "record 1 of "),
    (lambda out: _edit_results(out, lambda f: f.attrs.__setitem__("results_format", 1)), "results format 1"),
    (lambda out: _edit_results(out, lambda f: f.__delitem__("cell_voltage")), "lacks the variables ['cell_voltage']"),
])
def test_a_damaged_checkpoint_or_results_file_of_this_format_is_refused_in_one_line(tmp_path, capsys, damage,
                                                                                     words):
    """Checkpoints and results files made for the current format but damaged or forged (digest recomputed): an
    entry missing or of the wrong type, text where numbers are, a block no configuration has (a path in its name),
    a record's time changed, a file of format 1 or lacking a variable: `twin run --resume` refuses each in one line
    (exit 2) and leaves the results file as it was."""
    cfg = twin.load_config(write_config(tmp_path, cells=2, every=1.0))
    out = tmp_path / "run.nc"
    with pytest.raises(Stop):
        twin.Park(cfg).run(out, 6 * 3600.0, progress=stop_after(3 * 3600.0))
    damage(out)
    before = out.read_bytes()
    assert main(["run", "--resume", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "Traceback" not in err and len(err.splitlines()) == 1, err
    assert out.read_bytes() == before
    assert not (tmp_path / "evil").exists()


def test_a_results_file_whose_records_are_out_of_time_is_refused_by_the_reader(tmp_path, capsys):
    """A record's time changed (NaN, or before the run's start) after the run: open_results and twin report say
    which record, not a report over a wrong time axis."""
    cfg = twin.load_config(write_config(tmp_path, cells=2, every=1.0))
    out = tmp_path / "run.nc"
    twin.Park(cfg).run(out, 2 * 3600.0)
    for i, value in ((3, np.nan), (0, -1e9)):
        _edit_results(out, lambda f, i=i, value=value: _set_time(f, i, value))
        with pytest.raises(ValueError, match=rf"run\.nc: record {i + 1} is at .*, not 2027-01-01T0"):
            twin.open_results(out)
        assert main(["report", str(out), "--out", str(tmp_path / "report")]) == 2
        err = capsys.readouterr().err
        assert f"record {i + 1} is at" in err and "Traceback" not in err
        _edit_results(out, lambda f, i=i: _set_time(f, i, 600.0 * (i + 1)))
    twin.open_results(out, load=True)                      # put back: whole again


def test_a_link_planted_as_the_results_file_is_never_written_through(tmp_path, capsys):
    """A symbolic link where the results go: a run refuses it as an existing file (exit 2), replaces the link itself
    with --force (its target unchanged), and --resume refuses a results file that is a link."""
    cfg = write_config(tmp_path, cells=2, every=1.0)
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    out = tmp_path / "run.nc"
    out.symlink_to(target)
    assert main(["run", str(cfg), "--hours", "1", "--out", str(out), "--quiet"]) == 2
    assert main(["run", str(cfg), "--hours", "1", "--out", str(out), "--quiet", "--force"]) == 0
    assert target.read_text() == "keep me" and not out.is_symlink()
    capsys.readouterr()
    moved = tmp_path / "moved.nc"
    out.rename(moved)
    out.symlink_to(moved)
    assert main(["run", "--resume", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "run.nc: is a symbolic link" in err and "Traceback" not in err


def test_the_summary_gives_each_line_and_the_bath_and_a_resumed_run_gives_the_same(tmp_path):
    """Issue 23: the run's summary has the bath (temperature, superheat, excess AlF3) and each line's figures: they
    are the results file's (the lines' metal adds up to the park's; a line's means are the means over the run of
    its interval means), and a run stopped and resumed from its checkpoint gives the same summary."""
    cfg = twin.load_config(write_config(tmp_path, cells=2, every=1.0))
    whole = twin.Park(cfg).run(tmp_path / "whole.nc", 4 * 3600.0)
    assert whole.lines is not None and [ln.name for ln in whole.lines] == ["A", "B"]
    assert sum(ln.metal_t for ln in whole.lines) == pytest.approx(whole.metal_t, rel=1e-12)
    ds = twin.open_results(tmp_path / "whole.nc", load=True)
    for j, line in enumerate(whole.lines):
        cells = ds.cell_line.values == j
        for name, value in (("bath_temperature", line.bath_temperature_C), ("superheat", line.superheat_K),
                            ("excess_alf3", line.excess_alf3_wt), ("cell_voltage", line.mean_voltage_V)):
            assert value == pytest.approx(float(np.mean(np.nanmean(ds[name].values[:, cells], axis=1))), rel=1e-6)
    assert whole.bath_temperature_C == pytest.approx(np.mean([ln.bath_temperature_C for ln in whole.lines]))
    assert "by line" in str(whole) and "superheat" in str(whole)
    out = tmp_path / "stopped.nc"
    with pytest.raises(Stop):
        twin.Park(cfg).run(out, 4 * 3600.0, progress=stop_after(2.5 * 3600.0))
    resumed = twin.Park.resume(out)
    assert resumed.lines == whole.lines
    assert (resumed.bath_temperature_C, resumed.metal_t) == (whole.bath_temperature_C, whole.metal_t)
