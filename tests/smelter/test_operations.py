"""The crew's routine: the AlF3 rule on lab samples holds the bath; taps hold the metal pad."""
from __future__ import annotations

import numpy as np
import pytest

from twin import Park
from twin.smelter.cell import PARAM, STATE, bath_weight_fractions
from twin.smelter.operations import EVENT_KINDS


def daily_means(park: Park, days: int) -> list[dict[str, np.ndarray]]:
    out = []
    for _ in range(days):
        records = [park.step_interval() for _ in range(24)]
        out.append({k: np.mean([r[k] for r in records], axis=0) for k in records[0]})
    return out


@pytest.mark.slow
def test_alf3_rule_brings_and_holds_excess_alf3_at_target(make_park):
    """Bath started 1 wt % AlF3 below target: the rule, on noisy delayed samples, closes the gap."""
    park = Park(make_park(cells=6, lines=1, run={"output_interval_s": 3600.0},
                          cell={"alf3_wt": 10.5}))
    park.smelter.ops.alf3_target = 11.5
    assert np.allclose(bath_weight_fractions(park.smelter.state)["alf3"], 10.5)
    days = daily_means(park, 30)
    alf3 = np.array([d["excess_alf3"] for d in days])
    assert np.all(np.abs(alf3[-7:].mean(axis=0) - 11.5) < 0.35), alf3[-7:].mean(axis=0)
    # without the rule (constant base addition) it stays off target
    still = Park(make_park(cells=6, lines=1, run={"output_interval_s": 3600.0}, cell={"alf3_wt": 10.5}))
    still.smelter.ops.cfg = still.smelter.ops.cfg.model_copy(update={"alf3_rule": False})
    off = np.array([d["excess_alf3"] for d in daily_means(still, 30)])
    assert np.all(np.abs(off[-7:].mean(axis=0) - 11.5) > np.abs(alf3[-7:].mean(axis=0) - 11.5))


@pytest.mark.slow
def test_metal_pad_bounded_and_taps_weighed(make_park):
    park = Park(make_park(cells=6, lines=1, run={"output_interval_s": 3600.0}))
    taps = []
    for _ in range(30 * 24):
        park.step_interval()
        taps += [e for e in park.smelter.ops.take_events() if e[2] == EVENT_KINDS["tap_weight"]]
    metal = park.smelter.state[STATE["metal"]]
    assert np.all((metal > 30e3) & (metal < 40e3)), metal
    weights = np.array([e[3] for e in taps])
    assert len(taps) == 6 * 30
    made_per_day = park.smelter.counter("metal_produced").sum() / 30 / 6
    assert weights.mean() == pytest.approx(made_per_day, rel=0.03)
    tapped = park.smelter.counter("metal_tapped")
    assert np.all(np.abs(tapped - park.smelter.counter("metal_produced")) < 0.1 * tapped)


def test_operations_noise_is_seeded_per_cell(make_park):
    """Same seed, same draws; another seed, other draws; a cell's draws ignore the other cells."""
    def temperatures(seed, cells):
        park = Park(make_park(cells=cells, lines=1, run={"seed": seed, "output_interval_s": 3600.0}))
        out = []
        for _ in range(24):
            park.step_interval()
            out += [(e[1], e[3]) for e in park.smelter.ops.take_events() if e[2] == EVENT_KINDS["temperature"]]
        return dict(out)
    a, b, c = temperatures(7, 4), temperatures(7, 4), temperatures(8, 4)
    assert a == b and a != c
    assert temperatures(7, 6)[0] == a[0]          # cell 0's generator does not care how many cells follow


def test_anode_setting_is_a_thermal_and_voltage_disturbance(make_park):
    """The same park with and without the cold anodes' heat sink and slow current pick-up."""
    def run(cell):
        park = Park(make_park(cells=2, lines=1, run={"output_interval_s": 600.0}, cell=cell))
        return park, [park.step_interval() for _ in range(6 * 12)]

    park, real = run({})
    _, ideal = run({"setting_heat_GJ": 0.0, "pickup_time_h": 0.001})
    assert park.smelter.counter("anodes_set")[0] == 2          # cell 0 set its pair at the start
    dv = np.array([a["cell_voltage"][0] - b["cell_voltage"][0] for a, b in zip(real, ideal, strict=True)])
    dt = np.array([a["bath_temperature"][0] - b["bath_temperature"][0] for a, b in zip(real, ideal, strict=True)])
    assert dv[:12].mean() > 0.02            # the other anodes carry the new pair's current: higher voltage
    assert dt[6 * 6:].mean() < -1.0         # the cold pair has taken heat: a colder bath hours later
    assert dv[-6:].mean() < 0.5 * dv[:6].mean()                 # the pick-up is nearly complete after 12 h


def test_power_modulation_day(make_park):
    """+25 % for 8 h, then -25 % for 8 h: superheat and ledge answer in the directions physics says."""
    schedule = [{"hour": 0, "current_kA": 500}, {"hour": 4, "current_kA": 500}, {"hour": 4, "current_kA": 625},
                {"hour": 12, "current_kA": 625}, {"hour": 12, "current_kA": 375}, {"hour": 20, "current_kA": 375},
                {"hour": 20, "current_kA": 500}]
    park = Park(make_park(cells=6, lines=1, run={"output_interval_s": 3600.0}, line={"schedule": schedule}))
    records = [park.step_interval() for _ in range(30)]
    sh = np.array([r["superheat"].mean() for r in records])
    ledge = np.array([r["ledge_thickness"].mean() for r in records])
    current = np.array([r["line_current"][0] for r in records])
    assert current[6] == pytest.approx(625e3, rel=0.01) and current[14] == pytest.approx(375e3, rel=0.01)
    assert sh[5:12].mean() > sh[:4].mean() + 2.0 > sh[13:20].mean() + 4.0
    assert ledge[11] < ledge[3] < ledge[19]
    for name in ("cell_voltage", "bath_temperature", "alumina"):
        assert all(np.all(np.isfinite(r[name])) for r in records)
    assert park.smelter.counter("ae_count").sum() == 0


def test_power_outage_hour(make_park):
    """A one-hour outage: no current, no feed, the cells cool, then restart without NaN."""
    schedule = [{"hour": 0, "current_kA": 500}, {"hour": 2, "current_kA": 500}, {"hour": 2, "current_kA": 0},
                {"hour": 3, "current_kA": 0}, {"hour": 3, "current_kA": 500}]
    park = Park(make_park(cells=4, lines=1, run={"output_interval_s": 600.0}, line={"schedule": schedule}))
    records = [park.step_interval() for _ in range(6 * 8)]
    current = np.array([r["line_current"][0] for r in records])
    temp = np.array([r["bath_temperature"].mean() for r in records])
    assert current[14] < 1.0 and current[30] == pytest.approx(500e3, rel=0.01)
    assert temp[17] < temp[11] - 2.0
    for r in records:
        for name, value in r.items():
            assert np.all(np.isfinite(value)), name


def test_alumina_quality_changes_alf3_use_and_dissolution(make_park):
    """More Na2O in the alumina eats more AlF3; more fines leave more of each shot undissolved."""
    def run(cell):
        park = Park(make_park(cells=2, lines=1, run={"output_interval_s": 3600.0}, cell=cell,
                              control={"feed_control": "nominal"}))
        records = [park.step_interval() for _ in range(24)]
        return park, records

    clean, _ = run({"na2o_wt": 0.2})
    sodic, _ = run({"na2o_wt": 0.6})
    eaten = [p.smelter.counter("alf3_added") - (p.smelter.state[STATE["alf3"]] - 1380.0) for p in (clean, sodic)]
    assert np.all(eaten[1] > eaten[0] + 40.0)          # ~0.4 % Na2O x 7.3 t x 1.806 = 53 kg more a day
    fine, _ = run({"fines_wt": 15.0})
    assert fine.smelter.params[PARAM["undissolved_fraction"], 0] == pytest.approx(0.7)
    assert np.all(fine.smelter.state[STATE["undissolved"]] > clean.smelter.state[STATE["undissolved"]])
