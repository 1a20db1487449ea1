"""Impurities of the liquor loop: organics, oxalate, sulphate and chloride (refinery notes 2.3, 3.6, 5 item 4).

In: digestion takes the bauxite's soluble organic carbon (a share ``oxalate_share`` of it degraded to oxalate
there), its soluble sulphur as sulphate and its chlorine as chloride; each salt takes its sodium from the
caustic (organics are kept as their carbon, without their sodium). Out: the liquor entrained with the mud and
the spills carry every impurity at the liquor's concentration, as they carry every solute; side streams of
spent liquor take out what they are built for: an oxalate crystalliser (down to the oxalate solubility at its
temperature), wet oxidation of organics (their carbon to carbonate, which the lime then causticises) and
salting-out of sulphate in the evaporators. A level is steady only where removal equals input; with the mud
as the main exit the inventories move over weeks to months (notes 5: "weeks-months").

The liquor holdups are well mixed for the impurities: the spent tank, the settlers and washers, and the
precipitation trains as one holdup of their liquor (a train's residence is about a day, the impurities move
over weeks). Kept in kg of C (organics other than oxalate), Na2C2O4, Na2SO4 and NaCl. Not modelled: oxalate
co-precipitating on the hydrate, sulphate and chloride taken into the desilication product, the impurities'
share of the liquor's density, heat capacity and boiling point.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from twin.refinery import liquor
from twin.refinery import stoichiometry as S

__all__ = ["HOLDUPS", "ROUTES", "SPECIES", "Impurities", "LoopStep", "from_bauxite"]

SPECIES = ("organics", "oxalate", "sulphate", "chloride")     # kg C, Na2C2O4, Na2SO4, NaCl
ORGANICS, OXALATE, SULPHATE, CHLORIDE = range(len(SPECIES))
HOLDUPS = ("spent", "settler", "trains")
SPENT, SETTLER, TRAINS = range(len(HOLDUPS))
ROUTES = ("mud", "spilled", "crystallised", "oxidised", "salted_out")      # the ways out of the plant
C_PER_OXALATE = 2 * S.M["C"] / S.M_NA2C2O4
# Na2O each salt took from the caustic, per kg of the salt (organics: none, kept as carbon)
NA2O_PER_SALT = np.array([0.0, S.M_NA2O / S.M_NA2C2O4, S.M_NA2O / S.M_NA2SO4, S.M_NA2O / (2 * S.M_NACL)])


def from_bauxite(bauxite_kg: float, organic_carbon: float, sulphur: float, chlorine: float,
                 oxalate_share: float) -> np.ndarray:
    """kg of each species (``SPECIES``) digestion takes into the liquor from ``bauxite_kg`` dry bauxite whose
    soluble organic carbon, sulphur and chlorine are the mass fractions given."""
    carbon = bauxite_kg * organic_carbon
    return np.array([(1.0 - oxalate_share) * carbon, oxalate_share * carbon / C_PER_OXALATE,
                     bauxite_kg * sulphur * S.M_NA2SO4 / S.M["S"], bauxite_kg * chlorine * S.M_NACL / S.M["Cl"]])


@dataclasses.dataclass(frozen=True)
class LoopStep:
    """How the liquor moved in one refinery step (m3 @25 and shares), what the impurities follow."""

    hours: float
    spent_m3: float            # in the spent tank at the start of the step
    drawn_m3: float            # drawn to the mills and digestion
    spilled_m3: float          # spilled and leaked
    mud_share: float           # share of the digest's solutes that left with the mud's liquor
    pregnant_m3: float         # through the settlers and on through the trains
    settler_m3: float          # liquor held in settlers and washers
    trains_m3: float           # liquor held in the precipitation trains
    caustic: float             # spent liquor, g/L Na2CO3 (the crystalliser's oxalate solubility)
    carbonate: float           # spent liquor, g/L Na2CO3


class Impurities:
    """The impurity inventories of the liquor holdups (kg, ``HOLDUPS`` x ``SPECIES``) and their ledger."""

    def __init__(self, cfg):
        self.cfg = cfg                                       # twin.config.ImpuritiesConfig
        self.held = np.zeros((len(HOLDUPS), len(SPECIES)))
        self.ins = np.zeros(len(SPECIES))                    # kg since start, from the bauxite
        self.outs = np.zeros((len(ROUTES), len(SPECIES)))    # kg since start, by route
        self.held_at_start = self.held.copy()

    def concentrations(self, holdup: int, liquor_m3: float) -> np.ndarray:
        """g/L of each species in one holdup of ``liquor_m3``."""
        return self.held[holdup] / liquor_m3

    @staticmethod
    def toc(conc: np.ndarray) -> float:
        """Total organic carbon, g/L C: the organics and the oxalate's carbon."""
        return float(conc[ORGANICS] + C_PER_OXALATE * conc[OXALATE])

    def _side_streams(self, conc: np.ndarray, step: LoopStep) -> dict[str, np.ndarray]:
        """kg each side stream takes out of spent liquor of ``conc`` g/L over the step."""
        c = self.cfg
        out = {route: np.zeros(len(SPECIES)) for route in ("crystallised", "oxidised", "salted_out")}
        solubility = float(liquor.oxalate_solubility(c.oxalate_removal_t_c, step.caustic, step.carbonate))
        out["crystallised"][OXALATE] = c.oxalate_removal_m3_per_h * step.hours * max(0.0, conc[OXALATE] - solubility)
        out["oxidised"][ORGANICS] = (c.organics_removal_m3_per_h * step.hours * c.organics_removal_efficiency
                                     * conc[ORGANICS])
        out["salted_out"][SULPHATE] = (c.salting_out_m3_per_h * step.hours * c.salting_out_efficiency
                                       * conc[SULPHATE])
        return out

    def _through(self, holdup: int, inflow: np.ndarray, step: LoopStep, hold_m3: float) -> np.ndarray:
        """A well-mixed holdup of ``hold_m3`` with ``step.pregnant_m3`` through it: what leaves (kg)."""
        steady = inflow / step.pregnant_m3 * hold_m3
        before = self.held[holdup].copy()
        self.held[holdup] = steady + (before - steady) * math.exp(-step.pregnant_m3 / hold_m3)
        return inflow + before - self.held[holdup]

    def step(self, formed: np.ndarray, step: LoopStep) -> float:
        """Move the impurities one step: ``formed`` (kg by species) joins the digest. Returns the kg CO2 the
        wet oxidation of organics put into the spent liquor (as carbonate)."""
        drawn = self.held[SPENT] * step.drawn_m3 / step.spent_m3
        spilled = self.held[SPENT] * step.spilled_m3 / step.spent_m3
        digest = drawn + formed
        mud = step.mud_share * digest
        pregnant = self._through(SETTLER, digest - mud, step, step.settler_m3)
        spent_in = self._through(TRAINS, pregnant, step, step.trains_m3)
        self.held[SPENT] += spent_in - drawn - spilled
        taken = self._side_streams(self.held[SPENT] / step.spent_m3, step)
        for route in taken:
            taken[route] = np.minimum(taken[route], 0.9 * self.held[SPENT])   # not more than is there
            self.held[SPENT] -= taken[route]
            self.outs[ROUTES.index(route)] += taken[route]
        self.outs[ROUTES.index("mud")] += mud
        self.outs[ROUTES.index("spilled")] += spilled
        self.ins += formed
        # the oxidised carbon stays in the liquor as carbonate
        return float(taken["oxidised"][ORGANICS] * S.M_CO2 / S.M["C"])

    def set_steady(self, formed_per_h: np.ndarray, step: LoopStep) -> None:
        """The inventories where removal equals input for the hourly flows of ``step`` (hours = 1):
        spent liquor at c = (1 - m) b / (m Q_d + Q_s + q eta) per species (b formed, m the mud's share,
        Q_d drawn, Q_s spilled, q eta a side stream's clearing), oxalate with its crystalliser's solubility;
        settlers and trains at the pregnant liquor's (1 - m)(c Q_d + b) / Q_p."""
        c, m = self.cfg, step.mud_share
        clearing = np.zeros(len(SPECIES))
        clearing[ORGANICS] = c.organics_removal_m3_per_h * c.organics_removal_efficiency
        clearing[SULPHATE] = c.salting_out_m3_per_h * c.salting_out_efficiency
        exits = m * step.drawn_m3 + step.spilled_m3
        spent = (1.0 - m) * formed_per_h / (exits + clearing)
        solubility = float(liquor.oxalate_solubility(c.oxalate_removal_t_c, step.caustic, step.carbonate))
        if spent[OXALATE] > solubility and c.oxalate_removal_m3_per_h > 0:
            q = c.oxalate_removal_m3_per_h
            spent[OXALATE] = ((1.0 - m) * formed_per_h[OXALATE] + q * solubility) / (exits + q)
        pregnant = (1.0 - m) * (spent * step.drawn_m3 + formed_per_h) / step.pregnant_m3
        self.held[SPENT] = spent * step.spent_m3
        self.held[SETTLER] = pregnant * step.settler_m3
        self.held[TRAINS] = pregnant * step.trains_m3
        self.ins[:] = 0.0
        self.outs[:] = 0.0
        self.held_at_start = self.held.copy()

    def balance(self) -> np.ndarray:
        """Relative closure per species: (in - out - change of inventory) / in, since the start."""
        change = (self.held - self.held_at_start).sum(axis=0)
        return (self.ins - self.outs.sum(axis=0) - change) / np.maximum(self.ins, 1e-30)
