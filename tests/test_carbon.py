"""Carbon accounting against park_cases.json and smelter_cases.json (published methods and numbers)."""
from __future__ import annotations

import numpy as np
import pytest

from twin import carbon


def test_anode_co2():
    """anode_co2_pure_carbon_0p42: 0.42 t C/t Al pure -> 1.54; ipcc_anode_co2: 0.40, S 2 %, ash 0.4 % -> 1.4315."""
    assert carbon.anode_co2(0.42, sulphur_pct=0.0, ash_pct=0.0) == pytest.approx(1.54, abs=0.001)
    assert carbon.anode_co2(0.40) == pytest.approx(1.4315, abs=0.0005)


def test_pfc_slope_cwpb():
    """pfc_slope_cwpb_aem0p5_ar5: CF4 0.0715, C2F6 0.008651 kg/t, 0.5701 t CO2e/t; pfc_slope_CWPB 0.143 at AEM 1."""
    r = carbon.pfc_slope(0.5, cell_type="CWPB", gwp="AR5")
    assert r.cf4 == pytest.approx(0.0715, rel=0.001)
    assert r.c2f6 == pytest.approx(0.008651, rel=0.001)
    assert r.co2e == pytest.approx(0.5701, rel=0.001)
    assert carbon.pfc_slope(1.0, cell_type="CWPB").cf4 == pytest.approx(0.143, abs=0.0005)
    np.testing.assert_allclose(carbon.pfc_slope(np.array([0.0, 0.15])).cf4, [0.0, 0.0156])      # PFPB-M


def test_pfc_overvoltage():
    """Notes 4.2: AEO 10 mV at CE 95 % -> 0.122 kg CF4/t (CWPB)."""
    r = carbon.pfc_overvoltage(10.0, 0.95)
    assert r.cf4 == pytest.approx(0.122, abs=0.0005)
    assert r.c2f6 == pytest.approx(0.121 * r.cf4)
    with pytest.raises(ValueError, match="fraction"):
        carbon.pfc_overvoltage(10.0, 95.0)


def test_gwp100():
    """gwp100_pfc: CF4 SAR 6500 / AR4 7390 / AR5 6630 / AR6 7380; C2F6 9200 / 12200 / 11100 / 12400."""
    for gas, values in {"CF4": (6500, 7390, 6630, 7380), "C2F6": (9200, 12200, 11100, 12400)}.items():
        assert [carbon.gwp(gas, r) for r in ("SAR", "AR4", "AR5", "AR6")] == list(values)
    with pytest.raises(ValueError, match="AR5"):
        carbon.gwp("CF4", "AR7")


def test_scope2_and_hourly_matching():
    """scope2_kz_grid: 14.0 MWh/t at 0.75 t/MWh -> 10.5 t CO2/t. Hourly matching counts shortfalls only."""
    assert carbon.electricity_co2(14.0, 0.75) == pytest.approx(10.5, abs=0.01)
    demand = np.full(4, 100.0)
    wind = np.array([150.0, 150.0, 50.0, 50.0])            # 100 % on average, 25 % short hour by hour
    assert carbon.electricity_co2_hourly(demand, wind, 0.75, metal_t=10.0) == pytest.approx(100 * 0.75 / 10.0)
    assert carbon.fuel_co2(1.0, "natural_gas", metal_t=100.0) == pytest.approx(0.561)
    with pytest.raises(ValueError, match="natural_gas"):
        carbon.fuel_co2(1.0, "peat", 1.0)


def test_park_derived_cases():
    """faraday_kg_per_kAh 0.33557; potline_dc_power_600kA_360cells 907.2 MW; normalized_voltage 4.2941 V."""
    from twin._core.pot import AL_KG_PER_COULOMB

    assert AL_KG_PER_COULOMB * 3.6e6 == pytest.approx(0.33557, abs=0.0001)
    assert 360 * 600e3 * 4.2 / 1e6 == pytest.approx(907.2, abs=0.1)
    assert (4.25 - 1.65) / 590 * 600 + 1.65 == pytest.approx(4.2941, abs=0.001)
