"""Bayer-process stoichiometry and reaction heats: the exact numbers the unit operations stand on.

Molar masses (IUPAC, g/mol) and the reactions of refinery notes sec. 2.3 and 3.8:
- gibbsite Al(OH)3 and boehmite AlOOH: Al2O3 content and loss on ignition;
- desilication product (hydroxysodalite Na8[AlSiO4]6(OH)2.2H2O): caustic and alumina lost per kg
  of reactive silica (kaolinite's alumina dissolves and is lost again, so net alumina is ~0);
- causticisation Na2CO3 + Ca(OH)2 -> 2 NaOH + CaCO3: lime per kg carbonate;
- calcination 2 Al(OH)3 -> Al2O3 + 3 H2O(g): reaction enthalpy (Robie & Hemingway 1995, CODATA);
- gibbsite dissolution Al(OH)3 + OH- -> Al(OH)4-: +20.6 kJ/mol at 25 degC, infinite dilution (NBS/Wagman
  et al. 1982 for the ions, Robie & Hemingway 1995 for gibbsite): what digestion takes and precipitation
  gives back. Plant values 260-470 kJ/kg hydrate (notes 3.8); this is the low end.
"""
from __future__ import annotations

M = {"Al": 26.9815385, "O": 15.999, "H": 1.008, "Na": 22.98976928, "Si": 28.085, "C": 12.011, "Ca": 40.078,
     "S": 32.06, "Cl": 35.45}
M_AL2O3 = 2 * M["Al"] + 3 * M["O"]
M_GIBBSITE = M["Al"] + 3 * (M["O"] + M["H"])
M_BOEHMITE = M["Al"] + 2 * M["O"] + M["H"]
M_H2O = 2 * M["H"] + M["O"]
M_NAOH = M["Na"] + M["O"] + M["H"]
M_NA2O = 2 * M["Na"] + M["O"]
M_NA2CO3 = 2 * M["Na"] + M["C"] + 3 * M["O"]
M_SIO2 = M["Si"] + 2 * M["O"]
M_CAO = M["Ca"] + M["O"]
M_CO2 = M["C"] + 2 * M["O"]
M_NA2SO4 = 2 * M["Na"] + M["S"] + 4 * M["O"]
M_NACL = M["Na"] + M["Cl"]
M_NA2C2O4 = 2 * M["Na"] + 2 * M["C"] + 4 * M["O"]          # sodium oxalate

AL2O3_IN_GIBBSITE = M_AL2O3 / (2 * M_GIBBSITE)            # 0.65357
LOI_GIBBSITE = 3 * M_H2O / (2 * M_GIBBSITE)               # 0.34643
AL2O3_IN_BOEHMITE = M_AL2O3 / (2 * M_BOEHMITE)            # 0.84984
SODA_PER_NAOH = M_NA2CO3 / (2 * M_NAOH)                   # g Na2CO3 equivalent per g NaOH
GIBBSITE_DISSOLUTION_J_PER_MOL = 20.6e3                   # Al(OH)3(s) + OH- -> Al(OH)4-, endothermic
# J per kg Al2O3 dissolved (2 mol Al(OH)3 each): ~0.404 MJ/kg
GIBBSITE_DISSOLUTION_J_PER_KG_AL2O3 = 2 * GIBBSITE_DISSOLUTION_J_PER_MOL / (M_AL2O3 * 1e-3)


def dsp_losses_per_kg_silica() -> dict[str, float]:
    """kg lost to hydroxysodalite Na8[AlSiO4]6(OH)2.2H2O per kg reactive SiO2 re-precipitated."""
    per = 6 * M_SIO2
    return {"naoh": 8 * M_NAOH / per, "na2o": 4 * M_NA2O / per, "na2co3_eq": 4 * M_NA2CO3 / per,
            "al2o3": 3 * M_AL2O3 / per}


def lime_per_kg_carbonate(efficiency: float = 1.0) -> float:
    """kg CaO to causticise 1 kg Na2CO3 (Na2CO3 + Ca(OH)2 -> 2 NaOH + CaCO3) at a lime efficiency."""
    if not 0.0 < efficiency <= 1.0:
        raise ValueError(f"lime efficiency must be in (0, 1], got {efficiency}")
    return M_CAO / M_NA2CO3 / efficiency


def calcination_enthalpy_GJ_per_t(dhf_gibbsite: float = -1293.13, dhf_alumina: float = -1675.7,
                                  dhf_water_gas: float = -241.826) -> float:
    """Standard enthalpy of 2 Al(OH)3 -> Al2O3 + 3 H2O(g) at 25 degC, GJ per t Al2O3.

    Defaults: gibbsite and corundum from Robie & Hemingway (1995) USGS Bull. 2131, water vapour CODATA
    (kJ/mol). About 2.0 GJ/t if the product is gamma alumina; excludes free moisture and sensible heat.
    """
    dh = dhf_alumina + 3 * dhf_water_gas - 2 * dhf_gibbsite          # kJ per mol Al2O3
    return dh / M_AL2O3                                               # kJ/g = GJ/t


def ccd_soluble_loss(stages: int, wash_ratio: float) -> float:
    """Fraction of soluble soda/alumina not recovered by ideal counter-current washing.

    (R - 1)/(R^(n+1) - 1) with R = wash/underflow liquor and n stages; 1/(n+1) at R = 1 (notes 3.9).
    """
    if stages < 1 or wash_ratio <= 0:
        raise ValueError(f"need stages >= 1 and wash_ratio > 0, got {stages}, {wash_ratio}")
    if abs(wash_ratio - 1.0) < 1e-12:
        return 1.0 / (stages + 1)
    return (wash_ratio - 1.0) / (wash_ratio ** (stages + 1) - 1.0)
