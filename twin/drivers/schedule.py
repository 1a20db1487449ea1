"""The schedule driver: the park runs on its own configuration.

Line set-points are the potline schedules after the power programs and the supply (``twin.site.power``);
the crew does its routine (taps, AlF3, anode settings, relining, feeder faults and their clearing) at the
start of each interval; the cells' own controllers feed and move the beams inside the kernel.
"""
from __future__ import annotations

import numpy as np


class ScheduleDriver:
    """Drives a forward run (``twin run``)."""

    def __init__(self) -> None:
        self.attrs: dict = {}          # what it adds to a results file's attributes: nothing

    def start_interval(self, park, t0: float) -> None:
        """Inputs due at the start of the interval from ``t0``, before its set-points are taken: none (a person's
        actions come here in training, ``twin.drivers.training``)."""

    def line_setpoints(self, park, time_s: float) -> np.ndarray:
        """The set-points the lines run at (A): the schedules after the power programs."""
        return park.site.line_setpoints(time_s / 3600.0, park.setpoints(time_s), park.smelter)

    def advance_smelter(self, park, t0: float, t1: float, start_A: np.ndarray, end_A: np.ndarray) -> None:
        """The crew's routine of the interval [t0, t1), then every cell through it (set-points linear from
        ``start_A`` to ``end_A``)."""
        run, s = park.config.run, park.smelter
        if t0 > 0 and np.floor(t0 / 86400.0) != np.floor((t0 - run.output_interval_s) / 86400.0):
            s.new_day()
        scheduled = park.setpoints(t0)
        # the crew holds its temperature terms on lines a power program or the supply holds off their schedule (a
        # scheduled outage, 0 kA on both, is not a modulation)
        s.ops.modulated_lines = (np.abs(start_A - scheduled) > np.maximum(scheduled, 1.0)
                                 * park.config.smelter.operations.temperature_hold_current_fraction)
        s.operate(t0, t1)
        s.advance(round((t1 - t0) / run.slow_step_s), round(run.slow_step_s / run.fast_step_s), run.fast_step_s,
                  start_A, end_A)
