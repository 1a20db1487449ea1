"""The site: what couples the refinery and the potlines, and what the park books around them.

Each output interval the park calls, in order: ``before_refinery`` (the silo throttles the refinery),
``after_refinery`` (its alumina into the silo), ``line_setpoints`` and ``before_smelter`` (power
program, starved feeders), then ``after_smelter`` with what the potlines did: fume treatment, the
silo draw, carbon plant, casthouse, linings, the supply mix and the carbon footprint by source.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from twin import carbon
from twin.carbon import LOW_CARBON_LINE
from twin.results import Layout, Variable
from twin.site.flows import CarbonPlant, Casthouse, Linings
from twin.site.fume import FumeTreatment
from twin.site.power import Power
from twin.site.silo import Silo
from twin.smelter.potline import Interval

if TYPE_CHECKING:          # the park's config, which holds the site's sections (twin.site.config), is assembled
    from twin.config import ParkConfig  # above the site: a type the site reads, not a module it uses

# scope 1 and 2 sources of the footprint per t Al (park notes sec. 4.3); "alumina" is the refinery's
# share (its fuel, steam and electricity per t alumina times the alumina the cells ate), or the
# purchased alumina's footprint without a refinery
# pfc: high-voltage anode effects (slope method); pfc_lvae: low-voltage anode effects, a line of their own
# as in the IPCC 2019 Refinement (notes sec. 2.18)
SOURCES = ("anode", "bake", "pfc", "pfc_lvae", "casthouse", "electricity", "alumina")


class Site:
    def __init__(self, config: ParkConfig, n_cells: int, alumina_na2o: float | None):
        """``alumina_na2o``: Na2O mass fraction of the refinery's product when a refinery feeds these potlines
        through the silo (None: no refinery, the cells' own ``na2o_wt``)."""
        self.config = config
        self.coupled = alumina_na2o is not None    # a refinery feeds these potlines through the silo
        self.silo = Silo(config.silo, alumina_na2o) if alumina_na2o is not None else None
        self.fume = FumeTreatment(config.fume) if config.fume is not None else None
        self.power = Power(config.power, config.source)
        self.carbon_plant = CarbonPlant(config.carbon_plant)
        self.casthouse = Casthouse(config.casthouse)
        self.linings = Linings(config.lining)
        self.co2e = dict.fromkeys(SOURCES, 0.0)   # t CO2e since start
        self.metal_t = 0.0
        self.refinery = {"co2": 0.0, "alumina_t": 0.0, "other_kWh": 0.0}   # the last interval's refinery
        self.refinery_totals = {"co2": 0.0, "alumina_t": 0.0}
        self.feeding = True

    # -- before and after the refinery ----------------------------------------------------------------------

    def before_refinery(self, refinery) -> None:
        if self.silo is not None:
            refinery.throttle = self.silo.refinery_throttle()

    def after_refinery(self, rec: dict, seconds: float) -> None:
        """Alumina into the silo; the refinery's CO2 (fuel, steam from boilers, electricity) booked."""
        p = self.config.power
        alumina_t = float(rec["alumina_production"]) * seconds / 3600.0
        if self.silo is not None:
            self.silo.receive(alumina_t, float(rec["product_soda"]) / 100.0 if alumina_t > 0 else 0.0)
        fuel_gj = (float(rec["fuel_energy"]) + float(rec["steam_energy"]) / p.boiler_efficiency) * alumina_t \
            if alumina_t > 0 else 0.0
        self.refinery = {"co2": carbon.fuel_co2(fuel_gj / 1e3, p.refinery_fuel), "alumina_t": alumina_t,
                         "other_kWh": p.refinery_kWh_per_t * alumina_t}

    # -- the potlines ------------------------------------------------------------------------------------------

    def line_setpoints(self, hour: float, base_A: np.ndarray, smelter) -> np.ndarray:
        """Line currents after the power program and supply limits (the schedule's when neither acts)."""
        c = self.config.power
        if not c.program and not c.follow_supply:
            return base_A
        # the cells' DC power (what the supply balance books; the busbar's I^2 R is not in it), the fraction
        # counted against the schedule's power at the design state (the resistance the controllers add at a
        # lower current must not raise the target), the current drawn at the present state
        emf, resistance = smelter.line_emf_resistance()
        design_power = base_A * (smelter.line_design[0] + smelter.line_design[1] * base_A)
        return self.power.setpoints(hour, base_A, emf, resistance, design_power)

    def before_smelter(self, smelter, setpoints_A: np.ndarray) -> None:
        """Feeders stop while the silo holds less than its reserve of demand."""
        if self.silo is None:
            return
        # the pots are fed the silo's alumina: its Na2O takes AlF3 out of their bath
        smelter.set_alumina_na2o(self.silo.na2o_fraction)
        self.feeding = self.silo.feeding_allowed(smelter.alumina_demand_t_per_h(setpoints_A), self.feeding)
        # no alumina in the bunkers: neither the feeders nor the anode-effect quench dump have any
        smelter.allow_feeding(self.feeding)

    def after_smelter(self, smelter, done: Interval, hour: float) -> dict[str, float | np.ndarray]:
        record: dict[str, float | np.ndarray] = {}
        if self.fume is not None:
            self.fume.exchange(smelter, done.metal_kg, done.fed_kg, done.seconds)
            record.update(fluoride_evolved=self.fume.totals["evolved"], fluoride_stack=self.fume.totals["stack"],
                          fluoride_returned=self.fume.totals["returned"],
                          secondary_alumina_fluoride=self.fume.held_kg)
        fed_t = float(done.fed_kg.sum()) / 1e3
        if self.silo is not None:
            self.silo.draw(fed_t)
            record.update(silo_inventory=self.silo.inventory_t, silo_na2o=100.0 * self.silo.na2o_fraction,
                          alumina_exported=self.silo.totals["exported"],
                          alumina_handling_loss=self.silo.totals["lost"], feeding_enabled=float(self.feeding),
                          refinery_throttle=self.silo.refinery_throttle())
        anodes = self.carbon_plant.step(done.net_carbon_kg / 1e3, done.butts_kg / 1e3)
        cast = self.casthouse.step(done.tapped_kg / 1e3)
        self.linings.step(done.relines)
        c = self.config.power
        other_kWh = self.refinery["other_kWh"] + c.carbon_plant_kWh_per_t * anodes["anodes_baked"]
        supply = self.power.supply(hour, done.seconds, done.dc_kWh, other_kWh)
        # the footprint of this interval, t CO2e by source
        metal_t = float(done.metal_kg.sum()) / 1e3
        acc = self.config.carbon
        ef = supply["ef_t_per_MWh"]
        smelter_MWh = supply["demand_MWh"] - self.refinery["other_kWh"] / 1e3
        if self.refinery["alumina_t"] > 0:
            self.refinery_totals["co2"] += self.refinery["co2"] + self.refinery["other_kWh"] / 1e3 * ef
            self.refinery_totals["alumina_t"] += self.refinery["alumina_t"]
        per_t_alumina = (self.refinery_totals["co2"] / self.refinery_totals["alumina_t"]
                         if self.refinery_totals["alumina_t"] > 0 else acc.purchased_alumina_t_co2_per_t)
        emitted: dict[str, float] = {
            "anode": float(carbon.anode_co2(done.net_carbon_kg / 1e3, acc.anode_sulphur_pct, acc.anode_ash_pct)),
            "bake": anodes["co2"],
            "pfc": float(carbon.pfc_co2e(done.cf4_kg, done.c2f6_kg, acc.gwp)),
            "pfc_lvae": float(carbon.pfc_co2e(done.cf4_lvae_kg, 0.0, acc.gwp)),
            "casthouse": cast["co2"],
            "electricity": float(carbon.electricity_co2(smelter_MWh, ef)),
            "alumina": per_t_alumina * fed_t,
        }
        for key, value in emitted.items():
            self.co2e[key] += value
        self.metal_t += metal_t
        intensity = np.array([emitted[s] / metal_t if metal_t > 0 else 0.0 for s in SOURCES])
        record.update(
            potline_power=supply["potline_MW"] * c.rectifier_efficiency / (1.0 + c.auxiliaries_fraction),
            park_power_demand=supply["demand_MW"], wind_supply=supply["wind_MW"], captive_supply=supply["captive_MW"],
            grid_supply=supply["grid_MW"], supply_emission_factor=ef, power_fraction=self.power.power_fraction,
            co2e_intensity=intensity, co2e=np.array([self.co2e[s] for s in SOURCES]),
            co2e_total_intensity=float(intensity.sum()),
            low_carbon=float(intensity.sum() < LOW_CARBON_LINE) if metal_t > 0 else 0.0,
            anodes_baked=self.carbon_plant.totals["anodes_baked"],
            butts_recycled=self.carbon_plant.totals["butts_recycled"],
            metal_cast=self.casthouse.totals["cast"], dross=self.casthouse.totals["dross"],
            dross_metal_lost=self.casthouse.totals["metal_lost"], spent_pot_lining=self.linings.totals["spl_t"],
            relines=self.linings.totals["relines"], waste_heat=done.heat_loss_W / 1e6,
            recoverable_heat=self.config.heat.recoverable_fraction * done.heat_loss_W / 1e6)
        if self.config.casthouse.products:
            record["products"] = np.array([self.casthouse.totals[f"product_{p.name}"]
                                           for p in self.config.casthouse.products])
        return record

    def separate_cells(self) -> None:
        """Treat every cell's fume on its own (a calibration batch: cells that are separate problems, not
        neighbours on one scrubber); see ``twin.site.fume``."""
        if self.fume is not None:
            self.fume = FumeTreatment(self.fume.cfg, per_cell=True)

    def footprint(self) -> dict[str, float]:
        """t CO2e per t Al by source since the start."""
        return {s: self.co2e[s] / self.metal_t if self.metal_t > 0 else float("nan") for s in SOURCES}

    # -- results and checkpoints -------------------------------------------------------------------------------

    def layout(self) -> Layout:
        v = dict(SITE_VARIABLES)
        if self.fume is None:
            for name in FUME_VARIABLES:
                v.pop(name)
        if self.silo is None:
            for name in SILO_VARIABLES:
                v.pop(name)
        dims = {"source": len(SOURCES)}
        coords: dict[str, tuple[tuple[str, ...], np.ndarray, dict[str, str]]] = {
            "source": (("source",), np.array(SOURCES, dtype=object),
                       {"long_name": "source of the carbon footprint (scope 1 and 2)"})}
        products = self.config.casthouse.products
        if products:
            dims["product"] = len(products)
            coords["product"] = (("product",), np.array([p.name for p in products], dtype=object),
                                 {"long_name": "downstream product line"})
            v["products"] = Variable(("time", "product"), "t", "downstream products made since start", "f8", "point")
        return Layout(dims, coords, v)

    def state(self) -> dict:
        """Everything the site carries between intervals (for a checkpoint; JSON and arrays)."""
        return {"site": {
            "silo": None if self.silo is None else {"inventory_t": self.silo.inventory_t, "na2o_t": self.silo.na2o_t,
                                                    **self.silo.totals},
            "fume": None if self.fume is None else {"store": self.fume.store_f_kg,
                                                    "start": self.fume.start_store_f_kg,
                                                    **self.fume.totals},
            "power": {**self.power.totals, "last_other_MW": self.power.last_other_MW,
                      "power_fraction": self.power.power_fraction},
            "carbon_plant": dict(self.carbon_plant.totals), "casthouse": {**self.casthouse.totals,
                                                                          "scrap_t": self.casthouse.scrap_t},
            "linings": dict(self.linings.totals), "co2e": dict(self.co2e), "metal_t": self.metal_t,
            "refinery": dict(self.refinery), "refinery_totals": dict(self.refinery_totals), "feeding": self.feeding}}

    def restore(self, tally: dict) -> None:
        s = tally["site"]
        if self.silo is not None:
            self.silo.inventory_t = s["silo"].pop("inventory_t")
            self.silo.na2o_t = s["silo"].pop("na2o_t")
            self.silo.totals.update(s["silo"])
        if self.fume is not None:
            self.fume.store_f_kg = s["fume"].pop("store")
            self.fume.start_store_f_kg = s["fume"].pop("start")
            self.fume.totals.update(s["fume"])
        self.power.last_other_MW = s["power"].pop("last_other_MW")
        self.power.power_fraction = s["power"].pop("power_fraction")
        self.power.totals.update(s["power"])
        self.carbon_plant.totals.update(s["carbon_plant"])
        self.casthouse.scrap_t = s["casthouse"].pop("scrap_t")
        self.casthouse.totals.update(s["casthouse"])
        self.linings.totals.update(s["linings"])
        self.co2e.update(s["co2e"])
        self.metal_t = s["metal_t"]
        self.refinery.update(s["refinery"])
        self.refinery_totals.update(s["refinery_totals"])
        self.feeding = s["feeding"]


SILO_VARIABLES = ("silo_inventory", "silo_na2o", "alumina_exported", "alumina_handling_loss", "feeding_enabled",
                  "refinery_throttle")
FUME_VARIABLES = ("fluoride_evolved", "fluoride_stack", "fluoride_returned", "secondary_alumina_fluoride")
SITE_VARIABLES: dict[str, Variable] = {
    "silo_inventory": Variable(("time",), "t", "alumina in the silo, end of interval", "f8", "point"),
    "silo_na2o": Variable(("time",), "%", "Na2O of the alumina in the silo (what the pots are fed), mass %, end of "
                          "interval", "f4", "point"),
    "alumina_exported": Variable(("time",), "t", "alumina shipped out because the silo was full, since start",
                                 "f8", "point"),
    "alumina_handling_loss": Variable(("time",), "t", "alumina lost between silo and pots since start", "f8", "point"),
    "feeding_enabled": Variable(("time",), "1", "1 while the silo could feed the pots, 0 while they starved",
                                "i1", "point", ("starved", "feeding")),
    "refinery_throttle": Variable(("time",), "1", "refinery throughput factor set by the silo fill"),
    "fluoride_evolved": Variable(("time",), "kg", "fluorine evolved from the cells to the pot gas since start",
                                 "f8", "point"),
    "fluoride_stack": Variable(("time",), "kg", "fluorine to the stack (not captured) since start", "f8", "point"),
    "fluoride_returned": Variable(("time",), "kg", "fluorine returned to the cells with secondary alumina",
                                  "f8", "point"),
    "secondary_alumina_fluoride": Variable(("time",), "kg", "fluorine held on secondary alumina, end of interval",
                                           "f8", "point"),
    "potline_power": Variable(("time",), "MW", "potline DC power, interval mean"),
    "park_power_demand": Variable(("time",), "MW", "park electricity demand (AC: potlines, auxiliaries, "
                                  "refinery, carbon plant), interval mean"),
    "wind_supply": Variable(("time",), "MW", "wind power used, interval mean"),
    "captive_supply": Variable(("time",), "MW", "captive plant power, interval mean"),
    "grid_supply": Variable(("time",), "MW", "grid import, interval mean"),
    "supply_emission_factor": Variable(("time",), "t MW-1 h-1", "CO2 per MWh of the interval's supply mix"),
    "power_fraction": Variable(("time",), "1", "potline power asked by the programs / the schedule's"),
    "co2e_intensity": Variable(("time", "source"), "t t-1", "t CO2e per t Al made in the interval, by source"),
    "co2e": Variable(("time", "source"), "t", "t CO2e emitted since start, by source", "f8", "point"),
    "co2e_total_intensity": Variable(("time",), "t t-1", "scope 1+2 t CO2e per t Al made in the interval"),
    "low_carbon": Variable(("time",), "1", "1 where the interval's metal is under the 4 t CO2e/t Al line", "i1", "mean",
                           ("over_the_line", "low_carbon")),
    "anodes_baked": Variable(("time",), "t", "baked anodes made for the cells since start", "f8", "point"),
    "butts_recycled": Variable(("time",), "t", "anode butts back to the paste plant since start", "f8", "point"),
    "metal_cast": Variable(("time",), "t", "metal cast since start", "f8", "point"),
    "dross": Variable(("time",), "t", "dross skimmed since start", "f8", "point"),
    "dross_metal_lost": Variable(("time",), "t", "metal lost with dross (after recovery) since start", "f8", "point"),
    "spent_pot_lining": Variable(("time",), "t", "spent pot lining from relined cells since start", "f8", "point"),
    "relines": Variable(("time",), "1", "cells relined since start", "f8", "point"),
    "waste_heat": Variable(("time",), "MW", "heat the cells lose (top, sides, bottom), interval mean"),
    "recoverable_heat": Variable(("time",), "MW", "waste heat a recovery system could take, interval mean"),
}
