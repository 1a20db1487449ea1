"""The pot control system in the kernel: feed tracking, resistance control, anode-effect quench."""
from __future__ import annotations

import numpy as np
import pytest

from twin import Park, load_config
from twin.smelter.cell import PARAM, STATE

ALUMINA_PER_NA2O = 101.9613 / (3 * 61.9789)


def run_minutes(park: Park, minutes: int) -> list[dict[str, np.ndarray]]:
    step = park.config.run.output_interval_s / 60.0
    return [park.step_interval() for _ in range(round(minutes / step))]


def test_tracking_cycle_feeds_what_the_cell_consumes(make_park):
    park = Park(make_park(cells=4, lines=1, run={"output_interval_s": 300.0}))
    records = run_minutes(park, 3 * 24 * 60)
    alumina = np.array([r["alumina"] for r in records])           # (intervals, cells)
    voltage = np.array([r["cell_voltage"] for r in records])
    s = park.smelter
    tracks = s.counter("tracks")
    assert np.all(tracks >= 3 * 8), tracks                          # a track every 1.5-2 h
    # the cycle shows in alumina and in the voltage the controller tracks
    assert np.all(alumina.max(axis=0) - alumina.min(axis=0) > 0.3)
    assert np.all(voltage.max(axis=0) - voltage.min(axis=0) > 0.04)
    lean = alumina < 2.3
    assert np.all(np.corrcoef(alumina[:, 0], voltage[:, 0])[0, 1] < -0.5)   # leaner bath, higher voltage
    assert lean.any()
    # feeding averages to consumption over days (a cycle swings the pools by ~75 kg of ~22 t fed)
    na2o = s.params[PARAM["na2o"]]
    fed = s.counter("alumina_fed") * ((1 - na2o) + na2o * ALUMINA_PER_NA2O)
    consumed = s.counter("alumina_consumed")
    assert np.all(np.abs(fed / consumed - 1) < 0.01), fed / consumed
    assert s.counter("ae_count").sum() == 0


def test_underfed_cell_goes_on_anode_effect_and_is_quenched(make_park):
    park = Park(make_park(cells=10, lines=1, run={"output_interval_s": 60.0}, cell={"ae_duration_s": 600.0}))
    s = park.smelter
    s.params[PARAM["feed_enabled"], 2] = 0.0         # a blocked feeder
    for _ in range(90):
        park.step_interval()
        if s.counter("ae_count")[2] > 0:
            s.params[PARAM["feed_enabled"], 2] = 1.0  # the feeder is cleared once the cell goes on AE
    assert s.counter("ae_count")[2] >= 1
    assert s.counter("quenches")[2] == s.counter("ae_count")[2]
    # the controller saw it above 8 V and quenched it after its 30 s delay, long before the 600 s
    # natural end: AE time per effect is the delay plus at most one fast step
    per_ae = s.counter("ae_minutes")[2] * 60 / s.counter("ae_count")[2]
    assert 30.0 <= per_ae <= 30.0 + park.config.run.fast_step_s + 1e-9
    assert s.counter("ae_overvoltage")[2] > 0
    others = np.arange(10) != 2
    assert s.counter("ae_count")[others].sum() == 0
    assert s.state[STATE["ae_on"], 2] == 0.0


def test_resistance_control_holds_the_target(make_park):
    park = Park(make_park(cells=4, lines=1, run={"output_interval_s": 3600.0}))
    s = park.smelter
    target = s.params[PARAM["r_target"]].copy()
    records = run_minutes(park, 3 * 24 * 60)
    acd = np.array([r["acd"] for r in records])
    # burn-off and metal rise move the ACD by about -0.7 cm/day; the beam keeps it near 4.5 cm
    assert np.all(np.abs(acd[-24:].mean(axis=0) - 4.5) < 0.25), acd[-24:].mean(axis=0)
    assert np.all(np.abs(s.state[STATE["rp_filtered"]] - target) < 0.15e-6)
    moves = s.counter("beam_moves")
    assert np.all(moves > 3) and np.all(moves <= 3 * 24)


def test_daily_beam_move_limit(make_park):
    park = Park(make_park(cells=2, lines=1, run={"output_interval_s": 3600.0},
                          control={"beam_max_moves_per_day": 2}))
    run_minutes(park, 2 * 24 * 60)
    assert np.all(park.smelter.counter("beam_moves") <= 4)


def test_controllers_off_leave_the_placeholder(make_park):
    park = Park(make_park(cells=2, lines=1, control={"feed_control": "nominal", "resistance_control": False}))
    run_minutes(park, 6 * 60)
    s = park.smelter
    assert s.counter("tracks").sum() == 0 and s.counter("beam_moves").sum() == 0


@pytest.mark.slow
def test_reference_park_30_days():
    """The reference park (720 cells, controllers and operations on) for 30 days: no NaN, daily
    means in the published ranges, pads and bath chemistry held, anode effects (from feeder faults)
    below the 0.05 per pot-day of modern point-fed cells (smelter notes table 3.1). Cells cut out for
    relining (one every ~3 days) have no values; those restarted are not yet at the operating point
    and are left out of the ranges (the relining tests look at them)."""
    park = Park(load_config(output_interval_s=3600.0))
    assert park.smelter.n_cells == 720
    for day in range(30):
        records = run_minutes(park, 24 * 60)
        normal = park.smelter.in_service() & (park.smelter.linings.age_days > 30)
        assert normal.sum() >= 705, day                             # ~10 relined in 30 days
        mean = {k: np.mean([r[k] for r in records], axis=0) for k in records[0]}
        mean = {k: v[normal] if v.shape == normal.shape else v for k, v in mean.items()}
        for name, value in mean.items():
            assert np.all(np.isfinite(value)), f"{name} on day {day}"
        assert np.all((mean["cell_voltage"] > 3.9) & (mean["cell_voltage"] < 4.4)), day
        assert np.all((mean["current_efficiency"] > 0.93) & (mean["current_efficiency"] < 0.96)), day
        assert np.all((mean["superheat"] > 4) & (mean["superheat"] < 15)), day
        assert np.all((mean["ledge_thickness"] > 2) & (mean["ledge_thickness"] < 15)), day
        assert np.all((mean["metal_mass"] > 30e3) & (mean["metal_mass"] < 42e3)), day
        assert np.all((mean["excess_alf3"] > 10) & (mean["excess_alf3"] < 13)), day
    s = park.smelter
    assert 0 < s.counter("ae_count").sum() / (720 * 30) < 0.05
    assert 8 <= s.counter("relines").sum() <= 11                   # 720 cells x 30 d / 2200 d = 9.8
    kwh = s.counter("energy_dc") / s.counter("metal_produced")
    assert np.all((kwh > 12.5) & (kwh < 14.0))


def test_pfc_by_the_overvoltage_method(make_park):
    """IPCC overvoltage method: E_CF4 = OVC (AEO/CE%) MP, AEO the AE overvoltage averaged over the period.

    With an ideal regulator the current, CE and production are constant within each minute, so the
    minute-by-minute sum of the formula from the results equals the kernel's booking."""
    park = Park(make_park(cells=6, lines=1, run={"output_interval_s": 60.0},
                          line={"regulator_time_constant_s": 0.0}, cell={"pfc_overvoltage_coefficient": 1.16}))
    s = park.smelter
    s.params[PARAM["feed_enabled"], 2] = 0.0
    records = []
    for _ in range(60):
        records.append(park.step_interval())
        if s.counter("ae_count")[2] > 0:
            s.params[PARAM["feed_enabled"], 2] = 1.0
    over = np.array([r["anode_effect_overvoltage"][2] for r in records])                # V s per minute
    made = np.array([r["metal_produced"][2] for r in records])                          # kg per minute
    ce = np.array([r["current_efficiency"][2] for r in records])
    aeo_mv = over * 1000.0 / 60.0                                       # mV averaged over each minute
    expected = np.sum(1.16 * aeo_mv / (100.0 * ce) * made / 1e3)
    assert over.sum() > 0
    assert s.counter("cf4_overvoltage")[2] == pytest.approx(expected, rel=1e-9)
    assert s.counter("c2f6_overvoltage")[2] == pytest.approx(0.121 * expected, rel=1e-12)


def test_measurement_noise_stream():
    """Unit noise: zero mean, unit variance, bounded, uncorrelated, different per seed, reproducible."""
    from twin._core import pot

    draws = pot.measurement_noise(12345.0, 200_000)
    assert abs(draws.mean()) < 0.01 and abs(draws.std() - 1.0) < 0.01
    assert np.abs(draws).max() <= 2 * 3 ** 0.5
    assert abs(np.corrcoef(draws[:-1], draws[1:])[0, 1]) < 0.01
    assert not np.array_equal(draws[:100], pot.measurement_noise(12346.0, 100))
    np.testing.assert_array_equal(draws[50:150], pot.measurement_noise(12345.0, 100, first=50.0))


def test_controllers_see_noisy_voltage(make_park):
    """Voltage noise reaches the controller's filter, not the physics; tracking still works; seeded."""
    def run(noise, seed=1):
        park = Park(make_park(cells=3, lines=1, run={"output_interval_s": 600.0, "seed": seed},
                              control={"voltage_noise_mV": noise, "filter_time_s": 300.0}))
        records = [park.step_interval() for _ in range(6 * 12)]
        return park, records

    quiet, _ = run(0.0)
    noisy, records = run(20.0)
    again, _ = run(20.0)
    other, _ = run(20.0, seed=2)
    s = noisy.smelter
    assert np.all(s.state[STATE["noise_counter"]] == 6 * 12 * 60)                 # one draw per 10 s sample
    assert not np.allclose(s.state[STATE["rp_filtered"]], quiet.smelter.state[STATE["rp_filtered"]], rtol=1e-6)
    np.testing.assert_array_equal(s.state, again.smelter.state)
    assert not np.array_equal(s.state, other.smelter.state)
    assert np.all(s.counter("tracks") >= 4) and s.counter("ae_count").sum() == 0
    assert all(np.all(np.isfinite(r["cell_voltage"])) for r in records)
