"""Anode-effect figures of a run as plants report them: frequency per pot-day, duration, AE-minutes, the
low-voltage share, and the worst pots; both what happened and what the pot control system saw."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WORST_POTS = 5


@dataclass(frozen=True)
class AnodeEffectSummary:
    """Anode effects of ``pot_days`` pot-days (``worst``: pot names with their AE count and LVAE minutes)."""

    pot_days: float
    count: float                 # high-voltage anode effects that happened
    detected: float              # of them, seen by the pot control system
    minutes: float
    lvae_count: float
    lvae_detected: float
    lvae_minutes: float
    cf4_kg: float                # slope method, high-voltage AEs
    cf4_overvoltage_kg: float    # overvoltage method, high-voltage AEs
    cf4_lvae_kg: float
    metal_t: float
    worst: tuple[tuple[str, float, float], ...]

    @property
    def frequency(self) -> float:
        """AE per pot-day."""
        return self.count / self.pot_days

    @property
    def duration_s(self) -> float:
        """Mean AE duration (s); nan without anode effects."""
        return 60.0 * self.minutes / self.count if self.count else float("nan")

    @property
    def aem(self) -> float:
        """AE-minutes per pot-day (the slope method's activity)."""
        return self.minutes / self.pot_days

    @property
    def lvae_share(self) -> float:
        """Share of the CF4 that low-voltage anode effects made (0 without any CF4)."""
        total = self.cf4_kg + self.cf4_lvae_kg
        return self.cf4_lvae_kg / total if total > 0 else 0.0

    def __str__(self) -> str:
        worst = ", ".join(f"{name} ({n:g} AE, {lv:.0f} LVAE min)" for name, n, lv in self.worst) or "none"
        per_t = 1.0 / self.metal_t if self.metal_t > 0 else float("nan")
        return (f"  anode effects         {self.frequency:.4f} per pot-day, {self.duration_s:.0f} s mean, "
                f"{self.aem:.4f} AE-min per cell-day ({self.detected:g} of {self.count:g} seen)\n"
                f"  low-voltage AEs       {self.lvae_minutes / self.pot_days:.2f} min per pot-day, "
                f"{100 * self.lvae_share:.0f} % of CF4 ({self.lvae_detected:g} of {self.lvae_count:g} seen)\n"
                f"  CF4                   {1e3 * self.cf4_kg * per_t:.2f} g/t Al slope, "
                f"{1e3 * self.cf4_overvoltage_kg * per_t:.2f} g/t overvoltage, {1e3 * self.cf4_lvae_kg * per_t:.2f} "
                f"g/t LVAE\n"
                f"  worst pots            {worst}")


def summarise(counts: dict[str, np.ndarray], pot_days: float, names: list[str]) -> AnodeEffectSummary:
    """Summary from per-cell counter increments over a period (``counts`` by the kernel's counter names)."""
    ae, lvae = counts["ae_count"], counts["lvae_minutes"]
    order = np.lexsort((-lvae, -ae))[:WORST_POTS]
    worst = tuple((names[k], float(ae[k]), float(lvae[k])) for k in order if ae[k] > 0 or lvae[k] > 0)
    return AnodeEffectSummary(
        pot_days=pot_days, count=float(ae.sum()), detected=float(counts["ae_detected"].sum()),
        minutes=float(counts["ae_minutes"].sum()), lvae_count=float(counts["lvae_count"].sum()),
        lvae_detected=float(counts["lvae_detected"].sum()), lvae_minutes=float(lvae.sum()),
        cf4_kg=float(counts["cf4"].sum()), cf4_overvoltage_kg=float(counts["cf4_overvoltage"].sum()),
        cf4_lvae_kg=float(counts["cf4_lvae"].sum()), metal_t=float(counts["metal_produced"].sum()) / 1e3,
        worst=worst)


COUNTERS = ("ae_count", "ae_detected", "ae_minutes", "lvae_count", "lvae_detected", "lvae_minutes", "cf4",
            "cf4_overvoltage", "cf4_lvae", "metal_produced")


def from_results(ds) -> AnodeEffectSummary:
    """Summary of a results file's whole run (its counters' totals over all records; the run's length is its
    records times the output interval)."""
    from twin.results import totals
    from twin.smelter.outputs import COUNTER_OUTPUTS

    pot_days = ds.sizes["cell"] * ds.sizes["time"] * float(ds.attrs["output_interval_s"]) / 86400.0
    summed = totals(ds, [COUNTER_OUTPUTS[name] for name in COUNTERS])
    counts = {name: summed[COUNTER_OUTPUTS[name]] for name in COUNTERS}
    return summarise(counts, pot_days, [str(p) for p in ds.pot.values])
