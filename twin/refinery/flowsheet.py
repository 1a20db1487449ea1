"""Steady state of the Bayer liquor loop from design specifications (refinery notes sec. 5.3).

The loop is balanced in oxide components, so the element balances of Al, Na, Si, C and water are
the component balances: Al2O3, Na2O, CO2, SiO2 and H2O (all kg/h). Reactions in those terms:
gibbsite Al2O3.3H2O and kaolinite Al2O3.2SiO2.2H2O dissolve into the liquor; desilication product
(hydroxysodalite) 4Na2O.3Al2O3.6SiO2.3H2O leaves it; precipitation takes Al2O3.3H2O out; organics
add CO2 (carbonate); lime takes CO2 out as CaCO3; make-up NaOH adds Na2O + H2O.

Specifications (``DesignBasis``): alumina production, pregnant and spent A/C, spent caustic, spent
C/S, spent silica, gibbsite extraction, washing. Unknowns closed by ``scipy.optimize.root``: spent
liquor flow, bauxite charge, evaporation, caustic make-up, lime and the desilication product - the
"controller-like specs" of the notes. The tear stream is the spent liquor (its composition is
specified; its flow is solved).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq, root

from twin.refinery import liquor
from twin.refinery import stoichiometry as S

COMPONENTS = ("al2o3", "na2o", "co2", "sio2", "h2o")
AL, NA, CO2, SI, H2O = range(5)
M_CO2 = 44.009
M_CACO3 = S.M_CAO + M_CO2
M_KAOLINITE = S.M_AL2O3 + 2 * S.M_SIO2 + 2 * S.M_H2O
M_DSP = 4 * S.M_NA2O + 3 * S.M_AL2O3 + 6 * S.M_SIO2 + 3 * S.M_H2O     # hydroxysodalite per 6 SiO2


class FlowsheetError(RuntimeError):
    """The liquor loop did not converge, or converged outside what the plant can do."""


@dataclass(frozen=True)
class Bauxite:
    """Dry bauxite by mineralogy (mass fractions; the rest is other inert minerals)."""

    gibbsite: float = 0.62
    boehmite: float = 0.03
    kaolinite: float = 0.045            # reactive silica carrier
    quartz: float = 0.01                # unreactive at low-temperature digestion
    iron_oxides: float = 0.20
    titania: float = 0.03
    moisture: float = 0.08              # t water per t wet bauxite
    carbonate_kg_per_t: float = 4.0     # Na2CO3 formed from organics per t dry bauxite

    def __post_init__(self):
        parts = (self.gibbsite, self.boehmite, self.kaolinite, self.quartz, self.iron_oxides, self.titania)
        if min(parts) < 0 or sum(parts) > 1.0 + 1e-12:
            raise ValueError(f"bauxite mineral fractions must be >= 0 and sum to <= 1, got {parts}")


@dataclass(frozen=True)
class DesignBasis:
    """Design specifications of a low-temperature (gibbsitic) Bayer refinery (notes sec. 4, 5)."""

    alumina_t_per_year: float = 2.0e6
    hours_per_year: float = 8760.0
    pregnant_ac: float = 0.70
    spent_ac: float = 0.38
    spent_caustic: float = 240.0        # g/L as Na2CO3 @25
    causticity: float = 0.85            # C/S of spent liquor
    spent_silica: float = 0.6           # g/L SiO2
    gibbsite_extraction: float = 0.97
    digestion_t_c: float = 145.0
    mud_underflow_solids: float = 0.50  # mass fraction of solids in the last washer underflow
    washers: int = 6
    wash_ratio: float = 2.0             # wash water / underflow liquor
    lime_efficiency: float = 0.6
    hydrate_moisture: float = 0.08      # t free water per t dry hydrate to the calciner
    calciner_efficiency: float = 0.70   # reaction + moisture heat / fuel heat
    digestion_heating_K: float = 40.0   # live-steam heating after regenerative heaters
    evaporator_economy: float = 3.0     # t water per t steam
    steam_latent_GJ_per_t: float = 2.1


@dataclass
class SteadyState:
    """The converged loop: unknowns, streams (component kg/h) and plant figures."""

    spent_m3_per_h: float
    bauxite_t_per_h: float
    evaporation_t_per_h: float
    naoh_t_per_h: float
    lime_t_per_h: float
    pregnant: dict[str, float]
    spent: dict[str, float]
    ins: np.ndarray                      # kg/h by component into the loop
    outs: np.ndarray                     # kg/h by component out of it
    kpi: dict[str, float] = field(default_factory=dict)


def liquor_components(flow_m3: float, a: float, c: float, s: float, silica: float) -> np.ndarray:
    """Component flows (kg/h) of a liquor given as m3/h @25 and g/L (A, C, S as Na2CO3, SiO2)."""
    rho = liquor.density(25.0, a, c, s)
    carbonate = s - c                                          # g/L Na2CO3
    comp = np.array([a, S.M_NA2O / S.M_NA2CO3 * s, M_CO2 / S.M_NA2CO3 * carbonate, silica, 0.0])
    comp[H2O] = rho - comp[:H2O].sum()
    return flow_m3 * comp


def liquor_concentrations(comp: np.ndarray) -> dict[str, float]:
    """m3/h @25 and g/L of a liquor from its component flows (the density closes the volume)."""
    def volume_error(q):
        c = _concentrations(comp, q)
        return q * liquor.density(25.0, c["alumina"], c["caustic"], c["soda"]) - comp.sum()

    q0 = comp.sum() / 1300.0
    q = brentq(volume_error, 0.5 * q0, 2.0 * q0, xtol=1e-12, rtol=1e-14)
    return {"flow_m3": q, **_concentrations(comp, q)}


def _concentrations(comp: np.ndarray, q: float) -> dict[str, float]:
    soda = comp[NA] * S.M_NA2CO3 / S.M_NA2O / q
    carbonate = comp[CO2] * S.M_NA2CO3 / M_CO2 / q
    return {"alumina": comp[AL] / q, "caustic": soda - carbonate, "soda": soda, "silica": comp[SI] / q}


def _loop(x: np.ndarray, bx: Bauxite, d: DesignBasis) -> dict:
    """One pass round the loop from the spent liquor; returns streams and the closure residuals."""
    q_spent, bauxite, evap, naoh, lime, dsp_silica_t = x
    production = d.alumina_t_per_year / d.hours_per_year * 1e3            # kg/h Al2O3
    c = d.spent_caustic
    spent = liquor_components(q_spent, d.spent_ac * c, c, c / d.causticity, d.spent_silica)
    b = bauxite * 1e3                                                      # kg/h dry
    ins = np.zeros(5)
    outs = np.zeros(5)
    # bauxite: water with it, gibbsite and kaolinite (reactive) dissolve, organics make carbonate
    gib = b * bx.gibbsite
    kao = b * bx.kaolinite
    dissolved_gibbsite = d.gibbsite_extraction * gib
    into_liquor = np.zeros(5)
    into_liquor[AL] = dissolved_gibbsite * S.AL2O3_IN_GIBBSITE + kao * S.M_AL2O3 / M_KAOLINITE
    into_liquor[SI] = kao * 2 * S.M_SIO2 / M_KAOLINITE
    into_liquor[H2O] = (dissolved_gibbsite * S.LOI_GIBBSITE + kao * 2 * S.M_H2O / M_KAOLINITE
                        + b * bx.moisture / (1.0 - bx.moisture))
    into_liquor[CO2] = bauxite * bx.carbonate_kg_per_t * M_CO2 / S.M_NA2CO3
    ins += into_liquor
    # minerals that pass digestion untouched into the mud: unextracted gibbsite, boehmite, quartz
    passing = np.zeros(5)
    passing[AL] = (gib - dissolved_gibbsite) * S.AL2O3_IN_GIBBSITE + b * bx.boehmite * S.AL2O3_IN_BOEHMITE
    passing[H2O] = (gib - dissolved_gibbsite) * S.LOI_GIBBSITE + b * bx.boehmite * (1 - S.AL2O3_IN_BOEHMITE)
    passing[SI] = b * bx.quartz
    ins += passing
    # make-up caustic (as NaOH = 1/2 Na2O + 1/2 H2O) and the wash water
    make_up = np.zeros(5)
    make_up[NA] = naoh * 1e3 * S.M_NA2O / (2 * S.M_NAOH)
    make_up[H2O] = naoh * 1e3 * S.M_H2O / (2 * S.M_NAOH)
    ins += make_up
    inerts = b * (bx.quartz + bx.iron_oxides + bx.titania
                  + (1.0 - bx.gibbsite - bx.boehmite - bx.kaolinite - bx.quartz - bx.iron_oxides - bx.titania))
    undissolved = (gib - dissolved_gibbsite) + b * bx.boehmite
    # digestion with desilication: reactive silica beyond the spent level leaves as DSP
    digest = spent + into_liquor
    dsp = dsp_silica_t * 1e3 / (6 * S.M_SIO2) * np.array([3 * S.M_AL2O3, 4 * S.M_NA2O, 0.0, 6 * S.M_SIO2, 3 * S.M_H2O])
    digest = digest - dsp
    # causticisation (on the washer circuit): lime takes carbonate out as CaCO3
    co2_removed = d.lime_efficiency * lime * 1e3 * M_CO2 / S.M_CAO
    digest[CO2] -= co2_removed
    mud_solids = inerts + undissolved + dsp.sum() + co2_removed / M_CO2 * M_CACO3 \
        + (1 - d.lime_efficiency) * lime * 1e3
    # washing: the underflow liquor leaves with the mud; ideal CCD returns all but a fraction of its solutes
    underflow_liquor = mud_solids * (1.0 - d.mud_underflow_solids) / d.mud_underflow_solids
    lost = S.ccd_soluble_loss(d.washers, d.wash_ratio)
    solutes_per_kg = digest[:H2O] / digest.sum()
    mud_liquor = np.zeros(5)
    mud_liquor[:H2O] = lost * solutes_per_kg * underflow_liquor
    mud_liquor[H2O] = underflow_liquor - mud_liquor[:H2O].sum()
    wash_water = d.wash_ratio * underflow_liquor
    ins[H2O] += wash_water
    pregnant = digest + np.array([0, 0, 0, 0, wash_water]) - mud_liquor
    # precipitation: the production leaves as hydrate Al2O3.3H2O
    hydrate = np.array([production, 0.0, 0.0, 0.0, 3 * S.M_H2O / S.M_AL2O3 * production])
    after = pregnant - hydrate
    after[H2O] -= evap * 1e3
    new_spent = after + make_up
    outs += hydrate + mud_liquor + dsp
    outs[H2O] += evap * 1e3
    outs += passing
    outs[CO2] += co2_removed
    preg = liquor_concentrations(pregnant)
    scale = np.array([1e-3, 1e-3, 1e-2, 1e-2, 1e-4])      # residuals of similar size for the solver
    residual = np.append((new_spent - spent) * scale, (preg["alumina"] / preg["caustic"] - d.pregnant_ac) * 100)
    return {"residual": residual, "spent": spent, "pregnant": pregnant, "preg": preg, "ins": ins, "outs": outs,
            "mud_solids": mud_solids, "dsp": dsp, "production": production, "wash_water": wash_water,
            "hydrate": hydrate}


def solve(bauxite: Bauxite | None = None, design: DesignBasis | None = None,
          guess: np.ndarray | None = None) -> SteadyState:
    """Converge the liquor loop; raise FlowsheetError with what went wrong if it cannot."""
    bx, d = bauxite or Bauxite(), design or DesignBasis()
    production = d.alumina_t_per_year / d.hours_per_year                     # t/h
    yield_g_l = d.spent_caustic * (d.pregnant_ac - d.spent_ac)
    if yield_g_l <= 0:
        raise FlowsheetError(f"pregnant A/C {d.pregnant_ac} must exceed spent A/C {d.spent_ac}")
    if guess is None:
        # a design-spec estimate: liquor for the yield, bauxite for the alumina, nothing else
        b0 = production / (bx.gibbsite * S.AL2O3_IN_GIBBSITE)
        guess = np.array([production * 1e3 / yield_g_l, b0, 0.5 * production, 0.05 * production,
                          0.01 * production, b0 * bx.kaolinite * 2 * S.M_SIO2 / M_KAOLINITE])
    sol = root(lambda x: _loop(x, bx, d)["residual"], np.asarray(guess, float), method="hybr",
               options={"xtol": 1e-13, "maxfev": 2000})
    r = _loop(sol.x, bx, d)
    if not sol.success or np.max(np.abs(r["residual"])) > 1e-8:
        raise FlowsheetError(f"liquor loop did not converge from {list(np.round(guess, 3))}: {sol.message} "
                             f"(largest residual {np.max(np.abs(r['residual'])):.3g})")
    names = ("spent liquor flow", "bauxite charge", "evaporation", "caustic make-up", "lime", "DSP")
    for name, value in zip(names, sol.x, strict=True):
        if value < 0:
            raise FlowsheetError(f"the design needs a negative {name} ({value:.4g}); check the specifications")
    a_eq = liquor.gibbsite_solubility(d.digestion_t_c, r["preg"]["caustic"])
    if r["preg"]["alumina"] > a_eq:
        raise FlowsheetError(f"pregnant alumina {r['preg']['alumina']:.1f} g/L exceeds gibbsite solubility "
                             f"{a_eq:.1f} g/L at {d.digestion_t_c} degC: lower pregnant_ac or raise the temperature")
    q_spent, b, evap, naoh, lime, _ = sol.x
    p = production
    calcination = (S.calcination_enthalpy_GJ_per_t() + d.hydrate_moisture / S.AL2O3_IN_GIBBSITE
                   * 2.44) / d.calciner_efficiency
    slurry_t_h = (r["spent"].sum() + b * 1e3) / 1e3
    steam = (slurry_t_h * 3.4e-3 * d.digestion_heating_K
             + evap / d.evaporator_economy * d.steam_latent_GJ_per_t) / p
    kpi = {
        "alumina_t_per_h": p,
        "yield_g_per_l": r["production"] / r["preg"]["flow_m3"],
        "pregnant_ac": r["preg"]["alumina"] / r["preg"]["caustic"],
        "caustic_kg_naoh_per_t": naoh * 1e3 / p,
        "bauxite_factor": b / p,
        "red_mud_t_per_t": r["mud_solids"] / 1e3 / p,
        "fuel_calcination_GJ_per_t": calcination,
        "steam_GJ_per_t": steam,
        "lime_kg_per_t": lime * 1e3 / p,
    }
    return SteadyState(q_spent, b, evap, naoh, lime, liquor_concentrations(r["pregnant"]),
                       liquor_concentrations(r["spent"]), r["ins"], r["outs"], kpi)
