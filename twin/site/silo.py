"""The alumina silo between refinery and potlines: inventory, starvation and the refinery throttle.

Refinery product goes in; the potlines draw what their feeders take plus a handling loss. A silo
below ``reserve_h`` of demand stops the feeders (the pots starve, alumina falls, anode effects
follow); a silo above ``throttle_start`` slows the refinery; what a full silo cannot take is
shipped out (``exported``). Balance: received = drawn + exported + change of inventory.
The silo is well mixed: the Na2O the refinery's product brings (its bound soda) is what the pots are fed,
averaged over the inventory, so a change at the refinery reaches the cells over the silo's days of storage.
"""
from __future__ import annotations

from twin.site.config import SiloConfig


class Silo:
    def __init__(self, cfg: SiloConfig, na2o_fraction: float):
        self.cfg = cfg
        self.inventory_t = cfg.initial_t
        self.na2o_t = na2o_fraction * cfg.initial_t          # Na2O in the inventory, t
        self.totals = {"received": 0.0, "drawn": 0.0, "fed": 0.0, "lost": 0.0, "exported": 0.0}

    @property
    def fill(self) -> float:
        return self.inventory_t / self.cfg.capacity_t

    def feeding_allowed(self, demand_t_per_h: float, feeding: bool) -> bool:
        """Enough alumina for the feeders? They stop below ``reserve_h`` of demand and start again
        above twice that (the bunkers are refilled first), so a starved line does not chatter."""
        return self.inventory_t > (1.0 if feeding else 2.0) * self.cfg.reserve_h * demand_t_per_h

    def refinery_throttle(self) -> float:
        """Refinery throughput factor: 1 below ``throttle_start``, falling linearly to ``throttle_min`` when full."""
        c = self.cfg
        if self.fill <= c.throttle_start:
            return 1.0
        over = (self.fill - c.throttle_start) / (1.0 - c.throttle_start)
        return max(c.throttle_min, 1.0 - (1.0 - c.throttle_min) * over)

    @property
    def na2o_fraction(self) -> float:
        """Mass fraction Na2O of the alumina the silo holds (and gives)."""
        return self.na2o_t / self.inventory_t if self.inventory_t > 0 else 0.0

    def receive(self, tonnes: float, na2o_fraction: float) -> None:
        """Refinery product (mass fraction ``na2o_fraction`` Na2O) in; what does not fit is shipped out."""
        space = self.cfg.capacity_t - self.inventory_t
        stored = min(tonnes, space)
        self.inventory_t += stored
        self.na2o_t += stored * na2o_fraction
        self.totals["received"] += tonnes
        self.totals["exported"] += tonnes - stored

    def draw(self, fed_t: float) -> None:
        """The feeders took ``fed_t``; the silo gave that plus the handling loss."""
        drawn = fed_t / (1.0 - self.cfg.handling_loss)
        self.na2o_t -= drawn * self.na2o_fraction
        self.inventory_t -= drawn
        self.totals["drawn"] += drawn
        self.totals["fed"] += fed_t
        self.totals["lost"] += drawn - fed_t
