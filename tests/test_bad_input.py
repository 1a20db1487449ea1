"""Bad configurations stop with a message naming the file, the key, the value and the rule."""
from __future__ import annotations

import math

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


@pytest.mark.parametrize("days", ["0", "inf", "nan", "-1"])
def test_cli_rejects_a_horizon_that_is_not_positive_and_finite(capsys, days):
    assert main(["run", "--days", days]) == 2
    assert f"--days must be a positive, finite number, got {float(days)}" in capsys.readouterr().err


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
    cases = [(["run", str(what_if), "--out", str(what_if)], what_if, "the park config"),
             (["run", str(what_if), "--out", str(base)], base, "the park config (or a file it reads)"),
             (["ingest", str(export), "--tags", str(tags), "--out", str(export)], export, "an export"),
             (["ingest", str(export), "--tags", str(tags), "--out", str(tags)], tags, "the tag map")]
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
