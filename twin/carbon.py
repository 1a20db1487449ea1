"""Scope 1 and 2 carbon accounting per tonne of aluminium (IAI / IPCC methods; park notes sec. 4).

Functions take what the twin simulates (net carbon, anode-effect minutes or overvoltage, current
efficiency, electricity, fuels) and return per-tonne figures:
- anode CO2, IPCC 2006 Vol.3 eq. 4.21 / 40 CFR 98.63: NAC (100 - S - Ash)/100 44/12;
- PFC by the slope method (IPCC 2019 Refinement = EU 2025/2547 Annex II Table 2) and by the
  overvoltage method; GWP100 from the IPCC reports (SAR to AR6);
- electricity (period-average or hourly-matched against renewable supply) and fuels (IPCC 2006 Vol.2
  default factors). Efficiency is a fraction, as everywhere in alutwin.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["LOW_CARBON_LINE", "PfcResult", "anode_co2", "electricity_co2", "electricity_co2_hourly", "fuel_co2",
           "gwp", "pfc_co2e", "pfc_overvoltage", "pfc_slope"]

LOW_CARBON_LINE = 4.0      # t CO2e / t Al, scope 1+2: the "low-carbon aluminium" threshold of the park
CO2_PER_C = 44.0 / 12.0            # IPCC convention (not the exact molar masses)

# GWP100, t CO2e per t gas (IPCC SAR, AR4, AR5, AR6)
GWP100 = {
    "CF4": {"SAR": 6500.0, "AR4": 7390.0, "AR5": 6630.0, "AR6": 7380.0},
    "C2F6": {"SAR": 9200.0, "AR4": 12200.0, "AR5": 11100.0, "AR6": 12400.0},
}
# slope method: SEF_CF4 (kg CF4/t Al)/(AE-min/cell-day) and F_C2F6 (kg C2F6/kg CF4), IPCC 2019 Refinement
SLOPE = {"PFPB-L": (0.122, 0.097), "PFPB-M": (0.104, 0.057), "CWPB": (0.143, 0.121), "SWPB": (0.233, 0.280),
         "VSS": (0.058, 0.086), "HSS": (0.165, 0.077)}
# overvoltage method: OVC (kg CF4/t Al)/mV and F_C2F6 (IPCC 2006 / 2019)
OVERVOLTAGE = {"CWPB": (1.16, 0.121), "SWPB": (3.65, 0.252)}
# fuel emission factors, t CO2 per TJ (IPCC 2006 Vol.2 defaults)
FUEL_EF = {"natural_gas": 56.1, "coking_coal": 94.6, "anthracite": 98.3, "lignite": 101.0}


class PfcResult(NamedTuple):
    cf4: float | np.ndarray      # kg CF4 per t Al
    c2f6: float | np.ndarray     # kg C2F6 per t Al
    co2e: float | np.ndarray     # t CO2e per t Al


def _value(x: np.ndarray) -> float | np.ndarray:
    return float(x) if np.ndim(x) == 0 else x


def gwp(gas: str, report: str = "AR5") -> float:
    """GWP100 of ``gas`` ("CF4" or "C2F6") in IPCC ``report`` ("SAR", "AR4", "AR5", "AR6")."""
    if gas not in GWP100:
        raise ValueError(f"gwp: gas {gas!r} not known; allowed: {', '.join(GWP100)}")
    if report not in GWP100[gas]:
        raise ValueError(f"gwp: report {report!r} not known; allowed: {', '.join(GWP100[gas])}")
    return GWP100[gas][report]


def anode_co2(net_carbon: ArrayLike, sulphur_pct: ArrayLike = 2.0, ash_pct: ArrayLike = 0.4) -> float | np.ndarray:
    """CO2 from net anode consumption, t CO2/t Al: NAC (100 - S - Ash)/100 44/12 (IPCC 2006 eq. 4.21).

    ``net_carbon`` in t of net baked anode per t Al; sulphur and ash in % (defaults 40 CFR 98 Table F-2).
    """
    nac = np.asarray(net_carbon, float)
    return _value(nac * (100.0 - np.asarray(sulphur_pct, float) - np.asarray(ash_pct, float)) / 100.0 * CO2_PER_C)


def pfc_co2e(cf4: ArrayLike, c2f6: ArrayLike, report: str = "AR5") -> float | np.ndarray:
    """t CO2e of ``cf4`` and ``c2f6`` kg of the gases (per t Al: t CO2e per t Al), GWP100 of ``report``."""
    return _value((np.asarray(cf4, float) * gwp("CF4", report) + np.asarray(c2f6, float) * gwp("C2F6", report))
                  / 1000.0)


def _pfc(cf4: np.ndarray, ratio: float, report: str) -> PfcResult:
    c2f6 = cf4 * ratio
    return PfcResult(_value(cf4), _value(c2f6), pfc_co2e(cf4, c2f6, report))


def pfc_slope(aem: ArrayLike, cell_type: str = "PFPB-M", gwp: str = "AR5") -> PfcResult:
    """PFC by the slope method from anode-effect minutes per cell-day: CF4 = SEF AEM (kg/t Al)."""
    if cell_type not in SLOPE:
        raise ValueError(f"pfc_slope: cell_type {cell_type!r} not known; allowed: {', '.join(SLOPE)}")
    sef, ratio = SLOPE[cell_type]
    return _pfc(sef * np.asarray(aem, float), ratio, gwp)


def pfc_overvoltage(aeo_mv: ArrayLike, current_efficiency: ArrayLike, cell_type: str = "CWPB",
                    gwp: str = "AR5") -> PfcResult:
    """PFC by the overvoltage method: CF4 = OVC AEO / CE% (kg/t Al); AEO in mV, CE as a fraction."""
    if cell_type not in OVERVOLTAGE:
        raise ValueError(f"pfc_overvoltage: cell_type {cell_type!r} not known; allowed: {', '.join(OVERVOLTAGE)}")
    ce = np.asarray(current_efficiency, float)
    if np.any((ce <= 0) | (ce > 1)):
        raise ValueError(f"pfc_overvoltage: current_efficiency is a fraction in (0, 1], got {current_efficiency!r}")
    ovc, ratio = OVERVOLTAGE[cell_type]
    return _pfc(ovc * np.asarray(aeo_mv, float) / (100.0 * ce), ratio, gwp)


def electricity_co2(mwh_per_t: ArrayLike, ef_t_per_mwh: ArrayLike) -> float | np.ndarray:
    """Scope 2, t CO2/t Al, from electricity per tonne and the supply's emission factor (period average)."""
    return _value(np.asarray(mwh_per_t, float) * np.asarray(ef_t_per_mwh, float))


def electricity_co2_hourly(demand_mwh: ArrayLike, renewable_mwh: ArrayLike, grid_ef_t_per_mwh: ArrayLike,
                           metal_t: float) -> float:
    """Scope 2, t CO2/t Al, hourly-matched: each hour the renewable supply covers what it can, the grid
    (at that hour's factor) the rest; surplus renewable in one hour does not offset another."""
    demand = np.asarray(demand_mwh, float)
    from_grid = np.clip(demand - np.asarray(renewable_mwh, float), 0.0, None)
    return float(np.sum(from_grid * np.asarray(grid_ef_t_per_mwh, float)) / metal_t)


def fuel_co2(tj: ArrayLike, fuel: str, metal_t: float = 1.0) -> float:
    """CO2 of a fuel, t CO2/t Al, with the IPCC 2006 default factor of ``fuel`` (``metal_t`` = 1: t CO2)."""
    if fuel not in FUEL_EF:
        raise ValueError(f"fuel_co2: fuel {fuel!r} not known; allowed: {', '.join(FUEL_EF)}")
    return float(np.sum(np.asarray(tj, float)) * FUEL_EF[fuel] / metal_t)
