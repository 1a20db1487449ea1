"""The reference cell in operation: published operating ranges, anode effects on the line."""
from __future__ import annotations

import numpy as np
import pytest

from twin import Park
from twin._core import pot
from twin.smelter.cell import PARAM


@pytest.mark.slow
def test_reference_cells_in_published_ranges_over_7_days(make_park):
    """Daily means of every cell inside modern 500 kA practice (smelter notes sec. 3.1)."""
    park = Park(make_park(cells=12, lines=2, run={"output_interval_s": 3600.0}))
    start = {name: park.smelter.counter(name).copy() for name in ("metal_produced", "energy_dc")}
    for day in range(7):
        records = [park.step_interval() for _ in range(24)]
        mean = {k: np.mean([r[k] for r in records], axis=0) for k in records[0]}
        for name, value in mean.items():
            assert np.all(np.isfinite(value)), f"{name} not finite on day {day}"
        assert np.all((mean["cell_voltage"] > 3.9) & (mean["cell_voltage"] < 4.4)), mean["cell_voltage"]
        assert np.all((mean["current_efficiency"] > 0.93) & (mean["current_efficiency"] < 0.96))
        assert np.all((mean["superheat"] > 5) & (mean["superheat"] < 15)), mean["superheat"]
        assert np.all((mean["ledge_thickness"] > 2) & (mean["ledge_thickness"] < 15)), mean["ledge_thickness"]
        assert np.all((mean["bath_temperature"] > 945) & (mean["bath_temperature"] < 975))
        assert np.all((mean["alumina"] > 1.8) & (mean["alumina"] < 3.5))
        assert np.all((mean["excess_alf3"] > 9) & (mean["excess_alf3"] < 14))
        assert np.all((mean["acd"] > 3.5) & (mean["acd"] < 5.5))
    made = park.smelter.counter("metal_produced") - start["metal_produced"]
    kwh_per_kg = (park.smelter.counter("energy_dc") - start["energy_dc"]) / made
    assert np.all((kwh_per_kg > 12.5) & (kwh_per_kg < 14.0)), kwh_per_kg
    # taps hold the pad: what was tapped is close to what was made
    tapped = park.smelter.counter("metal_tapped")
    assert np.all(np.abs(tapped - made) < 0.25 * made)
    assert park.smelter.counter("ae_count").sum() == 0


def starved_cell_park(make_park, sef=0.104, minutes=60, regulator_s=10.0):
    """A line of 20 cells where cell 3's feeder stops until it goes on anode effect.

    Then an operator adds 80 kg of alumina and restarts the feeder (the automatic quench comes
    with the operations issue), so the AE ends after its configured duration and stays ended.
    Returns the park and the interval records, one per minute.
    """
    park = Park(make_park(cells=20, lines=1, run={"output_interval_s": 60.0},
                          cell={"pfc_slope_cf4": sef, "ae_duration_s": 120.0},
                          line={"regulator_time_constant_s": regulator_s}))
    p = park.smelter.params
    p[PARAM["feed_enabled"], 3] = 0.0
    records = []
    for _ in range(minutes):
        records.append(park.step_interval())
        if park.smelter.counter("ae_count")[3] > 0 and p[PARAM["feed_enabled"], 3] == 0.0:
            p[PARAM["feed_enabled"], 3] = 1.0
            s = park.smelter
            pot.add_alumina(s.state, s.params, s.counters, np.array([3], dtype=np.intp), 80.0)
    return park, records


def test_anode_effect_lowers_the_line_current(make_park):
    park, records = starved_cell_park(make_park)
    count = park.smelter.counter("ae_count")
    assert count[3] == 1 and count[np.arange(20) != 3].sum() == 0
    current = np.array([r["line_current"][0] for r in records])
    voltage = np.array([r["cell_voltage"] for r in records])
    on = np.flatnonzero(voltage[:, 3] > 8.0)          # minutes with the cell on anode effect
    assert on.size > 0
    first = on[0]
    assert current[first] < current[first - 1] - 2e3           # the whole line's current dips ...
    assert current[first] < 0.99 * 500e3
    others = np.arange(20) != 3
    assert np.all(voltage[first, others] < voltage[first - 1, others])   # ... and every other cell sees it
    # the regulator brings the current back within minutes once the AE is over
    after = first + int(np.ceil(120 / 60)) + 3
    assert current[after] == pytest.approx(500e3, rel=2e-3)


def test_pfc_by_the_slope_method(make_park):
    """Validation case pfc_slope_CWPB: CF4 (kg/t Al) = 0.143 x AE-min/cell-day; C2F6 by the configured ratio."""
    # an ideal regulator holds the current, so production is constant within each minute
    # (CE moves at the 60 s slow steps): the minute-by-minute sum below is then exact
    park, records = starved_cell_park(make_park, sef=0.143, regulator_s=0.0)
    cell = 3
    aem = np.array([r["anode_effect_minutes"][cell] for r in records])               # AE-min per minute
    made = np.array([r["metal_produced"][cell] for r in records])                     # kg per minute
    assert aem.sum() > 0
    # E = SEF x AEM x MP applied minute by minute: AEM per cell-day of the minute times its production
    expected = sum(0.143 * (a * 1440.0) * (m / 1e3) for a, m in zip(aem, made, strict=True))
    cf4 = park.smelter.counter("cf4")[cell]
    assert cf4 == pytest.approx(expected, rel=1e-9)
    # and on the whole hour, to within the CE change the AE itself caused
    days = park.time_s / 86400.0
    assert cf4 / (made.sum() / 1e3) == pytest.approx(0.143 * aem.sum() / days, rel=0.05)
    assert park.smelter.counter("c2f6")[cell] == pytest.approx(0.057 * cf4, rel=1e-12)   # PFPB-M ratio
