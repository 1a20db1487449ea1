"""Current efficiency from the back reaction's loss flux (issue 19): the loss is a mass-transfer flux across the
metal-bath interface that does not depend on the current (Sterten-Solli model; Solheim, Light Metals 2014,
753-758; Solheim et al., Light Metals 2018: CE linear in the mass-transfer coefficient), so its share of the
current grows as the current falls; anchored once, at the reference cell's design point.
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import small_park

import twin
from twin._core import pot
from twin.config import ConfigError, parse_config
from twin.smelter import bath
from twin.smelter.cell import AUX, PARAM
from twin.smelter.steady import steady_state

REF = bath.REFERENCE_CATHODE_DENSITY          # A/cm2: 500 kA on 70 m2
PAD_REF = 0.007 * np.exp(-1.0)                 # the reference cell's pad loss at 4.5 cm (onset 4.0, length 0.5)


def test_the_loss_is_a_flux_so_its_share_grows_as_the_current_falls():
    """At a fixed bath the loss current density is the same at any current: loss share x density = const."""
    fractions = np.array([0.75, 0.9, 1.0, 1.1])
    ce = bath.current_efficiency(8.0, 11.5, cathode_current_density=fractions * REF, pad_loss=PAD_REF,
                                 pad_loss_ref=PAD_REF)
    np.testing.assert_allclose((1.0 - ce - PAD_REF) * fractions * REF, (0.05 - PAD_REF) * REF, rtol=1e-12)
    assert ce[2] == pytest.approx(0.95, abs=1e-12)                   # the anchor
    assert np.all(np.diff(ce) > 0)                                   # CE falls as the current falls
    # -25 % of current: 1.58 points of CE at the reference bath; the slope at the design point,
    # (1 - CE - pad) / i = 0.66 points per 0.1 A/cm2 of cathode current density
    assert ce[0] == pytest.approx(0.95 - (0.05 - PAD_REF) / 3.0, abs=1e-12)
    slope = (ce[3] - ce[1]) / (0.2 * REF) * 0.1
    assert slope == pytest.approx((0.05 - PAD_REF) / REF * 0.1, rel=0.02)


def test_the_flux_keeps_dewings_bath_dependence():
    """Dewing (Metall. Trans. B, doi 10.1007/BF02652482): +10 K superheat multiplies the loss by 10^0.095 =
    1.245, +1 wt % excess AlF3 by 10^-0.019 = 0.957, +1 wt % LiF by 10^-0.060 = 0.871 (at the same current)."""
    base = bath.back_reaction_density(8.0, 11.5)
    assert bath.back_reaction_density(18.0, 11.5) / base == pytest.approx(10 ** 0.095, rel=1e-9)
    assert bath.back_reaction_density(8.0, 12.5) / base == pytest.approx(10 ** -0.019, rel=1e-9)
    assert bath.back_reaction_density(8.0, 11.5, lif=1.0) / base == pytest.approx(10 ** -0.060, rel=1e-9)
    # the default flux is the reference cell's anchor
    assert base == pytest.approx(bath.back_reaction_anchor(0.95, PAD_REF), rel=2e-3)


def test_loss_is_capped_at_half_the_current_and_none_without_current():
    assert bath.current_efficiency(8.0, 11.5, cathode_current_density=0.01) == pytest.approx(0.5)
    assert bath.current_efficiency(8.0, 11.5, cathode_current_density=0.0) == pytest.approx(0.5)


def cell_at(acd_cm: float, current_kA: float = 500.0, cathode_m2: float = 70.0):
    """One reference cell with a configured ACD and line current, at its steady heat balance."""
    park = twin.Park(small_park(cells=1, lines=1, cell={"acd_cm": acd_cm, "cathode_area_m2": cathode_m2},
                                line={"current_kA": current_kA}, control={"resistance_control": False}))
    return park.smelter


def steady_ce(s, current_A: float, held_at_A: float | None = None) -> float:
    """CE of the cell at ``current_A``, its heat balance steady at that current (or at ``held_at_A``: the same
    bath, another current)."""
    x = steady_state(s.state.copy(), s.params, held_at_A or current_A)
    aux = np.zeros_like(s.aux)
    line = s.line.copy()
    line[0] = 0.0
    line[1] = current_A
    pot.prepare(x, s.params, aux, s.counters.copy(), line, s.line_start)
    return float(aux[AUX["ce"], 0])


def test_a_configured_acd_or_current_never_reanchors_ce():
    """Before issue 19 a config's acd_cm = 3.5 re-anchored CE at its own ACD (95.8 % at 3.5 cm, better than the
    design). The anchor is the reference cell's now: the same loss flux whatever ACD, current or cathode area
    a config gives, so 3.5 cm loses to the pad, 450 kA to the flux's larger share, 80 m2 to a larger interface."""
    reference = cell_at(4.5)
    flux = reference.params[PARAM["loss_density"], 0]
    assert flux == pytest.approx(bath.back_reaction_anchor(0.95, PAD_REF))
    for s in (cell_at(3.5), cell_at(4.5, current_kA=450.0), cell_at(4.5, cathode_m2=80.0)):
        assert s.params[PARAM["loss_density"], 0] == flux
    design = steady_ce(reference, 500e3)
    assert design == pytest.approx(0.95, abs=0.003)                  # the reference cell at its design point
    assert steady_ce(cell_at(3.5), 500e3) < design - 0.005           # the pad at 3.5 cm costs CE
    # the same bath at 450 kA on a line designed for it: the flux's larger share
    assert steady_ce(cell_at(4.5, current_kA=450.0), 450e3, held_at_A=500e3) < design - 0.004
    assert steady_ce(cell_at(4.5, cathode_m2=80.0), 500e3) < design


def test_ce_anchor_that_leaves_no_loss_is_refused():
    with pytest.raises(ConfigError, match=r"ce_ref = 0.99 .* leaves no back-reaction loss"):
        parse_config({"name": "x", "smelter": {"cell": {"ce_ref": 0.99, "ce_pad_loss": 0.1, "ce_ref_acd_cm": 3.0},
                                               "potlines": [{"name": "PL1", "cells": 1}]}}, "<test>")


def two_cell_line(days: float, schedule=None, program=None) -> twin.Park:
    data = {"name": "ce trend", "run": {"days": days, "output_interval_s": 3600.0},
            "smelter": {"potlines": [{"name": "PL1", "cells": 2, **({"schedule": schedule} if schedule else {})}]},
            **({"power": {"program": program}} if program else {})}
    return twin.Park(parse_config(data, "<test>"))


def window_means(path, start: str, end: str) -> dict[str, float]:
    w = twin.open_results(path, load=True).sel(time=slice(start, end))
    metal = float(w.metal_produced.sum())
    return {"ce": float(w.current_efficiency.mean()), "kwh_per_kg": float(w.energy_dc.sum()) / metal,
            "bath_min": float(w.bath_temperature.min()), "superheat_max": float(w.superheat.max()),
            "superheat_min": float(w.superheat.min()), "ledge_min": float(w.ledge_thickness.min()),
            "alumina_max": float(w.alumina.max()), "alf3_max": float(w.excess_alf3.max()),
            "acd_min": float(w.acd.min())}


@pytest.mark.slow
def test_ce_rises_with_the_line_current_on_a_running_line(tmp_path):
    """Issue 19: a 2-cell line held for 4 days at 75, 90 and 100 % of its 500 kA, controllers on. CE rises with
    the current (the loss flux's share falls) by about what the flux gives at the reference bath (-25 %: -1.6
    points at the same bath; the controller's heat feed-forward keeps the bath near its design point), and the
    cell stays in its window: no freezing at the low current, which would raise CE for the wrong reason."""
    ce = {}
    for fraction in (0.75, 0.9, 1.0):
        schedule = [{"hour": 0, "current_kA": 500.0}, {"hour": 1, "current_kA": 500.0},
                    {"hour": 1.01, "current_kA": 500.0 * fraction}]
        park = two_cell_line(4, schedule=schedule)
        park.run(tmp_path / f"{fraction}.nc", 4 * 86400.0)
        last = window_means(tmp_path / f"{fraction}.nc", "2027-01-04", "2027-01-05")
        ce[fraction] = last["ce"]
        assert last["bath_min"] > 950 and 3 < last["superheat_min"] and last["superheat_max"] < 20, last
        assert last["alf3_max"] < 13.5 and last["alumina_max"] < 4.5, last
    assert 0.942 < ce[1.0] < 0.956, ce
    assert 0.005 < ce[1.0] - ce[0.75] < 0.025, ce
    assert ce[0.75] < ce[0.9] - 0.005, ce
    # at 90 % the feed-forward leaves the bath ~2 K colder and ~0.2 wt % richer in AlF3 (Dewing: ~7 % less
    # loss), which offsets the flux's larger share (~11 %): CE no higher than at full current (it was +0.5
    # points before issue 19)
    assert ce[0.9] < ce[1.0] + 0.0005, ce


@pytest.mark.slow
def test_a_curtailment_costs_ce_and_energy(tmp_path):
    """Issue 19: before, -25 % of power for 48 h raised CE to 96.5 % and cut DC energy to 13.0 kWh/kg. A
    curtailment costs: CE falls and the energy per kg rises (the loss flux's share, the ACD raised to keep the
    heat), while the cell stays in its window; back at full power the line returns to its design CE."""
    program = [{"hour": 0, "power_fraction": 1.0}, {"hour": 6, "power_fraction": 1.0},
               {"hour": 6.01, "power_fraction": 0.75}, {"hour": 54, "power_fraction": 0.75},
               {"hour": 58, "power_fraction": 1.0}]
    two_cell_line(5, program=program).run(tmp_path / "cut.nc", 5 * 86400.0)
    two_cell_line(5).run(tmp_path / "base.nc", 5 * 86400.0)
    window = ("2027-01-01T08:00", "2027-01-03T06:00")
    cut, base = window_means(tmp_path / "cut.nc", *window), window_means(tmp_path / "base.nc", *window)
    assert cut["ce"] < base["ce"] - 0.003, (cut, base)
    assert cut["kwh_per_kg"] > base["kwh_per_kg"] + 0.3, (cut, base)
    assert cut["bath_min"] > 945 and cut["ledge_min"] > 3 and cut["alumina_max"] < 4.5, cut
    after = window_means(tmp_path / "cut.nc", "2027-01-05", "2027-01-06")
    assert abs(after["ce"] - base["ce"]) < 0.004 and after["alumina_max"] < 4.5, (after, base)


@pytest.mark.slow
def test_plus_25_percent_is_limited_with_its_reason_and_stays_in_the_window(tmp_path, caplog):
    """Issue 19: +25 % of power for 48 h drove the ACD to its 3 cm floor, the pad's noise fooled the feeder and
    alumina climbed to 9 wt %. The power window holds the line at 110 % with the reason logged; the ACD stays
    at the pad's onset (4 cm), alumina in its band, the ledge above 5 cm."""
    program = [{"hour": 0, "power_fraction": 1.0}, {"hour": 6, "power_fraction": 1.0},
               {"hour": 6.01, "power_fraction": 1.25}, {"hour": 54, "power_fraction": 1.25},
               {"hour": 58, "power_fraction": 1.0}]
    with caplog.at_level("WARNING", logger="twin"):
        two_cell_line(3, program=program).run(tmp_path / "up.nc", 3 * 86400.0)
    assert "power fraction 1.250" in caplog.text and "held at [550.0] kA" in caplog.text, caplog.text
    up = window_means(tmp_path / "up.nc", "2027-01-01T08:00", "2027-01-03T06:00")
    assert up["acd_min"] > 3.95 and up["alumina_max"] < 4.5 and up["ledge_min"] > 5, up
    assert up["superheat_max"] < 15 and up["ce"] > 0.935, up
