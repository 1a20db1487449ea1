"""The alumina silo between refinery and potlines: inventory, starvation and the refinery throttle.

Refinery product goes in; the potlines draw what their feeders take plus a handling loss. A silo
below ``reserve_h`` of demand stops the feeders (the pots starve, alumina falls, anode effects
follow); a silo above ``throttle_start`` slows the refinery; what a full silo cannot take is
shipped out (``exported``). Balance: received = drawn + exported + change of inventory.
"""
from __future__ import annotations

from twin.config import SiloConfig


class Silo:
    def __init__(self, cfg: SiloConfig):
        self.cfg = cfg
        self.inventory_t = cfg.initial_t
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

    def receive(self, tonnes: float) -> None:
        """Refinery product in; what does not fit is shipped out."""
        space = self.cfg.capacity_t - self.inventory_t
        stored = min(tonnes, space)
        self.inventory_t += stored
        self.totals["received"] += tonnes
        self.totals["exported"] += tonnes - stored

    def draw(self, fed_t: float) -> None:
        """The feeders took ``fed_t``; the silo gave that plus the handling loss."""
        drawn = fed_t / (1.0 - self.cfg.handling_loss)
        self.inventory_t -= drawn
        self.totals["drawn"] += drawn
        self.totals["fed"] += fed_t
        self.totals["lost"] += drawn - fed_t
