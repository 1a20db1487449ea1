"""The crew's routine: the AlF3 rule on lab samples holds the bath; taps hold the metal pad."""
from __future__ import annotations

import numpy as np
import pytest

from twin import Park
from twin.smelter.cell import STATE
from twin.smelter.operations import EVENT_KINDS


def daily_means(park: Park, days: int) -> list[dict[str, np.ndarray]]:
    out = []
    for _ in range(days):
        records = [park.step_interval() for _ in range(24)]
        out.append({k: np.mean([r[k] for r in records], axis=0) for k in records[0]})
    return out


@pytest.mark.slow
def test_alf3_rule_brings_and_holds_excess_alf3_at_target(make_park):
    """Bath started 1 wt % AlF3 below target: the rule, on noisy delayed samples, closes the gap."""
    park = Park(make_park(cells=6, lines=1, run={"output_interval_s": 3600.0},
                          cell={"alf3_wt": 10.5}))
    park.smelter.ops.alf3_target = 11.5
    days = daily_means(park, 30)
    alf3 = np.array([d["excess_alf3"] for d in days])
    assert np.all(alf3[0] < 11.0)
    assert np.all(np.abs(alf3[-7:].mean(axis=0) - 11.5) < 0.35), alf3[-7:].mean(axis=0)
    # without the rule (constant base addition) it stays off target
    still = Park(make_park(cells=6, lines=1, run={"output_interval_s": 3600.0}, cell={"alf3_wt": 10.5}))
    still.smelter.ops.cfg = still.smelter.ops.cfg.model_copy(update={"alf3_rule": False})
    off = np.array([d["excess_alf3"] for d in daily_means(still, 30)])
    assert np.all(np.abs(off[-7:].mean(axis=0) - 11.5) > np.abs(alf3[-7:].mean(axis=0) - 11.5))


@pytest.mark.slow
def test_metal_pad_bounded_and_taps_weighed(make_park):
    park = Park(make_park(cells=6, lines=1, run={"output_interval_s": 3600.0}))
    taps = []
    for _ in range(30 * 24):
        park.step_interval()
        taps += [e for e in park.smelter.ops.take_events() if e[2] == EVENT_KINDS["tap_weight"]]
    metal = park.smelter.state[STATE["metal"]]
    assert np.all((metal > 30e3) & (metal < 40e3)), metal
    weights = np.array([e[3] for e in taps])
    assert len(taps) == 6 * 30
    made_per_day = park.smelter.counter("metal_produced").sum() / 30 / 6
    assert weights.mean() == pytest.approx(made_per_day, rel=0.03)
    tapped = park.smelter.counter("metal_tapped")
    assert np.all(np.abs(tapped - park.smelter.counter("metal_produced")) < 0.1 * tapped)


def test_operations_noise_is_seeded_per_cell(make_park):
    """Same seed, same draws; another seed, other draws; a cell's draws ignore the other cells."""
    def temperatures(seed, cells):
        park = Park(make_park(cells=cells, lines=1, run={"seed": seed, "output_interval_s": 3600.0}))
        out = []
        for _ in range(24):
            park.step_interval()
            out += [(e[1], e[3]) for e in park.smelter.ops.take_events() if e[2] == EVENT_KINDS["temperature"]]
        return dict(out)
    a, b, c = temperatures(7, 4), temperatures(7, 4), temperatures(8, 4)
    assert a == b and a != c
    assert temperatures(7, 6)[0] == a[0]          # cell 0's generator does not care how many cells follow
