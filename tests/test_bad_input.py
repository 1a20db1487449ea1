"""Bad configurations stop with a message naming the file, the key, the value and the rule."""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.cli import main
from twin.config import CellConfig, ConfigError, load_config, parse_config

GOOD = """
[run]
days = 1.0
[[smelter.potlines]]
name = "A"
cells = 4
"""


def default_tag_map() -> Path:
    return Path(__file__).resolve().parent.parent / "configs" / "historian" / "reference.toml"


def write(tmp_path, text):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "words"), [
    (GOOD.replace("cells = 4", "cells = 4\ncurent_kA = 500"), ["smelter.potlines.0.curent_kA", "unknown key", "500",
                                                                  "did you mean 'current_kA'?"]),
    (GOOD.replace("cells = 4", "cells = -3"), ["smelter.potlines.0.cells", "-3", "greater than or equal to 1"]),
    (GOOD + "\n[smelter.cell]\nacd_cm = 12\n", ["smelter.cell.acd_cm", "12", "less than or equal to 8"]),
    (GOOD.replace("days = 1.0", "days = 1.0\nslow_step_s = 7"), ["run", "slow_step_s = 7", "whole multiple"]),
    (GOOD.replace("[[smelter.potlines]]", "[[smelter.potliness]]"), ["smelter.potliness", "unknown key",
                                                                     "did you mean 'potlines'?"]),
    (GOOD + "\n[smelter.cell]\nfoo = 1\n", ["smelter.cell.foo", "unknown key", "allowed keys: anodes"]),
    (GOOD.replace("days = 1.0", "days = inf"), ["run.days", "inf", "finite"]),
    ("[run]\ndays = 1\n", ["[smelter]", "[refinery]", "found neither"]),
    (GOOD + "\n[[smelter.potlines]]\nname = \"A\"\ncells = 2\n", ["potline names must be unique"]),
    (GOOD.replace("cells = 4", "cells = 4\nschedule = [{hour = 5, current_kA = 500}, {hour = 2, current_kA = 400}]"),
     ["schedule hours must not decrease"]),
    (GOOD.replace("cells = 4", "cells = 4\ncurrent_kA = 1000"), ["current_kA", "1000 kA", "1.5 A/cm2"]),
    (GOOD.replace("days = 1.0", "days = 1.0\nstart = 2027-01-01T00:00:00"), ["start", "time zone"]),
    ("[run\ndays = 1", ["not valid TOML"]),
    # issue 26: TOML's true is not 1 kA, 1 cell or 1 day, and a count takes no decimal point
    (GOOD.replace("cells = 4", "cells = 4\ncurrent_kA = true"), ["smelter.potlines.0.current_kA", "True",
                                                                  "a number is needed here, not true"]),
    (GOOD.replace("cells = 4", "cells = true"), ["smelter.potlines.0.cells", "not true"]),
    (GOOD.replace("days = 1.0", "days = true"), ["run.days", "not true"]),
    (GOOD.replace("days = 1.0", "days = 1.0\nseed = 1.0"), ["run.seed", "1.0", "whole number"]),
    (GOOD.replace('name = "A"', 'name = "A\\nB"'), ["smelter.potlines.0.name", "one line"]),
])
def test_bad_config_names_key_and_value(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message
    for word in words:
        assert word in message, message


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml")


def test_cli_reports_bad_config_without_traceback(tmp_path, capsys):
    path = write(tmp_path, GOOD.replace("cells = 4", "cells = 0"))
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "smelter.potlines.0.cells" in err and "Traceback" not in err


@pytest.mark.parametrize("days", ["0", "inf", "nan", "-1", "1e308", "36601"])
def test_cli_rejects_a_horizon_that_is_not_positive_and_at_most_a_century(capsys, days):
    assert main(["run", "--days", days]) == 2
    assert (f"--days must be a positive number of at most 36600 (a century of plant time), got {float(days)}"
            in capsys.readouterr().err)


@pytest.mark.parametrize(("run", "words"), [
    ("start = 9999-12-31T00:00:00Z", "a run starts between 1970-01-01 and 2100-01-01"),
    ("start = 1900-01-01T00:00:00Z", "a run starts between 1970-01-01 and 2100-01-01"),
    ("days = 1e300", "run.days = 1e+300: Input should be less than or equal to 36600"),
])
def test_a_run_outside_the_results_clock_is_refused_at_load(tmp_path, run, words):
    path = write(tmp_path, GOOD.replace("days = 1.0", run) if run.startswith("days") else
                 GOOD.replace("[run]", f"[run]\n{run}"))
    with pytest.raises(ConfigError, match=re.escape(words)):
        load_config(path)


@pytest.mark.parametrize(("options", "words"), [
    (["--interval", "0"], "interval (--interval) = 0.0 s: the model's output interval is a whole number of seconds"),
    (["--interval", "-600"], "interval (--interval) = -600.0 s"),
    (["--interval", "nan"], "interval (--interval) = nan s"),
    (["--interval", "0.001"], "interval (--interval) = 0.001 s"),
    (["--start", "garbage"], "--start 'garbage': not a time; give one in ISO 8601"),
    (["--start", "2027-01-02T00:00:00Z", "--end", "2027-01-01T00:00:00Z"],
     "--end 2027-01-01T00:00:00Z is not after --start 2027-01-02T00:00:00Z: nothing to ingest"),
    (["--start", "2028-01-01"], "nothing to ingest between 2028-01-01T00:00:00+00:00 and 2027-01-01T00:20:00+00:00"),
])
def test_ingest_refuses_a_clock_it_cannot_keep_in_one_line(tmp_path, capsys, options, words):
    export = tmp_path / "in.csv"
    export.write_text("timestamp,tag,value\n" + "".join(f"2027-01-01T00:{m:02d}:00Z,PL1.P001.VOLT,4.2\n"
                                                       for m in (0, 10, 20)))
    out = tmp_path / "o.nc"
    assert main(["ingest", str(export), "--tags", str(default_tag_map()), "--out", str(out), *options]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_a_config_that_is_not_utf8_is_named(tmp_path, capsys):
    path = tmp_path / "latin1.toml"
    path.write_bytes(GOOD.replace('name = "A"', 'name = "Pavlodar-\xe9"').encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1\.toml: not UTF-8 text \(byte 0xe9 at offset \d+\)"):
        load_config(path)
    assert main(["check-config", str(path)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_an_empty_wind_profile_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"power\.wind_profile"):
        load_config(write(tmp_path, GOOD + "\n[power]\nwind_profile = []\n"))


def test_a_damaged_checkpoint_or_results_file_is_named(tmp_path, capsys):
    import numpy as np

    import twin
    from twin.checkpoint import CheckpointError, checkpoint_path

    out = tmp_path / "out.nc"
    cfg = load_config(write(tmp_path, GOOD.replace("days = 1.0", "days = 1.0\ncheckpoint_interval_h = 1.0")))
    twin.run(cfg, out, hours=2)
    # a checkpoint whose state block lost a row: its digest no longer matches; named, not a traceback
    ckpt = checkpoint_path(out)
    with np.load(ckpt) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["block_state"] = arrays["block_state"][:-1]
    with open(ckpt, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(CheckpointError, match=r"out\.nc\.checkpoint\.npz: damaged or changed since it was written"):
        twin.Park.resume(out)
    assert main(["run", "--resume", str(out), "--quiet"]) == 2
    assert "Traceback" not in capsys.readouterr().err
    # a results file cut short in a copy
    cut = tmp_path / "cut.nc"
    cut.write_bytes(out.read_bytes()[:5000])
    with pytest.raises(OSError, match=r"cut\.nc: not a readable results file"):
        twin.open_results(cut, load=True)
    assert main(["report", str(cut)]) == 1
    err = capsys.readouterr().err
    assert "cut.nc: not a readable results file" in err and "Traceback" not in err


def test_reference_park_is_valid():
    cfg = load_config()
    assert [p.cells for p in cfg.smelter.potlines] == [360, 360]
    assert all(p.current_kA == 500 for p in cfg.smelter.potlines)


CELL_KEYS = sorted(CellConfig.model_fields)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(key=st.sampled_from(CELL_KEYS),
       value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6),
                       st.text(max_size=5), st.booleans()))
def test_any_cell_value_gives_a_valid_config_or_a_clear_error(key, value):
    data = {"smelter": {"cell": {key: value}, "potlines": [{"name": "A", "cells": 2}]}}
    try:
        cfg = parse_config(data, source="<hypothesis>")
    except ConfigError as err:
        assert "<hypothesis>" in str(err) and key in str(err)
    else:
        number = getattr(cfg.smelter.cell, key)
        assert isinstance(number, int | float) and math.isfinite(number)


def test_cell_without_steady_state_is_a_clear_error(tmp_path, capsys):
    """A cell that loses far more heat than it makes has no operating point: say so, no traceback."""
    path = write(tmp_path, GOOD + "\n[smelter.cell]\nua_top_W_per_K = 3000.0\n")
    assert main(["run", str(path), "--hours", "1", "--out", str(tmp_path / "x.nc"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "no steady heat balance" in err and "ua_top_W_per_K" in err and "Traceback" not in err
    assert not (tmp_path / "x.nc").exists()


@pytest.mark.parametrize("damage", ["cut short", "empty", "a value changed", "a block dropped",
                                    "a block's type changed"])
def test_a_tampered_checkpoint_is_refused(tmp_path, capsys, damage):
    """A checkpoint damaged or edited after it was written is refused with its path (exit 2), never resumed from
    (a changed value resumed silently before the digest) and never a traceback."""
    import io

    import numpy as np

    import twin
    from twin.checkpoint import checkpoint_path

    out = tmp_path / "out.nc"
    cfg = load_config(write(tmp_path, GOOD.replace("days = 1.0", "days = 1.0\ncheckpoint_interval_h = 1.0")))
    twin.run(cfg, out, hours=2)
    ckpt = checkpoint_path(out)
    raw = ckpt.read_bytes()
    if damage == "cut short":
        ckpt.write_bytes(raw[: len(raw) // 2])
    elif damage == "empty":
        ckpt.write_bytes(b"")
    else:
        with np.load(io.BytesIO(raw)) as data:
            arrays = {k: data[k] for k in data.files}
        if damage == "a value changed":
            arrays["block_state"] = arrays["block_state"].copy()
            arrays["block_state"][0, 0] *= 1.01
        elif damage == "a block dropped":
            del arrays["tally_start_counters"]
        else:
            arrays["block_state"] = arrays["block_state"].astype("U12")
        with open(ckpt, "wb") as f:
            np.savez(f, **arrays)
    assert main(["run", "--resume", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "out.nc.checkpoint.npz: " in err and "Traceback" not in err


def test_a_tag_map_that_is_not_utf8_is_named(tmp_path, capsys):
    export = tmp_path / "export.csv"
    export.write_text("timestamp,tag,value,quality\n2027-01-01T00:00:00Z,PL1.AMPS,500,good\n")
    tags = tmp_path / "tags.toml"
    tags.write_bytes(b"\xff\xfe cells = 2\n")
    assert main(["ingest", str(export), "--tags", str(tags), "--out", str(tmp_path / "h.nc")]) == 2
    err = capsys.readouterr().err
    assert "tags.toml: not UTF-8 text (byte 0xff at offset 0)" in err and "Traceback" not in err


@pytest.mark.parametrize(("options", "words"), [
    ({"scheduler": "nonsense::address"}, "scheduler nonsense::address: cannot reach a Dask scheduler there"),
    ({"n_workers": 0}, "workers (0) and batch size (None) must be at least 1"),
    ({"batch_size": 0}, "batch size (0) must be at least 1"),
])
def test_calibration_on_a_bad_cluster_is_a_clear_error(options, words):
    """A scheduler address that is not one, or no workers, is refused naming it, before any work is sent, and
    leaves no client behind (a failed default client made later xarray writes try to reach it)."""
    from distributed import default_client

    from twin.calibrate import calibrate_cells

    with pytest.raises((OSError, ValueError)) as caught:
        calibrate_cells(load_config(), {}, [], **options)
    assert words in str(caught.value)
    with pytest.raises(ValueError, match="No clients found"):
        default_client()


def test_no_command_writes_its_output_over_an_input(tmp_path, capsys):
    """Issue 26: `twin run self.toml --out self.toml` replaced the config with HDF5 (exit 0), `twin ingest` the
    export or the tag map. Any output over any input (the config, a file it reads, an export, the tag map, a
    report beside the ingest's output) is a one-line error, exit 2, with the input untouched."""
    from twin.cli import main

    base = tmp_path / "base.toml"
    base.write_text('base = "reference"\n')
    what_if = tmp_path / "what_if.toml"
    what_if.write_text('base = "base.toml"\n[run]\ndays = 1\n')
    export, tags = tmp_path / "in.csv", tmp_path / "tags.toml"
    export.write_text("timestamp,tag,value\n")
    tags.write_text("[signals]\n")
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('base = "what_if.toml"\nhours = 1\n[[axis]]\nkey = "run.seed"\nvalues = [1, 2]\n')
    cases = [(["run", str(what_if), "--out", str(what_if)], what_if, "the park config"),
             (["run", str(what_if), "--out", str(base)], base, "the park config (or a file it reads)"),
             (["ingest", str(export), "--tags", str(tags), "--out", str(export)], export, "an export"),
             (["ingest", str(export), "--tags", str(tags), "--out", str(tags)], tags, "the tag map"),
             # a sweep wrote its dataset over its base park (exit 0)
             (["sweep", str(sweep), "--out", str(what_if)], what_if, "its base park (or a file it reads)"),
             (["sweep", str(sweep), "--out", str(base)], base, "its base park (or a file it reads)"),
             (["sweep", str(sweep), "--out", str(sweep)], sweep, "the sweep")]
    for argv, kept, role in cases:
        before = kept.read_bytes()
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"would write over {kept}, {role}" in err, err
        assert kept.read_bytes() == before
    # the report beside the ingest's output is an output too: in.quality.csv over an export named so
    quality = tmp_path / "in.quality.csv"
    quality.write_text("timestamp,tag,value\n")
    assert main(["ingest", str(quality), "--tags", str(tags), "--out", str(tmp_path / "in.nc")]) == 2
    assert "would write over" in capsys.readouterr().err
    # a report is a folder: one named as a file (the results themselves) is refused, the file untouched
    results = tmp_path / "run.nc"
    results.write_bytes(b"\x89HDF results")
    assert main(["report", str(results), "--out", str(results)]) == 2
    assert "is a file; a report is a folder" in capsys.readouterr().err
    assert results.read_bytes() == b"\x89HDF results"


@pytest.mark.parametrize(("text", "words"), [
    ('base = "/etc/passwd"\n', "base = '/etc/passwd': give the file relative to bad.toml, not as an absolute path"),
    ('base = ".env"\n', "base = '.env': a .toml file is needed here"),
    ('base = "reference"\n[refinery]\ninclude = "/etc/passwd"\n',
     "refinery.include = '/etc/passwd': give the file relative to bad.toml"),
    ('base = "reference"\n[power]\nwind_profile_file = "/etc/passwd"\n',
     "power.wind_profile_file = '/etc/passwd': give the file relative to the config"),
    ('base = "reference"\n[power]\nwind_profile_file = "missing.txt"\n',
     "power.wind_profile_file = 'missing.txt': cannot read it"),
])
def test_files_a_config_names_are_confined_and_never_echoed(tmp_path, capsys, text, words):
    """Absolute paths and files of another kind are refused unread; nothing of what a named file holds is shown
    (a .env beside the config holds a secret here)."""
    (tmp_path / ".env").write_text("PASSWORD=hunter2\n")
    path = write(tmp_path, text)
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert words in err and "hunter2" not in err and "root:" not in err and len(err.strip().splitlines()) == 1


def test_a_wind_profile_that_is_not_numbers_is_named_by_row_not_shown(tmp_path, capsys):
    (tmp_path / "wind.txt").write_text("0.4\nPASSWORD=hunter2\n")
    path = write(tmp_path, 'base = "reference"\n[power]\nwind_profile_file = "wind.txt"\n')
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "wind.txt: row 2 is not a number" in err and "hunter2" not in err


@pytest.mark.parametrize(("text", "words"), [
    ("", "holds no cell overrides (a calibration whose fits all failed writes none)"),
    ("[smelter]\ncell_overrides = []\n", "holds no cell overrides"),
    ("smelter = 3\n", "holds [[smelter.cell_overrides]] tables only"),
    ("[smelter]\ncell_overrides = 3\n", "found cell_overrides = int"),
    ("[run]\ndays = 2\n", "found ['run']"),
])
def test_a_calibration_file_that_is_not_one_is_named(tmp_path, capsys, text, words):
    calibration = tmp_path / "cal.toml"
    calibration.write_text(text)
    assert main(["run", "--calibration", str(calibration), "--hours", "1", "--out", str(tmp_path / "o.nc")]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and not (tmp_path / "o.nc").exists()


def test_a_calibration_for_a_park_without_potlines_is_named(tmp_path, capsys):
    calibration = tmp_path / "cal.toml"
    calibration.write_text("[[smelter.cell_overrides]]\ncells = [0]\nce_ref = 0.94\n")
    refinery = Path(__file__).resolve().parent.parent / "configs" / "refinery.toml"
    assert main(["run", str(refinery), "--calibration", str(calibration), "--hours", "1",
                 "--out", str(tmp_path / "o.nc")]) == 2
    assert "per-cell parameters need a park with potlines" in capsys.readouterr().err
