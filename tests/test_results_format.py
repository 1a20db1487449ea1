"""The results file as stored: CF 1.11 by a CF checker, a plant-year under 1.5 GB, interval totals that add up,
rounded means within their stated bound, a lazy open that lets go of the file, older formats refused."""
from __future__ import annotations

import h5netcdf
import h5py
import numpy as np
import pytest
from conftest import park_with, reference_with_cells

import twin
from twin.cli import main
from twin.park import Park
from twin.results import MEAN_BITS, ResultsWriter, bitround
from twin.smelter.outputs import VARIABLES

# its tests share a module-wide fixture: built once, on one worker of `pytest -n --dist loadgroup`
pytestmark = pytest.mark.xdist_group("test_results_format")


@pytest.fixture(scope="module")
def small_results(tmp_path_factory):
    """The reference park (refinery, silo, power, carbon) with 6 cells a line, 3 hours."""
    path = tmp_path_factory.mktemp("format") / "park.nc"
    twin.run(park_with(cells=6), path, hours=3)
    return path


def test_results_pass_the_cf_checker(small_results, tmp_path):
    """IOOS compliance-checker, CF 1.11, strict: no failure and no warning (string names are labels, not
    coordinate variables; every value variable has its unit; time bounds, flags, quantization declared)."""
    from compliance_checker.runner import CheckSuite, ComplianceChecker

    CheckSuite.load_all_available_checkers()
    report = tmp_path / "cf.txt"
    passed, errors = ComplianceChecker.run_checker(str(small_results), ["cf:1.11"], verbose=1, criteria="strict",
                                                   output_filename=str(report), output_format="text")
    text = report.read_text()
    assert passed and not errors, text
    assert "All tests passed" in text
    with h5netcdf.File(small_results, "r") as f:
        unitless = [name for name, v in f.variables.items() if v.dtype.kind == "f" and "units" not in v.attrs
                    and name != "time_bounds"]      # bounds take their variable's unit (CF 7.1)
    assert unitless == []                   # event values too: one variable per unit


def test_a_plant_year_of_results_fits_in_one_and_a_half_GB(tmp_path):
    """The reference park (720 cells, 10-min records, every variable): the file's growth per day, measured
    between a 1-day and a 2-day run, times 365 plus the first day stays under 1.5 GB."""
    cfg = twin.load_config()
    one, two = tmp_path / "one.nc", tmp_path / "two.nc"
    twin.run(cfg, one, days=1)
    twin.run(cfg, two, days=2)
    per_day = two.stat().st_size - one.stat().st_size
    year = one.stat().st_size + 364 * per_day
    assert year < 1.5e9, f"{per_day / 1e6:.2f} MB per day: {year / 1e9:.2f} GB per plant-year"


def test_counters_hold_each_intervals_totals(tmp_path):
    """Each record of a cell counter holds what happened in its interval ("time: sum"): the records add up to
    the kernel's counters over the run, to the float32 the file keeps them in."""
    park = Park(reference_with_cells(3))
    start = park.smelter.counters.copy()
    park.run(tmp_path / "r.nc", 6 * 3600.0)
    with twin.open_results(tmp_path / "r.nc") as ds:
        from twin.smelter.cell import COUNTER
        from twin.smelter.outputs import COUNTER_OUTPUTS

        for kernel_name, name in COUNTER_OUTPUTS.items():
            if VARIABLES[name].method != "sum":
                continue
            assert ds[name].attrs["cell_methods"] == "time: sum", name
            done = park.smelter.counters[COUNTER[kernel_name]] - start[COUNTER[kernel_name]]
            np.testing.assert_allclose(ds[name].sum("time", dtype=float).values, done, rtol=1e-6,
                                       atol=1e-6 * max(1.0, float(np.abs(done).max())), err_msg=name)


def test_bitround_keeps_its_bits_and_bound():
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.normal(0.0, 1.0, 5000) * 10.0 ** rng.integers(-30, 30, 5000),
                        [0.0, -0.0, 1.0, 4.2, 965.3, 1e-42, np.nan, np.inf, -np.inf]]).astype(np.float32)
    r = bitround(x, MEAN_BITS)
    finite = np.isfinite(x)
    assert np.array_equal(np.isnan(r), np.isnan(x)) and np.array_equal(r[~finite & ~np.isnan(x)],
                                                                        x[~finite & ~np.isnan(x)])
    # to nearest: at most half the last kept bit, 2**-(MEAN_BITS + 1) of the value (normal numbers)
    normal = finite & (np.abs(x) > np.finfo(np.float32).tiny)
    assert np.all(np.abs(r[normal].astype(float) - x[normal]) <= 2.0 ** -(MEAN_BITS + 1) * np.abs(x[normal]))
    assert np.all(r[finite].view(np.uint32) & np.uint32((1 << (23 - MEAN_BITS)) - 1) == 0)
    assert np.array_equal(bitround(r, MEAN_BITS), r, equal_nan=True)          # rounding twice changes nothing


def test_only_the_cells_means_are_rounded(small_results):
    with twin.open_results(small_results) as ds:
        assert ds.bath_temperature.attrs["quantization_nsb"] == MEAN_BITS
        assert ds.quantization_info.attrs["algorithm"] == "bitround"
        for name in ("cell_voltage", "line_current", "metal_produced", "pot_age", "power_fraction"):
            assert "quantization" not in ds[name].attrs, name
        bits = ds.bath_temperature.values.view(np.uint32)
        assert np.all(bits & np.uint32((1 << (23 - MEAN_BITS)) - 1) == 0)


def test_open_results_is_lazy_and_lets_go(small_results):
    ds = twin.open_results(small_results)
    assert not ds.cell_voltage.variable._in_memory          # read when used, not at the open
    assert float(ds.cell_voltage.mean()) > 3.5
    with pytest.raises(OSError):
        h5py.File(small_results, "a")                        # held while the dataset is open
    ds.close()
    h5py.File(small_results, "a").close()                    # let go
    loaded = twin.open_results(small_results, load=True)
    assert loaded.cell_voltage.variable._in_memory
    h5py.File(small_results, "a").close()
    assert list(loaded.line.values) == ["PL1", "PL2"] and loaded.source.values[0] == "anode"


def test_open_results_takes_chunks_for_dask_arrays(small_results):
    """Issue 22: open_results(chunks=...) raised TypeError, so a plant-year's file had no Dask-backed arrays."""
    import dask.array

    with twin.open_results(small_results, chunks={}) as ds:       # {}: the file's own chunks
        assert isinstance(ds.cell_voltage.data, dask.array.Array)
        with twin.open_results(small_results, load=True) as whole:
            np.testing.assert_array_equal(ds.cell_voltage.values, whole.cell_voltage.values)
        assert list(ds.line.values) == ["PL1", "PL2"]


def test_a_file_of_another_format_is_refused(small_results, tmp_path, capsys):
    old = tmp_path / "old.nc"
    old.write_bytes(small_results.read_bytes())
    with h5py.File(old, "a") as f:
        del f.attrs["results_format"]          # as alutwin 0.1 wrote them: counters since the start
    with pytest.raises(ValueError, match=r"results format 1, this alutwin .* reads format 2"):
        twin.open_results(old)
    with pytest.raises(ValueError, match=r"old\.nc: results format 1"):
        ResultsWriter.reopen(old, 1, 0, Park(reference_with_cells(6)).layout())
    assert main(["report", str(old)]) == 2
    assert "results format 1" in capsys.readouterr().err


def test_a_refinery_file_opens_lazily_closes_and_reports(tmp_path):
    """A file with no labelled dimension (the refinery alone) is returned as opened: closing it lets go of the
    file (no recursion through its own close), and its report has the refinery's sections only."""
    from twin.config import default_config_path
    from twin.report import report

    out = tmp_path / "refinery.nc"
    twin.run(twin.load_config(default_config_path().parent / "refinery.toml"), out, hours=2)
    with twin.open_results(out) as ds:
        assert "line" not in ds.dims and float(ds.alumina_production.mean()) > 0
    h5py.File(out, "a").close()
    page = report(out, tmp_path / "rep").read_text()
    assert "<h2>Refinery</h2>" in page and "Potlines" not in page


def test_by_day_puts_each_record_in_the_day_its_interval_starts(tmp_path):
    """Issue 23: records are stamped at their interval's end, so resample(time="1D") makes a phantom day of the
    last record (00:00 of the next day). twin.kpi.by_day groups by the interval's start: a 2-day run from
    midnight gives 2 days of 24 hourly records, counters summed to the run's totals, means averaged, points the
    day's last."""
    from twin.kpi import by_day

    cfg = reference_with_cells(2, output_interval_s=3600.0)
    twin.run(cfg, tmp_path / "two.nc", days=2)
    ds = twin.open_results(tmp_path / "two.nc", load=True)
    assert ds.metal_produced.resample(time="1D").sum().sizes["time"] == 3       # the phantom day
    days = by_day(ds)
    assert days.sizes["day"] == 2 and list(days.records.values) == [24, 24]
    np.testing.assert_allclose(days.metal_produced.sum("day"), ds.metal_produced.sum("time", dtype=float), rtol=1e-12)
    np.testing.assert_allclose(days.cell_voltage.isel(day=0), ds.cell_voltage.isel(time=slice(0, 24)).mean(
        "time", dtype=float), rtol=1e-12)
    np.testing.assert_array_equal(days.beam_position.isel(day=1), ds.beam_position.isel(time=-1))
    assert days.metal_produced.attrs["units"] == "kg"
    with pytest.raises(ValueError, match="time_bounds: cell_methods"):
        by_day(ds, ["time_bounds"])


def test_cell_methods_say_what_the_long_names_say():
    """Issue 23: silo_inventory, spent_caustic and the tank variables said "end of interval" but carried
    time: mean. A value at the interval's end (or a total since the start) is a "point"; an interval mean a
    "mean"; the counters' interval totals a "sum"."""
    from twin.refinery.outputs import REFINERY_VARIABLES
    from twin.site.site import SITE_VARIABLES

    for name, v in {**VARIABLES, **REFINERY_VARIABLES, **SITE_VARIABLES}.items():
        text = v.long_name
        if "end of interval" in text or "end of the interval" in text or "since start" in text:
            assert v.method == "point", (name, text, v.method)
        elif text.endswith("interval mean"):
            assert v.method == "mean", (name, text, v.method)
        if text.endswith(", end"):
            raise AssertionError(f"{name}: say 'end of interval' ({text})")
