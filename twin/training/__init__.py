"""Operator training: a live potline a trainee runs from the browser (``twin train``), with scenarios, faults, a
score and a debrief; a session is a results file that replays bit for bit."""
from twin.training.scenario import Scenario, load_scenario, scenario_names
from twin.training.session import TrainingSession, replay

__all__ = ["Scenario", "TrainingSession", "load_scenario", "replay", "scenario_names"]
