"""Relining (issue 12): a cell at the end of its lining's life is cut out of the line (the line voltage falls by
its voltage, the current holds), relined, and restarted on a start-up bath that its controllers and the crew
bring toward the operating point; balances close across the reline."""
from __future__ import annotations

import numpy as np

import twin
from twin.park import Park
from twin.smelter.bath import liquidus
from twin.smelter.cell import PARAM, STATE, bath_weight_fractions


def test_a_spent_lining_is_cut_out_relined_and_restarted(make_park):
    cfg = make_park(cells=6, lines=1)
    cfg = cfg.model_copy(update={"lining": cfg.lining.model_copy(update={"pot_life_days": 1000.0,
                                                                         "reline_days": 1.0})})
    park = Park(cfg)
    s = park.smelter
    s.linings.age_days[:] = 200.0
    s.linings.age_days[2] = 1000.0 - 0.05                        # spent in 72 min
    metal0 = s.state[STATE["metal"]].copy()
    records = [park.step_interval() for _ in range(4 * 6)]          # 4 h
    out = [r["in_service"][2] for r in records]
    cut = out.index(0.0)
    assert cut in (7, 8)                                            # the interval after the lining's end
    before, after = records[cut - 1], records[cut]
    assert np.isnan(after["cell_voltage"][2]) and np.isfinite(after["cell_voltage"][[0, 1, 3, 4, 5]]).all()
    # the rectifier holds the current; the line voltage falls by about the voltage the cell had
    drop = before["line_voltage"][0] - after["line_voltage"][0]
    assert abs(drop - before["cell_voltage"][2]) < 0.3, (drop, before["cell_voltage"][2])
    assert abs(after["line_current"][0] / before["line_current"][0] - 1) < 0.005
    assert s.counter("relines")[2] == 1 and s.counter("relines").sum() == 1
    assert s.state[STATE["metal"], 2] == 0.0 and s.params[PARAM["in_service"], 2] == 0.0

    records = [park.step_interval() for _ in range(23 * 6)]         # to hour 27: back after its day out
    back = [r["in_service"][2] for r in records].index(1.0)
    restart = records[back]
    assert restart["line_voltage"][0] - records[back - 1]["line_voltage"][0] > 3.5
    assert s.linings.age_days[2] < 1.0
    # the start-up bath: basic, hot, no ledge yet, then on its way to the line's operating point
    first_alf3 = restart["excess_alf3"][2]
    assert 5.5 < first_alf3 < 7.5 and restart["ledge_thickness"][2] < 3.0
    later = [park.step_interval() for _ in range(3 * 24 * 6)]       # three days on (its start-up: the next test)
    last = later[-1]
    assert last["ledge_thickness"][2] > restart["ledge_thickness"][2] + 1.0
    assert 3.0 < last["superheat"][2] < 30.0 and np.isfinite(last["cell_voltage"]).all()
    # metal balance across the reline: what was there + made - tapped (incl. the cut-out) + put in = there now
    x = s.state
    np.testing.assert_allclose(metal0 + s.counter("metal_produced") - s.counter("metal_tapped")
                               + s.counter("reline_metal_in"), x[STATE["metal"]], rtol=1e-9)


def test_start_up_state_of_a_relined_cell(make_park):
    """The restarted cell: its steady start with a basic bath at the configured AlF3, the configured superheat
    above that bath's liquidus, the thinnest ledge, a new lining; what went in booked."""
    cfg = make_park(cells=2, lines=1)
    cfg = cfg.model_copy(update={"lining": cfg.lining.model_copy(update={"startup_alf3_wt": 7.0,
                                                                         "startup_superheat_K": 12.0})})
    park = Park(cfg)
    s = park.smelter
    park.step_interval()
    s.linings.cut_out(s, 0, 600.0)
    assert s.state[STATE["metal"], 0] == 0.0 and s.state[[STATE["cryolite"], STATE["alf3"]], 0].sum() == 0.0
    s.linings.cut_in(s, 0, 1200.0)
    wt = bath_weight_fractions(s.state[:, :1])
    np.testing.assert_allclose(wt["alf3"], 7.0, rtol=1e-12)
    np.testing.assert_allclose(wt["bath_mass"], bath_weight_fractions(s.linings.start_state[:, :1])["bath_mass"],
                               rtol=1e-12)
    np.testing.assert_allclose(s.state[STATE["t_bath"], 0] - liquidus(wt["alf3"], wt["caf2"], wt["alumina"]), 12.0,
                               rtol=1e-12)
    assert s.state[STATE["ledge"], 0] == s.params[PARAM["ledge_min"], 0] and s.linings.age_days[0] == 0.0
    np.testing.assert_allclose(s.counter("reline_bath_in")[0], wt["bath_mass"][0], rtol=1e-12)
    assert s.counter("reline_metal_in")[0] == s.state[STATE["metal"], 0] > 0
    kinds = [e[2] for e in s.ops.take_events() if e[1] == 0]
    assert 12 in kinds and 13 in kinds                              # cut_out, cut_in


def test_a_restarted_cell_runs_hot_for_days_and_reaches_the_line_over_weeks(make_park):
    """As plants start a relined cell: a voltage above the line's at the cut-in (startup_extra_V), lowered day
    by day over startup_voltage_days, so the bath does not freeze into ledge in hours; its AlF3 raised toward
    the line's over weeks. Before: no high voltage, 10 -> 6 t of bath and 6 -> 12 % AlF3 within a day."""
    park = Park(make_park(cells=4, lines=1, run={"output_interval_s": 3600.0}))
    s, lining = park.smelter, park.config.lining
    assert lining.startup_extra_V == 0.5 and lining.startup_voltage_days == 7.0
    park.step_interval()
    s.linings.cut_out(s, 0, park.time_s)
    s.linings.cut_in(s, 0, park.time_s)
    bath0 = bath_weight_fractions(s.state[:, :1])["bath_mass"][0]
    days = [[park.step_interval() for _ in range(24)] for _ in range(14)]

    def daily(name: str, cells) -> np.ndarray:
        return np.array([np.mean([r[name][cells] for r in day]) for day in days])

    above = daily("cell_voltage", 0) - daily("cell_voltage", [1, 2, 3])
    assert 0.3 < above[1] < 0.6                                     # the start-up's half volt on its second day
    assert above[1] > above[3] > above[5] > above[7] - 0.05         # lowered day by day
    assert np.all(np.abs(above[9:]) < 0.1)                          # and gone after a week
    # hot, so most of the bath stays liquid (before: half of it frozen in a day), the ledge thin
    assert daily("bath_mass", 0)[1] > 0.7 * bath0
    assert daily("ledge_thickness", 0)[1] < 5.0
    # the AlF3 climbs over days and weeks (sodium into the new cathode, the ledge forming), not in a day
    alf3 = daily("excess_alf3", 0)
    assert alf3[0] < lining.startup_alf3_wt + 2.0 and alf3[13] > alf3[0] + 1.5
    assert np.isfinite(daily("superheat", 0)).all() and 3.0 < daily("superheat", 0)[13] < 20.0


def test_replay_follows_the_recorded_cut_out_and_cut_in(make_park, tmp_path):
    """A run with a reline replayed from its own results: the cell leaves and rejoins the line when it did."""
    from twin.replay import inputs_from_results, replay

    cfg = make_park(cells=4, lines=1, run={"output_interval_s": 600.0})
    cfg = cfg.model_copy(update={"lining": cfg.lining.model_copy(update={"pot_life_days": 1000.0,
                                                                         "reline_days": 0.2})})
    park = Park(cfg)
    park.smelter.set_lining_ages(np.array([200.0, 1000.0 - 0.1, 300.0, 400.0]))   # as a start at these ages
    park.run(tmp_path / "run.nc", 12 * 3600.0)
    original = twin.open_results(tmp_path / "run.nc", load=True)
    assert 0 < (original.in_service.values[:, 1] == 0).sum() < original.sizes["time"]
    replay(cfg, inputs_from_results(original), tmp_path / "replayed.nc")
    again = twin.open_results(tmp_path / "replayed.nc", load=True)
    np.testing.assert_array_equal(again.in_service.values, original.in_service.values)
    np.testing.assert_array_equal(np.isnan(again.cell_voltage.values), np.isnan(original.cell_voltage.values))
    # recorded taps as recorded; the cut-out takes the pad the replay made (its production within a few ppm)
    np.testing.assert_allclose(again.metal_tapped.sum("time", dtype=float),
                               original.metal_tapped.sum("time", dtype=float), rtol=1e-6)
    np.testing.assert_allclose(again.cell_voltage.values, original.cell_voltage.values, rtol=0.01)
    np.testing.assert_allclose(again.line_voltage.values, original.line_voltage.values, rtol=0.002)
    assert again.anode_effect_count.sum() == original.anode_effect_count.sum()


def test_a_run_resumed_while_a_cell_is_cut_out_is_bit_identical(make_park, tmp_path):
    """Checkpoint taken while the cells are out for relining (all three, of one age: the rectifier then drives
    its busbar alone); resumed, their restarts and the rest are the same, bit for bit."""
    from conftest import assert_identical, interrupted_then_resumed

    cfg = make_park(cells=3, lines=1, run={"output_interval_s": 600.0, "checkpoint_interval_h": 1.0,
                                           "buffer_records": 3}, cell={"cathode_age_days": 1000.0 - 0.05})
    cfg = cfg.model_copy(update={"lining": cfg.lining.model_copy(update={"pot_life_days": 1000.0,
                                                                         "reline_days": 0.125})})
    twin.Park(cfg).run(tmp_path / "whole.nc", 6 * 3600.0)
    whole = twin.open_results(tmp_path / "whole.nc", load=True)
    out = whole.in_service.values
    assert (out == 0).any() and out[-1].all()                  # out for 3 h, back before the end
    interrupted_then_resumed(cfg, tmp_path / "cut.nc", 6 * 3600.0, 2.5 * 3600.0)
    assert_identical(tmp_path / "whole.nc", tmp_path / "cut.nc")
