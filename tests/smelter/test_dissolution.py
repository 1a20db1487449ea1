"""Alumina dissolution limited by the heat the bath brings to a shot (issue 19): the undissolved pool dissolves at
``dissolution_rate_per_s`` at the reference superheat, as SH / (SH + SH_half) normalised there, and not at all in a
bath at or below its liquidus (Kobbeltvedt, Rolseth & Thonstad, Light Metals 1996: a cold shot freezes a crust of
bath that must melt first)."""
from __future__ import annotations

import numpy as np
from conftest import small_park

from twin import Park
from twin._core import pot
from twin.smelter.cell import AUX, PARAM, STATE


def heat_factor(superheat: float, ref: float = 8.0, half: float = 5.0) -> float:
    return max(superheat, 0.0) * (ref + half) / ((max(superheat, 0.0) + half) * ref)


def test_dissolution_slows_with_superheat_and_stops_below_the_liquidus():
    park = Park(small_park(cells=4, lines=1, run={"output_interval_s": 60.0},
                           control={"feed_control": "nominal", "resistance_control": False}))
    s = park.smelter
    s.params[PARAM["feed_enabled"]] = 0.0                     # no shots: the pool only dissolves
    superheats = np.array([8.0, 4.0, 16.0, -2.0])
    s.state[STATE["t_bath"]] = s.aux[AUX["liquidus"]] + superheats
    s.state[STATE["undissolved"]] = 200.0
    s.state[STATE["zone_undissolved_0"]:STATE["zone_undissolved_3"] + 1] = 0.0
    pot.prepare(s.state, s.params, s.aux, s.counters, s.line, s.line_start)   # properties of the state set here
    before = s.state[STATE["undissolved"]].copy()
    park.step_interval()
    after = s.state[STATE["undissolved"]]
    rate = np.log(before / after) / 60.0                      # 1/s over the minute
    assert after[3] == before[3]                              # frozen: nothing dissolves
    k = s.params[PARAM["k_dissolve"], 0]
    # at the reference superheat the configured rate, times the distance to saturation (1 - c/c_sat)
    saturation = 1.0 - s.aux[AUX["alumina_wt"], 0] * s.aux[AUX["inv_saturation"], 0]
    assert abs(rate[0] / (k * saturation) - 1.0) < 0.03, rate[0] / k
    # the heat factor's ratios (the bath's temperature moves < 0.5 K in the minute)
    assert abs(rate[1] / rate[0] - heat_factor(4.0)) < 0.03, rate[1] / rate[0]
    assert abs(rate[2] / rate[0] - heat_factor(16.0)) < 0.03, rate[2] / rate[0]
