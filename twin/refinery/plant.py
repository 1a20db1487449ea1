"""The dynamic Bayer refinery: holdups as states, quasi-steady units between them, the liquor loop closed.

States (all balances kept in oxide components, ``units.COMPONENTS``, kg):
- the spent liquor tank (variable level);
- the liquor held in settlers and washers (a well-mixed holdup of constant volume);
- the precipitation trains (compiled kernel: liquor rows and a population balance per tank);
- the seed store (particles per size class) between the classifiers and the first tanks;
- the integrators of the closure controllers.
Quasi-steady in between (``twin.refinery.units``): digestion with gibbsite kinetics, desilication,
causticisation, flash and steam, non-ideal counter-current washing, classification, calcination,
evaporation. Controllers close the loop as a plant does: bauxite charge on the pregnant A/C,
evaporation on the spent tank level, caustic make-up on the spent caustic, the product classifiers'
cut on the seed store.

The steady liquor loop (``flowsheet.solve``) is the initial condition; the precipitation circuit is
spun up on its steady feed (``spin_up_days``) and the loop re-solved with the spent A/C the
circuit gives, so a run starts on its operating point. Disturbances (``RefineryConfig.disturbances``)
are step changes of bauxite grade, temperatures, seed charge and flow.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from twin.refinery import flowsheet, liquor
from twin.refinery import impurities as IMP
from twin.refinery import units as U
from twin.refinery.config import RefineryConfig
from twin.refinery.heat import AREAS, heat_by_area
from twin.refinery.precipitation import (
    AL2O3_IN_GIBBSITE,
    NO_COOLER_C,
    RHO_GIBBSITE,
    ROWS,
    TOTALS,
    PrecipitationTrain,
)
from twin.refinery.stoichiometry import AL2O3_IN_GIBBSITE as AL2O3_PER_GIBBSITE
from twin.refinery.stoichiometry import M_H2O, M_NA2O, M_NAOH, SODA_PER_NAOH

__all__ = ["FINES_UM", "Refinery", "RefineryError"]

FINES_UM = 45.0          # product fines: the mass share finer than 45 um (notes 3.4: %-45 um)
NAOH_COMPONENTS = np.array([0.0, M_NA2O / (2 * M_NAOH), 0.0, 0.0, M_H2O / (2 * M_NAOH)])   # per kg NaOH


class RefineryError(RuntimeError):
    """The refinery cannot go on (e.g. its spent liquor tank ran dry); the message says what and when."""


@dataclasses.dataclass
class _Controller:
    """A PI controller on a relative output: u = ff (1 + kp e + integral), e relative to its set-point."""

    kp: float
    reset_h: float
    integral: float = 0.0

    def act(self, error: float, hours: float) -> float:
        self.integral += self.kp * error * hours / self.reset_h
        self.integral = min(max(self.integral, -0.95), 5.0)          # anti-windup: stay physical
        return max(0.0, 1.0 + self.kp * error + self.integral)


class Refinery:
    """A configured refinery on its steady operating point; ``advance`` moves it on."""

    def __init__(self, cfg: RefineryConfig):
        self.cfg = cfg
        p = cfg.precipitation
        self.trains = p.trains
        self.train = PrecipitationTrain(
            tanks=p.tanks, volume_m3=p.tank_liquor_volume_m3, classes=p.classes, smallest_um=p.smallest_um,
            nucleation_k=p.nucleation_k, agglomeration_k=p.agglomeration_k, solubility=p.solubility,
            growth_law=p.growth_law, bound_soda_k1=p.bound_soda_k1)
        self.trains_m3 = p.trains * p.tanks * p.tank_liquor_volume_m3     # liquor the trains hold
        self.impurities = IMP.Impurities(cfg.impurities)
        self.sizes_um = self.train.sizes_um
        self.particle_kg = RHO_GIBBSITE * self.train.particle_volumes_m3      # hydrate per particle
        self.fines = self.sizes_um < FINES_UM
        self.time_s = 0.0
        self.throttle = 1.0                 # throughput factor the park sets (a full silo slows the refinery)
        self.inputs = {"gibbsite": cfg.bauxite.gibbsite, "kaolinite": cfg.bauxite.kaolinite,
                       "digestion_t_c": cfg.design.digestion_t_c, "fill_t_c": p.fill_t_c,
                       "seed_charge_kg_per_m3": p.seed_charge_kg_per_m3, "spent_flow_factor": 1.0,
                       "last_tank_t_c": p.last_tank_t_c, "organic_carbon": cfg.bauxite.organic_carbon,
                       "sulphur": cfg.bauxite.sulphur, "chlorine": cfg.bauxite.chlorine}
        c = cfg.control
        self.control = {"bauxite": _Controller(c.bauxite_gain_per_ac, c.bauxite_reset_h),
                        "evaporation": _Controller(c.evaporation_gain, c.evaporation_reset_h),
                        "caustic": _Controller(c.caustic_gain, c.caustic_reset_h)}
        self.ins = np.zeros(5)              # kg since start into the plant, by component
        self.cumulative = dict.fromkeys(("alumina_produced", "bauxite_used", "caustic_used", "steam_used",
                                         "fuel_used", "red_mud_made", "water_used"), 0.0)   # t (GJ, m3) since start
        self.outs = np.zeros(5)             # kg since start out of it
        self._start()

    # -- initial condition ---------------------------------------------------------------------------------

    def _start(self) -> None:
        """Steady loop -> spin-up of the precipitation circuit -> loop again with the circuit's spent A/C."""
        cfg, p = self.cfg, self.cfg.precipitation
        design = cfg.design
        self.seed = np.zeros(0)                       # the seed store (particles by class), filled on the first pass
        for _ in range(6):
            steady = flowsheet.solve(cfg.bauxite, design)
            self._steady_impurities(steady, design)
            flow = _pregnant_flow(steady)
            feed = U.liquor_concentrations(flow)
            rows = U.train_rows(flow, feed["flow_m3"], p.fill_t_c)
            q = feed["flow_m3"] / 3600.0 / self.trains
            self.q_design = q                  # the seed store is sized on the design flow
            if self.seed.size == 0:
                self._first_fill(rows, q)
            for _step in range(max(1, math.ceil(cfg.spin_up_days * 86400.0 / cfg.step_s))):
                self._precipitate(cfg.step_s, rows, q)
            out = self.train.liquor[:, -1]
            ac_out = out[ROWS["alumina"]] / out[ROWS["caustic"]]
            # the make-up caustic joins after precipitation: the spent A/C is a little below the outlet's
            makeup = steady.naoh_t_per_h * 1e3 * SODA_PER_NAOH / (steady.spent["caustic"] * steady.spent["flow_m3"])
            spent_ac = ac_out * (1.0 - makeup)
            if abs(spent_ac - design.spent_ac) < 2e-4:
                break
            if not 0.1 < spent_ac < design.pregnant_ac - 0.05:
                raise RefineryError(f"the precipitation circuit gives a spent A/C of {spent_ac:.3f} for a pregnant "
                                    f"A/C of {design.pregnant_ac}: check tanks, seed charge and temperatures")
            design = dataclasses.replace(design, spent_ac=float(spent_ac))
        self.design = design
        self.steady = steady
        # feed-forwards of the controllers: the steady loop's closure values
        self.ff = {"spent_m3_per_h": steady.spent_m3_per_h, "spill_m3_per_h": _spill_m3_per_h(steady, design),
                   "bauxite_kg_per_h": steady.bauxite_t_per_h * 1e3,
                   "evaporation_kg_per_h": steady.evaporation_t_per_h * 1e3, "naoh_kg_per_h": steady.naoh_t_per_h * 1e3,
                   "lime_per_bauxite": steady.lime_t_per_h / steady.bauxite_t_per_h}
        self.spent = U.liquor_components(cfg.spent_tank_m3, steady.spent["alumina"], steady.spent["caustic"],
                                         steady.spent["soda"], steady.spent["silica"])
        preg = _pregnant_flow(steady)
        self.settler = preg / U.liquor_volume(preg) * cfg.settler_washer_liquor_m3
        self.targets = {"pregnant_ac": design.pregnant_ac, "spent_m3": cfg.spent_tank_m3,
                        "spent_caustic": design.spent_caustic}
        self.ins[:] = 0.0
        self.outs[:] = 0.0
        self.inventory_at_start = self.inventory()
        self._crystallised = 0.0          # oxalate crystallised at the last record (kg since start)

    def _steady_impurities(self, steady: flowsheet.SteadyState, design: flowsheet.DesignBasis) -> None:
        """Impurity inventories where the steady loop's hour removes what it brings (``Impurities.set_steady``)."""
        cfg = self.cfg
        self.silica_eq = steady.spent["silica"]
        bauxite = steady.bauxite_t_per_h * 1e3
        dg = self._digest(_spent_flow(steady), steady.spent_m3_per_h, steady.spent, bauxite,
                          steady.lime_t_per_h * 1e3, design)
        self.impurities.set_steady(dg["formed"], IMP.LoopStep(
            hours=1.0, spent_m3=cfg.spent_tank_m3, drawn_m3=steady.spent_m3_per_h,
            spilled_m3=_spill_m3_per_h(steady, design), mud_share=dg["mud_share"], pregnant_m3=dg["v_in"],
            settler_m3=cfg.settler_washer_liquor_m3, trains_m3=self.trains_m3, caustic=steady.spent["caustic"],
            carbonate=steady.spent["soda"] - steady.spent["caustic"]))

    def _first_fill(self, rows: np.ndarray, q: float) -> None:
        """Tanks full of feed liquor and seed (log-normal, sigma 0.5, around ``seed_size_um``)."""
        p = self.cfg.precipitation
        self.train.fill(rows)
        self.train.flow_m3_per_s = q
        mass = np.exp(-0.5 * (np.log(self.sizes_um / p.seed_size_um) / 0.5) ** 2)
        per_kg = mass / mass.sum() / self.particle_kg                            # particles per kg of seed
        self.train.number[:] = (p.seed_charge_kg_per_m3 * per_kg)[:, None]
        self.seed = per_kg * p.seed_charge_kg_per_m3 * q * p.seed_store_h * 3600.0   # the store, per train
        self.seed_soda = 0.0                # kg Na2O in the store's hydrate (fresh seed: none; builds up)
        self.cut_um = p.classifier_cut_um
        self.cut_integral = 0.0

    # -- one step ------------------------------------------------------------------------------------------

    def _precipitate(self, seconds: float, rows: np.ndarray, q: float) -> dict[str, Any]:
        """Trains, classification and seed store for ``seconds`` with feed ``rows`` at ``q`` m3/s per train.

        Returns the liquor (component kg, all trains) and the product hydrate that left, and figures.
        """
        p, t = self.cfg.precipitation, self.train
        t.flow_m3_per_s = q
        t.cooled_to_c[:] = cooler_set_points(p.tanks, p.agglomeration_tanks, self.inputs["fill_t_c"],
                                             self.inputs["last_tank_t_c"])
        # the trains' liquor impurities: organics poison growth, organics and salts raise A*
        conc = self.impurities.concentrations(IMP.TRAINS, self.trains_m3)
        t.toc_g_per_l = IMP.Impurities.toc(conc)
        t.nacl_g_per_l, t.na2so4_g_per_l = conc[IMP.CHLORIDE], conc[IMP.SULPHATE]
        # seed: the store's size distribution at the charge aimed at; a store below a tenth of its aim
        # (``seed_store_h`` of charge at the design flow) gives proportionally less (the filters run short)
        store_kg = float(self.particle_kg @ self.seed)
        aim = self.inputs["seed_charge_kg_per_m3"] * self.q_design * p.seed_store_h * 3600.0
        want = self.inputs["seed_charge_kg_per_m3"] * q * seconds
        charge = min(want * min(1.0, store_kg / (0.1 * aim)), 0.8 * store_kg) if aim > 0 else 0.0
        seed_per_m3 = self.seed * (charge / store_kg / (q * seconds)) if charge > 0 else np.zeros_like(self.seed)
        t.seed_soda = self.seed_soda / store_kg if store_kg > 0 else 0.0     # the store is well mixed
        t.totals[:] = 0.0                                # the kernel accumulates this step's flows
        t.passed[:] = 0.0
        t.advance(seconds, rows, seed_per_m3, dt=p.dt_s)
        totals, passed = t.totals, t.passed
        # classification: coarse to product, the rest back to the seed store; the cut moves (PI on the
        # logarithm of the cut size) to hold the store at its aim
        shortfall = (aim - store_kg) / aim if aim > 0 else 0.0
        gain, reset_h = self.cfg.control.seed_gain, self.cfg.control.seed_reset_h
        self.cut_integral = min(max(self.cut_integral + gain * shortfall * seconds / 3600.0 / reset_h, -1.5), 1.5)
        self.cut_um = p.classifier_cut_um * math.exp(min(max(gain * shortfall + self.cut_integral, -1.5), 1.5))
        to_product = U.product_fraction(self.sizes_um, self.cut_um, p.classifier_sharpness) * passed
        self.seed = self.seed - seed_per_m3 * q * seconds + (passed - to_product)
        if np.any(self.seed < -1e-9 * np.max(np.abs(self.seed))):
            raise RefineryError(f"seed store went negative at hour {self.time_s / 3600:.1f}")
        # the solids that left carry their bound soda; the product takes its mass share, the rest returns
        passed_kg = float(self.particle_kg @ passed)
        soda_out = totals[TOTALS["out"] + ROWS["bound_soda"]]
        product_soda = soda_out * float(self.particle_kg @ to_product) / passed_kg if passed_kg > 0 else 0.0
        self.seed_soda += soda_out - product_soda - totals[TOTALS["seed_soda"]]
        out_rows = np.array([totals[TOTALS["out"] + r] for r in range(len(ROWS))])
        in_rows = np.array([totals[TOTALS["in"] + r] for r in range(len(ROWS))])
        product_mass = self.particle_kg * to_product
        product_al2o3 = AL2O3_IN_GIBBSITE * float(product_mass.sum())
        return {"liquor": U.rows_to_components(out_rows) * self.trains,
                "product_al2o3": product_al2o3 * self.trains,
                "product_mass": product_mass * self.trains,
                "product_soda": product_soda * self.trains,
                "precipitated": totals[TOTALS["precipitated"]] * self.trains,
                "cooling_J": totals[TOTALS["cooling"]] * self.trains,
                "liquor_m3": q * seconds * self.trains,
                # kg of Al2O3 and of caustic (as Na2CO3) the liquor carried into the trains and out of them
                "alumina_in": in_rows[ROWS["alumina"]] * self.trains,
                "caustic_in": in_rows[ROWS["caustic"]] * self.trains,
                "alumina_out": out_rows[ROWS["alumina"]] * self.trains,
                "caustic_out": out_rows[ROWS["caustic"]] * self.trains,
                "feed_ac": rows[ROWS["alumina"]] / rows[ROWS["caustic"]],
                "spent_ac": out_rows[ROWS["alumina"]] / out_rows[ROWS["caustic"]]}

    def _digest(self, drawn: np.ndarray, draw_m3: float, spent: dict[str, float], bauxite: float, lime: float,
                d: flowsheet.DesignBasis) -> dict[str, Any]:
        """Digestion (gibbsite kinetics), desilication, causticisation, then the mud and its washing (quasi-steady)
        for ``drawn`` spent liquor (kg, ``draw_m3``; its concentrations ``spent``) and ``bauxite``, ``lime`` kg."""
        bx, inp = self.cfg.bauxite, self.inputs
        gibbsite = inp["gibbsite"]
        extraction = U.gibbsite_extraction(inp["digestion_t_c"], d.digestion_residence_min, spent["caustic"],
                                           spent["alumina"], bauxite * gibbsite * AL2O3_PER_GIBBSITE / draw_m3,
                                           d.digestion_rate_per_min)
        dissolved = U.bauxite_to_liquor(bauxite, gibbsite, inp["kaolinite"], bx.moisture, bx.carbonate_kg_per_t,
                                        extraction)
        passing = U.minerals_passing(bauxite, gibbsite, bx.boehmite, bx.quartz, extraction)
        digest = drawn + dissolved
        # the bauxite's organics, sulphur and chlorine: their salts take sodium from the caustic
        formed = IMP.from_bauxite(bauxite, inp["organic_carbon"], inp["sulphur"], inp["chlorine"],
                                  self.cfg.impurities.oxalate_share)
        soda_to_salts = float(formed @ IMP.NA2O_PER_SALT)
        digest[U.NA] -= soda_to_salts
        dsp = U.desilication_product(max(0.0, digest[U.SI] - self.silica_eq * U.liquor_volume(digest)))
        digest -= dsp
        co2_removed, lime_solids = U.causticisation(lime, d.lime_efficiency)
        co2_removed = min(co2_removed, 0.9 * digest[U.CO2])
        digest[U.CO2] -= co2_removed
        inerts = bauxite * (1.0 - gibbsite - bx.boehmite - inp["kaolinite"] - bx.quartz)
        mud = inerts + passing.sum() + dsp.sum() + lime_solids
        # clarification and washing: the mud's liquor carries a share of every solute
        underflow = mud * (1.0 - d.mud_underflow_solids) / d.mud_underflow_solids
        mud_share = U.washing_loss(d.washers, d.wash_ratio, d.washer_efficiency) * underflow / digest.sum()
        mud_liquor = np.zeros(5)
        mud_liquor[:U.H2O] = mud_share * digest[:U.H2O]
        mud_liquor[U.H2O] = underflow - mud_liquor[:U.H2O].sum()
        wash = np.array([0.0, 0.0, 0.0, 0.0, d.wash_ratio * underflow])
        return {"extraction": extraction, "dissolved": dissolved, "passing": passing, "digest": digest, "dsp": dsp,
                "co2_removed": co2_removed, "mud": mud, "mud_share": mud_share, "mud_liquor": mud_liquor,
                "wash": wash, "v_in": U.liquor_volume(digest + wash - mud_liquor), "formed": formed,
                "soda_to_salts": soda_to_salts}

    def step(self, seconds: float) -> dict[str, float | np.ndarray]:
        """One refinery step of ``seconds``: returns flows (kg over the step) and figures."""
        cfg, d, bx = self.cfg, self.design, self.cfg.bauxite
        hours = seconds / 3600.0
        self._apply_disturbances()
        inp = self.inputs
        # measurements the controllers act on (at the start of the step)
        spent_m3 = U.liquor_volume(self.spent)
        spent = U.concentrations(self.spent, spent_m3)
        settled = U.concentrations(self.settler, cfg.settler_washer_liquor_m3)
        c = self.control
        flow_factor = inp["spent_flow_factor"] * self.throttle
        bauxite = self.ff["bauxite_kg_per_h"] * flow_factor * hours * c["bauxite"].act(
            (self.targets["pregnant_ac"] - settled["alumina"] / settled["caustic"]), hours)
        evaporation = self.ff["evaporation_kg_per_h"] * hours * c["evaporation"].act(
            (spent_m3 - self.targets["spent_m3"]) / self.targets["spent_m3"], hours)
        naoh = self.ff["naoh_kg_per_h"] * hours * c["caustic"].act(
            (self.targets["spent_caustic"] - spent["caustic"]) / self.targets["spent_caustic"], hours)
        lime = self.ff["lime_per_bauxite"] * bauxite
        # spent liquor drawn to the mills and digestion
        draw_m3 = self.ff["spent_m3_per_h"] * flow_factor * hours
        if draw_m3 > 0.9 * spent_m3:
            raise RefineryError(f"hour {self.time_s / 3600:.1f}: the spent liquor tank is nearly empty "
                                f"({spent_m3:.0f} m3 for a draw of {draw_m3:.0f} m3)")
        drawn = self.spent * (draw_m3 / spent_m3)
        spill_m3 = self.ff["spill_m3_per_h"] * flow_factor * hours
        spilled = self.spent * (spill_m3 / spent_m3)
        dg = self._digest(drawn, draw_m3, spent, bauxite, lime, d)
        digest, dissolved, passing, dsp, mud_liquor, wash = (dg[k] for k in ("digest", "dissolved", "passing",
                                                                              "dsp", "mud_liquor", "wash"))
        extraction, mud, co2_removed, v_in = dg["extraction"], dg["mud"], dg["co2_removed"], dg["v_in"]
        # the settler/washer liquor holdup
        into_settler = digest + wash - mud_liquor
        v_hold = cfg.settler_washer_liquor_m3
        settled_ss = into_settler / v_in * v_hold
        before = self.settler
        self.settler = settled_ss + (before - settled_ss) * math.exp(-v_in / v_hold)
        pregnant = into_settler + before - self.settler              # what left the holdup over the step
        # the impurities follow the same liquor; wet-oxidised organics come back as carbonate
        oxidised_co2 = self.impurities.step(dg["formed"], IMP.LoopStep(
            hours=hours, spent_m3=spent_m3, drawn_m3=draw_m3, spilled_m3=spill_m3,
            mud_share=dg["mud_share"], pregnant_m3=v_in, settler_m3=v_hold, trains_m3=self.trains_m3,
            caustic=spent["caustic"], carbonate=spent["soda"] - spent["caustic"]))
        # precipitation, classification, seed
        pr = self._precipitate(seconds, U.train_rows(pregnant, v_in, inp["fill_t_c"]), v_in / seconds / self.trains)
        hydrate = U.hydrate_components(pr["product_al2o3"])
        hydrate[U.NA] += pr["product_soda"]                           # its bound soda leaves with it
        # evaporation and make-up back to the spent tank
        evaporated = np.array([0.0, 0.0, 0.0, 0.0, min(evaporation, 0.5 * pr["liquor"][U.H2O])])
        makeup = naoh * NAOH_COMPONENTS
        self.spent = self.spent - drawn - spilled + pr["liquor"] - evaporated + makeup
        self.spent[U.CO2] += oxidised_co2
        # the ledger: what crossed the plant's boundary (the soda the impurity salts took leaves the oxide
        # components: it is booked in the impurities' own ledger)
        self.ins += dissolved + passing + makeup + wash
        self.ins[U.CO2] += oxidised_co2
        self.outs += hydrate + passing + mud_liquor + dsp + evaporated + spilled
        self.outs[U.CO2] += co2_removed
        self.outs[U.NA] += dg["soda_to_salts"]
        self.time_s += seconds
        # energy: steam by area (twin.refinery.heat), fuel for calcination. The spent liquor goes to the mills
        # at the temperature it left the last precipitator (the spent tank is not a heat state)
        t_spent = float(self.train.liquor[ROWS["temperature"], -1])
        cp = float(liquor.heat_capacity(inp["digestion_t_c"], spent["alumina"], spent["soda"]))
        vapour = U.flash_vapour_kg(digest.sum(), cp, inp["digestion_t_c"], d.flash_t_c)
        fresh_wash = max(0.0, float(wash[U.H2O]) - vapour)         # beyond the flash condensate (notes 5.3 item 3)
        preg = U.concentrations(pregnant, U.liquor_volume(pregnant))
        heat = heat_by_area(
            d, spent_kg=float(drawn.sum()),
            spent_cp=float(liquor.heat_capacity(t_spent, spent["alumina"], spent["soda"])), spent_t_c=t_spent,
            pregnant_kg=float(pregnant.sum()),
            pregnant_cp=float(liquor.heat_capacity(d.clarification_t_c, preg["alumina"], preg["soda"])),
            fill_t_c=inp["fill_t_c"], bauxite_kg=bauxite, moisture_kg=bauxite * bx.moisture / (1.0 - bx.moisture),
            digest_kg=float(digest.sum()), digest_cp=cp, digestion_t_c=inp["digestion_t_c"],
            dissolved_al2o3_kg=float(dissolved[U.AL]), evaporated_kg=float(evaporated[U.H2O]),
            fresh_wash_kg=fresh_wash)
        steam = sum(heat[area] for area in AREAS)
        fuel = U.calcination_fuel_GJ(pr["product_al2o3"], d.hydrate_moisture, d.calciner_efficiency)
        spent_after = U.liquor_volume(self.spent)
        return {"product_al2o3": pr["product_al2o3"], "product_mass": pr["product_mass"],
                "product_soda": pr["product_soda"],
                "precipitated": pr["precipitated"], "liquor_m3": pr["liquor_m3"], "pregnant_ac": pr["feed_ac"],
                "cooling_J": pr["cooling_J"],
                **{key: pr[key] for key in ("alumina_in", "caustic_in", "alumina_out", "caustic_out")},
                "spent_ac": pr["spent_ac"], "naoh": naoh, "bauxite": bauxite, "mud": mud, "steam_GJ": steam,
                "fuel_GJ": fuel, "extraction": extraction, "interchange_GJ": heat["interchange"],
                **{f"steam_{area}_GJ": heat[area] for area in AREAS},
                "soda_lost": float(mud_liquor[U.NA] + dsp[U.NA] + spilled[U.NA]),
                "soda_to_salts": dg["soda_to_salts"],
                "evaporation": float(evaporated[U.H2O]), "spent_m3": spent_after,
                # wash water not covered by the flash condensate comes from outside (notes 5.3 item 3)
                "fresh_water": fresh_wash,
                "spent_caustic": U.concentrations(self.spent, spent_after)["caustic"],
                "seed_store": float(self.particle_kg @ self.seed) * self.trains, "classifier_cut": self.cut_um}

    def advance(self, seconds: float) -> dict[str, float | np.ndarray]:
        """Whole steps over ``seconds``; the output record (``twin.refinery.outputs.REFINERY_VARIABLES``) of them."""
        n = round(seconds / self.cfg.step_s)
        if n < 1 or abs(n * self.cfg.step_s - seconds) > 1e-6:
            raise ValueError(f"advance by whole refinery steps of {self.cfg.step_s} s, got {seconds} s")
        sums: dict[str, Any] = {}            # kg, GJ ... over the interval; product_mass by class
        for _ in range(n):
            rec = self.step(self.cfg.step_s)
            for key in _SUMMED:
                sums[key] = sums.get(key, 0.0) + rec[key]
            for key in ("pregnant_ac", "spent_ac", "extraction"):
                sums[key] = sums.get(key, 0.0) + rec[key] / n
        for key, total in (("alumina_produced", sums["product_al2o3"]), ("bauxite_used", sums["bauxite"]),
                           ("caustic_used", sums["naoh"]), ("steam_used", sums["steam_GJ"] * 1e3),
                           ("fuel_used", sums["fuel_GJ"] * 1e3), ("red_mud_made", sums["mud"]),
                           ("water_used", sums["fresh_water"])):
            self.cumulative[key] += total / 1e3
        t = sums["product_al2o3"] / 1e3                       # t alumina in the interval
        per_t = (lambda x: x / t) if t > 0 else (lambda x: float("nan"))
        mass = sums["product_mass"]
        psd = mass / mass.sum() if mass.sum() > 0 else np.zeros_like(mass)
        tank = self.train
        spent_conc = self.impurities.concentrations(IMP.SPENT, float(rec["spent_m3"]))
        crystallised = self.impurities.outs[IMP.ROUTES.index("crystallised"), IMP.OXALATE]
        oxalate_removed, self._crystallised = crystallised - self._crystallised, crystallised
        return {
            "alumina_production": t / (seconds / 3600.0),
            "precipitation_yield": self._liquor_yield(sums),
            "pregnant_ac": sums["pregnant_ac"], "spent_ac": sums["spent_ac"],
            "caustic_consumption": per_t(sums["naoh"]), "bauxite_factor": per_t(sums["bauxite"] / 1e3),
            "red_mud": per_t(sums["mud"] / 1e3), "steam_energy": per_t(sums["steam_GJ"]),
            "fuel_energy": per_t(sums["fuel_GJ"]), "soda_loss": per_t(sums["soda_lost"]),
            "impurity_soda": per_t(sums["soda_to_salts"]),
            "liquor_toc": IMP.Impurities.toc(spent_conc), "liquor_oxalate": spent_conc[IMP.OXALATE],
            "liquor_sulphate": spent_conc[IMP.SULPHATE], "liquor_chloride": spent_conc[IMP.CHLORIDE],
            "oxalate_removal": per_t(oxalate_removed),
            **{f"steam_{area}": per_t(sums[f"steam_{area}_GJ"]) for area in AREAS},
            "heat_interchange": per_t(sums["interchange_GJ"]),
            "fresh_water": per_t(sums["fresh_water"] / 1e3),
            "gibbsite_extraction": sums["extraction"], "spent_caustic": rec["spent_caustic"],
            "spent_tank_volume": rec["spent_m3"], "seed_inventory": rec["seed_store"] / 1e3,
            "classifier_cut": rec["classifier_cut"],
            # Na2O of the calcined alumina: the bound soda stays through calcination
            "product_soda": 100.0 * sums["product_soda"] / (sums["product_al2o3"] + sums["product_soda"])
            if t > 0 else float("nan"),
            "product_fines": 100.0 * float(psd[self.fines].sum()), "product_d50": _median_size(self.sizes_um, psd),
            "product_psd": psd, "tank_alumina": tank.liquor[ROWS["alumina"]].copy(),
            "tank_caustic": tank.liquor[ROWS["caustic"]].copy(),
            "tank_temperature": tank.liquor[ROWS["temperature"]].copy(), "tank_solids": tank.solids_kg_per_m3(),
            "tank_supersaturation": tank.supersaturation(),
            "interstage_cooling": sums["cooling_J"] / seconds / 1e6,
            "tank_psd": tank.number.T.copy(), **{k: v for k, v in self.cumulative.items()},
        }

    @staticmethod
    def _liquor_yield(sums: dict) -> float:
        """g Al2O3 per L that the liquor which passed the trains gave up: C (A/C in - A/C out), flow-weighted over
        the interval (Den Hond et al., Light Metals 2007). Not what precipitated per litre fed: the trains' holdup
        precipitates on while the feed is cut (a digester trip), which that ratio would book as a yield above the
        theoretical ~160 g/L."""
        caustic_out = sums["caustic_out"] / sums["liquor_m3"]
        return float(liquor.precipitation_yield(caustic_out, sums["alumina_in"] / sums["caustic_in"],
                                                sums["alumina_out"] / sums["caustic_out"]))

    def product_soda_fraction(self) -> float:
        """Na2O mass fraction of the calcined alumina the solids leaving the trains would make (their bound soda)."""
        t = self.train
        al2o3 = AL2O3_IN_GIBBSITE * float(t.solids_kg_per_m3()[-1])
        soda = float(t.liquor[ROWS["bound_soda"], -1])
        return soda / (al2o3 + soda) if al2o3 + soda > 0 else 0.0

    # -- checkpoints -----------------------------------------------------------------------------------------

    def blocks(self) -> dict[str, np.ndarray]:
        """Every state of the refinery as arrays (for a checkpoint)."""
        scalars = [self.time_s, self.throttle, self.cut_um, self.cut_integral, self.seed_soda, self._crystallised,
                   *(c.integral for c in self.control.values()), *self.inputs.values(), *self.cumulative.values()]
        return {"refinery_spent": self.spent, "refinery_settler": self.settler, "refinery_liquor": self.train.liquor,
                "refinery_number": self.train.number, "refinery_seed": self.seed, "refinery_ins": self.ins,
                "refinery_outs": self.outs, "refinery_start": self.inventory_at_start,
                "refinery_impurities": self.impurities.held, "refinery_impurities_start": self.impurities.held_at_start,
                "refinery_impurities_in": self.impurities.ins, "refinery_impurities_out": self.impurities.outs,
                "refinery_scalars": np.array(scalars, dtype=float)}

    def restore(self, blocks: dict[str, np.ndarray]) -> None:
        """Put back the states of ``blocks()`` (on a refinery built from the same config)."""
        self.spent, self.settler = blocks["refinery_spent"].copy(), blocks["refinery_settler"].copy()
        self.train.liquor[:], self.train.number[:] = blocks["refinery_liquor"], blocks["refinery_number"]
        self.seed, self.ins, self.outs = (blocks["refinery_seed"].copy(), blocks["refinery_ins"].copy(),
                                          blocks["refinery_outs"].copy())
        self.inventory_at_start = blocks["refinery_start"].copy()
        imp = self.impurities
        imp.held, imp.held_at_start = blocks["refinery_impurities"].copy(), blocks["refinery_impurities_start"].copy()
        imp.ins, imp.outs = blocks["refinery_impurities_in"].copy(), blocks["refinery_impurities_out"].copy()
        values = iter(blocks["refinery_scalars"].tolist())
        self.time_s, self.throttle = next(values), next(values)
        self.cut_um, self.cut_integral, self.seed_soda, self._crystallised = (next(values), next(values), next(values),
                                                                              next(values))
        for c in self.control.values():
            c.integral = next(values)
        for key in self.inputs:
            self.inputs[key] = next(values)
        for key in self.cumulative:
            self.cumulative[key] = next(values)

    def _apply_disturbances(self) -> None:
        hour = self.time_s / 3600.0
        for dist in self.cfg.disturbances:
            if dist.hour <= hour + 1e-9:
                self.inputs[dist.key] = dist.value

    # -- balances ------------------------------------------------------------------------------------------

    def inventory(self) -> np.ndarray:
        """Components (kg) held in the plant: spent tank, settlers/washers, trains (liquor, solids), seed store."""
        t = self.train
        liquor_rows = t.volume_m3 * t.liquor.sum(axis=1)
        solids_al2o3 = AL2O3_IN_GIBBSITE * (t.hydrate_kg() + float(self.particle_kg @ self.seed))
        solids = U.hydrate_components(solids_al2o3)
        solids[U.NA] += t.bound_soda_kg() + self.seed_soda
        return (self.spent + self.settler
                + self.trains * (U.rows_to_components(liquor_rows) + solids))

    def balance(self) -> np.ndarray:
        """Relative closure per component: (in - out - change of inventory) / in, since the start."""
        change = self.inventory() - self.inventory_at_start
        return (self.ins - self.outs - change) / np.maximum(self.ins, 1e-30)


_SUMMED = ("product_al2o3", "product_mass", "product_soda", "precipitated", "cooling_J", "liquor_m3", "alumina_in",
           "caustic_in", "alumina_out", "caustic_out", "naoh", "bauxite", "mud", "steam_GJ", "fuel_GJ", "soda_lost",
           "fresh_water", "interchange_GJ", "soda_to_salts", *(f"steam_{area}_GJ" for area in AREAS))


def cooler_set_points(tanks: int, agglomeration_tanks: int, fill_t_c: float, last_t_c: float) -> np.ndarray:
    """degC each tank's inlet cooler aims at: none on the agglomeration tanks, then evenly from the fill
    temperature down to ``last_t_c`` at the last tank (a fill below it is not heated)."""
    set_points = np.full(tanks, NO_COOLER_C)
    growth = np.arange(max(agglomeration_tanks, 1), tanks)     # the first tank takes the feed as it comes
    last = min(last_t_c, fill_t_c)
    set_points[growth] = fill_t_c - (fill_t_c - last) * np.arange(1, len(growth) + 1) / max(len(growth), 1)
    return set_points


def _spill_m3_per_h(steady: flowsheet.SteadyState, design: flowsheet.DesignBasis) -> float:
    """Spent liquor spilled and leaked per hour at the steady loop (its unaccounted soda loss)."""
    spill = flowsheet.liquor_loss(_spent_flow(steady), steady.spent_m3_per_h, steady.kpi["alumina_t_per_h"] * 1e3,
                                  design)
    return U.liquor_volume(spill)


def _median_size(sizes_um: np.ndarray, mass_fraction: np.ndarray) -> float:
    """Mass-median size, interpolated in log size on the cumulative distribution (nan without mass)."""
    cum = np.cumsum(mass_fraction)
    if cum[-1] <= 0:
        return float("nan")
    return float(np.exp(np.interp(0.5 * cum[-1], cum, np.log(sizes_um))))


def _spent_flow(steady: flowsheet.SteadyState) -> np.ndarray:
    """The steady loop's spent liquor as component flows (kg/h)."""
    sp = steady.spent
    return U.liquor_components(sp["flow_m3"], sp["alumina"], sp["caustic"], sp["soda"], sp["silica"])


def _pregnant_flow(steady: flowsheet.SteadyState) -> np.ndarray:
    """The steady loop's pregnant liquor as component flows (kg/h)."""
    pr = steady.pregnant
    return U.liquor_components(pr["flow_m3"], pr["alumina"], pr["caustic"], pr["soda"], pr["silica"])

