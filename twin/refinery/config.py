"""The refinery's configuration: holdups, precipitation, impurities, control and disturbances (the bauxite and the
design basis are in ``twin.refinery.design``)."""
from __future__ import annotations

import itertools
from typing import Annotated, Literal

from pydantic import (
    Field,
    model_validator,
)

from twin.refinery.design import Bauxite, DesignBasis
from twin.schema import NonNegative, Section


class PrecipitationConfig(Section):
    """The precipitation circuit: identical parallel trains of stirred tanks, classification, seed."""

    trains: Annotated[int, Field(ge=1, le=8)] = 2
    tanks: Annotated[int, Field(ge=1, le=40)] = 14
    tank_liquor_volume_m3: Annotated[float, Field(gt=10, le=20000)] = 3600.0   # liquor a tank holds
    classes: Annotated[int, Field(ge=10, le=60)] = 30
    smallest_um: Annotated[float, Field(gt=0.1, le=10)] = 1.0
    fill_t_c: Annotated[float, Field(ge=40, le=100)] = 78.0           # pregnant liquor after heat interchange
    # interstage coolers on the streams into the growth tanks, set from fill_t_c down to last_tank_t_c
    # (notes 4.5: fill 75-80 degC falling to 55-65 degC); the first agglomeration_tanks run uncooled
    last_tank_t_c: Annotated[float, Field(ge=40, le=100)] = 60.0
    agglomeration_tanks: Annotated[int, Field(ge=0, le=39)] = 3
    growth_law: Literal["white_bateman", "veesler_boistelle"] = "white_bateman"
    bound_soda_k1: Annotated[float, Field(ge=0, le=10)] = 2.35        # QAL 1999 bound-soda law's K1
    seed_charge_kg_per_m3: Annotated[float, Field(ge=0, le=1200)] = 450.0  # hydrate seed per m3 of feed liquor
    seed_size_um: Annotated[float, Field(gt=1, le=300)] = 60.0        # mass-median seed size at start-up
    seed_store_h: Annotated[float, Field(gt=0, le=500)] = 24.0        # seed inventory aimed at, hours of charge
    classifier_cut_um: Annotated[float, Field(gt=5, le=300)] = 90.0   # product cyclones' d50c
    classifier_sharpness: Annotated[float, Field(ge=1, le=10)] = 3.0
    nucleation_k: NonNegative = 5e8                   # #/(m2 h), Misra form
    agglomeration_k: NonNegative = 5e-10              # m3/(# h), Ilievski 1991
    solubility: Literal["rosenberg_healy", "rosenberg_healy_qal99", "rosenberg_healy_qal05",
                        "rosenberg_healy_alpart"] = "rosenberg_healy"
    dt_s: Annotated[float, Field(gt=0, le=3600)] = 600.0          # kernel step (sub-stepped where needed)

    @model_validator(mode="before")
    @classmethod
    def _replaced_keys(cls, data):
        if isinstance(data, dict) and "interstage_cooling_MW" in data:
            raise ValueError(f"interstage_cooling_MW = {data['interstage_cooling_MW']!r} is no longer a key: the "
                             "interstage coolers take the growth tanks down to last_tank_t_c (degC, 40-100; "
                             "plants 55-65) from fill_t_c")
        return data

    @model_validator(mode="after")
    def _cooled_tanks(self) -> PrecipitationConfig:
        if self.agglomeration_tanks >= self.tanks:
            raise ValueError(f"agglomeration_tanks = {self.agglomeration_tanks} must be fewer than tanks = "
                             f"{self.tanks} (the rest are the cooled growth tanks)")
        if self.last_tank_t_c > self.fill_t_c:
            raise ValueError(f"last_tank_t_c = {self.last_tank_t_c:g} above fill_t_c = {self.fill_t_c:g}: the "
                             "coolers only cool")
        return self


class ImpuritiesConfig(Section):
    """Organics, oxalate, sulphate and chloride in the liquor (``twin.refinery.impurities``): how digestion
    splits the organics, and the side streams of spent liquor that take impurities out (0 m3/h: none; the
    mud's liquor and the spills always do)."""

    oxalate_share: Annotated[float, Field(ge=0, le=1)] = 0.15          # of the organic carbon: to oxalate
    oxalate_removal_m3_per_h: Annotated[float, Field(ge=0, le=5000)] = 100.0   # through the crystalliser
    oxalate_removal_t_c: Annotated[float, Field(ge=20, le=100)] = 45.0  # crystallised to its solubility here
    organics_removal_m3_per_h: Annotated[float, Field(ge=0, le=5000)] = 0.0    # to wet oxidation
    organics_removal_efficiency: Annotated[float, Field(ge=0, le=1)] = 0.8     # share of its organics destroyed
    salting_out_m3_per_h: Annotated[float, Field(ge=0, le=5000)] = 0.0  # evaporated to salt out sulphate
    salting_out_efficiency: Annotated[float, Field(ge=0, le=1)] = 0.5   # share of its sulphate salted out


class RefineryControlConfig(Section):
    """Closure controllers of the liquor loop (PI, acting once per refinery step)."""

    bauxite_gain_per_ac: Annotated[float, Field(ge=0, le=100)] = 3.0     # relative bauxite per unit A/C error
    bauxite_reset_h: Annotated[float, Field(gt=0)] = 12.0
    evaporation_gain: Annotated[float, Field(ge=0, le=100)] = 2.0       # relative evaporation per relative level
    evaporation_reset_h: Annotated[float, Field(gt=0)] = 24.0
    caustic_gain: Annotated[float, Field(ge=0, le=500)] = 20.0          # relative make-up per relative C error
    caustic_reset_h: Annotated[float, Field(gt=0)] = 24.0
    seed_gain: Annotated[float, Field(ge=0, le=10)] = 0.5               # log cut size per relative seed shortfall
    seed_reset_h: Annotated[float, Field(gt=0)] = 24.0


class Disturbance(Section):
    """A step change of a refinery input at a run hour (what-if and disturbance studies)."""

    hour: NonNegative
    key: Literal["gibbsite", "kaolinite", "digestion_t_c", "fill_t_c", "seed_charge_kg_per_m3",
                 "spent_flow_factor", "last_tank_t_c", "organic_carbon", "sulphur", "chlorine"]
    value: Annotated[float, Field(ge=0)]

    @model_validator(mode="after")
    def _in_range(self) -> Disturbance:
        low, high = DISTURBANCE_RANGES[self.key]
        if not low <= self.value <= high:
            raise ValueError(f"{self.key} = {self.value:g} at hour {self.hour:g} outside {low:g}..{high:g}")
        return self


# what a disturbance may set (the ranges of the correlations and of a running plant)
DISTURBANCE_RANGES = {"gibbsite": (0.2, 0.9), "kaolinite": (0.0, 0.2), "digestion_t_c": (100.0, 160.0),
                      "fill_t_c": (40.0, 100.0), "seed_charge_kg_per_m3": (0.0, 1200.0),
                      "spent_flow_factor": (0.1, 1.5), "last_tank_t_c": (40.0, 100.0),
                      "organic_carbon": (0.0, 0.01), "sulphur": (0.0, 0.02), "chlorine": (0.0, 0.005)}


class RefineryConfig(Section):
    """A Bayer refinery: design basis (steady liquor loop), holdups, precipitation and control."""

    step_s: Annotated[float, Field(gt=0, le=86400)] = 3600.0     # refinery coordination step
    spent_tank_m3: Annotated[float, Field(gt=0)] = 20000.0       # spent liquor inventory at the level aimed at
    settler_washer_liquor_m3: Annotated[float, Field(gt=0)] = 30000.0   # liquor held in settlers and washers
    spin_up_days: Annotated[float, Field(ge=0, le=60)] = 6.0     # precipitation circuit brought to steady state
    bauxite: Bauxite = Field(default_factory=Bauxite)
    design: DesignBasis = Field(default_factory=DesignBasis)
    precipitation: PrecipitationConfig = Field(default_factory=PrecipitationConfig)
    impurities: ImpuritiesConfig = Field(default_factory=ImpuritiesConfig)
    control: RefineryControlConfig = Field(default_factory=RefineryControlConfig)
    disturbances: list[Disturbance] = Field(default_factory=list)

    @model_validator(mode="after")
    def _checks(self) -> RefineryConfig:
        p = self.precipitation
        steps = self.step_s / p.dt_s
        if abs(steps - round(steps)) > 1e-9 or round(steps) < 1:
            raise ValueError(f"step_s = {self.step_s} must be a whole multiple of precipitation.dt_s = {p.dt_s}")
        if self.design.pregnant_ac <= self.design.spent_ac:
            raise ValueError(f"design.pregnant_ac = {self.design.pregnant_ac} must exceed design.spent_ac = "
                             f"{self.design.spent_ac}")
        hours = [d.hour for d in self.disturbances]
        if any(b < a for a, b in itertools.pairwise(hours)):
            raise ValueError(f"disturbance hours must not decrease, got {hours}")
        return self


