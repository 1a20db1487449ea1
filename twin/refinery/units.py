"""Unit operations of the Bayer flowsheet that are quasi-steady at the refinery's time scales.

Streams are component vectors in oxide terms (kg or kg/h of Al2O3, Na2O, CO2, SiO2, H2O; the
order of ``COMPONENTS``), so the element balances of Al, Na, C, Si and water are the component
balances. Both the steady liquor loop (``twin.refinery.flowsheet``) and the dynamic refinery
(``twin.refinery.plant``) take their units from here. Sources and ranges: refinery notes sec. 3-4.
"""
from __future__ import annotations

import math

import numpy as np

from twin._core import precip, props
from twin.refinery import liquor
from twin.refinery import stoichiometry as S

COMPONENTS = ("al2o3", "na2o", "co2", "sio2", "h2o")
AL, NA, CO2, SI, H2O = range(5)
M_CO2 = S.M_CO2
M_CACO3 = S.M_CAO + M_CO2
M_KAOLINITE = S.M_AL2O3 + 2 * S.M_SIO2 + 2 * S.M_H2O
# hydroxysodalite 4Na2O.3Al2O3.6SiO2.3H2O per 6 SiO2 (notes 3.6): the desilication product
DSP_PER_SILICA = np.array([3 * S.M_AL2O3, 4 * S.M_NA2O, 0.0, 6 * S.M_SIO2, 3 * S.M_H2O]) / (6 * S.M_SIO2)
HYDRATE_WATER_PER_AL2O3 = precip.HYDRATE_WATER_PER_AL2O3     # Al2O3.3H2O, the kernel's own constant
GAS_CONSTANT = 8.314462618
WATER_LATENT_J_PER_KG = 2.2e6       # condensing/flashing steam near 120-150 degC (steam tables: 2.26-2.11 MJ/kg)


# -- liquor streams ------------------------------------------------------------------------------------

def liquor_components(flow_m3: float, a: float, c: float, s: float, silica: float) -> np.ndarray:
    """Component flows (kg/h) of a liquor given as m3/h @25 and g/L (A, C, S as Na2CO3, SiO2)."""
    rho = liquor.density(25.0, a, c, s)
    carbonate = s - c                                          # g/L Na2CO3
    comp = np.array([a, S.M_NA2O / S.M_NA2CO3 * s, M_CO2 / S.M_NA2CO3 * carbonate, silica, 0.0])
    comp[H2O] = rho - comp[:H2O].sum()
    return flow_m3 * comp


def liquor_volume(comp: np.ndarray) -> float:
    """m3 @25 of a liquor of component masses ``comp`` (kg): the volume its BRAHMA density closes
    (in closed form, BRAHMA being linear in the concentrations)."""
    soda = comp[NA] * S.M_NA2CO3 / S.M_NA2O
    caustic = soda - comp[CO2] * S.M_NA2CO3 / M_CO2
    return float(props.brahma_volume_(25.0, float(comp[AL]), float(caustic), float(soda), float(comp.sum())))


def concentrations(comp: np.ndarray, volume: float) -> dict[str, float]:
    """g/L (A, C and S as Na2CO3, SiO2, water) of component masses ``comp`` (kg) in ``volume`` m3."""
    soda = comp[NA] * S.M_NA2CO3 / S.M_NA2O / volume
    carbonate = comp[CO2] * S.M_NA2CO3 / M_CO2 / volume
    return {"alumina": comp[AL] / volume, "caustic": soda - carbonate, "soda": soda, "silica": comp[SI] / volume,
            "water": comp[H2O] / volume}


def liquor_concentrations(comp: np.ndarray) -> dict[str, float]:
    """m3/h @25 and g/L of a liquor from its component flows (kg/h)."""
    q = liquor_volume(comp)
    return {"flow_m3": q, **concentrations(comp, q)}


def train_rows(comp: np.ndarray, volume: float, t_c: float) -> np.ndarray:
    """The precipitation kernel's rows (``precip.TANK_ROWS``) of a liquor of ``comp`` kg in ``volume`` m3 (no
    solids: no bound soda)."""
    c = concentrations(comp, volume)
    return np.array([c["alumina"], c["caustic"], t_c, c["soda"], c["silica"], c["water"], 0.0])


def rows_to_components(rows: np.ndarray) -> np.ndarray:
    """Inverse of ``train_rows`` (per m3, or integrals of flow x rows): the liquor's component kg (the solids'
    bound soda, the last row, is not the liquor's)."""
    alumina, caustic, _, soda, silica, water, _bound = rows
    return np.array([alumina, soda * S.M_NA2O / S.M_NA2CO3, (soda - caustic) * M_CO2 / S.M_NA2CO3, silica, water])


def hydrate_components(al2o3_kg: float) -> np.ndarray:
    """Components of gibbsite Al2O3.3H2O holding ``al2o3_kg`` of Al2O3."""
    return np.array([al2o3_kg, 0.0, 0.0, 0.0, HYDRATE_WATER_PER_AL2O3 * al2o3_kg])


# -- digestion ------------------------------------------------------------------------------------------

def gibbsite_extraction(t_c: float, residence_min: float, caustic: float, alumina_in: float, available: float,
                        rate_per_min: float, activation_J_per_mol: float = 82e3) -> float:
    """Fraction of the gibbsite that dissolves in a plug-flow digester (shrinking particles).

    dX/dt = k(T) (1 - X)^(2/3) (1 - A/A*), A = alumina_in + X available (g/L), A* the Rosenberg-Healy
    gibbsite solubility at T and the caustic C (notes 3.5: chemically controlled, first order in the
    approach to equilibrium). k(T) = rate_per_min at 145 degC with the Arrhenius energy of J. Japan
    Inst. Light Metals 30 (1980) 98 (82 kJ/mol, gibbsite). ``rate_per_min`` is a site constant [E]:
    "gibbsite dissolves in minutes at 140-150 degC". Valid for low-temperature digestion, 100-160 degC.
    Integrated by classical RK4 in steps of at most a quarter of the rate's time constant.
    """
    if available <= 0.0 or residence_min <= 0.0:
        return 0.0
    k = rate_per_min * np.exp(-activation_J_per_mol / GAS_CONSTANT * (1.0 / (t_c + 273.15) - 1.0 / 418.15))
    a_eq = float(liquor.gibbsite_solubility(t_c, caustic))

    def rate(x):
        x = min(max(x, 0.0), 1.0)
        return k * (1.0 - x) ** (2.0 / 3.0) * max(0.0, 1.0 - (alumina_in + x * available) / a_eq)

    steps = max(8, math.ceil(4.0 * k * residence_min))
    x, h = 0.0, residence_min / steps
    for _ in range(steps):
        k1 = rate(x)
        k2 = rate(x + 0.5 * h * k1)
        k3 = rate(x + 0.5 * h * k2)
        k4 = rate(x + h * k3)
        x += h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    return min(max(x, 0.0), 1.0)


def bauxite_to_liquor(bauxite_kg: float, gibbsite: float, kaolinite: float, moisture: float,
                      carbonate_kg_per_t: float, extraction: float) -> np.ndarray:
    """What dry bauxite gives the liquor: dissolved gibbsite and kaolinite, its moisture, organics as CO2.

    Kaolinite Al2O3.2SiO2.2H2O dissolves completely at digestion (notes 3.6); its silica comes back
    out as DSP (``desilication_product``). Organics degrade to carbonate at ``carbonate_kg_per_t``
    Na2CO3 per t dry bauxite (taking the soda from the caustic).
    """
    gib, kao = bauxite_kg * gibbsite, bauxite_kg * kaolinite
    out = np.zeros(5)
    out[AL] = extraction * gib * S.AL2O3_IN_GIBBSITE + kao * S.M_AL2O3 / M_KAOLINITE
    out[SI] = kao * 2 * S.M_SIO2 / M_KAOLINITE
    out[H2O] = (extraction * gib * S.LOI_GIBBSITE + kao * 2 * S.M_H2O / M_KAOLINITE
                + bauxite_kg * moisture / (1.0 - moisture))
    out[CO2] = bauxite_kg / 1e3 * carbonate_kg_per_t * M_CO2 / S.M_NA2CO3
    return out


def minerals_passing(bauxite_kg: float, gibbsite: float, boehmite: float, quartz: float,
                     extraction: float) -> np.ndarray:
    """Components of the minerals that go through low-temperature digestion untouched into the mud."""
    left = bauxite_kg * gibbsite * (1.0 - extraction)
    out = np.zeros(5)
    out[AL] = left * S.AL2O3_IN_GIBBSITE + bauxite_kg * boehmite * S.AL2O3_IN_BOEHMITE
    out[H2O] = left * S.LOI_GIBBSITE + bauxite_kg * boehmite * (1 - S.AL2O3_IN_BOEHMITE)
    out[SI] = bauxite_kg * quartz
    return out


def desilication_product(silica_kg: float) -> np.ndarray:
    """Components of the hydroxysodalite that takes ``silica_kg`` of SiO2 out of the liquor."""
    return silica_kg * DSP_PER_SILICA


def causticisation(lime_kg: float, efficiency: float) -> tuple[float, float]:
    """CO2 (kg) lime takes out of the liquor as CaCO3 and the solids it adds to the mud (kg).

    Na2CO3 + Ca(OH)2 -> 2 NaOH + CaCO3; the lime not used (1 - efficiency) goes to the mud as
    TCA/hydrogarnet, counted as CaO (notes 2.3, Croker et al. 2008).
    """
    co2 = efficiency * lime_kg * M_CO2 / S.M_CAO
    return co2, co2 / M_CO2 * M_CACO3 + (1.0 - efficiency) * lime_kg


# -- clarification and washing ----------------------------------------------------------------------------

def washing_loss(stages: int, wash_ratio: float, efficiency: float = 1.0) -> float:
    """Fraction of the solutes in the settler underflow liquor lost with the last washer's underflow.

    Counter-current washers, underflow liquor U per stage, solute-free wash W = R U into the last.
    Each washer mixes its feeds to a fraction ``efficiency`` of perfect mixing (the Scandrett
    efficiency of SysCAD's Counter Current Washer, notes 3.9): the underflow leaving stage k holds
    u_k = E m_k + (1 - E) u_(k-1), m_k the perfectly mixed concentration; overflows close each
    stage's solute balance. E = 1 is the ideal CCD formula (R - 1)/(R^(n+1) - 1).
    """
    if stages < 1 or wash_ratio <= 0 or not 0.0 < efficiency <= 1.0:
        raise ValueError(f"need stages >= 1, wash_ratio > 0 and 0 < efficiency <= 1, got "
                         f"{stages}, {wash_ratio}, {efficiency}")
    n, r, e = stages, wash_ratio, efficiency
    # unknowns: u_1..u_n (underflow liquor), o_1..o_n (overflow), in units of the feed underflow's
    a = np.zeros((2 * n, 2 * n))
    b = np.zeros(2 * n)
    u, o = (lambda k: k - 1), (lambda k: n + k - 1)
    for k in range(1, n + 1):
        # mixing: (1 + R) u_k = E (u_(k-1) + R o_(k+1)) + (1 - E)(1 + R) u_(k-1)
        row = 2 * (k - 1)
        a[row, u(k)] = 1.0 + r
        coef_prev = e + (1.0 - e) * (1.0 + r)
        if k > 1:
            a[row, u(k - 1)] = -coef_prev
        else:
            b[row] += coef_prev
        if k < n:
            a[row, o(k + 1)] = -e * r
        # solute balance: u_(k-1) + R o_(k+1) = u_k + R o_k
        row += 1
        a[row, u(k)] = 1.0
        a[row, o(k)] = r
        if k > 1:
            a[row, u(k - 1)] = -1.0
        else:
            b[row] += 1.0
        if k < n:
            a[row, o(k + 1)] = -r
    x = np.linalg.solve(a, b)
    return float(x[u(n)])


# -- heat -----------------------------------------------------------------------------------------------

def flash_vapour_kg(liquor_kg: float, cp_kJ_per_kgK: float, t_in: float, t_out: float) -> float:
    """Water flashed off a slurry cooled adiabatically from t_in to t_out (enthalpy balance, notes 3.10)."""
    return max(0.0, liquor_kg * cp_kJ_per_kgK * 1e3 * (t_in - t_out) / WATER_LATENT_J_PER_KG)


def digestion_live_steam_GJ(slurry_kg: float, cp_kJ_per_kgK: float, t_feed: float, t_digestion: float,
                            flash_vapour: float, heater_recovery: float) -> float:
    """Live steam to bring the slurry from t_feed to digestion temperature after regenerative heating.

    The flash vapour condenses in the slurry heaters with ``heater_recovery`` of its latent heat
    reaching the slurry (notes 5.3 item 6, the heat recovery loop); steam makes up the rest.
    """
    need = slurry_kg * cp_kJ_per_kgK * 1e3 * (t_digestion - t_feed)
    return max(0.0, need - heater_recovery * flash_vapour * WATER_LATENT_J_PER_KG) / 1e9


def calcination_fuel_GJ(alumina_kg: float, hydrate_moisture: float, efficiency: float) -> float:
    """Fuel to calcine gibbsite holding ``alumina_kg`` Al2O3 with free moisture (t/t dry hydrate).

    Reaction enthalpy (Robie & Hemingway) plus 2.44 GJ per t free water evaporated, over the
    calciner's thermal efficiency (notes 3.8, 4.7: 2.7-3.2 GJ/t for CFB/GSC calciners).
    """
    moisture_kg = hydrate_moisture * alumina_kg / S.AL2O3_IN_GIBBSITE
    return (S.calcination_enthalpy_GJ_per_t() * alumina_kg + 2.44 * moisture_kg) / 1e3 / efficiency


# -- classification ---------------------------------------------------------------------------------------

def product_fraction(sizes_um: np.ndarray, cut_um: float, sharpness: float) -> np.ndarray:
    """Fraction of each size class a hydrocyclone classifier sends to product (coarse underflow).

    Logistic efficiency curve E(d) = 1 / (1 + (d50c/d)^m) (Plitt 1976 / Whiten form, no bypass):
    ``cut_um`` the corrected cut size d50c, ``sharpness`` m (2-4 for cyclone stages).
    """
    return 1.0 / (1.0 + (cut_um / np.asarray(sizes_um)) ** sharpness)
