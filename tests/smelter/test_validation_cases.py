"""Published reference cases (shared/validation/smelter_cases.json), carried here as facts.

Each case keeps its id, inputs, expected value and tolerance from the published source.
"""
from __future__ import annotations

import numpy as np
import pytest

from twin.smelter import bath

F = 96485.33212       # C/mol (CODATA 2018)
M_AL = 26.9815385     # g/mol
M_AL2O3 = 101.9613    # g/mol


def test_solheim_liquidus_pure_cryolite():
    assert bath.liquidus(0, 0, 0) == pytest.approx(1011.0, abs=0.05)


def test_solheim_liquidus_typical():
    assert bath.liquidus(11, 5, 3, lif=0, mgf2=0, kf=0) == pytest.approx(959.82, abs=0.05)


def test_skybakmoen_saturation_pure_cryolite_1000C():
    assert bath.alumina_saturation(1000.0, 0, 0, 0, 0) == pytest.approx(11.9, abs=0.01)


def test_hives1993_conductivity_cryolite_1000C():
    assert bath.conductivity_hives1993(1273.15, 0, 0, 0) == pytest.approx(2.804, abs=0.005)


def test_haupin_standard_potential_960C():
    assert bath.standard_potential(1233.15) == pytest.approx(1.1906, abs=0.001)


def test_grjotheim_welch_critical_current_density():
    assert bath.critical_current_density(1236.15, 3.0, 10465.2) == pytest.approx(2.0782, abs=0.001)


def test_vectorised_faces_broadcast():
    t = np.array([1223.15, 1233.15, 1243.15])
    out = bath.conductivity(t, 2.5, 11.5, 5.0)
    assert out.shape == (3,) and np.all(np.diff(out) > 0)          # conductivity rises with temperature
    assert isinstance(bath.liquidus(11, 5, 3), float)


def test_design_point_voltage_components():
    """Notes sec. 3.2 reference calculation (our own, [C]) of a 500 kA cell at 958 degC."""
    t_k = 958 + 273.15
    kappa = bath.conductivity(t_k, 2.5, 11.5, 5.0, 0.3)
    assert kappa == pytest.approx(2.149, abs=0.002)
    br = bath.bath_ratio(11.5, 2.5, 5.0, 0, 0.3)
    assert br == pytest.approx(1.106, abs=0.001)
    sat = bath.alumina_saturation(958, 11.5, 5.0, 0, 0.3)
    assert bath.reversible_potential(t_k, 2.5, sat) == pytest.approx(1.224, abs=0.001)
    i_eff = 500e3 / (48 * 1.8 * 0.7 * 1e4 * 1.10)
    assert bath.anode_surface_overvoltage(t_k, i_eff, 2.5) == pytest.approx(0.496, abs=0.002)
    i_c = bath.critical_current_density(t_k, 2.5, 1.8 * 0.7 * 1e4)
    assert bath.anode_concentration_overvoltage(t_k, i_eff, i_c) == pytest.approx(0.029, abs=0.001)
    assert bath.cathode_overvoltage(t_k, br, 500e3 / 70e4) == pytest.approx(0.079, abs=0.001)
    d_b = bath.bubble_thickness(i_eff)
    phi = bath.bubble_coverage(i_eff, br, 2.5, 1.8)
    assert phi == pytest.approx(0.63, abs=0.005)
    v_bubble = i_eff * d_b * phi / (kappa * (1 - phi))
    assert v_bubble == pytest.approx(0.296, abs=0.003)
    assert i_eff * (4.5 - d_b) / kappa == pytest.approx(1.400, abs=0.003)


def test_bubble_coverage_has_no_pole():
    """Haupin's coverage diverges near the AE alumina; the regularised one stays at or below 0.9."""
    c = np.linspace(0.0, 8.0, 801)
    phi = bath.bubble_coverage(0.9, 1.1, c, 1.8)
    assert np.all(np.isfinite(phi)) and phi.max() <= 0.9


def test_reaction_enthalpy_against_literature():
    """6.34 kWh/kg Al at CE 1 from 25 degC feeds to 960 degC (Grjotheim & Kvande; widely quoted)."""
    assert bath.reaction_enthalpy(1233.15, 1.0) / 3.6e6 == pytest.approx(6.34, abs=0.03)
    # a lower CE means more CO by back reaction: more enthalpy per kg Al
    assert bath.reaction_enthalpy(1233.15, 0.95) > bath.reaction_enthalpy(1233.15, 1.0)


def test_current_efficiency_dewing_sensitivities():
    """Dewing: +10 K superheat multiplies the loss by 1.245, +1 % AlF3 by 0.957."""
    base = 1 - bath.current_efficiency(8.0, 11.5)
    assert base == pytest.approx(0.05, rel=1e-12)
    assert (1 - bath.current_efficiency(18.0, 11.5)) / base == pytest.approx(1.245, abs=0.001)
    assert (1 - bath.current_efficiency(8.0, 12.5)) / base == pytest.approx(0.957, abs=0.001)
