"""Material flows around the potlines: carbon plant, casthouse and cathode linings (park notes sec. 2.4,
2.6, 5). Each takes what the potlines did in an interval and books what follows from it."""
from __future__ import annotations

from twin import carbon
from twin.carbon import CO2_PER_C
from twin.site.config import CarbonPlantConfig, CasthouseConfig
from twin.smelter.config import LiningConfig


class CarbonPlant:
    """Baked anodes replace what the cells consumed (net carbon) plus the butts taken out with them;
    butts go back into the paste. Bake CO2 after 40 CFR 98 subpart F: pitch volatiles
    (GA - H_w - BA - WT) 44/12 with H_w = WT = 0.005 GA, packing coke PCC BA (100 - S - Ash)/100 44/12,
    and the furnace fuel (``bake_fuel_share`` of ``baking_GJ_per_t``)."""

    def __init__(self, cfg: CarbonPlantConfig):
        self.cfg = cfg
        self.totals = dict.fromkeys(("anodes_baked", "butts_recycled", "fresh_carbon", "bake_fuel_GJ", "co2"), 0.0)

    def step(self, net_carbon_t: float, butts_t: float) -> dict[str, float]:
        c = self.cfg
        baked = net_carbon_t + butts_t
        green = c.green_to_baked * baked
        volatiles = max(green - 0.005 * green - baked - 0.005 * green, 0.0)
        packing = c.packing_coke_t_per_t * baked * (100.0 - c.packing_coke_sulphur_pct - c.packing_coke_ash_pct) / 100.0
        fuel_gj = c.baking_GJ_per_t * c.bake_fuel_share * baked
        co2 = (volatiles + packing) * CO2_PER_C + carbon.fuel_co2(fuel_gj / 1e3, c.bake_fuel)
        out = {"anodes_baked": baked, "butts_recycled": butts_t, "fresh_carbon": green - butts_t,
               "bake_fuel_GJ": fuel_gj, "co2": co2}
        for key, value in out.items():
            self.totals[key] += value
        return out


class Casthouse:
    """Tapped metal to cast metal: dross skimmed (part of its metal recovered by toll processing),
    holding-furnace fuel; downstream product lines (stage 3) return their process scrap to the furnaces
    one interval later."""

    def __init__(self, cfg: CasthouseConfig):
        self.cfg = cfg
        self.scrap_t = 0.0                               # process scrap waiting for remelting
        self.totals = {"tapped": 0.0, "cast": 0.0, "dross": 0.0, "metal_lost": 0.0, "fuel_GJ": 0.0, "co2": 0.0,
                       "scrap_remelted": 0.0, **{f"product_{p.name}": 0.0 for p in cfg.products}}

    def step(self, tapped_t: float) -> dict[str, float]:
        c = self.cfg
        melt = tapped_t + self.scrap_t
        dross = c.dross_fraction * melt
        lost = dross * (1.0 - c.dross_metal_recovery)
        cast = melt - lost
        fuel = c.fuel_GJ_per_t * melt
        out = {"tapped": tapped_t, "cast": cast, "dross": dross, "metal_lost": lost, "fuel_GJ": fuel,
               "co2": carbon.fuel_co2(fuel / 1e3, "natural_gas"), "scrap_remelted": self.scrap_t}
        scrap = 0.0
        for p in c.products:
            made = p.share * cast * p.yield_
            scrap += p.share * cast - made
            out[f"product_{p.name}"] = made
        self.scrap_t = scrap
        for key, value in out.items():
            self.totals[key] += value
        return out


class Linings:
    """Spent pot lining from the cells the potlines cut out for relining (``twin.smelter.linings`` keeps the
    ages and does the cut-out and restart)."""

    def __init__(self, cfg: LiningConfig):
        self.cfg = cfg
        self.totals = {"relines": 0.0, "spl_t": 0.0}

    def step(self, relines: float) -> dict[str, float]:
        out = {"relines": float(relines), "spl_t": relines * self.cfg.spl_t_per_reline}
        for key, value in out.items():
            self.totals[key] += value
        return out
