"""Historian ingest: long and wide CSV, Parquet, defects handled, bad files and tag maps rejected clearly."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import reference_with_cells

import twin
from twin.cli import main
from twin.config import default_config_path
from twin.historian import HistorianError, ingest, load_tag_map, read_export

TAG_MAP = default_config_path().parent / "historian" / "reference.toml"

ROWS = [  # timestamp, tag, value, quality
    ("2027-01-01T06:00:05+06:00", "PL1.P001.VOLT", "4.21", "good"),      # = 00:00:05 UTC
    ("2027-01-01T00:05:00Z", "PL1.P001.VOLT", "4.23", "good"),
    ("2027-01-01T00:03:00Z", "PL1.P001.VOLT", "4.25", "good"),           # out of order ...
    ("2027-01-01T00:03:00Z", "PL1.P001.VOLT", "4.26", "substituted"),    # ... and a duplicate: the last counts
    ("2027-01-01T00:12:00Z", "PL1.P001.VOLT", "9.99", "bad"),            # rejected
    ("2027-01-01T00:14:00Z", "PL1.P001.VOLT", "4.30", "questionable"),   # kept, counted
    ("2027-01-01T00:12:00Z", "PL2.AMPS", "500.1", "good"),               # kA -> A, line 2
    ("2027-01-01T06:30:00", "PL2.P360.TEMP", "961.5", "good"),           # naive: Asia/Almaty (UTC+5/+6)
    ("2027-01-01T00:12:00Z", "XX.UNKNOWN", "1", "good"),
]


def write_long(tmp_path: Path, rows=ROWS, name="long.csv") -> Path:
    path = tmp_path / name
    pd.DataFrame(rows, columns=["timestamp", "tag", "value", "quality"]).to_csv(path, index=False)
    return path



@pytest.fixture
def tag_map():
    return load_tag_map(TAG_MAP)


def test_long_csv_cleaned_and_on_the_model_clock(tmp_path, tag_map):
    ds, report = ingest([write_long(tmp_path)], tag_map, interval_s=600.0)
    volts = ds.cell_voltage.sel(cell=0).values
    assert volts[0] == pytest.approx((4.21 + 4.26 + 4.23) / 3)        # duplicate: last kept; bad: rejected
    assert volts[1] == pytest.approx(4.30)
    assert ds.line_current.sel(line=1).values[1] == pytest.approx(500.1e3)
    assert ds.line_current.attrs["units"] == "A"
    assert str(ds.time.values[0]) == "2027-01-01T00:10:00.000000000"
    sample = ds.sample_value.values
    assert list(ds.sample_variable.values) == ["bath_temperature"] and sample[0] == pytest.approx(961.5)
    assert int(ds.sample_index.values[0]) == 719
    assert pd.Timestamp(ds.sample_time.values[0]).hour in (0, 1)          # 06:30 local -> 00:30/01:30 UTC
    rows = report.set_index("tag")
    assert rows.loc["PL1.P001.VOLT", "duplicates"] == 1 and rows.loc["PL1.P001.VOLT", "bad"] == 1
    assert rows.loc["PL1.P001.VOLT", "out_of_order"] >= 1 and rows.loc["PL1.P001.VOLT", "questionable"] == 1
    assert rows.loc["XX.UNKNOWN", "status"] == "unknown tag"


def test_wide_csv_and_parquet_give_the_same(tmp_path, tag_map):
    long = write_long(tmp_path, ROWS[1:3])
    wide = tmp_path / "wide.csv"
    pd.DataFrame({"Timestamp": ["2027-01-01T00:05:00Z", "2027-01-01T00:03:00Z"],
                  "PL1.P001.VOLT": ["4.23", "4.25"], "PL2.AMPS": ["", "500"]}).to_csv(wide, index=False)
    parquet = tmp_path / "long.parquet"
    pd.read_csv(long, dtype=str).to_parquet(parquet)
    a, _ = ingest([long], tag_map)
    b, _ = ingest([wide], tag_map)
    c, _ = ingest([parquet], tag_map)
    np.testing.assert_array_equal(a.cell_voltage.values, b.cell_voltage.values)
    np.testing.assert_array_equal(a.cell_voltage.values, c.cell_voltage.values)
    assert b.line_current.sel(line=1).values[0] == pytest.approx(500e3)


def test_stuck_sensor_rejected(tmp_path, tag_map):
    times = pd.date_range("2027-01-01", periods=100, freq="10min", tz="UTC")
    rows = [(t.isoformat(), "PL1.P002.VOLT", "4.2" if 20 <= i < 80 else f"{4.1 + i * 1e-3:.4f}", "good")
            for i, t in enumerate(times)]
    _, report = ingest([write_long(tmp_path, rows)], tag_map, interval_s=3600.0)
    assert report.set_index("tag").loc["PL1.P002.VOLT", "stuck"] == 59          # 10 h frozen, first kept
    assert report.set_index("tag").loc["PL1.P002.VOLT", "longest_gap_h"] > 9.0


@pytest.mark.parametrize(("rows", "columns", "words"), [
    ([("2027-01-01T00:00Z", "PL1.AMPS", "500")], ["time", "tag", "value"], ["no 'timestamp' column"]),
    ([("2027-01-01T00:00Z", "PL1.AMPS")], ["timestamp", "tag"], ["missing ['value']"]),
    ([("2027-01-01T00:00Z", "PL1.AMPS", "500"), ("yesterday", "PL1.AMPS", "500")], ["timestamp", "tag", "value"],
     ["row 3", "'timestamp'", "yesterday"]),
    ([("2027-01-01T00:00Z", "PL1.AMPS", "5OO")], ["timestamp", "tag", "value"], ["row 2", "'value'", "5OO"]),
    ([("2027-01-01T00:00Z", "PL1.AMPS", "500", "meh")], ["timestamp", "tag", "value", "quality"],
     ["row 2", "quality", "meh", "allowed"]),
])
def test_bad_exports_name_file_row_and_column(tmp_path, rows, columns, words):
    path = tmp_path / "bad.csv"
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    with pytest.raises(HistorianError) as err:
        read_export(path)
    for w in (str(path), *words):
        assert w in str(err.value)


@pytest.mark.parametrize(("text", "words"), [
    ("cells = 4\n[[signal]]\npattern = 'A(?P<pot>\\d)'\nvariable = 'cell_voltage'\nunit = 'furlong'\n",
     ["signal[0].unit", "furlong"]),
    ("cells = 4\n[[signal]]\npattern = 'A'\nvariable = 'voltage'\n", ["signal[0].variable", "'voltage'", "allowed"]),
    ("cells = 4\n[[signal]]\npattern = '('\nvariable = 'cell_voltage'\n", ["signal[0].pattern", "regular"]),
    ("cells = 4\ncolour = 'red'\n", ["colour: unknown key", "allowed: cells, lines"]),
    ("lines = 2\n", ["cells: required key is missing"]),
    # the attack list of issue 26: each one line naming the key and the value
    ("cells = 4\nlines = 0\n", ["lines = 0: Input should be greater than or equal to 1"]),
    ("cells = 'four'\n", ["cells = 'four'", "valid integer"]),
    ("cells = 4\nsignal = 3\n", ["signal = 3", "valid list"]),
    ("cells = 4\n[[signal]]\npattern = 3\nvariable = 'cell_voltage'\n", ["signal[0].pattern = 3", "valid string"]),
    ("cells = 4\n[[signal]]\npattern = 'P(?P<pot>\\d)'\nvariable = ['cell_voltage']\n",
     ["signal[0].variable = ['cell_voltage']", "valid string"]),
    ("cells = 4\n[[signal]]\npattern = 'P(?P<pot>\\d)'\nvariable = 'cell_voltage'\ncells_per_line = 'four'\n",
     ["signal[0].cells_per_line = 'four'"]),
    ("cells = 4\ntimezone = 'Mars/Olympus_Mons'\n", ["timezone = 'Mars/Olympus_Mons'", "IANA"]),
    ("cells = 4\n[[signal]]\npattern = 'PL1.VOLT'\nvariable = 'cell_voltage'\n",
     ["signal[0].pattern 'PL1.VOLT'", "has no (?P<pot>...) group, and a line has 4 cells"]),
    ("cells = 4\nlines = 2\n[[signal]]\npattern = 'P(?P<pot>\\d)'\nvariable = 'cell_voltage'\n",
     ["has no (?P<line>...) group, and there are 2 lines"]),
])
def test_bad_tag_maps_are_clear(tmp_path, text, words):
    path = tmp_path / "tags.toml"
    path.write_text(text)
    with pytest.raises(HistorianError) as err:
        load_tag_map(path)
    for w in (str(path), *words):
        assert w in str(err.value)


def test_twin_run_exported_and_ingested_back(tmp_path, tag_map):
    """A run's own voltages, written as a historian would, come back as the same interval means."""
    twin.run(reference_with_cells(3, output_interval_s=600.0), tmp_path / "run.nc", hours=2)
    ds = twin.open_results(tmp_path / "run.nc", load=True)
    rows = []
    for t, v in zip(ds.time.values, ds.cell_voltage.sel(cell=1).values, strict=True):
        stamp = (pd.Timestamp(t) - pd.Timedelta(seconds=300)).tz_localize("UTC").isoformat()
        rows.append((stamp, "PL1.P002.VOLT", repr(float(v)), "good"))
    back, _ = ingest([write_long(tmp_path, rows)], load_tag_map(TAG_MAP), interval_s=600.0,
                     start="2027-01-01T00:00:00")
    np.testing.assert_allclose(back.cell_voltage.sel(cell=1).values, ds.cell_voltage.sel(cell=1).values,
                               rtol=1e-6)


def test_ingest_and_report_show_their_progress_when_asked(tmp_path, capsys):
    """Issue 23: ingest has a bar over the tags, the report over the days it reads (tqdm on stderr); the commands
    show them on a terminal unless --quiet, never in a pipe or a log."""
    ingest([write_long(tmp_path)], load_tag_map(TAG_MAP), progress=True)
    bar = capsys.readouterr().err
    assert "tags:" in bar and "/4 [" in bar, bar                      # over the export's 4 tags
    from twin.report import report

    results = tmp_path / "run.nc"
    twin.run(reference_with_cells(2), results, hours=2)
    report(results, tmp_path / "page", progress=True)
    bar = capsys.readouterr().err
    assert "days read:" in bar and "/1 [" in bar, bar                 # one calendar day
    assert main(["report", str(results), "--out", str(tmp_path / "page2")]) == 0          # stderr is no terminal
    assert "days read" not in capsys.readouterr().err


def test_cli_ingest(tmp_path, capsys):
    out = tmp_path / "data.nc"
    assert main(["ingest", str(write_long(tmp_path)), "--tags", str(TAG_MAP), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "XX.UNKNOWN" in text and out.exists() and (tmp_path / "data.quality.csv").exists()
    assert main(["ingest", str(tmp_path / "missing.csv"), "--tags", str(TAG_MAP), "--out", str(out),
                 "--force"]) == 2


def test_ingest_never_replaces_a_file_unasked_nor_one_a_run_is_writing(tmp_path, capsys):
    """An existing --out needs --force; a file a run holds (its lock) is refused whatever; the file stays whole."""
    from twin.results import output_lock

    export, out = write_long(tmp_path), tmp_path / "data.nc"
    out.write_bytes(b"a run's results")
    assert main(["ingest", str(export), "--tags", str(TAG_MAP), "--out", str(out)]) == 2
    assert "exists; give --force" in capsys.readouterr().err and out.read_bytes() == b"a run's results"
    with output_lock(out):
        assert main(["ingest", str(export), "--tags", str(TAG_MAP), "--out", str(out), "--force"]) == 1
    assert "another run" in capsys.readouterr().err and out.read_bytes() == b"a run's results"
    assert main(["ingest", str(export), "--tags", str(TAG_MAP), "--out", str(out), "--force"]) == 0
    assert out.read_bytes()[:4] == b"\x89HDF" and not list(tmp_path.glob(".*.writing"))


def test_an_ingest_the_system_refuses_half_way_is_one_line_and_keeps_what_was_there(tmp_path):
    """A file-size limit below the ingested file's size (a full disk the same): one line naming the file, exit 1,
    the --out written before unchanged and nothing left beside it (it ended in a segmentation fault after pages of
    h5py tracebacks, leaving a file that did not open)."""
    import resource
    import signal
    import subprocess
    import sys

    export, out = write_long(tmp_path), tmp_path / "data.nc"
    assert main(["ingest", str(export), "--tags", str(TAG_MAP), "--out", str(out)]) == 0
    before = out.read_bytes()
    limit = len(before) // 2

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)          # the write fails (EFBIG) instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run([sys.executable, "-m", "twin.cli", "ingest", str(export), "--tags", str(TAG_MAP), "--out",
                           str(out), "--force"], capture_output=True, text=True, preexec_fn=small_files, timeout=300)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "data.nc: cannot be written" in lines[0] and "it is as it was" in lines[0], lines
    assert out.read_bytes() == before and not list(tmp_path.glob(".*.writing"))


def test_synthetic_export_recovered_by_ingest(tmp_path, tag_map):
    """A run exported with noise, compression, gaps, bad flags and jitter comes back within the noise."""
    from twin.synthetic import Defects, historian_export

    twin.run(reference_with_cells(4, output_interval_s=600.0), tmp_path / "run.nc", days=2)
    truth = twin.open_results(tmp_path / "run.nc", load=True)
    export = historian_export(tmp_path / "run.nc", tmp_path / "export.csv", Defects(seed=3))
    small_map = tmp_path / "tags.toml"
    small_map.write_text(TAG_MAP.read_text().replace("cells = 720", "cells = 8"))
    data, report = ingest([export], load_tag_map(small_map), interval_s=600.0, start="2027-01-01T00:00:00")
    for k in range(8):
        got, want = data.cell_voltage.sel(cell=k).values, truth.cell_voltage.sel(cell=k).values
        present = ~np.isnan(got)
        assert present.mean() > 0.5                                   # compression and gaps thin it out
        assert np.all(np.abs(got[present] - want[present]) < 0.03)    # noise 5 mV, deadband 2 mV
    volts = report[report["tag"].str.endswith("VOLT")]
    assert volts["bad"].sum() > 0 and (report["status"] == "ok").all()
    # the lab and tap records come back as samples at their own times
    kinds = set(data.sample_variable.values)
    assert {"bath_temperature", "excess_alf3", "tap_weight"} <= kinds
    # and the pot control system's logs as event tables: feed, beam moves, anodes, AlF3 added
    assert {"alumina_fed", "beam_move", "anodes_set", "alf3_addition"} <= kinds
    fed = data.sample_value.values[data.sample_variable.values == "alumina_fed"].sum()
    assert fed == pytest.approx(float(truth.alumina_fed.sum(dtype=float)), rel=1e-9)
    taps = data.sample_value.values[data.sample_variable.values == "tap_weight"]
    assert 3000 < np.median(taps) < 5000                              # t in the export -> kg in the model


def test_a_pot_beyond_its_line_is_refused_naming_tag_and_pattern(tmp_path):
    """PL1.P005 on lines of 4 pots would have landed in PL2.P001's cell."""
    tags = tmp_path / "tags.toml"
    tags.write_text("cells = 8\nlines = 2\n[[signal]]\npattern = 'PL(?P<line>\\d)\\.P(?P<pot>\\d{3})\\.VOLT'\n"
                    "variable = 'cell_voltage'\nunit = 'V'\n")
    export = tmp_path / "export.csv"
    export.write_text("timestamp,tag,value\n2027-01-01T00:00:00Z,PL1.P005.VOLT,4.2\n"
                      "2027-01-01T00:10:00Z,PL1.P004.VOLT,4.2\n")
    with pytest.raises(HistorianError, match=r"tag 'PL1.P005.VOLT' \(pattern .*\) is pot 005; a line has pots 1..4"):
        ingest([export], load_tag_map(tags))
    export.write_text("timestamp,tag,value\n2027-01-01T00:00:00Z,PL3.P001.VOLT,4.2\n")
    with pytest.raises(HistorianError, match=r"tag 'PL3.P001.VOLT' .* is on line 3; the map has lines 1..2"):
        ingest([export], load_tag_map(tags))


@pytest.mark.parametrize(("tag", "values", "words"), [
    ("PL1.AMPS", ("500000", "500100", "499900"), "tag 'PL1.AMPS': 100 % of its values are outside line_current's "
     "range 0..1e+06 A read as 'kA' (the tag map); 0.001 times them"),
    ("PL1.P001.VOLT", ("4210", "4230", "4190"), "tag 'PL1.P001.VOLT': 100 % of its values are outside cell_voltage's "
     "range 0..80 V read as 'V' (the tag map); 0.001 times them"),
])
def test_a_unit_off_by_a_thousand_is_refused(tmp_path, tag, values, words):
    """A current in A under a tag map in kA, a voltage in mV under V: the values leave the variable's physical range
    and come back into it at 1/1000, so ingest names the tag and the likely factor instead of dropping them all."""
    export = tmp_path / "export.csv"
    export.write_text("timestamp,tag,value\n" + "".join(f"2027-01-01T00:{10 * i:02d}:00Z,{tag},{v}\n"
                                                       for i, v in enumerate(values)))
    with pytest.raises(HistorianError, match=re.escape(words)):
        ingest([export], load_tag_map(Path(__file__).resolve().parent.parent / "configs" / "historian"
                                      / "reference.toml"))
