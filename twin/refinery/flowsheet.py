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
from scipy.optimize import root

from twin.refinery import liquor
from twin.refinery import stoichiometry as S
from twin.refinery import units as U
from twin.refinery.design import Bauxite, DesignBasis
from twin.refinery.units import CO2, H2O, NA, liquor_components, liquor_concentrations


class FlowsheetError(RuntimeError):
    """The liquor loop did not converge, or converged outside what the plant can do."""


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


def _loop(x: np.ndarray, bx: Bauxite, d: DesignBasis) -> dict:
    """One pass round the loop from the spent liquor; returns streams and the closure residuals."""
    q_spent, bauxite, evap, naoh, lime, dsp_silica_t = x
    production = d.alumina_t_per_year / d.hours_per_year * 1e3            # kg/h Al2O3
    c = d.spent_caustic
    spent = liquor_components(q_spent, d.spent_ac * c, c, c / d.causticity, d.spent_silica)
    b = bauxite * 1e3                                                      # kg/h dry
    extraction = U.gibbsite_extraction(d.digestion_t_c, d.digestion_residence_min, c, d.spent_ac * c,
                                       b * bx.gibbsite * S.AL2O3_IN_GIBBSITE / q_spent, d.digestion_rate_per_min)
    into_liquor = U.bauxite_to_liquor(b, bx.gibbsite, bx.kaolinite, bx.moisture, bx.carbonate_kg_per_t, extraction)
    passing = U.minerals_passing(b, bx.gibbsite, bx.boehmite, bx.quartz, extraction)
    ins = into_liquor + passing
    outs = np.zeros(5)
    # make-up caustic (as NaOH = 1/2 Na2O + 1/2 H2O) and the wash water
    make_up = np.zeros(5)
    make_up[NA] = naoh * 1e3 * S.M_NA2O / (2 * S.M_NAOH)
    make_up[H2O] = naoh * 1e3 * S.M_H2O / (2 * S.M_NAOH)
    ins += make_up
    inerts = b * (bx.iron_oxides + bx.titania
                  + (1.0 - bx.gibbsite - bx.boehmite - bx.kaolinite - bx.quartz - bx.iron_oxides - bx.titania))
    # digestion with desilication: reactive silica beyond the spent level leaves as DSP
    dsp = U.desilication_product(dsp_silica_t * 1e3)
    digest = spent + into_liquor - dsp
    # causticisation (on the washer circuit): lime takes carbonate out as CaCO3
    co2_removed, lime_solids = U.causticisation(lime * 1e3, d.lime_efficiency)
    digest[CO2] -= co2_removed
    mud_solids = inerts + passing.sum() + dsp.sum() + lime_solids
    # washing: the underflow liquor leaves with the mud; ideal CCD returns all but a fraction of its solutes
    underflow_liquor = mud_solids * (1.0 - d.mud_underflow_solids) / d.mud_underflow_solids
    lost = U.washing_loss(d.washers, d.wash_ratio, d.washer_efficiency)
    solutes_per_kg = digest[:H2O] / digest.sum()
    mud_liquor = np.zeros(5)
    mud_liquor[:H2O] = lost * solutes_per_kg * underflow_liquor
    mud_liquor[H2O] = underflow_liquor - mud_liquor[:H2O].sum()
    wash_water = d.wash_ratio * underflow_liquor
    ins[H2O] += wash_water
    pregnant = digest + np.array([0, 0, 0, 0, wash_water]) - mud_liquor
    # precipitation: the production leaves as hydrate Al2O3.3H2O
    hydrate = U.hydrate_components(production)
    after = pregnant - hydrate
    after[H2O] -= evap * 1e3
    spill = liquor_loss(spent, q_spent, production, d)
    new_spent = after + make_up - spill
    outs += hydrate + mud_liquor + dsp + spill
    outs[H2O] += evap * 1e3
    outs += passing
    outs[CO2] += co2_removed
    preg = liquor_concentrations(pregnant)
    scale = np.array([1e-3, 1e-3, 1e-2, 1e-2, 1e-4])      # residuals of similar size for the solver
    residual = np.append((new_spent - spent) * scale, (preg["alumina"] / preg["caustic"] - d.pregnant_ac) * 100)
    return {"residual": residual, "spent": spent, "pregnant": pregnant, "preg": preg, "ins": ins, "outs": outs,
            "mud_solids": mud_solids, "dsp": dsp, "production": production, "wash_water": wash_water,
            "hydrate": hydrate, "extraction": extraction, "digest": digest}


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
                          0.01 * production, b0 * bx.kaolinite * 2 * S.M_SIO2 / U.M_KAOLINITE])
    sol = root(lambda x: _loop(x, bx, d)["residual"], np.asarray(guess, float), method="hybr",
               options={"xtol": 1e-13, "maxfev": 2000})
    r = _loop(sol.x, bx, d)
    if np.max(np.abs(r["residual"])) > 1e-8:           # hybr may stop "without progress" once converged
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
    calcination = U.calcination_fuel_GJ(p * 1e3, d.hydrate_moisture, d.calciner_efficiency)
    kpi = {
        "alumina_t_per_h": p,
        "yield_g_per_l": r["production"] / r["preg"]["flow_m3"],
        "pregnant_ac": r["preg"]["alumina"] / r["preg"]["caustic"],
        "caustic_kg_naoh_per_t": naoh * 1e3 / p,
        "bauxite_factor": b / p,
        "red_mud_t_per_t": r["mud_solids"] / 1e3 / p,
        "fuel_calcination_GJ_per_t": calcination / p,
        "gibbsite_extraction": r["extraction"],
        "lime_kg_per_t": lime * 1e3 / p,
    }
    return SteadyState(q_spent, b, evap, naoh, lime, liquor_concentrations(r["pregnant"]),
                       liquor_concentrations(r["spent"]), r["ins"], r["outs"], kpi)


def liquor_loss(spent: np.ndarray, q_spent: float, production_kg_h: float, d: DesignBasis) -> np.ndarray:
    """Spent liquor lost to spills and leaks (component kg/h): ``liquor_loss_kg_naoh_per_t`` as total soda."""
    naoh_per_m3 = spent[NA] / q_spent * 2 * S.M_NAOH / S.M_NA2O         # kg NaOH equivalent per m3 of spent
    return spent / q_spent * (d.liquor_loss_kg_naoh_per_t * production_kg_h / 1e3 / naoh_per_m3)

