"""Electricity of the park: potline set-points from power programs, and the supply mix that meets demand.

Potline power P = I (E + R I) per line (E the sum of the cells' back EMFs, R the sum of their resistances:
the cells' DC power, as the supply balance books it), so a power target gives the line current
I = (-E + sqrt(E^2 + 4 R P)) / (2 R). A program
(``[[power.program]]``) sets potline power as a fraction of what the line schedules ask for; with
``follow_supply`` the lines also give way to what wind, captive plant and the grid limit can supply.
Either way the current stays within ``min_current_fraction``..``max_current_fraction`` of the
schedule: the window the cells' heat balance allows (+-25 %, park notes sec. 1.4).

Supply each interval, in merit order: wind (capacity x the hour's capacity factor), the captive plant
(at least its minimum load), the grid for the rest. Emissions are those of the interval's mix, so
scope 2 is hourly-matched at the output interval's resolution (park notes sec. 4.3).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from twin.schema import ConfigError
from twin.site.config import PowerConfig

_LOG = logging.getLogger("twin.power")


class Power:
    def __init__(self, cfg: PowerConfig, source: str):
        self.cfg = cfg
        self.wind_profile = np.asarray(cfg.wind_profile, dtype=float)
        if cfg.wind_profile_file is not None:
            self.wind_profile = read_wind_profile(cfg.wind_profile_file, source)
        self.totals = dict.fromkeys(("demand", "wind", "captive", "grid", "co2"), 0.0)   # MWh, t CO2
        self.last_other_MW = 0.0              # refinery and carbon plant demand of the last interval
        self.power_fraction = 1.0
        self.clipped = False                  # the window holds the current (logged when it starts)

    def wind_factor(self, hour: float) -> float:
        return float(self.wind_profile[int(np.floor(hour)) % len(self.wind_profile)])

    def program_fraction(self, hour: float) -> float:
        points = self.cfg.program
        if not points:
            return 1.0
        return float(np.interp(hour, [p.hour for p in points], [p.power_fraction for p in points]))

    def setpoints(self, hour: float, base_A: np.ndarray, emf_V: np.ndarray, resistance_ohm: np.ndarray,
                  base_power: np.ndarray) -> np.ndarray:
        """Line-current set-points (A) for the interval starting at ``hour``: the program's fraction of
        ``base_power`` (W per line, the schedule's power at the design state), drawn at the lines' present
        EMF and resistance, within the current window. A current the window clips is logged once per
        episode (logger ``twin.power``)."""
        c = self.cfg
        fraction = self.program_fraction(hour)
        if c.follow_supply and base_power.sum() > 0:
            supply = c.wind_capacity_MW * self.wind_factor(hour) + c.captive_MW + c.grid_limit_MW - self.last_other_MW
            dc_available = max(supply, 0.0) * 1e6 * c.rectifier_efficiency / (1.0 + c.auxiliaries_fraction)
            fraction = min(fraction, dc_available / base_power.sum())
        self.power_fraction = fraction
        if fraction == 1.0:
            return base_A                          # no curtailment: the schedule's currents
        target = fraction * base_power
        current = np.where(resistance_ohm > 0,
                           (-emf_V + np.sqrt(emf_V ** 2 + 4.0 * resistance_ohm * target)) / (2.0 * resistance_ohm),
                           base_A * fraction)
        window = np.clip(current, c.min_current_fraction * base_A, c.max_current_fraction * base_A)
        clipped = bool(np.any(np.abs(window - current) > 1e-6 * base_A))
        if clipped and not self.clipped:
            _LOG.warning("hour %.2f: power fraction %.3f asks for line currents %s kA; the cells' heat balance "
                         "allows %g-%g of the schedule: held at %s kA", hour, fraction,
                         np.round(current / 1e3, 1).tolist(), c.min_current_fraction, c.max_current_fraction,
                         np.round(window / 1e3, 1).tolist())
        self.clipped = clipped
        return window

    def supply(self, hour: float, seconds: float, dc_kWh: float, other_kWh: float) -> dict[str, float]:
        """Meet the interval's demand (potline DC energy and the other consumers); MW means and t CO2."""
        c = self.cfg
        hours = seconds / 3600.0
        potline = dc_kWh / 1e3 / c.rectifier_efficiency * (1.0 + c.auxiliaries_fraction)    # MWh AC
        demand = potline + other_kWh / 1e3
        wind = min(c.wind_capacity_MW * self.wind_factor(hour) * hours, demand)
        captive = min(max(demand - wind, c.captive_min_MW * hours), c.captive_MW * hours)
        grid = max(demand - wind - captive, 0.0)
        co2 = grid * c.grid_ef_t_per_MWh + captive * c.captive_ef_t_per_MWh
        self.last_other_MW = other_kWh / 1e3 / hours
        for key, value in (("demand", demand), ("wind", wind), ("captive", captive), ("grid", grid), ("co2", co2)):
            self.totals[key] += value
        return {"demand_MW": demand / hours, "potline_MW": potline / hours, "wind_MW": wind / hours,
                "captive_MW": captive / hours, "grid_MW": grid / hours,
                "ef_t_per_MWh": co2 / demand if demand > 0 else 0.0, "co2_t": co2, "demand_MWh": demand}


def read_wind_profile(name: str, source: str) -> np.ndarray:
    """Hourly capacity factors of ``power.wind_profile_file`` (relative to the config ``source``), one number per
    line (``#`` comments allowed). An absolute path is refused unread; errors name the row, never its text (a
    file named by mistake, or on purpose, is not shown)."""
    if Path(name).is_absolute():
        raise ConfigError(f"{source}: power.wind_profile_file = {name!r}: give the file relative to the config, not "
                          "as an absolute path")
    path = Path(source).parent / name
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"{source}: power.wind_profile_file = {name!r}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: power.wind_profile_file = {name!r}: not UTF-8 text (hourly capacity factors "
                          "in 0..1, one per line)") from None
    values = []
    for row, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            value = float(text)
        except ValueError:
            raise ConfigError(f"{path}: row {row} is not a number (hourly capacity factors in 0..1, one per "
                              "line)") from None
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"{path}: row {row}: capacity factor {value} outside 0..1")
        values.append(value)
    if not values:
        raise ConfigError(f"{path}: no capacity factors in the wind profile file")
    return np.array(values)
