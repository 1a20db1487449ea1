"""Fume treatment: the pots' fluoride evolves to the pot gas, dry scrubbers catch it on the cells'
alumina and the secondary alumina brings it back to the pots (park notes sec. 2.5).

Per output interval: each cell loses ``fluoride_evolved_kg_per_t`` of fluorine per t Al made (taken
from its excess AlF3); the scrubbers capture ``capture_efficiency`` of it onto the alumina, the rest
leaves the stack; the secondary alumina is a mixed store of ``secondary_alumina_hold_h`` whose
fluoride goes to each cell with its share of the alumina fed (as AlF3). Balance: fluorine out of the
cells = stack + change of the store + fluorine returned.

With ``per_cell`` every cell has a store of its own and gets back what it evolved, delayed: the cells of
a calibration batch are separate problems (often of different lines), not neighbours on one scrubber,
and each must replay as it would alone.
"""
from __future__ import annotations

import math

import numpy as np

from twin.site.config import FumeConfig
from twin.smelter.cell import F_IN_ALF3


class FumeTreatment:
    def __init__(self, cfg: FumeConfig, per_cell: bool = False):
        self.cfg = cfg
        self.per_cell = per_cell
        # fluorine on the secondary alumina (kg; by cell with per_cell), and when the run started (balance)
        self.store_f_kg: float | np.ndarray | None = None
        self.start_store_f_kg: float | np.ndarray | None = None
        self.totals = {"evolved": 0.0, "captured": 0.0, "returned": 0.0, "stack": 0.0}

    @property
    def held_kg(self) -> float:
        """kg fluorine on the secondary alumina now (all stores)."""
        return 0.0 if self.store_f_kg is None else float(np.sum(self.store_f_kg))

    def exchange(self, smelter, metal_kg: np.ndarray, fed_kg: np.ndarray, seconds: float) -> None:
        """Book one interval's fluoride on the cells (forward runs and replays alike): each loses what it
        evolved from its excess AlF3 and gets back its feed share of the secondary alumina's."""
        lost, back = self.step(metal_kg, fed_kg, seconds)
        smelter.exchange_alf3(back - lost)

    def step(self, metal_kg: np.ndarray, fed_kg: np.ndarray, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        """Fluoride of one interval: (AlF3 kg each cell loses to the gas, AlF3 kg it gets back)."""
        c = self.cfg
        evolved = c.fluoride_evolved_kg_per_t * np.maximum(metal_kg, 0.0) / 1e3     # kg F per cell
        # one store for the plant, or (per_cell) one per cell: sums over its cells
        captured = c.capture_efficiency * (evolved if self.per_cell else float(evolved.sum()))
        fed_total = fed_kg if self.per_cell else float(fed_kg.sum())
        if self.store_f_kg is None:
            # start as a running plant: the store holds its steady load of fluoride
            self.store_f_kg = captured * c.secondary_alumina_hold_h * 3600.0 / seconds
            self.start_store_f_kg = self.store_f_kg
        # the store empties into the pots with the alumina they eat; no feeding, no return
        emptied = 1.0 - math.exp(-seconds / (c.secondary_alumina_hold_h * 3600.0))
        returned: float | np.ndarray = np.where(np.asarray(fed_total) > 0, self.store_f_kg * emptied, 0.0)
        share = np.divide(fed_kg, fed_total, out=np.zeros(len(fed_kg)), where=np.asarray(fed_total) > 0)
        if not self.per_cell:
            returned = float(returned)
        self.store_f_kg = self.store_f_kg + captured - returned
        t = self.totals
        t["evolved"] += float(evolved.sum())
        t["captured"] += float(np.sum(captured))
        t["returned"] += float(np.sum(returned))
        t["stack"] += float(evolved.sum()) - float(np.sum(captured))
        return evolved / F_IN_ALF3, returned * share / F_IN_ALF3
