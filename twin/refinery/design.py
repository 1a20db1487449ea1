"""What a refinery is designed for: its bauxite and the design specifications of its liquor loop (the schema
``[refinery.bauxite]`` and ``[refinery.design]`` are read into; ``twin.refinery.flowsheet`` solves the loop from
them). Kept apart from the flowsheet so reading a configuration needs no solver."""
from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, model_validator
from pydantic.dataclasses import dataclass as pydantic_dataclass

__all__ = ["Bauxite", "DesignBasis"]

Fraction = Annotated[float, Field(ge=0, le=1)]
Positive = Annotated[float, Field(gt=0)]
_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)


@pydantic_dataclass(frozen=True, config=_STRICT)
class Bauxite:
    """Dry bauxite by mineralogy (mass fractions; the rest is other inert minerals)."""

    gibbsite: Fraction = 0.62
    boehmite: Fraction = 0.03
    kaolinite: Fraction = 0.045           # reactive silica carrier
    quartz: Fraction = 0.01               # unreactive at low-temperature digestion
    iron_oxides: Fraction = 0.20
    titania: Fraction = 0.03
    moisture: Annotated[float, Field(ge=0, lt=0.5)] = 0.08     # t water per t wet bauxite
    carbonate_kg_per_t: Annotated[float, Field(ge=0)] = 4.0    # Na2CO3 formed from organics per t dry bauxite
    # what digestion dissolves of the bauxite's impurities and the liquor keeps (twin.refinery.impurities), mass
    # fractions of dry bauxite: organic carbon, sulphur (as sulphate), chlorine. Effective values: the sulphate
    # and chloride the desilication product takes up are not modelled, so these are what stays in the liquor
    organic_carbon: Annotated[float, Field(ge=0, le=0.01)] = 0.0003
    sulphur: Annotated[float, Field(ge=0, le=0.02)] = 0.00005
    chlorine: Annotated[float, Field(ge=0, le=0.005)] = 0.00004

    @model_validator(mode="after")
    def _sums_to_at_most_one(self):
        parts = (self.gibbsite, self.boehmite, self.kaolinite, self.quartz, self.iron_oxides, self.titania)
        if sum(parts) > 1.0 + 1e-12:
            raise ValueError(f"bauxite mineral fractions must sum to <= 1, got {sum(parts):.4g}")
        return self


@pydantic_dataclass(frozen=True, config=_STRICT)
class DesignBasis:
    """Design specifications of a low-temperature (gibbsitic) Bayer refinery (notes sec. 4, 5)."""

    alumina_t_per_year: Positive = 2.0e6
    hours_per_year: Annotated[float, Field(gt=0, le=8784)] = 8760.0
    pregnant_ac: Annotated[float, Field(gt=0, lt=1)] = 0.70
    spent_ac: Annotated[float, Field(gt=0, lt=1)] = 0.38
    spent_caustic: Annotated[float, Field(ge=100, le=400)] = 240.0   # g/L as Na2CO3 @25
    causticity: Annotated[float, Field(gt=0.5, le=1)] = 0.85         # C/S of spent liquor
    spent_silica: Annotated[float, Field(ge=0, le=5)] = 0.6          # g/L SiO2
    digestion_t_c: Annotated[float, Field(ge=100, le=160)] = 145.0   # low-temperature digestion
    digestion_residence_min: Positive = 30.0
    digestion_rate_per_min: Positive = 0.5     # 1/min at 145 degC [E], units.gibbsite_extraction
    slurry_feed_t_c: Annotated[float, Field(ge=20, le=110)] = 100.0  # slurry out of pre-desilication
    flash_t_c: Annotated[float, Field(ge=100, le=120)] = 106.0       # blow-off flashed to atmospheric boiling
    heater_recovery: Fraction = 0.85           # share of the flash vapour's heat the slurry heaters recover
    # heat balance (twin.refinery.heat): pregnant liquor from the clarifiers (notes 4.4: ~100-105 degC) heats
    # the spent liquor in interchangers; feed materials and fresh water arrive at feed_t_c; hot wash water;
    # losses of tanks, pipes and vents as a share of the process heat [E]
    clarification_t_c: Annotated[float, Field(ge=60, le=110)] = 100.0
    interchange_effectiveness: Fraction = 0.7
    feed_t_c: Annotated[float, Field(ge=-30, le=50)] = 10.0
    wash_water_t_c: Annotated[float, Field(ge=20, le=100)] = 90.0
    heat_loss_fraction: Annotated[float, Field(ge=0, le=0.5)] = 0.05
    mud_underflow_solids: Annotated[float, Field(gt=0.1, lt=0.9)] = 0.50   # solids mass fraction, last washer
    washers: Annotated[int, Field(ge=1, le=12)] = 6
    wash_ratio: Positive = 2.0                 # wash water / underflow liquor
    washer_efficiency: Annotated[float, Field(gt=0, le=1)] = 0.9    # Scandrett mixing efficiency per washer
    lime_efficiency: Annotated[float, Field(gt=0, le=1)] = 0.6
    # spills, leaks and cake washing losses of liquor, kg NaOH per t alumina: the "unaccounted physical
    # soda loss" of 3-4 kg/t (notes 4.7, bauxite2aluminium 2011); leaves as spent liquor
    liquor_loss_kg_naoh_per_t: Annotated[float, Field(ge=0, le=50)] = 3.5
    hydrate_moisture: Annotated[float, Field(ge=0, lt=0.5)] = 0.08  # t free water per t dry hydrate
    calciner_efficiency: Annotated[float, Field(gt=0, le=1)] = 0.70  # reaction + moisture heat / fuel heat
    evaporator_economy: Positive = 3.0         # t water per t steam
    steam_latent_GJ_per_t: Positive = 2.1
