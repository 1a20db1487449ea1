"""The precipitation train: tanks in series, a sectional population balance in each (compiled kernel).

Python holds the arrays and the units; ``twin._core.precip.advance`` takes the steps. Sizes are
class sizes in um (volume ratio 2 between classes), numbers and concentrations per m3 of the liquor
a tank holds (``volume_m3`` is a tank's liquor volume), liquor in g/L (= kg/m3).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from twin._core import precip
from twin.refinery.liquor import QAL_BOUND_SODA_K1, RH_PARAMETER_SETS
from twin.refinery.stoichiometry import GIBBSITE_DISSOLUTION_J_PER_KG_AL2O3

RHO_GIBBSITE = precip.GIBBSITE_DENSITY                 # kg/m3, as the kernel uses it
AL2O3_IN_GIBBSITE = precip.GIBBSITE_AL2O3_FRACTION     # kg Al2O3 per kg Al(OH)3
ROWS = {name: i for i, name in enumerate(precip.TANK_ROWS)}
TOTALS = precip.TOTALS
NO_COOLER_C = 1000.0       # a cooler set above any stream's temperature takes nothing out


def feed_liquor(alumina: float, caustic: float, t_c: float, soda: float | None = None,
                silica: float = 0.0) -> np.ndarray:
    """The kernel's liquor row vector for a liquor given as g/L @25 (as ``units.liquor_components`` makes it)."""
    from twin.refinery import units

    comp = units.liquor_components(1.0, alumina, caustic, caustic if soda is None else soda, silica)
    return units.train_rows(comp, 1.0, t_c)


@dataclass
class PrecipitationTrain:
    """N stirred tanks in series fed with pregnant liquor and seed.

    Parameters
    ----------
    tanks : number of precipitators.
    volume_m3 : working volume of each.
    flow_m3_per_s : slurry flow through the train.
    classes : size classes (volume ratio 2 from ``smallest_um``).
    nucleation_k : #/(m2 h) secondary nucleation at unit squared supersaturation (Misra 1970 form).
    agglomeration_k : m3/(# h) agglomeration at unit fourth-power supersaturation (Ilievski 1991: 5e-10).
    cooled_to_c : degC the stream into each tank is cooled to by its interstage cooler (none given, or a
        value above the stream's temperature: no cooling).
    solubility : Rosenberg-Healy parameter set for A* (``twin.refinery.liquor.RH_PARAMETER_SETS``).
    growth_law : ``precip.GROWTH_LAWS``: "white_bateman" (White & Bateman 1988, organics poisoning) or
        "veesler_boistelle" (1994, pure liquor).
    toc_g_per_l : organics in the liquor, g/L C (poison growth, raise A*, raise the bound soda).
    nacl_g_per_l, na2so4_g_per_l : chloride and sulphate in the liquor, g/L of the salt (raise A*).
    bound_soda_k1 : K1 of the QAL bound-soda law (``twin.refinery.liquor.bound_soda``); 0: no soda taken up.
    seed_soda : kg Na2O per kg hydrate of the seed given to the tanks.
    """

    tanks: int = 12
    volume_m3: float = 4500.0
    flow_m3_per_s: float = 1.0
    classes: int = 30
    smallest_um: float = 1.0
    nucleation_k: float = 5e8
    agglomeration_k: float = 5e-10
    heat_capacity_J_per_kgK: float = 3000.0
    density_kg_per_m3: float = 1500.0
    heat_of_precipitation_J_per_kg: float = GIBBSITE_DISSOLUTION_J_PER_KG_AL2O3   # released per kg Al2O3 (notes 3.8)
    cooled_to_c: np.ndarray = field(default_factory=lambda: np.zeros(0))   # degC per tank (none given: no coolers)
    solubility: str = "rosenberg_healy"
    growth_law: str = "white_bateman"
    toc_g_per_l: float = 0.0
    nacl_g_per_l: float = 0.0
    na2so4_g_per_l: float = 0.0
    bound_soda_k1: float = QAL_BOUND_SODA_K1
    seed_soda: float = 0.0
    growth: bool = True
    sizes_um: np.ndarray = field(init=False)
    liquor: np.ndarray = field(init=False)       # (rows, tanks): ``precip.TANK_ROWS`` (g/L, degC, kg/m3)
    number: np.ndarray = field(init=False)       # (classes, tanks) #/m3
    totals: np.ndarray = field(init=False)       # flows in and out of the train, layout ``TOTALS``
    passed: np.ndarray = field(init=False)       # particles (#) per class that left the last tank

    def __post_init__(self):
        if self.tanks < 1 or self.classes < 3:
            raise ValueError(f"need at least 1 tank and 3 classes, got {self.tanks} and {self.classes}")
        self.sizes_um = precip.class_sizes(self.classes, self.smallest_um)
        self.liquor = np.zeros((len(ROWS), self.tanks))
        self.number = np.zeros((self.classes, self.tanks))
        self.totals = np.zeros(TOTALS["size"])
        self.passed = np.zeros(self.classes)
        if self.growth_law not in precip.GROWTH_LAWS:
            raise ValueError(f"growth_law {self.growth_law!r}: allowed {', '.join(precip.GROWTH_LAWS)}")
        if np.size(self.cooled_to_c) == 0:
            self.cooled_to_c = np.full(self.tanks, NO_COOLER_C)
        self.cooled_to_c = np.ascontiguousarray(self.cooled_to_c, dtype=float)

    @property
    def particle_volumes_m3(self) -> np.ndarray:
        return np.pi / 6.0 * (self.sizes_um * 1e-6) ** 3

    def seed_numbers(self, solids_kg_per_m3: float, size_um: float) -> np.ndarray:
        """Numbers per class for ``solids_kg_per_m3`` of gibbsite seed in the class nearest ``size_um``."""
        i = int(np.argmin(np.abs(np.log(self.sizes_um / size_um))))
        n = np.zeros(self.classes)
        n[i] = solids_kg_per_m3 / RHO_GIBBSITE / self.particle_volumes_m3[i]
        return n

    def params(self) -> np.ndarray:
        return np.array([self.flow_m3_per_s, self.volume_m3, 1.0 if self.growth else 0.0,
                         float(precip.GROWTH_LAWS.index(self.growth_law)), self.toc_g_per_l, self.nacl_g_per_l,
                         self.na2so4_g_per_l, self.nucleation_k,
                         self.agglomeration_k, self.heat_capacity_J_per_kgK, self.density_kg_per_m3,
                         self.heat_of_precipitation_J_per_kg, self.bound_soda_k1, self.seed_soda])

    def fill(self, feed: np.ndarray) -> None:
        """Every tank holds the liquor ``feed`` (row vector of ``feed_liquor``)."""
        self.liquor[:] = np.asarray(feed, dtype=float)[:, None]

    def advance(self, seconds: float, feed, seed: np.ndarray, dt: float = 60.0) -> None:
        """Advance ``seconds`` (whole steps of ``dt``) with feed liquor and seed (#/m3 of feed liquor).

        ``feed`` is the row vector of ``feed_liquor`` or (A g/L, C g/L, T degC) for a pure liquor.
        ``seed`` is per class into the first tank, or (classes, tanks) to give each tank its own.
        """
        feed = np.asarray(feed, dtype=float)
        if feed.shape == (3,):
            feed = feed_liquor(*feed)
        seed = np.asarray(seed, dtype=float)
        if seed.ndim == 1:
            seed = np.pad(seed[:, None], ((0, 0), (0, self.tanks - 1)))
        steps = round(seconds / dt)
        precip.advance(self.liquor, self.number, self.sizes_um, self.params(), self.cooled_to_c,
                       feed, np.ascontiguousarray(seed),
                       np.array(RH_PARAMETER_SETS[self.solubility], dtype=float), steps, dt, self.totals,
                       self.passed)

    def alumina_inventory_kg(self) -> float:
        """Al2O3 held in the train: dissolved in the liquor plus in the gibbsite."""
        solids = RHO_GIBBSITE * AL2O3_IN_GIBBSITE * (self.particle_volumes_m3 @ self.number)
        return float(self.volume_m3 * np.sum(self.liquor[ROWS["alumina"]] + solids))

    def hydrate_kg(self) -> float:
        """Gibbsite (Al(OH)3) held in the train."""
        return float(self.volume_m3 * RHO_GIBBSITE * np.sum(self.particle_volumes_m3 @ self.number))

    def bound_soda_kg(self) -> float:
        """Na2O held in the train's solids."""
        return float(self.volume_m3 * np.sum(self.liquor[ROWS["bound_soda"]]))

    def supersaturation(self) -> np.ndarray:
        """A/A* in each tank, A* of the tank's liquor as the kernel takes it (its carbonate, salts and organics)."""
        from twin.refinery import liquor

        caustic, soda = self.liquor[ROWS["caustic"]], self.liquor[ROWS["soda"]]
        a_eq = liquor.gibbsite_solubility(self.liquor[ROWS["temperature"]], caustic, model=self.solubility,
                                          na2co3=soda - caustic, toc=self.toc_g_per_l,
                                          nacl=self.nacl_g_per_l, na2so4=self.na2so4_g_per_l)
        return np.asarray(self.liquor[ROWS["alumina"]] / a_eq)

    def solids_kg_per_m3(self) -> np.ndarray:
        """Gibbsite solids per m3 of slurry in each tank."""
        return RHO_GIBBSITE * (self.particle_volumes_m3 @ self.number)
