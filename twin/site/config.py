"""The site's configuration: the alumina silo, fume treatment, power supply, carbon plant, casthouse, waste heat
and how the footprint is counted."""
from __future__ import annotations

import itertools
from typing import Annotated, Literal

from pydantic import (
    ConfigDict,
    Field,
    model_validator,
)

from twin.schema import Fraction, Name, NonNegative, Positive, Section


class SiloConfig(Section):
    """Alumina storage between refinery and potlines (refinery product + smelter bulk silos, pot bunkers).

    Park notes sec. 3: no public silo sizes; a few days of refinery product storage and 1-3 weeks of
    smelter bulk storage are assumed [A] (5,270 t/day for 1 Mt Al/yr)."""

    capacity_t: Positive = 60000.0
    initial_t: NonNegative = 30000.0
    handling_loss: Annotated[float, Field(ge=0, le=0.05)] = 0.003   # dust and spills between silo and pots
    reserve_h: Annotated[float, Field(gt=0, le=72)] = 1.0           # feeding stops below this much demand
    throttle_start: Annotated[float, Field(gt=0, lt=1)] = 0.9       # silo fill above which the refinery slows
    throttle_min: Annotated[float, Field(ge=0, le=1)] = 0.5         # lowest refinery throughput factor

    @model_validator(mode="after")
    def _fits(self) -> SiloConfig:
        if self.initial_t > self.capacity_t:
            raise ValueError(f"initial_t = {self.initial_t:g} exceeds capacity_t = {self.capacity_t:g}")
        return self


class FumeConfig(Section):
    """Dry scrubbing of pot gas with the cells' alumina (gas treatment centre), park notes sec. 2.5."""

    fluoride_evolved_kg_per_t: Annotated[float, Field(ge=0, le=60)] = 20.0   # F in the pot gas per t Al [E]
    capture_efficiency: Fraction = 0.995            # >99 % F recovered (Rio Tinto Iceland)
    secondary_alumina_hold_h: Annotated[float, Field(gt=0, le=240)] = 24.0   # scrubbers -> pots


class ProgramPoint(Section):
    """Potline power as a fraction of its schedule's power from an hour on (linear in between)."""

    hour: NonNegative
    power_fraction: Annotated[float, Field(ge=0, le=1.3)]


class PowerConfig(Section):
    """Electricity supply and demand of the park (park notes sec. 1.4, 3, 4.2)."""

    rectifier_efficiency: Annotated[float, Field(gt=0.8, le=1)] = 0.97      # AC -> DC
    auxiliaries_fraction: Annotated[float, Field(ge=0, le=0.2)] = 0.03      # potline auxiliaries, GTC, per DC
    refinery_kWh_per_t: Annotated[float, Field(ge=0, le=1000)] = 250.0      # 0.2-0.3 MWh/t alumina [A]
    carbon_plant_kWh_per_t: Annotated[float, Field(ge=0, le=1000)] = 150.0  # per t anode (paste, rodding) [E]
    grid_limit_MW: NonNegative = 5000.0
    grid_ef_t_per_MWh: Annotated[float, Field(ge=0, le=1.5)] = 0.75         # Kazakhstan grid, 0.6-0.9
    wind_capacity_MW: NonNegative = 3000.0
    # hourly capacity factors of the wind farm, repeated over the run (a typical day here); or a file
    wind_profile: Annotated[list[Annotated[float, Field(ge=0, le=1)]], Field(min_length=1)] = Field(
        default_factory=lambda: [0.4])
    wind_profile_file: str | None = None
    captive_MW: NonNegative = 0.0
    captive_min_MW: NonNegative = 0.0
    captive_ef_t_per_MWh: Annotated[float, Field(ge=0, le=1.5)] = 0.37      # gas CCGT [E]
    program: list[ProgramPoint] = Field(default_factory=list)   # modulation / curtailment of the potlines
    follow_supply: bool = False             # curtail the potlines to wind + captive + grid limit
    min_current_fraction: Annotated[float, Field(ge=0, le=1)] = 0.75   # +-25 % window (TRIMET, notes 1.4)
    max_current_fraction: Annotated[float, Field(ge=1, le=1.3)] = 1.1
    boiler_efficiency: Annotated[float, Field(gt=0.3, le=1)] = 0.85      # refinery steam from fuel
    refinery_fuel: Literal["natural_gas", "coking_coal", "anthracite", "lignite"] = "natural_gas"

    @model_validator(mode="after")
    def _program_sorted(self) -> PowerConfig:
        hours = [p.hour for p in self.program]
        if any(b < a for a, b in itertools.pairwise(hours)):
            raise ValueError(f"program hours must not decrease, got {hours}")
        if self.captive_min_MW > self.captive_MW:
            raise ValueError(f"captive_min_MW = {self.captive_min_MW:g} exceeds captive_MW = {self.captive_MW:g}")
        return self


class CarbonPlantConfig(Section):
    """Anodes made for what the cells consume; butts back to the paste plant (park notes sec. 2.4, 4.2)."""

    baking_GJ_per_t: Annotated[float, Field(ge=0, le=20)] = 5.0        # 4.8-5.2 GJ/t anode (Hydro)
    bake_fuel_share: Fraction = 0.45                  # the rest: pitch volatiles and packing coke burnt
    bake_fuel: Literal["natural_gas", "coking_coal", "anthracite", "lignite"] = "natural_gas"
    green_to_baked: Annotated[float, Field(ge=1, le=1.2)] = 1.05      # green anode mass per t baked [E]
    packing_coke_t_per_t: Annotated[float, Field(ge=0, le=0.1)] = 0.015   # 40 CFR 98 default
    packing_coke_sulphur_pct: Annotated[float, Field(ge=0, le=10)] = 2.0
    packing_coke_ash_pct: Annotated[float, Field(ge=0, le=10)] = 2.5


class ProductConfig(Section):
    """A downstream product line fed with cast metal (stage 3 deep processing)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)
    name: Name
    share: Fraction                       # of the cast metal
    yield_: Annotated[float, Field(gt=0, le=1, alias="yield")]   # product per metal in; the rest is process scrap


class CasthouseConfig(Section):
    """Metal from the pots to cast products; dross and its metal (park notes sec. 2.6)."""

    dross_fraction: Annotated[float, Field(ge=0, le=0.1)] = 0.01    # dross per metal tapped [E]
    dross_metal_recovery: Fraction = 0.55                          # toll processing recovers 50-60 %
    fuel_GJ_per_t: Annotated[float, Field(ge=0, le=10)] = 1.0      # holding furnaces [E]
    products: list[ProductConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _shares(self) -> CasthouseConfig:
        total = sum(p.share for p in self.products)
        if total > 1.0 + 1e-9:
            raise ValueError(f"product shares sum to {total:g}, more than the metal cast")
        return self



class HeatConfig(Section):
    """Waste heat: about half of the smelter's energy leaves the cells as low-grade heat (park notes sec. 3)."""

    recoverable_fraction: Fraction = 0.3     # share a shell/exhaust heat recovery can take [A]


class CarbonAccountingConfig(Section):
    """How the footprint is counted (park notes sec. 4.3)."""

    cell_type: Literal["PFPB-L", "PFPB-M", "CWPB", "SWPB", "VSS", "HSS"] = "PFPB-M"
    gwp: Literal["SAR", "AR4", "AR5", "AR6"] = "AR5"
    anode_sulphur_pct: Annotated[float, Field(ge=0, le=10)] = 2.0
    anode_ash_pct: Annotated[float, Field(ge=0, le=10)] = 0.4
    purchased_alumina_t_co2_per_t: Annotated[float, Field(ge=0, le=5)] = 1.5   # without a refinery (notes 2.7)


