"""Bayer liquor properties for engineers, tests and the refinery model (one copy: ``twin/_core/liquor.pxd``).

Conventions (refinery notes sec. 2.1): concentrations in g per litre of liquor measured at 25 degC;
A (``alumina``) as Al2O3, C (``caustic``) and S (``soda``, total alkali) as Na2CO3 equivalent; salts
(``nacl``, ``na2co3``, ``na2so4``) as g/L of the salt; TOC as g/L carbon. Every function broadcasts
over numpy arrays and returns a float for scalar input.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from twin._core import props

__all__ = [
    "RH_PARAMETER_SETS", "alumina_caustic_to_molar_ratio", "boehmite_solubility", "boiling_point_rise",
    "density", "free_caustic", "gibbsite_growth_rate", "gibbsite_solubility", "heat_capacity",
    "oxalate_solubility",
    "precipitation_yield",
]

Value = float | np.ndarray
NA2O_PER_SODA = props.NA2O_PER_SODA_CONVENTION   # g Na2O per g Na2CO3 eq (61.979 / 105.988), as the kernels
SODA_PER_ALUMINA = 1.0395        # g Na2CO3 per g Al2O3 (105.988 / 101.961): caustic bound as NaAl(OH)4


class RHParameters(NamedTuple):
    """Weights of the effective ionic strength and the activity-ratio fit of the Rosenberg-Healy form."""

    k_nacl: float
    k_na2co3: float
    k_na2so4: float
    k_toc: float
    a0: float
    a3: float
    a4: float
    dg: float        # J/mol; K = exp(dg / RT) as the model is coded (K ~ 1e-5)


# Rosenberg & Healy (1996) and the site refits published in SysCAD's Bayer models (refinery notes 3.1 b):
# a parameter set is a site-calibration choice.
RH_PARAMETER_SETS: dict[str, RHParameters] = {
    "rosenberg_healy": RHParameters(0.9346, 2.0526, 2.1714, 1.6734, -9.2082, -0.8743, 0.2149, -30960.0),
    "rosenberg_healy_worsley": RHParameters(0.9041, 1.0826, 1.1589, 1.1659, -8.5733, -0.7370, 0.1918, -30639.0),
    "rosenberg_healy_alcan2003": RHParameters(0.717, 0.787, 0.770, 2.0, -8.91346, -0.74458, 0.18990, -31658.8),
    "rosenberg_healy_qal05": RHParameters(1.5532, 1.3437, 2.2571, 1.1997, -8.7168, -0.7767, 0.2028, -30960.0),
}
# Audet's boehmite refit of the same form (Alcan Q03-DRA, fitted to Ostap & Lemay data): the a3, a4 terms add
BOEHMITE = RHParameters(0.717, 0.787, 0.770, 2.0, -4.9564, 0.4031, -0.1010, -21172.0)


def _choose(model: str, allowed: tuple[str, ...], what: str) -> None:
    if model not in allowed:
        raise ValueError(f"{what}: model {model!r} is not known; allowed: {', '.join(allowed)}")


def gibbsite_solubility(t_c: ArrayLike, caustic: ArrayLike, *, model: str = "rosenberg_healy", nacl: ArrayLike = 0,
                        na2co3: ArrayLike = 0, na2so4: ArrayLike = 0, toc: ArrayLike = 0) -> Value:
    """Equilibrium alumina over gibbsite A*, g/L Al2O3.

    ``model="rosenberg_healy"`` (default): Rosenberg & Healy, "A thermodynamic model for gibbsite
    solubility in Bayer liquors", 4th Int. Alumina Quality Workshop, Darwin (1996), as coded in
    SysCAD's Bayer species models: A* = 0.96197 C / (1 + 10^X / K) with X an extended Debye-Hueckel
    term in an effective ionic strength that weighs NaCl, Na2CO3, Na2SO4 and TOC. Fitted mainly to
    precipitation-range data (~25-100 degC); higher temperatures are an extrapolation. Refits:
    ``rosenberg_healy_worsley``, ``rosenberg_healy_alcan2003``, ``rosenberg_healy_qal05``.
    ``model="misra"``: Misra, Chem. & Ind. (1970) 619, A* = C_N exp(6.2106 - 2486.7/T + 1.08753 C_N/T)
    with C_N caustic as Na2O; pure liquors, 25-100 degC (impurity arguments must be zero).
    """
    _choose(model, (*RH_PARAMETER_SETS, "misra"), "gibbsite_solubility")
    if model == "misra":
        if any(np.any(np.asarray(v) != 0) for v in (nacl, na2co3, na2so4, toc)):
            raise ValueError("gibbsite_solubility: model 'misra' is for pure liquors; impurities must be 0")
        return props.misra_solubility_(t_c, caustic)
    q = RH_PARAMETER_SETS[model]
    return props.rh_solubility_(t_c, caustic, nacl, na2co3, na2so4, toc, *q, 1.0)


def boehmite_solubility(t_c: ArrayLike, caustic: ArrayLike) -> Value:
    """Equilibrium alumina over boehmite, g/L Al2O3 (Audet, Alcan Q03-DRA; Rosenberg-Healy form).

    Pure liquor. Barely soluble at low-temperature digestion (A*/C 0.41 at 145 degC, 0.69 at 250 degC
    for C = 240 g/L), consistent with practice; internal fit, treat as indicative.
    """
    return props.rh_solubility_(t_c, caustic, 0.0, 0.0, 0.0, 0.0, *BOEHMITE, -1.0)


def density(t_c: ArrayLike, alumina: ArrayLike, caustic: ArrayLike, soda: ArrayLike, *, model: str = "brahma",
            so4: ArrayLike = 0, cl: ArrayLike = 0, toc: ArrayLike = 0) -> Value:
    """Liquor density at t_c, kg/m3 (Worsley "BRAHMA new", explicit in g/L).

    rho = 1.0149 + 7.0127e-4 C + 4.4411e-4 A + 7.4899e-4 (S - C) + 7.8e-4 SO4 142/96
    + 9.576e-4 Cl 58/35.5 + 1.6847e-3 TOC - 3.0501e-4 (t - 25) - 2.877e-6 (t - 25)^2 g/cm3, with SO4 and
    Cl as g/L of the ions (source: SysCAD ``BATCBayerSM.cpp``). Plant liquors 25-105 degC.
    """
    _choose(model, ("brahma",), "density")
    return props.brahma_density_(t_c, alumina, caustic, soda, so4, cl, toc)


def heat_capacity(t_c: ArrayLike, alumina: ArrayLike, soda: ArrayLike) -> Value:
    """Liquor heat capacity, kJ/(kg K) (Langa, Light Metals 1985; as coded in SysCAD ``AlcanSM.cpp``).

    ``soda`` is all sodium salts as g/L Na2CO3 (TNa). Pregnant liquor (TNa 280, A 168, 70 degC): 3.51.
    """
    return props.langa_heat_capacity_(t_c, alumina, soda)


def boiling_point_rise(molality: ArrayLike, t_c: ArrayLike, *, model: str = "dewey") -> Value:
    """Boiling point rise of Bayer liquor over water, K.

    ``molality`` is all solutes in mol/kg water (NaAl(OH)4 counted as NaAlO2, free NaOH, Na2CO3,
    salts, organics); ``t_c`` the boiling point of water at the pressure (degC).
    ``model="dewey"``: Dewey, Light Metals 1981, p. 185 (6 mol/kg at 100 degC: 7.04 K).
    ``model="worsley"``: Worsley "Basis of Process Design" (within 1 % of Dewey at 6 mol/kg, 100 degC).
    """
    _choose(model, ("dewey", "worsley"), "boiling_point_rise")
    if model == "worsley":
        return props.worsley_bpr_(molality, t_c)
    return props.dewey_bpr_(molality, t_c)


GROWTH_MODELS = ("veesler_boistelle", "misra_white", "white_bateman", "cresswell")


def gibbsite_growth_rate(t_c: ArrayLike, alumina: ArrayLike, alumina_eq: ArrayLike, *,
                         model: str = "veesler_boistelle", caustic: ArrayLike | None = None,
                         beta_c: ArrayLike = 1.0) -> Value:
    """Linear growth rate of gibbsite (rate of change of diameter), um/h; zero when undersaturated.

    - ``veesler_boistelle`` (default): Veesler & Boistelle, J. Cryst. Growth 142 (1994) 177,
      G = 1.92e19 (beta - beta_c)^2 exp(-120.7 kJ/mol / RT), beta = A/A*; beta_c ~ 1 in pure liquor.
    - ``misra_white``: Misra & White, Chem. Eng. Prog. Symp. Ser. 67 (1971), G = 1.96e10 exp(-7200/T)
      ((A - A*)/C_N)^2.
    - ``white_bateman``: White & Bateman, Light Metals 1988, G = 7.4e12 exp(-8500/T) ((A - A*)/C_N)^2/sqrt(C_N).
    - ``cresswell``: G = 15 exp(-7600 (1/T - 1/343.25)) ((A - A*)/C_N)^2/sqrt(C_N/100).
    The White-type laws need ``caustic`` (g/L Na2CO3; C_N is it as Na2O). Precipitation range 50-85 degC.
    """
    _choose(model, GROWTH_MODELS, "gibbsite_growth_rate")
    if model == "veesler_boistelle":
        return props.veesler_boistelle_growth_(t_c, np.asarray(alumina, float) / np.asarray(alumina_eq, float),
                                               beta_c)
    if caustic is None:
        raise ValueError(f"gibbsite_growth_rate: model {model!r} needs caustic (g/L as Na2CO3)")
    cn = NA2O_PER_SODA * np.asarray(caustic, float)
    supersat = (np.asarray(alumina, float) - np.asarray(alumina_eq, float)) / cn
    if model == "misra_white":
        return props.white_growth_(t_c, supersat, 1.96e10, 7200.0, 1.0)
    if model == "white_bateman":
        return props.white_growth_(t_c, supersat, 7.4e12, 8500.0, np.sqrt(cn))
    return props.white_growth_(t_c, supersat, 15.0 * np.exp(7600.0 / 343.25), 7600.0, np.sqrt(cn / 100.0))


QAL_BOUND_SODA_K1 = 2.35


def bound_soda(caustic: ArrayLike, soda: ArrayLike, t_c: ArrayLike, alumina: ArrayLike, alumina_eq: ArrayLike, *,
               toc: ArrayLike = 0.0, k1: ArrayLike = QAL_BOUND_SODA_K1) -> Value:
    """Soda the precipitating hydrate takes up, kg Na2O per kg Al(OH)3 (bound soda; the product's Na2O).

    QAL 1999 law (SysCAD/QAL precipitation models, notes 3.3): K1 (0.000598 C - 0.00036 T + 0.019568 TOOC/C)
    (1 - 0.758 C/S) (A/C - A*/C)^2, C and S g/L as Na2CO3 @25, T degC, TOOC = TOC 105.99/12.011 g/L (TOC g/L C),
    K1 = 2.35: more soda at high supersaturation, high caustic, low temperature and with organics. Fitted to
    plant precipitators, 50-85 degC; zero when undersaturated.
    """
    caustic = np.asarray(caustic, float)
    ac = (np.asarray(alumina, float) - np.asarray(alumina_eq, float)) / caustic
    return props.bound_soda_(k1, caustic, soda, t_c, toc, ac)


def oxalate_solubility(t_c: ArrayLike, caustic: ArrayLike, na2co3: ArrayLike = 0.0) -> Value:
    """Sodium oxalate a liquor holds at equilibrium, g/L Na2C2O4 (British Aluminium Burntisland fit, notes 3.6):
    7.62 exp(0.012 T - 0.5848 (0.016 C + 0.011 Na2CO3)), T degC, C and Na2CO3 g/L as Na2CO3 @25. Above it
    oxalate crystallises: in an oxalate-removal crystalliser, or on the hydrate in the precipitators."""
    return props.oxalate_solubility_(t_c, caustic, na2co3)


def free_caustic(caustic: ArrayLike, alumina: ArrayLike) -> Value:
    """Free caustic FC = C - 1.0395 A, g/L Na2CO3 (caustic not bound as aluminate)."""
    result = np.asarray(caustic, float) - SODA_PER_ALUMINA * np.asarray(alumina, float)
    return float(result) if result.ndim == 0 else result


def alumina_caustic_to_molar_ratio(a_over_c: ArrayLike) -> Value:
    """Caustic molar ratio alpha_k = n(Na2O caustic)/n(Al2O3) from the mass ratio A/C: 0.96200/(A/C)."""
    result = (101.961 / 105.988) / np.asarray(a_over_c, float)
    return float(result) if result.ndim == 0 else result


def precipitation_yield(caustic: ArrayLike, ac_in: ArrayLike, ac_out: ArrayLike) -> Value:
    """Liquor productivity (g/L Al2O3) from the A/C drop across precipitation at constant C."""
    result = np.asarray(caustic, float) * (np.asarray(ac_in, float) - np.asarray(ac_out, float))
    return float(result) if result.ndim == 0 else result
