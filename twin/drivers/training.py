"""The training driver: the park on its own schedules and controllers, plus what a person does to it.

A trainee acts as an operator does (quench an anode effect, move a beam, stop or overfeed a cell for some
minutes, add AlF3, tap, set a line's current, accept a curtailment order, clear a feeder); an instructor, or the
scenario at its times, injects faults (a blocked feeder, a power cut, a curtailment order, a cell whose resistance
target was left raised). Every action is checked first (``check``: a refused action never reaches the model),
then applied at the start of the coordination interval that begins at its plant time (live, that is the plant time
the page showed when it was made) and logged as an event of the results file (kinds ``trainee_*`` and
``instructor_*`` of ``twin.smelter.operations.EVENT_KINDS``). A session's file therefore holds every input it had
beyond its scenario: ``actions_of`` reads them back, and a driver given them replays the session bit for bit.
"""
from __future__ import annotations

import queue
from dataclasses import dataclass

import numpy as np

from twin.drivers.schedule import ScheduleDriver

__all__ = ["ACTIONS", "Action", "ActionError", "TrainingDriver", "actions_of"]

# kind -> (what it is, what its value is, the value's unit); line actions name the line's first cell
ACTIONS = {
    "quench": ("kill the anode effect (alumina dump, beam pumping)", None, ""),
    "beam": ("move the anode beam (+ up); the resistance target follows", "move", "cm"),
    "feed_stop": ("stop the cell's feeders", "minutes", "min"),
    "overfeed": ("overfeed the cell", "minutes", "min"),
    "feed_auto": ("give feeding back to the pot control system", None, ""),
    "alf3": ("add AlF3", "mass", "kg"),
    "tap": ("tap metal", "mass", "kg"),
    "line_current": ("set the line-current set-point", "current", "kA"),
    "accept_program": ("accept the grid's curtailment order", None, ""),
    "clear_feeder": ("clear a choked or blocked feeder", "feeder", ""),
    # an instructor's faults (sizes from the scenario's [instructor] table)
    "feeder_block": ("block a feeder", "feeder", ""),
    "power_cut": ("cut the line's power", None, ""),
    "curtailment": ("order the line curtailed", None, ""),
    "hot_cell": ("leave the cell's resistance target raised", None, ""),
}
INSTRUCTOR = ("feeder_block", "power_cut", "curtailment", "hot_cell")
LINE_ACTIONS = ("line_current", "accept_program", "power_cut", "curtailment")
# limits of what an operator may do in one action (assumptions [A] of a cell room's practice: a beam moved by
# more than 2 cm at once shakes the pad; more than ~4 days' AlF3 at once freezes a crust of it; a pad tapped
# below 80 % of its after-tap mass leaves the cathode barely covered and the cell unstable)
BEAM_MAX_MOVE_CM = 2.0
ALF3_MAX_KG = 200.0
PAD_MIN_SHARE = 0.8
FEED_MAX_MIN = 240.0


class ActionError(ValueError):
    """An action refused before it reaches the model; the message says what and why."""


@dataclass(frozen=True)
class Action:
    """``kind`` (``ACTIONS``) on ``cell`` (index over the park's cells; the line's first cell for line actions)
    at plant time ``time_s`` with ``value`` (its unit in ``ACTIONS``; 0 where it takes none)."""

    time_s: float
    kind: str
    cell: int
    value: float = 0.0

    @property
    def event_kind(self) -> str:
        return f"{'instructor' if self.kind in INSTRUCTOR else 'trainee'}_{self.kind}"


@dataclass
class _Window:
    line: int
    start_s: float
    end_s: float
    fraction: float           # of the line's set-point (0: a power cut)


class TrainingDriver(ScheduleDriver):
    """Drives a training session: ``submit`` takes a person's actions (any thread), ``scripted`` ones come at
    their times; the scenario's faults at theirs."""

    def __init__(self, park, scenario, scripted: list[Action] | None = None):
        super().__init__()
        self.scenario = scenario
        s = park.smelter
        self.cell_names: list[str] = list(s.cell_names)
        self.line_first = s.line_start[:-1].copy()
        self.design_kA = s.design_current / 1e3
        self.max_fraction = park.config.power.max_current_fraction
        self.acd_limits_cm = (park.config.smelter.control.acd_min_cm, park.config.smelter.control.acd_max_cm)
        self.pad_min_kg = PAD_MIN_SHARE * park.config.smelter.cell.metal_mass_t * 1e3
        self.zones = s.params_of("zones").astype(int)
        self.scripted: list[Action] = []
        self.script(scripted or [])
        self.faults = sorted(scenario.faults, key=lambda f: f.at_h)
        self.live: queue.SimpleQueue[Action] = queue.SimpleQueue()
        self.applied: list[Action] = []          # what reached the model, at the time it did
        self.setpoint_kA: dict[int, float] = {}  # lines the trainee has set
        self.windows: list[_Window] = []         # power cuts and accepted curtailments
        self.order: dict[int, tuple[float, float, float]] = {}   # line -> (ordered at, fraction, hours) pending
        self.feed_until = np.full(s.n_cells, -np.inf)             # end of each cell's feed override
        self.feed_rate = np.full(s.n_cells, -1.0)                 # kg/s; < 0: the cell's own feed control

    # ------------------------------------------------------------------ a person's actions
    def cell_of(self, name: str) -> int:
        try:
            return self.cell_names.index(name)
        except ValueError:
            raise ActionError(f"no pot {name!r} on this line (pots {self.cell_names[0]} .. "
                              f"{self.cell_names[-1]})") from None

    def check(self, kind: str, cell: int, value: float, view: dict) -> None:
        """Refuse (``ActionError``) an action that no operator could or should make on the plant as ``view``
        (the session's last published state) shows it."""
        if kind not in ACTIONS:
            raise ActionError(f"unknown action {kind!r}; actions are {', '.join(ACTIONS)}")
        if not 0 <= cell < len(self.cell_names):
            raise ActionError(f"cell {cell} is not on this line (0 .. {len(self.cell_names) - 1})")
        if not np.isfinite(value):
            raise ActionError(f"{kind}: the value must be a number, got {value}")
        name, what = self.cell_names[cell], ACTIONS[kind][1]
        if kind not in LINE_ACTIONS and not view["in_service"][cell]:
            raise ActionError(f"{name} is cut out of the line (relining): nothing to do on it")
        if kind == "quench" and not view["anode_effect"][cell]:
            raise ActionError(f"{name} is not on anode effect: there is nothing to quench")
        elif kind == "beam":
            acd = float(view["acd"][cell]) + value
            low, high = self.acd_limits_cm
            if value == 0 or abs(value) > BEAM_MAX_MOVE_CM:
                raise ActionError(f"beam move of {value:+g} cm on {name} refused: a move is between "
                                  f"-{BEAM_MAX_MOVE_CM:g} and +{BEAM_MAX_MOVE_CM:g} cm, not 0")
            if not low <= acd <= high:
                raise ActionError(f"beam move of {value:+g} cm on {name} refused: its ACD would be {acd:.2f} cm, "
                                  f"outside the beam's limits of {low:g}-{high:g} cm (now {view['acd'][cell]:.2f})")
        elif kind in ("feed_stop", "overfeed") and not 1 <= value <= FEED_MAX_MIN:
            raise ActionError(f"{kind} of {value:g} min on {name} refused: from 1 to {FEED_MAX_MIN:g} minutes")
        elif kind == "alf3" and not 0 < value <= ALF3_MAX_KG:
            raise ActionError(f"AlF3 addition of {value:g} kg to {name} refused: an addition is more than 0 and at "
                              f"most {ALF3_MAX_KG:g} kg")
        elif kind == "tap":
            pad = float(view["metal_mass"][cell])
            most = max(pad - self.pad_min_kg, 0.0)
            if not 0 < value <= most:
                raise ActionError(f"tap of {value:g} kg from {name} refused: its pad holds {pad:,.0f} kg and may not "
                                  f"go below {self.pad_min_kg:,.0f} kg ({100 * PAD_MIN_SHARE:g} % of the pad after a "
                                  f"tap): at most {most:,.0f} kg")
        elif kind == "line_current":
            line = self._line_of(cell)
            top = self.max_fraction * self.design_kA[line]
            if not 0 <= value <= top:
                raise ActionError(f"line current of {value:g} kA refused: from 0 to {top:g} kA ({self.max_fraction:g}"
                                  f" x the line's {self.design_kA[line]:g} kA)")
        elif kind == "accept_program" and self._line_of(cell) not in view["orders"]:
            raise ActionError("there is no curtailment order to accept")
        elif kind in ("clear_feeder", "feeder_block"):
            z = int(value)
            if value != z or not 0 <= z < self.zones[cell]:
                raise ActionError(f"{name} has feeders 0 .. {self.zones[cell] - 1}, not {value:g}")
            faulty = bool(view["feeders"][z, cell])
            if kind == "clear_feeder" and not faulty:
                raise ActionError(f"feeder {z} of {name} delivers its dose: there is nothing to clear")
            if kind == "feeder_block" and faulty:
                raise ActionError(f"feeder {z} of {name} is already at fault")
        if what is None and value != 0:
            raise ActionError(f"{kind} takes no value, got {value:g}")

    def script(self, actions: list[Action]) -> None:
        """Actions to apply at their plant times (a scripted session, a replay), each at the start of the first
        interval at or after its time."""
        self.scripted = sorted([*self.scripted, *actions], key=lambda a: a.time_s)

    def submit(self, action: Action) -> None:
        """Queue a checked action; it is applied at the start of the next interval (any thread)."""
        self.live.put(action)

    def _line_of(self, cell: int) -> int:
        return int(np.searchsorted(self.line_first, cell, side="right") - 1)

    # ------------------------------------------------------------------ the run loop's driver
    def start_interval(self, park, t0: float) -> None:
        """Faults and actions due by ``t0``, applied now (before the interval's set-points are taken)."""
        s = park.smelter
        while self.faults and self.faults[0].at_h * 3600.0 <= t0 + 1e-6:
            self._inject(park, self.faults.pop(0), t0)
        due: list[Action] = []
        while self.scripted and self.scripted[0].time_s <= t0 + 1e-6:
            due.append(self.scripted.pop(0))
        while True:
            try:
                due.append(self.live.get_nowait())
            except queue.Empty:
                break
        for action in due:
            self._apply(park, Action(t0, action.kind, action.cell, action.value))
        ended = (self.feed_until <= t0 + 1e-6) & (self.feed_rate >= 0)
        if ended.any():
            self.feed_rate[ended] = -1.0
            s.set_feed(self.feed_rate.copy())
        self.windows = [w for w in self.windows if w.end_s > t0 + 1e-6]

    def _apply(self, park, action: Action) -> None:
        s, k, t = park.smelter, action.cell, action.time_s
        kind, value = action.kind, action.value
        if kind == "quench":
            s.quench_by_hand(np.array([k]))
        elif kind == "beam":
            s.move_beam_by_hand(k, value / 100.0)
        elif kind in ("feed_stop", "overfeed", "feed_auto"):
            factor = park.config.smelter.control.overfeed_factor
            overfeed = factor * s.nominal_feed_kg_per_s(s.line_current())[k]
            self.feed_rate[k] = {"feed_stop": 0.0, "overfeed": overfeed, "feed_auto": -1.0}[kind]
            self.feed_until[k] = t + value * 60.0 if kind != "feed_auto" else -np.inf
            s.set_feed(self.feed_rate.copy())
        elif kind == "alf3":
            kg = np.zeros(s.n_cells)
            kg[k] = value
            s.add_alf3(kg)
        elif kind == "tap":
            s.remove_metal(k, value)
        elif kind == "line_current":
            self.setpoint_kA[self._line_of(k)] = value
        elif kind == "accept_program":
            line = self._line_of(k)
            _, fraction, hours = self.order.pop(line)
            self.windows.append(_Window(line, t, t + hours * 3600.0, fraction))
            value = fraction
        elif kind == "clear_feeder":
            s.feeders.clear(s, k, int(value), t)
        elif kind == "feeder_block":
            s.feeders.fail(s, k, int(value), 0.0, t, np.inf)
        elif kind == "power_cut":
            value = self.scenario.instructor.power_cut_h
            self.windows.append(_Window(self._line_of(k), t, t + value * 3600.0, 0.0))
        elif kind == "curtailment":
            cfg = self.scenario.instructor
            value = cfg.curtailment_fraction
            self.order[self._line_of(k)] = (t, value, cfg.curtailment_h)
        elif kind == "hot_cell":
            value = self.scenario.instructor.hot_cell_acd_cm
            s.raise_resistance_target(k, value / 100.0)
        # the event carries what was done (an order's fraction, a cut's hours, a target's cm: the scenario's
        # sizes); ``actions_of`` gives back the inputs
        s.ops.event(t, k, action.event_kind, value)
        self.applied.append(Action(t, kind, k, value))

    def _inject(self, park, fault, t: float) -> None:
        """A scenario's fault (not an event of its own: the scenario says it; what it causes is)."""
        s = park.smelter
        k = self.cell_names.index(fault.cell) if fault.cell is not None else 0
        if fault.kind == "feeder_blocked":
            s.feeders.fail(s, k, fault.feeder, 0.0, t, np.inf)
        elif fault.kind == "power_cut":
            self.windows.append(_Window(0, t, t + fault.hours * 3600.0, 0.0))
        elif fault.kind == "curtailment_order":
            self.order[0] = (t, fault.fraction, fault.hours)
        elif fault.kind == "hot_cell":
            s.raise_resistance_target(k, fault.acd_cm / 100.0)

    def line_setpoints(self, park, time_s: float) -> np.ndarray:
        """The schedules' set-points, or the trainee's where set; power cuts and accepted curtailments over them;
        then the power programs and the supply, as in a forward run."""
        base = park.setpoints(time_s)
        for line, kA in self.setpoint_kA.items():
            base[line] = kA * 1e3
        # a power cut or a curtailment is a step at the start of an interval (where actions land), not a ramp
        # over the interval before it: both ends of an interval take the windows at its start
        for w in self.windows:
            if w.start_s - 1e-6 <= park.time_s < w.end_s - 1e-6:
                base[w.line] *= w.fraction
        return park.site.line_setpoints(time_s / 3600.0, base, park.smelter)


def actions_of(time_s: np.ndarray, cells: np.ndarray, kinds: np.ndarray,
               values: dict[str, np.ndarray]) -> list[Action]:
    """The actions of a session from its results file's events (plant seconds, cells, kind codes and the event
    value variables), in the order they were applied: its ``trainee_*`` and ``instructor_*`` events."""
    from twin.smelter.operations import EVENT_KINDS, EVENT_VALUE_OF

    by_code = {code: name for name, code in EVENT_KINDS.items()}
    out = []
    for i, code in enumerate(np.asarray(kinds, dtype=int)):
        name = by_code.get(int(code), "")
        if not name.startswith(("trainee_", "instructor_")):
            continue
        kind = name.split("_", 1)[1]
        # actions that take no value logged what they did (an order's fraction ...): not an input
        variable = EVENT_VALUE_OF.get(name) if ACTIONS[kind][1] is not None else None
        value = float(values[variable][i]) if variable is not None else 0.0
        out.append(Action(float(time_s[i]), kind, int(cells[i]), value))
    return out
