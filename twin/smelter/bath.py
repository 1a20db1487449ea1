"""Bath and cell-voltage correlations for engineers and tests (the kernel uses the same C code).

All functions broadcast over numpy arrays and return floats for scalar input. Compositions are
wt % of the bath, temperatures in degC or K as named, current densities in A/cm2. The
equations live once, in ``twin/_core/bath.pxd``; this module documents them.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from twin._core import props

__all__ = [
    "alumina_activity", "alumina_saturation", "anode_concentration_overvoltage", "anode_surface_overvoltage",
    "back_reaction_anchor", "back_reaction_density", "bath_ratio", "bubble_coverage", "bubble_thickness",
    "cathode_overvoltage", "conductivity",
    "conductivity_hives1993", "critical_current_density", "current_efficiency", "liquidus", "pad_instability",
    "reaction_enthalpy", "reversible_potential", "standard_potential",
]

Value = float | np.ndarray


def liquidus(alf3: ArrayLike, caf2: ArrayLike, al2o3: ArrayLike, lif: ArrayLike = 0, mgf2: ArrayLike = 0,
             kf: ArrayLike = 0) -> Value:
    """Primary cryolite liquidus temperature, degC.

    Solheim, Rolseth, Skybakmoen, Støen, Sterten & Store, Metall. Mater. Trans. B 27 (1996) 739,
    as printed in the publisher's abstract (AlF3 linear coefficient +0.50; alumina term with
    [Al2O3] in its denominator). Valid for AlF3, CaF2, LiF < 20 wt %, MgF2, KF < 5 wt %, Al2O3 up
    to saturation. Pure cryolite 1011.0 degC; (11 AlF3, 5 CaF2, 3 Al2O3) 959.8 degC.
    """
    return props.liquidus(alf3, caf2, al2o3, lif, mgf2, kf)


def alumina_saturation(t_c: ArrayLike, alf3: ArrayLike, caf2: ArrayLike = 0, lif: ArrayLike = 0,
                       mgf2: ArrayLike = 0) -> Value:
    """Alumina solubility, wt %: A (t/1000)^B with composition-dependent A and B.

    Skybakmoen, Solheim & Sterten, Metall. Mater. Trans. B 28 (1997) 81-86. Fit s.d. 0.29 wt %,
    850-1050 degC. Pure cryolite at 1000 degC: 11.9 wt %.
    """
    return props.alumina_saturation(t_c, alf3, caf2, lif, mgf2)


def conductivity(t_k: ArrayLike, al2o3: ArrayLike, alf3: ArrayLike, caf2: ArrayLike = 0, mgf2: ArrayLike = 0,
                 kf: ArrayLike = 0, lif: ArrayLike = 0) -> Value:
    """Bath electrical conductivity, S/cm (Hives-type exponential form, wt %, T in K).

    ln kappa = 1.977 - 0.0200 Al2O3 - 0.0131 AlF3 - 0.0060 CaF2 - 0.0106 MgF2 - 0.0019 KF
    + 0.0121 LiF - 1204.3/T (Hives et al., Metall. Mater. Trans. B 1996, doi 10.1007/BF02915051,
    as transcribed in gustavo-alejandro/HH_Cell). Industrial baths 940-1000 degC, 2.1-2.3 S/cm.
    """
    return props.conductivity(t_k, al2o3, alf3, caf2, mgf2, kf, lif)


def conductivity_hives1993(t_k: ArrayLike, x_al2o3: ArrayLike = 0, x_caf2: ArrayLike = 0,
                           x_mgf2: ArrayLike = 0) -> Value:
    """Conductivity of cryolite (CR 3) melts with Al2O3, CaF2, MgF2 in mole fractions, S/cm.

    Hives, Thonstad, Sterten & Fellner, Electrochim. Acta 38 (1993) 2165. s.d. 0.018 S/cm,
    940-1050 degC; no AlF3 term (use ``conductivity`` for industrial acidic baths).
    """
    return props.conductivity_hives1993(t_k, x_al2o3, x_caf2, x_mgf2)


def standard_potential(t_k: ArrayLike) -> Value:
    """E0 = 1.896 - 0.000572 T of 2 Al2O3 + 3 C = 4 Al + 3 CO2 at unit activities, V.

    Haupin, Light Metals 1998, 531-537. 940-1000 degC. 1.1906 V at 960 degC.
    """
    return props.standard_potential(t_k)


def alumina_activity(ros: ArrayLike) -> Value:
    """Al2O3 activity from the ratio to saturation ROS (Haupin 1998 eq.10), ROS clamped to [0.05, 1]."""
    return props.alumina_activity(ros)


def reversible_potential(t_k: ArrayLike, al2o3: ArrayLike, alumina_sat: ArrayLike) -> Value:
    """Reversible decomposition potential E0 + (RT/12F) ln(1/a_Al2O3^2), V (Haupin 1998).

    a_Al2O3 from ROS = al2o3/alumina_sat. 940-1000 degC, ROS 0.15-1.
    """
    return props.reversible_potential(t_k, al2o3, alumina_sat)


def critical_current_density(t_k: ArrayLike, al2o3: ArrayLike, anode_area_cm2: ArrayLike) -> Value:
    """Critical anode current density for anode effect, A/cm2, for ONE anode's area in cm2.

    (5.5 + 0.018 (T - 1323)) A^-0.1 (%Al2O3^0.5 - 0.4); Grjotheim & Welch, Aluminium Smelter
    Technology, 2nd ed. (1988) ch.5 eq.13. Gives AE below ~1 wt % for modern anodes, which is
    why the twin also has a configured AE alumina level.
    """
    return props.critical_current_density(t_k, al2o3, anode_area_cm2)


def anode_surface_overvoltage(t_k: ArrayLike, current_density: ArrayLike, al2o3: ArrayLike) -> Value:
    """Anode reaction overvoltage T ln(i/i_r)/12533 with i_r = 0.0029 %Al2O3^0.56 A/cm2, V.

    Haupin 1998 as implemented in gustavo-alejandro/CellModel; i > 0.01 A/cm2; 0.45-0.55 V at
    0.8-0.9 A/cm2.
    """
    return props.anode_surface_overvoltage(t_k, current_density, al2o3)


def anode_concentration_overvoltage(t_k: ArrayLike, current_density: ArrayLike,
                                    critical_density: ArrayLike) -> Value:
    """Anode concentration overvoltage (RT/2F) ln(i_c/(i_c - i)), V; i/i_c capped at 0.99 (Haupin 1998)."""
    return props.anode_concentration_overvoltage(t_k, current_density, critical_density)


def bath_ratio(alf3: ArrayLike, al2o3: ArrayLike = 0, caf2: ArrayLike = 0, lif: ArrayLike = 0,
               mgf2: ArrayLike = 0) -> Value:
    """Bath weight ratio NaF/AlF3 from excess AlF3 and additives (wt %); cryolite ratio = 2 x this."""
    return props.bath_ratio(alf3, al2o3, caf2, lif, mgf2)


def cathode_overvoltage(t_k: ArrayLike, bath_ratio: ArrayLike, cathode_current_density: ArrayLike) -> Value:
    """Cathode concentration overvoltage 5.744815e-5 T (1.375 - 0.25 BR) ln(3.891 i_cath), V (Haupin eq.28).

    0.08-0.11 V in industrial cells.
    """
    return props.cathode_overvoltage(t_k, bath_ratio, cathode_current_density)


def bubble_thickness(current_density: ArrayLike) -> Value:
    """Gas bubble layer thickness under the anodes, cm: (0.5517 + i)/(1 + 2.167 i) (Haupin 1998 eq.30)."""
    return props.bubble_thickness(current_density)


def bubble_coverage(current_density: ArrayLike, bath_ratio: ArrayLike, al2o3: ArrayLike,
                    ae_al2o3: ArrayLike) -> Value:
    """Fraction of anode area covered by bubbles (Haupin 1998 eq.31).

    Regularised as the notes recommend: alumina above the AE level taken >= 0.01 wt % and the
    coverage capped at 0.9, so the bubble resistance has no pole (the anode effect is a state).
    """
    return props.bubble_coverage(current_density, bath_ratio, al2o3, ae_al2o3)


# The reference point of the back-reaction loss law: the reference cell (500 kA on a 70 m2 cathode) at its
# design bath. A cell's loss flux is anchored here once; its own current, cathode area and ACD then move its CE.
REFERENCE_CATHODE_DENSITY = 500e3 / 70e4     # A/cm2


def back_reaction_anchor(ce_ref: ArrayLike, pad_loss_ref: ArrayLike = 0,
                         ref_current_density: ArrayLike = REFERENCE_CATHODE_DENSITY) -> Value:
    """Back-reaction loss density (A/cm2 of metal-bath interface) at the reference bath of a cell whose
    current efficiency is ``ce_ref`` at the cathode current density ``ref_current_density`` with the
    metal-pad instability loss ``pad_loss_ref`` (its design ACD): (1 - ce_ref - pad_loss_ref) i_ref."""
    loss = (1.0 - np.asarray(ce_ref, dtype=float) - np.asarray(pad_loss_ref, dtype=float)) \
        * np.asarray(ref_current_density, dtype=float)
    return float(loss) if np.ndim(loss) == 0 else loss


def back_reaction_density(superheat: ArrayLike, alf3: ArrayLike, lif: ArrayLike = 0,
                          density_ref: ArrayLike = 0.0339, superheat_ref: ArrayLike = 8.0,
                          alf3_ref: ArrayLike = 11.5) -> Value:
    """Metal lost to the back reaction, as a current density on the metal-bath interface (A/cm2).

    Sterten-Solli model (Sterten & Solli, J. Appl. Electrochem. 26 (1996) 187-193; Solheim, Light
    Metals 2014, 753-758): dissolved metal formed at the cathode crosses its boundary layer and is
    re-oxidised by CO2; the loss is a mass-transfer flux k c_metal per m2 of interface, independent of
    the current (Solheim et al., Light Metals 2018: CE falls linearly with k). Its dependence on the
    bath is Dewing's (Metall. Trans. B, doi 10.1007/BF02652482, plant data, superheat 0-30 K):
    log10 flux = 0.0095 SH - 0.019 AlF3 - 0.060 LiF + const, ``density_ref`` at (superheat_ref,
    alf3_ref, no LiF). Superheat is above the liquidus (Dewing used the alumina-saturated eutectic;
    the anchor absorbs the offset). The default, 0.0339 A/cm2, is the reference cell's (CE 0.95 at
    0.714 A/cm2 with its pad loss at 4.5 cm): with a mass-transfer coefficient of 15-20 um/s [M] it
    means 0.08-0.10 wt % dissolved Al at the interface (i = 3 F k c), the order of the metal's
    solubility in cryolitic melts [M].
    """
    return props.back_reaction_density(superheat, alf3, lif, density_ref, superheat_ref, alf3_ref)


def current_efficiency(superheat: ArrayLike, alf3: ArrayLike, lif: ArrayLike = 0,
                       cathode_current_density: ArrayLike = REFERENCE_CATHODE_DENSITY, ce_ref: ArrayLike = 0.95,
                       superheat_ref: ArrayLike = 8.0, alf3_ref: ArrayLike = 11.5, pad_loss: ArrayLike = 0,
                       pad_loss_ref: ArrayLike = 0,
                       ref_current_density: ArrayLike = REFERENCE_CATHODE_DENSITY) -> Value:
    """Current efficiency (fraction) of a cell at a cathode current density (A/cm2): one minus the
    back-reaction loss flux over the current density, minus the metal-pad instability's share.

    The flux (``back_reaction_density``) is anchored once: ``ce_ref`` is the CE at the reference
    point (``ref_current_density``, superheat_ref, alf3_ref, and the pad loss ``pad_loss_ref`` of the
    reference ACD). At another current the flux stays and its share changes: CE falls as the current
    falls (loss x 1/i; -25 % of current at the reference bath takes CE 0.95 to 0.935). ``pad_loss`` is the
    instability loss at the present ACD (``ce_pad_loss * pad_instability(acd)``; notes sec. 2.11: CE falls
    as the ACD shrinks below ~4 cm). The loss is capped at half the current. Modern cells 0.93-0.96.
    """
    flux = back_reaction_density(superheat, alf3, lif, back_reaction_anchor(ce_ref, pad_loss_ref, ref_current_density),
                                 superheat_ref, alf3_ref)
    return props.current_efficiency(cathode_current_density, flux, pad_loss)


def pad_instability(acd_m: ArrayLike, pad_acd_m: ArrayLike = 0.04, length_m: ArrayLike = 0.005) -> Value:
    """Metal-pad instability index: exp((pad_acd - acd) / length), 1 at ``pad_acd_m`` (m).

    Scales the CE loss and the voltage noise of an unstable pad (notes sec. 2.11, 2.16: CE rises with
    ACD to ~4-5 cm, the noise rises as the ACD shrinks). The exponential shape is an assumption.
    """
    return props.pad_instability(acd_m, pad_acd_m, length_m)


def reaction_enthalpy(t_k: ArrayLike, current_efficiency: ArrayLike) -> Value:
    """Enthalpy to make 1 kg Al at t_k from alumina and carbon fed at 25 degC, J/kg Al.

    Net reaction with the anode gas of Pearson-Waddington (CO2 fraction 2 CE - 1), NIST-JANAF
    formation enthalpies and product sensible heats linearised over 1200-1300 K. 6.36 kWh/kg
    at CE 1 and 960 degC (literature 6.34), 6.43 kWh/kg at CE 0.95.
    """
    return props.reaction_enthalpy(t_k, current_efficiency)
