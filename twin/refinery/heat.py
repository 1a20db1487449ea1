"""The refinery's heat balance by area, per step: the steam each area takes and the heat the loop gives back.

The liquor loop runs hot (digestion ~145 degC) and cold (the precipitators' last tank ~60 degC), so the
spent liquor must be heated back up every pass; the plant recovers part of that heat and buys the rest as
steam (notes 3.8, 3.10, 4.2-4.4, 4.9). Areas, in the order the spent liquor meets them:
- heat interchange: the pregnant liquor, cooled from the clarifiers' temperature to the precipitators'
  fill temperature, heats the spent liquor in counter-current interchangers of a given effectiveness
  (eps C_min (T_hot,in - T_cold,in), never more than the pregnant liquor must give up);
- slurry heating: the spent liquor, the bauxite and its moisture (as received) mixed at the mills and
  heated to the pre-desilication temperature with live steam;
- digestion: the slurry heated on to digestion temperature, less what the blow-off's flash vapour gives
  back in the slurry heaters (``units.digestion_live_steam_GJ``), plus the gibbsite dissolution endotherm
  (``stoichiometry.GIBBSITE_DISSOLUTION_J_PER_KG_AL2O3``);
- evaporation: multi-effect evaporators at their steam economy;
- wash water: fresh water beyond the flash condensate heated to the washers' temperature;
- losses: tanks, pipes and vents, a share of the process heat above.
The steam is the heat delivered to the process; the boiler that raises it (and its efficiency and fuel)
belongs to the park's utilities (``[power] boiler_efficiency``), calcination to ``units.calcination_fuel_GJ``.
The precipitators' interstage cooling goes to cooling water and is reported, not recovered.
"""
from __future__ import annotations

from twin.refinery import units as U
from twin.refinery.design import DesignBasis
from twin.refinery.stoichiometry import GIBBSITE_DISSOLUTION_J_PER_KG_AL2O3

__all__ = ["AREAS", "BAUXITE_CP_KJ_PER_KGK", "WATER_CP_KJ_PER_KGK", "heat_by_area"]

WATER_CP_KJ_PER_KGK = 4.186          # liquid water near 20-90 degC
BAUXITE_CP_KJ_PER_KGK = 0.9          # oxide minerals (gibbsite ~0.9, hematite ~0.65, kaolinite ~0.9) [E]
AREAS = ("slurry_heating", "digestion", "evaporation", "wash_water", "losses")


def heat_by_area(d: DesignBasis, *, spent_kg: float, spent_cp: float, spent_t_c: float, pregnant_kg: float,
                 pregnant_cp: float, fill_t_c: float, bauxite_kg: float, moisture_kg: float, digest_kg: float,
                 digest_cp: float, digestion_t_c: float, dissolved_al2o3_kg: float, evaporated_kg: float,
                 fresh_wash_kg: float) -> dict[str, float]:
    """Steam (GJ) per area of ``AREAS`` over a step, and the heat interchange recovered (GJ, ``interchange``).

    Masses are kg over the step, heat capacities kJ/(kg K), temperatures degC: the spent liquor drawn to the
    mills and the temperature it left the precipitators at; the pregnant liquor into the precipitators; the
    dry bauxite and its moisture; the digestion slurry's liquor; the Al2O3 dissolved; the water evaporated;
    the fresh wash water.
    """
    c_spent = spent_kg * spent_cp                      # kJ/K
    c_pregnant = pregnant_kg * pregnant_cp
    # counter-current interchangers: the pregnant liquor gives what it must lose to reach the fill
    # temperature at most, the effectiveness what the exchangers can pass
    possible = d.interchange_effectiveness * min(c_spent, c_pregnant) * max(0.0, d.clarification_t_c - spent_t_c)
    interchange = min(possible, c_pregnant * max(0.0, d.clarification_t_c - fill_t_c))     # kJ
    spent_heated_t_c = spent_t_c + interchange / c_spent if c_spent > 0 else spent_t_c
    # the mills: spent liquor, bauxite and its moisture (as received) brought to the pre-desilication temperature
    c_feed = bauxite_kg * BAUXITE_CP_KJ_PER_KGK + moisture_kg * WATER_CP_KJ_PER_KGK
    slurry = max(0.0, c_spent * (d.slurry_feed_t_c - spent_heated_t_c) + c_feed * (d.slurry_feed_t_c - d.feed_t_c))
    vapour = U.flash_vapour_kg(digest_kg, digest_cp, digestion_t_c, d.flash_t_c)
    digestion = (U.digestion_live_steam_GJ(digest_kg + bauxite_kg, digest_cp, d.slurry_feed_t_c, digestion_t_c,
                                           vapour, d.heater_recovery)
                 + dissolved_al2o3_kg * GIBBSITE_DISSOLUTION_J_PER_KG_AL2O3 / 1e9)
    evaporation = evaporated_kg / 1e3 / d.evaporator_economy * d.steam_latent_GJ_per_t
    wash = fresh_wash_kg * WATER_CP_KJ_PER_KGK * max(0.0, d.wash_water_t_c - d.feed_t_c) / 1e6
    process = slurry / 1e6 + digestion + evaporation + wash
    return {"slurry_heating": slurry / 1e6, "digestion": digestion, "evaporation": evaporation, "wash_water": wash,
            "losses": d.heat_loss_fraction * process, "interchange": interchange / 1e6}
