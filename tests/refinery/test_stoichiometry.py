"""Refinery stoichiometry against refinery_cases.json and the notes' worked numbers."""
from __future__ import annotations

import pytest

from twin.refinery import stoichiometry as S


def test_gibbsite_alumina_and_loi():
    """stoich_gibbsite_al2o3_fraction 0.653569 and stoich_gibbsite_loi 0.346431; boehmite 0.84984."""
    assert S.AL2O3_IN_GIBBSITE == pytest.approx(0.653569, rel=0.0005)
    assert S.LOI_GIBBSITE == pytest.approx(0.346431, rel=0.0005)
    assert S.AL2O3_IN_BOEHMITE == pytest.approx(0.84984, rel=0.0005)


def test_naoh_to_soda_equivalent():
    """conv_naoh_to_na2co3_eq: 1 g NaOH = 1.32495 g Na2CO3 equivalent."""
    assert S.SODA_PER_NAOH == pytest.approx(1.32495, rel=0.0005)


def test_dsp_losses():
    """dsp_naoh_loss_per_sio2_sodalite 0.887589 kg NaOH/kg SiO2; notes: 0.6877 Na2O, 1.1760 Na2CO3 eq, 0.8485 Al2O3."""
    loss = S.dsp_losses_per_kg_silica()
    assert loss["naoh"] == pytest.approx(0.887589, rel=0.001)
    assert loss["na2o"] == pytest.approx(0.6877, rel=0.001)
    assert loss["na2co3_eq"] == pytest.approx(1.1760, rel=0.001)
    assert loss["al2o3"] == pytest.approx(0.8485, rel=0.001)


def test_lime_for_causticisation():
    """lime_causticisation_cao_per_na2co3: 0.529091 kg CaO per kg Na2CO3 at 100 %; more at lower efficiency."""
    assert S.lime_per_kg_carbonate() == pytest.approx(0.529091, rel=0.001)
    assert S.lime_per_kg_carbonate(0.5) == pytest.approx(2 * 0.529091, rel=0.001)
    with pytest.raises(ValueError, match="efficiency"):
        S.lime_per_kg_carbonate(0.0)


def test_calcination_enthalpy():
    """calcination_reaction_enthalpy: 1.815 GJ/t Al2O3 (to water vapour, 25 degC)."""
    assert S.calcination_enthalpy_GJ_per_t() == pytest.approx(1.815, rel=0.03)


def test_ideal_ccd_losses():
    """Notes 3.9: n 6, R 2 -> 0.79 %; n 6, R 1.5 -> 3.1 %; n 5, R 3 -> 0.27 %; R 1 -> 1/(n+1)."""
    assert S.ccd_soluble_loss(6, 2.0) == pytest.approx(0.0079, abs=0.0001)
    assert S.ccd_soluble_loss(6, 1.5) == pytest.approx(0.031, abs=0.001)
    assert S.ccd_soluble_loss(5, 3.0) == pytest.approx(0.0027, abs=0.0001)
    assert S.ccd_soluble_loss(4, 1.0) == pytest.approx(0.2)
