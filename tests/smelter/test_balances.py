"""Conservation: Faraday's law exactly, alumina, fluoride and energy balances to round-off."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import alumina_of_feed

from twin import Park
from twin.smelter.cell import COUNTER, F_IN_ALF3, F_IN_CAF2, F_IN_CRYOLITE, PARAM, STATE, fluoride_mass
from twin.smelter.potline import F_IN_NAF

F = 96485.33212       # C/mol
M_AL = 26.9815385e-3  # kg/mol
M_AL2O3 = 101.9613e-3


def run_intervals(park: Park, n: int) -> list[dict[str, np.ndarray]]:
    return [park.step_interval() for _ in range(n)]


def test_faraday_mass_500kA_24h(make_park):
    """Validation case faraday_mass_500kA_24h: 3825.53 kg at 500 kA, CE 0.95, 24 h (+-0.5 kg).

    The twin's CE moves with the bath; the metal made per unit of CE-weighted charge is Faraday's.
    """
    park = Park(make_park(cells=3, lines=1, run={"output_interval_s": 3600.0},
                          line={"regulator_time_constant_s": 0.0}))
    records = run_intervals(park, 24)
    current = np.array([r["line_current"][0] for r in records])
    assert current == pytest.approx(500e3, rel=1e-12)
    ce = np.array([r["current_efficiency"] for r in records])            # (hours, cells)
    made = park.smelter.counter("metal_produced")
    per_ce = made / (ce.mean(axis=0))                                     # kg at CE = 1
    assert per_ce * 0.95 == pytest.approx(3825.53, abs=0.5)
    # electrochemical equivalent 0.335573 kg/(kA h)
    assert per_ce / (500 * 24) == pytest.approx(0.335573, abs=0.0002)


def test_faraday_exact_each_interval(make_park):
    """metal_produced (each record: the interval's metal) is M_Al/(3F) * I * CE * dt in every interval, to
    round-off, and the records add up to the kernel's counter."""
    park = Park(make_park(cells=4, lines=2, line={"schedule": [{"hour": 0, "current_kA": 500},
                                                               {"hour": 30, "current_kA": 470}]}))
    start = park.smelter.counter("metal_produced").copy()
    dt = park.config.run.output_interval_s
    made = np.zeros_like(start)
    for rec in run_intervals(park, 6 * 36):
        current = rec["line_current"][park.smelter.cell_line]
        expected = M_AL / (3 * F) * current * rec["current_efficiency"] * dt
        np.testing.assert_allclose(rec["metal_produced"], expected, rtol=1e-10)
        made += rec["metal_produced"]
    np.testing.assert_allclose(made, park.smelter.counter("metal_produced") - start, rtol=1e-12)


# a narrow bath band, so the crew taps and adds bath within the three days the balances run
BATH_MANAGED = {"bath_tap_band_pct": 0.3, "bath_dip_sd_pct": 0.5}


def test_alumina_balance(make_park):
    """Alumina fed (and in crushed bath) = alumina in the pools now - before + Faraday consumption
    (1.8895 kg/kg Al) + alumina in the tapped bath."""
    park = Park(make_park(cells=4, lines=2, operations=BATH_MANAGED))
    x0 = park.smelter.state.copy()
    run_intervals(park, 3 * 144)
    x1 = park.smelter.state
    fed = park.smelter.counter("alumina_fed")
    added, tapped = park.smelter.counter("bath_added"), park.smelter.counter("bath_tapped_alumina")
    assert added.max() > 0 and tapped.max() > 0            # the crew managed the bath both ways
    alumina_in = (alumina_of_feed(park.smelter.params, fed)      # with what its Na2O and CaO form
                  + added * park.smelter.cell.alumina_wt / 100 - tapped
                  - x1[STATE["crushed"]] * park.smelter.cell.alumina_wt / 100)   # crushed bath not melted yet
    pools = (x1[STATE["alumina"]] + x1[STATE["undissolved"]]) - (x0[STATE["alumina"]] + x0[STATE["undissolved"]])
    consumed = park.smelter.counter("metal_produced") * M_AL2O3 / (2 * M_AL)
    np.testing.assert_allclose(alumina_in - consumed, pools, rtol=0, atol=1e-9 * fed.max())
    # validation case alumina_per_al_stoich: 1.8895 kg Al2O3 per kg Al
    ratio = park.smelter.counter("alumina_consumed") / park.smelter.counter("metal_produced")
    np.testing.assert_allclose(ratio, 1.8895, atol=0.0005)


def test_fluoride_balance(make_park):
    """Fluorine in bath + ledge changes only by the AlF3 added, the bath tapped and added and the NaF the
    cathode takes up (Na2O neutralisation conserves F)."""
    park = Park(make_park(cells=4, lines=2, operations=BATH_MANAGED, cell={"cathode_age_days": 30.0}))
    cell = park.smelter.cell
    f0 = fluoride_mass(park.smelter.state, park.smelter.params)
    run_intervals(park, 3 * 144)
    f1 = fluoride_mass(park.smelter.state, park.smelter.params)
    c = park.smelter.counter
    added = c("alf3_added") * 3 * 18.998403 / 83.9767
    assert added.min() > 0 and c("sodium_uptake").min() > 0
    f_crushed = (F_IN_CRYOLITE * (100 - cell.alf3_wt - cell.caf2_wt - cell.alumina_wt) + F_IN_ALF3 * cell.alf3_wt
                 + F_IN_CAF2 * cell.caf2_wt) / 100      # crushed bath still unmelted is counted in f1
    change = added + c("bath_added") * f_crushed - c("bath_tapped_fluorine") - c("sodium_uptake") * F_IN_NAF
    np.testing.assert_allclose(f1 - f0, change, rtol=0, atol=1e-9 * f0.max())


def test_energy_balance(make_park):
    """Electric heat in = production enthalpy + losses + storage (sensible, shell, latent), to round-off."""
    park = Park(make_park(cells=4, lines=2, operations=BATH_MANAGED))
    x0 = park.smelter.state.copy()
    run_intervals(park, 3 * 144)
    x1, p = park.smelter.state, park.smelter.params
    c = {name: park.smelter.counter(name) for name in COUNTER}
    stored = c["e_bath"] + c["e_shell"] + c["e_latent"] + c["e_cathode"] + c["e_top_node"]
    out = c["e_reaction"] + c["e_top"] + c["e_bottom"] + c["e_side"] + c["e_anode"] + c["e_additions"]
    assert c["e_anode"].min() > 0                       # anodes were set and took heat
    assert c["e_additions"].max() > 0                   # crushed bath was added and melted
    np.testing.assert_allclose(c["e_electric"] - out - stored, 0.0, atol=1e-9 * c["e_electric"].max())
    # the storage terms agree with the states they belong to
    for counter, capacity, node in (("e_shell", "c_shell", "t_shell"), ("e_cathode", "c_cathode", "t_cathode"),
                                    ("e_top_node", "c_top", "t_top")):
        np.testing.assert_allclose(c[counter], p[PARAM[capacity]] * (x1[STATE[node]] - x0[STATE[node]]),
                                   rtol=1e-9, atol=1e-6 * c["e_electric"].max())
    latent = -p[PARAM["rho_ledge"]] * p[PARAM["latent"]] * p[PARAM["side_area"]] * (
        x1[STATE["ledge"]] - x0[STATE["ledge"]])
    np.testing.assert_allclose(c["e_latent"], latent, rtol=1e-9, atol=1e-6 * c["e_electric"].max())
    # electric heat = DC energy minus the busbar share I^2 R_ext (that heats the potroom)
    assert np.all(c["e_electric"] < c["energy_dc"] * 3.6e6)
    # about half of the electric input leaves as heat at the reference point (notes: 45-55 %)
    loss_share = (c["e_top"] + c["e_bottom"] + c["e_side"] + c["e_anode"]) / c["e_electric"]
    assert np.all((loss_share > 0.45) & (loss_share < 0.55))


def test_serial_and_parallel_lines_agree(make_park):
    """Lines are independent: advancing them on one thread or several gives identical states."""
    from twin._core import pot

    parks = [Park(make_park(cells=5, lines=2)) for _ in range(2)]
    for park, threads in zip(parks, (1, 2), strict=True):
        s = park.smelter
        pot.advance(s.state, s.params, s.aux, s.sums, s.counters, s.line, s.line_params, s.line_start,
                    120, 12, 5.0, False, threads)
    np.testing.assert_array_equal(parks[0].smelter.state, parks[1].smelter.state)


def test_nominal_feed_interval(make_park):
    """Validation case cellmodel_feed_cycle: 2 x 2.9 kg at 126 kA, CE 0.945 -> one shot every 276.58 s.

    The feeder's nominal interval scales as shot / (CE I): at 500 kA the same shot comes every
    276.58 s x 126/500; the nominal feeder with no correction (gain 0) and no Na2O fires exactly
    that often.
    """
    park = Park(make_park(cells=2, lines=1, run={"output_interval_s": 3600.0},
                          cell={"shot_mass_kg": 5.8, "ce_ref": 0.945, "feed_gain_per_wt": 0.0, "na2o_wt": 0.0,
                                "alf3_addition_kg_per_day": 0.0},
                          line={"regulator_time_constant_s": 0.0},
                          control={"feed_control": "nominal"}))
    for _ in range(24):
        park.step_interval()
    interval = 276.58 * 126e3 / 500e3
    expected = 24 * 3600 / interval
    shots = park.smelter.counter("shots")
    assert np.all(np.abs(shots - expected) <= 1.0), (shots, expected)
    np.testing.assert_allclose(park.smelter.counter("alumina_fed"), 5.8 * shots)
