"""`twin report`: a plant manager's page (KPIs by line and day on dates, target bands, maps of each line's pots,
anode effects, worst pots); the figures add up to what the file says; the page opens in a real browser."""
from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from conftest import park_with
from matplotlib.image import imread

import twin
from twin._core.pot import AL_KG_PER_COULOMB
from twin.cli import main
from twin.kpi import plant_kpis, worst_pots
from twin.report import _kpi_table, report

# its tests share a module-wide fixture: built once, on one worker of `pytest -n --dist loadgroup`
pytestmark = pytest.mark.xdist_group("test_report")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """The reference park with 6 cells a line, 30 hours: two calendar days."""
    path = tmp_path_factory.mktemp("report") / "park.nc"
    twin.run(park_with(cells=6), path, hours=30)
    return path


def test_report_writes_a_page_with_every_figure(results, tmp_path):
    index = report(results, tmp_path / "rep")
    page = index.read_text()
    images = re.findall(r'<img src="([^"]+)"', page)
    assert {"daily_kpis.png", "line_means.png", "map_PL1.png", "map_PL2.png", "line_current_and_power.png",
            "silo.png", "refinery.png", "carbon_by_source.png"} <= set(images)
    for name in images:
        picture = imread(index.parent / name)
        assert picture.shape[0] > 100 and picture.shape[1] > 300, name
        assert float(np.std(picture[..., :3])) > 0.02, f"{name} is blank"
    for words in ("period (UTC)", "2027-01-01 00:00 to 2027-01-02 06:00", "KPIs by line over the run",
                  "KPIs by day and line", "Worst pots", "Anode effects", "per pot-day", "DC kWh/kg", "AlF3 kg/t",
                  "net C kg/t", "Carbon footprint", "t CO2e/t Al", "Circular flows", "red mud", "spent pot lining"):
        assert words in page, words
    days = re.findall(r"<th>(2027-01-0\d)</th><th>(PL\d)</th>", page)
    assert days == [("2027-01-01", "PL1"), ("2027-01-01", "PL2"), ("2027-01-02", "PL1"), ("2027-01-02", "PL2")]


def test_kpis_add_up_to_the_file(results):
    with twin.open_results(results) as ds:
        kpis = plant_kpis(ds, pot_bins=2)
        metal = ds.metal_produced.sum("time", dtype=float).values
        line_of = ds.cell_line.values
        charge = (ds.line_current.values[:, line_of] * ds.in_service.values).astype(float) \
            * float(ds.attrs["output_interval_s"])
        voltage = ds.cell_voltage.values
        for j, name in enumerate(["PL1", "PL2"]):
            cells = line_of == j
            daily = kpis.daily.xs(name, level="line")
            assert daily.metal_t.sum() == pytest.approx(metal[cells].sum() / 1e3, rel=1e-12)
            assert kpis.lines.loc[name, "metal_t"] == pytest.approx(metal[cells].sum() / 1e3, rel=1e-12)
            # CE = metal / Faraday's for the charge = the charge-weighted mean of the cells' CE (7 digits kept)
            weighted = np.sum(ds.current_efficiency.values[:, cells] * charge[:, cells]) / charge[:, cells].sum()
            assert kpis.lines.loc[name, "current_efficiency"] == pytest.approx(100 * weighted, rel=1e-5)
            assert kpis.lines.loc[name, "current_efficiency"] == pytest.approx(
                100 * metal[cells].sum() / (AL_KG_PER_COULOMB * charge[:, cells].sum()), rel=1e-12)
            # a map's bin is the mean of the pots and records it covers: 6 pots in rows of 3
            assert kpis.pots_per_row[name] == 3
            bins = np.arange(ds.sizes["time"]) * kpis.maps[name]["cell_voltage"].shape[1] // ds.sizes["time"]
            first = np.flatnonzero(cells)[:3]
            assert kpis.maps[name]["cell_voltage"][0, 0] == pytest.approx(
                np.nanmean(voltage[np.ix_(bins == 0, first)].astype(float)), rel=1e-12)
        # the first day holds 24 h of records, the second the 6 h left
        assert list(kpis.daily.index.get_level_values("day").unique()) == [pd.Timestamp("2027-01-01"),
                                                                          pd.Timestamp("2027-01-02")]
        ae = ds.anode_effect_count.sum(dtype=float).values
        assert kpis.lines.ae_frequency.mul(kpis.lines.pots).sum() * 30 / 24 == pytest.approx(float(ae), rel=1e-9)
    worst = worst_pots(kpis.pots, n=4)
    assert len(worst) == 4 and worst.specific_energy.is_monotonic_decreasing
    assert worst.specific_energy.iloc[-1] >= kpis.pots.specific_energy.drop(worst.index).max()


def test_values_outside_their_target_band_are_marked():
    table = _kpi_table(pd.DataFrame({"line": ["PL1"], "current_efficiency": [90.0], "specific_energy": [13.0]}),
                       ("line",))
    assert "<td class='off' title='target 93-96 %'>90.00</td>" in table
    assert "<td class='ok' title='target 12.5-14 kWh/kg Al'>13.000</td>" in table


def test_cli_report_and_bad_paths(results, tmp_path, capsys):
    assert main(["report", str(results), "--out", str(tmp_path / "cli")]) == 0
    assert (tmp_path / "cli" / "index.html").is_file()
    assert main(["report", str(tmp_path / "missing.nc")]) == 2
    assert "missing.nc: no such results file" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_report_opens_in_headless_chromium(results, tmp_path):
    index = report(results, tmp_path / "browser")
    chromium = ["chromium", "--headless", "--no-sandbox", "--disable-gpu"]
    dom = subprocess.run([*chromium, "--dump-dom", index.as_uri()], check=True, timeout=120, capture_output=True,
                         text=True).stdout
    # the browser parsed the whole page: every table and figure is in its document
    assert dom.count("<table") == index.read_text().count("<table") and "Worst pots" in dom
    shot = tmp_path / "page.png"
    subprocess.run([*chromium, f"--screenshot={shot}", "--window-size=1250,3000", index.as_uri()], check=True,
                   timeout=120, capture_output=True)
    picture = imread(shot)
    assert picture.shape[:2] == (3000, 1250)
    # the figures were drawn: a good share of the page is not white
    coloured = np.mean(np.any(picture[..., :3] < 0.9, axis=-1))
    assert coloured > 0.1


def test_the_page_explains_the_footprint_and_a_one_day_run_draws_no_daily_dots(results, tmp_path):
    """Issue 23: each source of the footprint says what it is, the power mix is named with its CO2 per MWh; the
    axes carry no matplotlib offsets; a run of one day has its day in the table, not a figure of single dots on a
    years-long date axis."""
    import matplotlib.pyplot as plt

    page = report(results, tmp_path / "rep").read_text()
    assert "t CO2e/t Al: the potlines&#x27; and the carbon plant&#x27;s electricity, by the supply&#x27;s mix" in page
    mix = re.search(r"power mix over the run</th><td>wind (\d+) %, captive (\d+) %, grid (\d+) % of the energy; "
                    r"([\d.]+) t CO2 per MWh", page)
    assert mix is not None and abs(sum(int(mix.group(k)) for k in (1, 2, 3)) - 100) <= 1
    assert "the largest share" in page
    one_day = tmp_path / "day.nc"
    twin.run(park_with(cells=2), one_day, hours=6)
    page = report(one_day, tmp_path / "day").read_text()
    assert "daily_kpis.png" not in page and "KPIs by day and line" in page
    # no offset on any axis the report draws (the rc setting is in force while it draws)
    seen = []
    original = plt.Figure.savefig

    def offsets(fig, *args, **kwargs):
        seen.extend(ax.yaxis.get_major_formatter().get_offset() for ax in fig.axes
                    if hasattr(ax.yaxis.get_major_formatter(), "get_offset"))
        return original(fig, *args, **kwargs)

    plt.Figure.savefig = offsets
    try:
        report(one_day, tmp_path / "day2")
    finally:
        plt.Figure.savefig = original
    assert seen and not any(seen), seen


def test_a_bath_is_judged_against_its_own_liquidus_not_one_band_of_degrees():
    """Issue 23: the reference park was marked red at 969 degC against 950-965 degC, a band for baths of more
    AlF3; a bath's band is its liquidus plus the superheat band (5-12 K)."""
    frame = pd.DataFrame({"line": ["PL1", "PL2"], "bath_temperature": [969.0, 969.0], "superheat": [8.5, 14.0]})
    table = _kpi_table(frame, ("line",))
    cells = re.findall(r"<td class='(off|ok)' title='target: its liquidus \+ 5-12 K = ([\d.]+)-([\d.]+) degC'>969\.0",
                       table)
    assert cells == [("ok", "965.5", "972.5"), ("off", "960.0", "967.0")], table
