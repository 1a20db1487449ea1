"""Feeder faults: feeders that choke or block at random, and the crew that clears them.

A point feeder (crust breaker and dose valve) now and then delivers less than its dose (choked: the valve
sticks, the hole crusts over) or nothing (blocked). Its zone then runs lean while the controller, which
sees the whole cell, keeps dosing; the end is often an anode effect (notes sec. 2.14). Here each sound
feeder of each cell fails in an interval with probability 1 - exp(-rate dt); a share of the faults block,
the rest choke. The crew clears a cell's faults when an anode effect calls them to it, or when they find
the fault on their round (a time exponential with a mean). Draws come from one seeded generator, so a run
and its resumption from a checkpoint see the same faults.
"""
from __future__ import annotations

import numpy as np

from twin._core.pot import ALUMINA_ZONES_MAX
from twin.smelter.cell import COUNTER, PARAM, STATE
from twin.smelter.config import OperationsConfig

FEEDER_ROWS = [STATE[f"feeder_{z}"] for z in range(ALUMINA_ZONES_MAX)]


class FeederFaults:
    """Faults of the feeders of ``n_cells`` cells (a feeder is faulty while its state delivers less than its
    dose); ``block`` (per feeder the run time its fault is found; and the AE count the crew last saw) and
    ``rng`` are checkpointed."""

    def __init__(self, ops: OperationsConfig, n_cells: int, seed: int):
        self.cfg = ops
        self.block = np.full((ALUMINA_ZONES_MAX + 1, n_cells), np.inf)
        self.block[-1] = 0.0
        self.rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 0xFEED])))

    def step(self, potlines, t0: float, t1: float) -> None:
        """Clear the faults found by ``t0`` or at an anode effect since the last call; draw new faults over
        [t0, t1) (they act from t0, as the kernel's interval starts)."""
        x, cfg = potlines.state, self.cfg
        clear_at, ae_seen = self.block[:-1], self.block[-1]
        ae = potlines.counters[COUNTER["ae_count"]]
        called = ae > ae_seen                                       # an anode effect brought the crew
        ae_seen[:] = ae
        faulty = x[FEEDER_ROWS] < 1.0
        found = faulty & ((clear_at <= t0) | called[None, :])
        for z, k in zip(*np.nonzero(found), strict=True):
            x[FEEDER_ROWS[z], k] = 1.0
            clear_at[z, k] = np.inf
            potlines.ops.event(t0, int(k), "feeder_cleared", float(z))
        if cfg.feeder_fault_rate_per_day <= 0.0:
            return
        chance = -np.expm1(-cfg.feeder_fault_rate_per_day * (t1 - t0) / 86400.0)
        fitted = np.arange(ALUMINA_ZONES_MAX)[:, None] < potlines.params[PARAM["zones"]][None, :]
        new = (self.rng.random(clear_at.shape) < chance) & fitted & ~faulty & potlines.in_service()[None, :]
        for z, k in zip(*np.nonzero(new), strict=True):
            delivery = 0.0 if self.rng.random() < cfg.feeder_blocked_share else cfg.feeder_choked_delivery
            self.fail(potlines, int(k), int(z), delivery, t0, t0 + self.rng.exponential(cfg.feeder_repair_h * 3600.0))

    def fail(self, potlines, k: int, z: int, delivery: float, time_s: float, found_s: float) -> None:
        """Feeder ``z`` of cell ``k`` delivers ``delivery`` of its dose from ``time_s`` (0: blocked) until the
        crew finds it at run time ``found_s`` or an anode effect calls them first."""
        if not 0 <= z < potlines.params[PARAM["zones"], k]:
            raise ValueError(f"cell {k} has feeders 0..{int(potlines.params[PARAM['zones'], k]) - 1}, not {z}")
        potlines.state[FEEDER_ROWS[z], k] = delivery
        self.block[z, k] = found_s
        potlines.counters[COUNTER["feeder_faults"], k] += 1.0
        potlines.ops.event(time_s, k, "feeder_blocked" if delivery == 0.0 else "feeder_choked", float(z))

    def clear(self, potlines, k: int, z: int, time_s: float) -> None:
        """The crew clears feeder ``z`` of cell ``k`` at run time ``time_s`` (an operator who found it)."""
        potlines.state[FEEDER_ROWS[z], k] = 1.0
        self.block[z, k] = np.inf
        potlines.ops.event(time_s, k, "feeder_cleared", float(z))

    def faulty(self, potlines) -> np.ndarray:
        """Feeder x cell: True where the feeder delivers less than its dose."""
        return potlines.state[FEEDER_ROWS] < 1.0
