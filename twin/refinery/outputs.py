"""What a results file holds of the refinery: its variables on ``tank`` and ``size_class``."""
from __future__ import annotations

import numpy as np

from twin.results import Layout, Variable

__all__ = ["REFINERY_VARIABLES", "refinery_layout"]

REFINERY_VARIABLES: dict[str, Variable] = {
    "alumina_production": Variable(("time",), "t h-1", "alumina (Al2O3 in the product hydrate), interval mean"),
    "precipitation_yield": Variable(("time",), "g L-1", "Al2O3 the liquor that passed the trains gave up per litre: "
                                    "C (A/C in - A/C out), flow-weighted over the interval"),
    "pregnant_ac": Variable(("time",), "1", "A/C of the liquor filling the precipitators (Al2O3/Na2CO3 g/g)"),
    "spent_ac": Variable(("time",), "1", "A/C of the liquor leaving the precipitators, flow-weighted mean"),
    "caustic_consumption": Variable(("time",), "kg t-1", "caustic make-up, kg NaOH per t alumina"),
    "bauxite_factor": Variable(("time",), "t t-1", "dry bauxite per t alumina"),
    "red_mud": Variable(("time",), "t t-1", "dry residue per t alumina"),
    "steam_energy": Variable(("time",), "GJ t-1", "steam heat per t alumina, all areas (the steam_ variables)"),
    "steam_slurry_heating": Variable(("time",), "GJ t-1", "steam heating spent liquor and bauxite to the "
                                     "pre-desilication temperature, per t alumina"),
    "steam_digestion": Variable(("time",), "GJ t-1", "live steam of digestion (after the flash vapour's recovery) "
                                "and the gibbsite dissolution endotherm, per t alumina"),
    "steam_evaporation": Variable(("time",), "GJ t-1", "steam of the multi-effect evaporators per t alumina"),
    "steam_wash_water": Variable(("time",), "GJ t-1", "steam heating fresh wash water per t alumina"),
    "steam_losses": Variable(("time",), "GJ t-1", "heat lost from tanks, pipes and vents per t alumina"),
    "heat_interchange": Variable(("time",), "GJ t-1", "heat the pregnant liquor gave the spent liquor in the "
                                 "interchangers, per t alumina (recovered, not bought)"),
    "fuel_energy": Variable(("time",), "GJ t-1", "calcination fuel per t alumina"),
    "interstage_cooling": Variable(("time",), "MW", "heat the precipitators' interstage coolers took out, all "
                                   "trains, interval mean"),
    "soda_loss": Variable(("time",), "kg t-1", "Na2O lost with residue liquor and desilication product per t alumina"),
    "impurity_soda": Variable(("time",), "kg t-1", "Na2O the bauxite's oxalate, sulphate and chloride took from the "
                              "caustic per t alumina"),
    "oxalate_removal": Variable(("time",), "kg t-1", "sodium oxalate the crystalliser took out per t alumina"),
    "liquor_toc": Variable(("time",), "g L-1", "total organic carbon (organics and oxalate) in the spent liquor, end "
                           "of interval", "f4", "point"),
    "liquor_oxalate": Variable(("time",), "g L-1", "sodium oxalate (Na2C2O4) in the spent liquor, end of interval",
                               "f4", "point"),
    "liquor_sulphate": Variable(("time",), "g L-1", "sulphate (as Na2SO4) in the spent liquor, end of interval",
                                "f4", "point"),
    "liquor_chloride": Variable(("time",), "g L-1", "chloride (as NaCl) in the spent liquor, end of interval", "f4",
                                "point"),
    "fresh_water": Variable(("time",), "m3 t-1", "fresh water (wash water beyond the flash condensate) per t alumina"),
    "gibbsite_extraction": Variable(("time",), "1", "fraction of the bauxite's gibbsite dissolved in digestion"),
    "spent_caustic": Variable(("time",), "g L-1", "caustic (as Na2CO3 @25) in the spent liquor tank, end of interval",
                            "f4", "point"),
    "spent_tank_volume": Variable(("time",), "m3", "liquor in the spent liquor tank, end of interval", "f4",
                                  "point"),
    "seed_inventory": Variable(("time",), "t", "hydrate in the seed store, end of interval", "f4", "point"),
    "classifier_cut": Variable(("time",), "um", "product classifiers' cut size d50c, end of interval", "f4",
                               "point"),
    "product_soda": Variable(("time",), "%", "Na2O of the calcined product alumina (the hydrate's bound soda), mass "
                             "%, interval mean"),
    "product_fines": Variable(("time",), "%", "product hydrate finer than 45 um, mass %"),
    "product_d50": Variable(("time",), "um", "mass-median size of the product hydrate"),
    "product_psd": Variable(("time", "size_class"), "1", "product hydrate mass fraction per size class"),
    "tank_alumina": Variable(("time", "tank"), "g L-1", "liquor Al2O3 in each precipitator, end of interval",
                             "f4", "point"),
    "tank_caustic": Variable(("time", "tank"), "g L-1", "liquor caustic (Na2CO3) in each precipitator, end of interval",
                             "f4", "point"),
    "tank_temperature": Variable(("time", "tank"), "degC", "slurry temperature in each precipitator, end of interval",
                                 "f4", "point"),
    "tank_supersaturation": Variable(("time", "tank"), "1", "supersaturation A/A* in each precipitator (A* of its "
                                     "liquor, Rosenberg-Healy with its carbonate and organics), end of interval",
                                     "f4", "point"),
    "tank_solids": Variable(("time", "tank"), "kg m-3", "hydrate solids per m3 of liquor in each precipitator, end of "
                            "interval", "f4", "point"),
    "tank_psd": Variable(("time", "tank", "size_class"), "m-3", "particles per m3 of liquor per size class, end of "
                          "interval", "f4", "point"),
    "alumina_produced": Variable(("time",), "t", "alumina produced since start", "f8", "point"),
    "bauxite_used": Variable(("time",), "t", "dry bauxite digested since start", "f8", "point"),
    "caustic_used": Variable(("time",), "t", "caustic make-up (NaOH) since start", "f8", "point"),
    "steam_used": Variable(("time",), "GJ", "steam heat since start", "f8", "point"),
    "fuel_used": Variable(("time",), "GJ", "calcination fuel since start", "f8", "point"),
    "red_mud_made": Variable(("time",), "t", "dry residue since start", "f8", "point"),
    "water_used": Variable(("time",), "m3", "fresh water since start", "f8", "point"),
}


def refinery_layout(tanks: int, sizes_um: np.ndarray) -> Layout:
    """Refinery outputs on ``tank`` (precipitators of one train) and ``size_class``."""
    return Layout(
        {"tank": tanks, "size_class": len(sizes_um)},
        {"tank": (("tank",), np.arange(tanks, dtype="i4"), {"long_name": "precipitator in train order", "units": "1"}),
         "size_class": (("size_class",), np.asarray(sizes_um, dtype="f8"),
                        {"long_name": "characteristic size of the class (volume ratio 2)", "units": "um"})},
        REFINERY_VARIABLES)
