"""The precipitation population balance: what each mechanism must conserve, and the aluminium balance."""
from __future__ import annotations

import numpy as np
import pytest

from twin.refinery.precipitation import ROWS, TOTALS, PrecipitationTrain, feed_liquor
from twin.refinery.stoichiometry import M_NA2CO3, M_NA2O


def train(**kw) -> PrecipitationTrain:
    t = PrecipitationTrain(tanks=kw.pop("tanks", 4), **kw)
    t.fill(feed_liquor(160.0, 240.0, 70.0, soda=280.0, silica=0.6))
    seed = t.seed_numbers(300.0, 60.0)
    seed += t.seed_numbers(50.0, 10.0)
    t.number[:] = seed[:, None]
    return t, seed


def test_pure_growth_conserves_number():
    t, seed = train(flow_m3_per_s=1e-12, nucleation_k=0.0, agglomeration_k=0.0)
    before = t.number.sum(axis=0)
    solids = t.solids_kg_per_m3()
    t.advance(12 * 3600, (160.0, 240.0, 70.0), seed)
    np.testing.assert_allclose(t.number.sum(axis=0), before, rtol=1e-12)
    assert np.all(t.solids_kg_per_m3() > solids + 10.0)          # the crystals did grow
    assert np.all(t.liquor[0] < 160.0 - 10.0)                    # out of the liquor


def test_pure_agglomeration_conserves_volume():
    t, seed = train(flow_m3_per_s=1e-12, nucleation_k=0.0, agglomeration_k=5e-10, growth=False)
    volume = t.particle_volumes_m3 @ t.number
    number = t.number.sum(axis=0)
    t.advance(12 * 3600, (160.0, 240.0, 70.0), seed)
    np.testing.assert_allclose(t.particle_volumes_m3 @ t.number, volume, rtol=1e-9)
    assert np.all(t.number.sum(axis=0) < 0.99 * number)          # fewer, larger particles
    np.testing.assert_allclose(t.liquor[0], 160.0, rtol=1e-12)     # no alumina leaves the liquor


def test_aluminium_balance_with_flow_growth_nucleation_agglomeration():
    t, seed = train(tanks=8)
    before = t.alumina_inventory_kg()
    t.advance(3 * 86400, (168.0, 240.0, 75.0), seed)
    al = ROWS["alumina"]
    in_liq, out_liq = t.totals[TOTALS["in"] + al], t.totals[TOTALS["out"] + al]
    in_seed, out_prod = t.totals[TOTALS["seed_al2o3"]], t.totals[TOTALS["product_al2o3"]]
    change = t.alumina_inventory_kg() - before
    assert change == pytest.approx(in_liq + in_seed - out_liq - out_prod, rel=1e-6, abs=1e-6 * in_liq)
    # and what left the liquor is what the solids gained
    assert t.totals[0] > 0
    # a 2 Mt/yr-type train takes the pregnant A/C of 0.70 down toward 0.4
    assert 0.35 < t.liquor[0, -1] / t.liquor[1, -1] < 0.5


def test_water_and_soda_leave_with_the_hydrate_and_silica_is_carried():
    """Water: in = out + hydrate water + change of the tanks' water; the Na2O the hydrate binds leaves the
    caustic (and the total soda) and enters the solids, with the seed's own; silica only carried."""
    t, seed = train(tanks=6, seed_soda=0.002)
    feed = feed_liquor(168.0, 240.0, 75.0, soda=280.0, silica=0.6)
    held = t.volume_m3 * t.liquor.sum(axis=1)
    t.advance(2 * 86400, feed, seed)
    change = t.volume_m3 * t.liquor.sum(axis=1) - held
    hydrate_water = 3 * 18.015 / 101.960 * t.totals[TOTALS["precipitated"]]
    bound = t.totals[TOTALS["bound_soda"]]                               # kg Na2O
    as_soda = bound * M_NA2CO3 / M_NA2O              # as Na2CO3, by the molar masses (not a rounded convention)
    made = {"water": -hydrate_water, "soda": -as_soda, "caustic": -as_soda,
            "silica": 0.0, "bound_soda": bound + t.totals[TOTALS["seed_soda"]]}
    for name, gain in made.items():
        r = ROWS[name]
        inflow, outflow = t.totals[TOTALS["in"] + r], t.totals[TOTALS["out"] + r]
        assert change[r] == pytest.approx(inflow - outflow + gain, rel=1e-9, abs=1e-9 * max(inflow, outflow)), name
    assert hydrate_water > 0 and bound > 0 and t.totals[TOTALS["seed_soda"]] > 0
    # a few tenths of a per cent of the hydrate, as plants' product soda (notes 4.7: Na2O 0.3-0.4 % of alumina)
    assert 0.0005 < bound / (t.totals[TOTALS["precipitated"]] / 0.653569) < 0.005


def test_cooling_and_heat_of_precipitation():
    warm, seed = train(tanks=4)
    cool, _ = train(tanks=4, cooled_to_c=np.array([1000.0, 70.0, 66.0, 62.0]))
    for t in (warm, cool):
        t.advance(86400, (168.0, 240.0, 75.0), seed)
    assert np.all(cool.liquor[2, 1:] < warm.liquor[2, 1:])
    assert warm.liquor[2, 0] > 75.0                               # precipitation releases heat
    assert warm.totals[TOTALS["cooling"]] == 0.0                  # no coolers, no heat taken out
    # a cooler takes its stream to its set point; the tank is a little warmer (heat of precipitation)
    assert 62.0 < cool.liquor[2, -1] < 63.5


def test_coolers_take_out_the_heat_the_stream_gives_and_never_heat():
    """Duty = rho cp q (T_in - T_set) on the streams a cooler acts on, summed by the kernel; a set point above
    the stream's temperature does nothing."""
    t, seed = train(tanks=3, growth=False, nucleation_k=0.0, agglomeration_k=0.0,
                    cooled_to_c=np.array([1000.0, 65.0, 90.0]))
    t.advance(3 * 86400, (168.0, 240.0, 75.0), seed)              # long enough to be steady
    np.testing.assert_allclose(t.liquor[2], [75.0, 65.0, 65.0], atol=1e-6)
    t.totals[:] = 0.0
    t.advance(3600, (168.0, 240.0, 75.0), seed)
    duty = t.density_kg_per_m3 * t.heat_capacity_J_per_kgK * t.flow_m3_per_s * 10.0 * 3600
    assert t.totals[TOTALS["cooling"]] == pytest.approx(duty, rel=1e-9)


def test_organics_poison_growth_and_raise_solubility():
    """Organics (TOC) slow White-Bateman growth by exp(-0.0023 TOOC) and raise A* (Rosenberg-Healy): less
    alumina leaves the liquor, and the supersaturation A/A* the kernel sees is lower."""
    results = {}
    for toc in (0.0, 30.0):
        t, seed = train(tanks=4, toc_g_per_l=toc)
        t.advance(86400, (168.0, 240.0, 75.0), seed)
        results[toc] = t
    assert np.all(results[30.0].liquor[0] > results[0.0].liquor[0])
    assert np.all(results[30.0].supersaturation() < results[0.0].supersaturation() * results[30.0].liquor[0]
                  / results[0.0].liquor[0])


def test_bad_step_is_rejected():
    t, seed = train(flow_m3_per_s=10.0, volume_m3=100.0)
    with pytest.raises(ValueError, match="residence time"):
        t.advance(3600, (168.0, 240.0, 75.0), seed, dt=60.0)
