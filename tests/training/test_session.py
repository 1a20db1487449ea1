"""Training sessions without a browser: actions checked before they reach the model, applied at their plant time and
logged; a session's file replayed bit for bit; the score and the debrief from the file; the shipped scenarios."""
from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import small_scenario

from twin.cli import main
from twin.config import ConfigError
from twin.drivers.training import Action, ActionError
from twin.results import open_results
from twin.smelter.operations import EVENT_KINDS
from twin.training.scenario import load_scenario, scenario_names
from twin.training.score import debrief
from twin.training.session import TrainingSession, replay, session_inputs

P017 = 16          # PL1.P017, the scenario's cell with the blocked feeders


def _first_ae_end(path, cell: int) -> float:
    """Plant time (s) at the end of the first record that counts an anode effect of ``cell``."""
    with open_results(path, load=True) as ds:
        counts = ds["anode_effect_count"].values[:, cell]
        i = int(np.flatnonzero(counts > 0)[0])
    return (i + 1) * 60.0


def test_a_blocked_feeder_ends_in_an_anode_effect_that_a_quench_by_hand_ends(tmp_path):
    """Left alone, PL1.P017 goes on AE and the controller's late quench (5 min) ends it; quenched by hand at the
    record that shows it, the AE lasts at most that record: fewer AE minutes, no automatic quench."""
    alone = tmp_path / "alone.nc"
    TrainingSession(small_scenario(), alone).run(hours=1.0)
    seen = _first_ae_end(alone, P017)
    acted = tmp_path / "acted.nc"
    TrainingSession(small_scenario(), acted, [Action(seen, "quench", P017)]).run(hours=1.0)
    with open_results(alone, load=True) as a, open_results(acted, load=True) as b:
        minutes_alone = float(a["anode_effect_minutes"][:, P017].sum())
        minutes_acted = float(b["anode_effect_minutes"][:, P017].sum())
        assert minutes_alone >= 4.9                         # the PCS waits auto_quench_after_s = 300 s
        assert float(a["anode_effect_quenches"][:, P017].sum()) >= 1
        assert minutes_acted <= 1.0 + 1e-6                   # ended at the start of the next minute
        assert float(b["anode_effect_quenches"][:, P017].sum()) == 0
        i = int(seen // 60)
        # the cell's voltage falls back to its level before the AE in the record after the quench
        assert b["cell_voltage"].values[i - 1, P017] > 8.0
        assert abs(b["cell_voltage"].values[i, P017] - b["cell_voltage"].values[i - 3, P017]) < 0.3
        kinds = b["event_kind"].values
        quench = np.flatnonzero(kinds == EVENT_KINDS["trainee_quench"])
        assert quench.size == 1 and int(b["event_cell"].values[quench[0]]) == P017


def test_bad_actions_are_refused_with_a_clear_message_and_reach_nothing(tmp_path):
    session = TrainingSession(small_scenario(), tmp_path / "s.nc")
    cases = {
        ("beam", 3, 5.0): "between -2 and +2 cm",
        ("beam", 3, -1.9): "outside the beam's limits",     # ACD about 4.3 cm: 2.4 cm is below the 3 cm floor
        ("alf3", 3, -10.0): "more than 0",
        ("alf3", 3, 500.0): "at most 200 kg",
        ("tap", 3, 60000.0): "at most",
        ("quench", 3, 0.0): "not on anode effect",
        ("clear_feeder", 3, 0.0): "nothing to clear",
        ("clear_feeder", 3, 7.0): "feeders 0 .. 3",
        ("line_current", 0, 900.0): "from 0 to 550 kA",
        ("accept_program", 0, 0.0): "no curtailment order",
        ("overfeed", 3, 0.0): "from 1 to 240 minutes",
        ("teleport", 3, 0.0): "unknown action",
        ("alf3", 99, 10.0): "not on this line",
        ("alf3", 3, float("nan")): "must be a number",
    }
    before = {name: block.copy() for name, block in session.park.blocks().items()}
    for (kind, cell, value), words in cases.items():
        with pytest.raises(ActionError, match=re.escape(words)):
            session.act(kind, cell, value)
    with pytest.raises(ActionError, match="instructor's fault"):
        session.act("power_cut", 0)
    with pytest.raises(ActionError, match="no pot"):
        session.act("alf3", "PL9.P001", 5.0)
    assert session.driver.live.empty()
    session.run(hours=0.05)
    assert session.driver.applied == []
    with open_results(session.out, load=True) as ds:
        kinds = ds["event_kind"].values
        assert not np.isin(kinds, [EVENT_KINDS[k] for k in EVENT_KINDS if k.startswith("trainee_")]).any()
    assert set(before) == set(session.park.blocks())


def test_an_action_is_applied_at_the_plant_time_the_page_showed(tmp_path):
    session = TrainingSession(small_scenario(), tmp_path / "s.nc")
    session.run(hours=0.1)                               # 6 records: the page shows 00:06
    shown = session.view["time_s"]
    session.finished = False
    action = session.act("alf3", "PL1.P004", 40.0)
    assert action.time_s == shown == 360.0
    added_before = session.park.smelter.counter("alf3_added")[3]
    session.driver.start_interval(session.park, session.park.time_s)
    assert session.park.smelter.counter("alf3_added")[3] == added_before + 40.0
    assert session.driver.applied == [Action(360.0, "alf3", 3, 40.0)]


def test_a_scripted_session_replays_to_the_same_file(tmp_path):
    """Every kind of action and fault, then the session's file run again from what it holds: every variable equal
    (the trends, the counters, the events)."""
    acts = [Action(1980, "quench", P017), Action(2400, "beam", 3, -0.5), Action(2400, "alf3", 4, 30.0),
            Action(3000, "overfeed", 5, 20.0), Action(3600, "line_current", 0, 480.0), Action(4000, "tap", 6, 1500.0),
            Action(4200, "feeder_block", 7, 2.0), Action(5400, "clear_feeder", 7, 2.0), Action(6000, "curtailment", 0),
            Action(6600, "accept_program", 0), Action(7000, "hot_cell", 9), Action(7200, "feed_stop", 10, 15.0),
            Action(7800, "feed_auto", 10), Action(8000, "power_cut", 0)]
    first = tmp_path / "session.nc"
    session = TrainingSession(small_scenario(), first, acts)
    session.run(hours=2.5)
    assert [a.kind for a in session.driver.applied] == [a.kind for a in acts]
    again = replay(first, tmp_path / "again.nc")
    with open_results(first, load=True) as a, open_results(again, load=True) as b:
        assert set(a.variables) == set(b.variables)
        for name in a.variables:
            np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
        own = ("run_id", "history")                  # each file's own: its id and when it was written
        assert {k: v for k, v in a.attrs.items() if k not in own} == {k: v for k, v in b.attrs.items()
                                                                       if k not in own}
        # the actions did what they say: 480 kA from 01:00, 80 % of it from the accepted order at 01:50, 0 from 02:13
        current = a["line_current"].values[:, 0]
        assert abs(current[70] - 480e3) < 1e3 and abs(current[120] - 384e3) < 1e3 and current[140] < 1e3
    _, _, actions, records = session_inputs(first)
    assert records == 150 and [a.time_s for a in actions][:3] == [1980.0, 2400.0, 2400.0]


def test_the_debrief_scores_the_answers_and_their_delays(tmp_path):
    out = tmp_path / "s.nc"
    TrainingSession(small_scenario(), out).run(hours=1.0)
    seen = _first_ae_end(out, P017)
    out2 = tmp_path / "s2.nc"
    acts = [Action(seen, "quench", P017), Action(seen + 120, "clear_feeder", P017, 0.0)]
    TrainingSession(small_scenario(), out2, acts).run(hours=1.0)
    d = debrief(out2)
    ae = next(a for a in d["answers"] if a["what"] == "anode_effect" and a["pot"] == "PL1.P017")
    assert ae["answered_by"] == "quench" and ae["delay_min"] == 1.0       # the AE started in the record before
    feeder = next(a for a in d["answers"] if a["what"] == "feeder_blocked" and a["pot"] == "PL1.P017")
    assert feeder["answered_by"] == "clear_feeder" and feeder["delay_min"] == (seen + 120 - 900) / 60.0
    s = d["score"]
    assert s["actions"] == 2 and 90 < s["current_efficiency_pct"] < 97 and 12 < s["dc_kWh_per_kg"] < 14.5
    assert s["ae_minutes_per_cell_day"] > 0 and "PL1.P017" in d["trends"]
    # nobody quenched: the AE is listed unanswered and costs its minutes
    alone = debrief(out)
    assert next(a["answered_by"] for a in alone["answers"] if a["what"] == "anode_effect") is None
    assert alone["score"]["ae_minutes_per_cell_day"] > s["ae_minutes_per_cell_day"]


@pytest.mark.parametrize("name", ["ae-storm-after-power-cut", "blocked-feeder", "curtailment-order", "hot-cell"])
def test_the_shipped_scenarios_load_on_the_reference_line(name):
    scenario = load_scenario(name)
    cfg = scenario.park_config()
    assert cfg.refinery is None and [ln.name for ln in cfg.smelter.potlines] == ["PL1"]
    assert cfg.smelter.potlines[0].cells == 360 and cfg.run.output_interval_s == 60.0
    assert name in scenario_names()


def test_the_hot_cell_runs_hot_until_its_beam_comes_down(tmp_path):
    hot = small_scenario(watch="PL1.P005", faults=[{"at_h": 0.0, "kind": "hot_cell", "cell": "PL1.P005",
                                                    "acd_cm": 1.5}])
    left = tmp_path / "left.nc"
    TrainingSession(hot, left).run(hours=6.0)
    fixed = tmp_path / "fixed.nc"
    TrainingSession(hot, fixed, [Action(1800, "beam", 4, -1.5)]).run(hours=6.0)
    with open_results(left, load=True) as a, open_results(fixed, load=True) as b:
        rise = a["bath_temperature"].values[-1, 4] - a["bath_temperature"].values[0, 4]
        assert rise > 3.0 and a["ledge_thickness"].values[-1, 4] < a["ledge_thickness"].values[0, 4] - 0.3
        assert b["bath_temperature"].values[-1, 4] < a["bath_temperature"].values[-1, 4] - 2.0


def test_bad_scenarios_are_refused_naming_the_key(tmp_path):
    with pytest.raises(ConfigError, match=re.escape("watch = 'PL1.P099': no such pot")):
        small_scenario(watch="PL1.P099")
    with pytest.raises(ConfigError, match="line = 'PL7'"):
        small_scenario(line="PL7")
    with pytest.raises(ConfigError, match="needs the cell"):
        small_scenario(faults=[{"at_h": 1.0, "kind": "hot_cell"}])
    with pytest.raises(ConfigError, match=r"faults\.0\.kind"):
        small_scenario(faults=[{"at_h": 1.0, "kind": "meteor"}])
    with pytest.raises(ConfigError, match=re.escape("faults[0].feeder = 3: the cells have feeders 0 .. 1")):
        small_scenario(faults=[{"at_h": 1.0, "kind": "feeder_blocked", "cell": "PL1.P001", "feeder": 3}],
                       park_overrides={"smelter": {"cell": {"alumina_zones": 2}}})
    with pytest.raises(ConfigError, match=re.escape("no absolute or ../ paths")):
        small_scenario(park="../../etc/passwd")


def test_twin_train_script_and_replay_commands(tmp_path):
    scenario = tmp_path / "small.toml"
    scenario.write_text('title = "small"\nline = "PL1"\nhours = 0.5\n[park_overrides.smelter]\n'
                        'potlines = [{name = "PL1", cells = 4}]\n')
    script = tmp_path / "actions.toml"
    script.write_text('[[action]]\nat_h = 0.1\nkind = "alf3"\npot = "PL1.P002"\nvalue = 20\n')
    out = tmp_path / "s.nc"

    def twin(*args):
        return subprocess.run([sys.executable, "-m", "twin.cli", "train", *map(str, args)], capture_output=True,
                              text=True, cwd=tmp_path)

    done = twin("--scenario", scenario, "--script", script, "--out", out)
    assert done.returncode == 0, done.stderr
    done = twin("--replay", out, "--out", tmp_path / "r.nc")
    assert done.returncode == 0, done.stderr
    with open_results(out, load=True) as a, open_results(tmp_path / "r.nc", load=True) as b:
        assert float(a["alf3_added"].values[:, 1].sum()) >= 20.0
        assert set(a.variables) == set(b.variables)
        for name in a.variables:                     # the scripted session's file again, variable by variable
            np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
    # the report reads a session's file like any run's
    assert main(["report", str(out), "--out", str(tmp_path / "report")]) == 0
    assert (tmp_path / "report" / "index.html").is_file()
    refused = twin("--scenario", scenario, "--script", script, "--out", out)
    assert refused.returncode == 2 and "exists" in refused.stderr
    over = twin("--scenario", scenario, "--out", scenario, "--force")
    assert over.returncode == 2 and "would write over" in over.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[[action]]\nat_h = 0.1\nkind = "alf3"\npot = "PL1.P099"\n')
    done = twin("--scenario", scenario, "--script", bad, "--out", tmp_path / "b.nc")
    assert done.returncode == 2 and "PL1.P099" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_the_ae_storm_scenario_storms_after_the_power_returns(tmp_path):
    """The shipped scenario on the reference line (360 cells): no anode effect during the 2-h cut, then every cell
    whose feed holes crusted over goes on AE within the hour after the power's return (as its alumina runs down
    on half its feeders); the debrief asks for each."""
    scenario = load_scenario("ae-storm-after-power-cut")
    crusted = {f.cell for f in scenario.faults if f.kind == "feeder_blocked"}
    out = tmp_path / "storm.nc"
    TrainingSession(scenario, out).run(hours=3.5)
    with open_results(out, load=True) as ds:
        current = ds["line_current"].values[:, 0]
        assert current[40:150].max() < 1.0 and current[170] > 400e3           # off 00:30-02:30, then back
        i, k = np.nonzero(ds["anode_effect_count"].values > 0)
        pots = ds["pot"].values
        assert not np.any((i >= 30) & (i < 150))
        storm = {str(pots[c]) for r, c in zip(i, k, strict=True) if 150 <= r < 210}
        assert storm >= crusted
    asked = {a["pot"] for a in debrief(out)["answers"] if a["what"] == "anode_effect" and a["at_s"] >= 9000}
    assert asked >= crusted


def test_twin_train_names_a_port_it_cannot_listen_on(tmp_path, capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["train", "--port", str(port), "--out", str(tmp_path / "s.nc")]) == 2
        assert f"--port {port}: cannot listen there" in capsys.readouterr().err
    assert main(["train", "--port", "70000", "--out", str(tmp_path / "s.nc")]) == 2
    assert "a port is from 1 to 65535" in capsys.readouterr().err
    assert not (tmp_path / "s.nc").exists()
