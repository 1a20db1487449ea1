"""The Bayer liquor loop at steady state: balances, convergence, and the 2 Mt/yr design ranges."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from twin.refinery import flowsheet as F

# its tests share a module-wide fixture: built once, on one worker of `pytest -n --dist loadgroup`
pytestmark = pytest.mark.xdist_group("refinery_flowsheet")


@pytest.fixture(scope="module")
def design_case():
    return F.solve()


def test_component_balances_close(design_case):
    """Al2O3, Na2O, CO2 (carbon), SiO2 and water: what enters the loop leaves it, to 1e-6 relative."""
    ss = design_case
    np.testing.assert_allclose(ss.outs, ss.ins, rtol=1e-6)
    assert np.all(ss.ins > 0)


def test_design_specifications_met(design_case):
    ss, d = design_case, F.DesignBasis()
    assert ss.kpi["alumina_t_per_h"] == pytest.approx(2.0e6 / 8760, rel=1e-9)
    assert ss.kpi["pregnant_ac"] == pytest.approx(d.pregnant_ac, abs=1e-8)
    assert ss.spent["caustic"] == pytest.approx(d.spent_caustic, rel=1e-9)
    assert ss.spent["alumina"] / ss.spent["caustic"] == pytest.approx(d.spent_ac, rel=1e-9)
    assert ss.spent["caustic"] / ss.spent["soda"] == pytest.approx(d.causticity, rel=1e-9)


def test_two_megatonne_case_in_design_ranges(design_case):
    """Refinery notes sec. 4 and 5.2: bauxite factor ~2.1-3 t/t for gibbsitic bauxite, caustic 50-150 kg
    NaOH/t (low end for low reactive silica), residue 0.6-1.5 t/t, calcination fuel 2.7-3.2 GJ/t."""
    k = design_case.kpi
    assert 2.0 < k["bauxite_factor"] < 3.0
    assert 30.0 < k["caustic_kg_naoh_per_t"] < 150.0
    assert 0.6 < k["red_mud_t_per_t"] < 1.5
    assert 2.7 <= k["fuel_calcination_GJ_per_t"] <= 3.3
    assert 50.0 < k["yield_g_per_l"] < 100.0


def test_more_reactive_silica_costs_caustic(design_case):
    high = F.solve(F.Bauxite(kaolinite=0.09, gibbsite=0.58))
    assert high.kpi["caustic_kg_naoh_per_t"] > design_case.kpi["caustic_kg_naoh_per_t"] + 20.0
    np.testing.assert_allclose(high.outs, high.ins, rtol=1e-6)


@pytest.mark.parametrize("factor", [0.3, 3.0])
def test_converges_from_poor_guesses(design_case, factor):
    first = F.solve()
    guess = np.array([first.spent_m3_per_h, first.bauxite_t_per_h, first.evaporation_t_per_h, first.naoh_t_per_h,
                      first.lime_t_per_h, 10.0]) * factor
    again = F.solve(guess=guess)
    assert again.bauxite_t_per_h == pytest.approx(design_case.bauxite_t_per_h, rel=1e-8)


def test_impossible_specifications_fail_clearly():
    with pytest.raises(F.FlowsheetError, match="must exceed spent"):
        F.solve(design=dataclasses.replace(F.DesignBasis(), pregnant_ac=0.35))
    with pytest.raises(F.FlowsheetError, match="solubility"):
        F.solve(design=dataclasses.replace(F.DesignBasis(), pregnant_ac=0.95, digestion_t_c=105.0))
    with pytest.raises(ValueError, match="sum to <= 1"):
        F.Bauxite(gibbsite=0.9, iron_oxides=0.3)
