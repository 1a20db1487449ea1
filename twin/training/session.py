"""A training session: one potline of a scenario's park run through the one run loop (``twin.loop.run``) by the
training driver, its records streamed to a results file like any run's, and what the page shows published after
every record.

Live, the session runs in a thread paced to the clock (``speed`` plant seconds per wall second, paused or not);
headless (a scripted session, a replay) it runs as fast as it can. Either way the park sees the same inputs at the
same plant times, so a session's file replays bit for bit (``replay``).
"""
from __future__ import annotations

import datetime as dt
import json
import threading
import time
from pathlib import Path

import numpy as np

from twin import loop
from twin.config import ParkConfig, parse_config
from twin.drivers.training import Action, ActionError, TrainingDriver, actions_of
from twin.park import Park
from twin.results import ResultsWriter, open_results, output_lock
from twin.training.scenario import Scenario

__all__ = ["ALARMS", "TrainingSession", "replay"]

# the alarms a pot control system raises, in the order the page lists them; a pseudo-resistance this far
# from its target (about 3.5 mm of ACD at 0.07 uohm/mm) is high or low [A]
ALARMS = ("anode_effect", "feeder", "noise", "high_resistance", "low_resistance", "temperature")
RESISTANCE_ALARM_UOHM = 0.25
# what a cell's trend shows: the page's names, each the record's interval mean or (pcs) the controller's view at
# the record's end
TRENDS = ("voltage", "resistance", "slope", "bath_temperature", "alumina", "acd", "feed_mode", "superheat", "ledge")


class History:
    """The last ``capacity`` records of every cell's trend variables (a ring: memory does not grow with the
    session)."""

    def __init__(self, n_cells: int, capacity: int):
        self.values = np.full((capacity, len(TRENDS), n_cells), np.nan, dtype=np.float32)
        self.times = np.full(capacity, np.nan)
        self.count = 0

    def add(self, time_s: float, rows: dict[str, np.ndarray]) -> None:
        i = self.count % len(self.times)
        self.times[i] = time_s
        for j, name in enumerate(TRENDS):
            self.values[i, j] = rows[name]
        self.count += 1

    def trend(self, cell: int, since: int = 0) -> tuple[int, list[float], dict[str, list[float]]]:
        """Records ``since`` (a count) up to the latest of ``cell``: (the count now, times, values by name)."""
        n = len(self.times)
        first = max(since, self.count - n)
        order = [k % n for k in range(first, self.count)]
        values = self.values[order, :, cell]
        return (self.count, self.times[order].tolist(),
                {name: np.round(values[:, j].astype(float), 4).tolist() for j, name in enumerate(TRENDS)})


class TrainingSession:
    """A session of ``scenario`` writing ``out``; ``scripted`` actions come at their plant times (a scripted
    session, a replay); ``config`` the park if not the scenario's own (a replay's, from the session's file)."""

    def __init__(self, scenario: Scenario, out: str | Path, scripted: list[Action] | None = None,
                 config: ParkConfig | None = None, history_h: float = 12.0):
        self.scenario = scenario
        self.config = config or scenario.park_config()
        self.park = Park(self.config)
        self.driver = TrainingDriver(self.park, scenario, scripted)
        self.driver.attrs = {"training_scenario": json.dumps({**scenario.model_dump(mode="json"),
                                                              "name": scenario.name}),
                             "training_config": json.dumps(self.config.model_dump(mode="json"))}
        self.out = Path(out)
        s = self.park.smelter
        assert s is not None
        self.cell_names = list(s.cell_names)
        self.watch = self.cell_names.index(scenario.watch) if scenario.watch else 0
        self.history = History(s.n_cells, max(1, round(history_h * 3600.0 / self.config.run.output_interval_s)))
        self.speed = scenario.speed
        self.paused = False
        self.finished = False
        self.error: str | None = None
        self._stop = False
        self._clock = threading.Condition()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._anchor = (time.monotonic(), 0.0)
        self.version = 0
        self.view: dict = {}
        self._publish(None)

    # ------------------------------------------------------------------ running
    def run(self, hours: float | None = None, paced: bool = False) -> None:
        """Run the session to ``hours`` of plant time (the scenario's by default) or until ``end``; ``paced``: at
        the clock's speed (live)."""
        end_s = (hours if hours is not None else self.scenario.hours) * 3600.0
        with output_lock(self.out):
            attrs = self.park.writer_attrs(self.driver)
            writer = ResultsWriter(self.out, self.config.run.start, self.park.layout(training=True),
                                   buffer_size=self.config.run.buffer_records, attrs=attrs)
            sink = _LiveSink(loop.ResultsSink(writer, loop.new_tally(self.park, attrs["run_id"])), self)
            try:
                loop.run(self.park, self.driver, sink, end_s, self._pace if paced else None,
                         until=lambda: self._stop)
            except Exception as exc:           # the page says why the plant stopped (a cell left physics ...)
                self.error = str(exc)
                raise
            finally:
                self.finished = True
                self.version += 1

    def start(self, hours: float | None = None) -> None:
        """Run live in a thread (``run(paced=True)``)."""
        def target() -> None:
            try:
                self.run(hours, paced=True)
            except Exception:                  # kept in self.error for the page; the file says incomplete
                pass

        self._anchor = (time.monotonic(), self.park.time_s)
        self._thread = threading.Thread(target=target, name="twin-train", daemon=True)
        self._thread.start()

    def end(self, timeout: float = 60.0) -> None:
        """End the session after the interval running now; the results file is then whole and complete."""
        with self._clock:
            self._stop = True
            self._clock.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def set_clock(self, speed: float | None = None, paused: bool | None = None) -> None:
        """Plant seconds per wall second (1 .. 3600), or pause and go on."""
        if speed is not None and not 1.0 <= speed <= 3600.0:
            raise ActionError(f"speed x{speed:g} refused: from x1 to x3600 plant time")
        with self._clock:
            if speed is not None:
                self.speed = float(speed)
            if paused is not None:
                self.paused = bool(paused)
            self._anchor = (time.monotonic(), self.park.time_s)
            self._clock.notify_all()
        self.version += 1

    def _pace(self, _seconds: float) -> None:
        """After each interval: wait while paused, then until the wall clock has caught up with plant time."""
        with self._clock:
            while self.paused and not self._stop:
                self._clock.wait(0.5)
                self._anchor = (time.monotonic(), self.park.time_s)
            wall0, plant0 = self._anchor
            delay = wall0 + (self.park.time_s - plant0) / self.speed - time.monotonic()
            if delay > 0 and not self._stop:
                self._clock.wait(delay)
            elif delay < -1.0:                 # behind by more than a second: no burst to catch up
                self._anchor = (time.monotonic(), self.park.time_s)

    # ------------------------------------------------------------------ a person's actions
    def act(self, kind: str, cell: int | str, value: float = 0.0, instructor: bool = False) -> Action:
        """Check an action against what the page shows and queue it (``ActionError`` if refused: nothing
        reaches the model). It is applied at the plant time shown, before the next interval."""
        from twin.drivers.training import INSTRUCTOR

        if self.finished:
            raise ActionError("the session has ended")
        k = self.driver.cell_of(cell) if isinstance(cell, str) else int(cell)
        if (kind in INSTRUCTOR) != instructor:
            raise ActionError(f"{kind!r} is {'not ' if instructor else ''}an instructor's fault"
                              + ("" if instructor else "; faults are injected from the instructor's page"))
        with self._lock:
            view = self.view
            self.driver.check(kind, k, float(value), view)
            action = Action(view["time_s"], kind, k, float(value))
            self.driver.submit(action)
        return action

    # ------------------------------------------------------------------ what the page shows
    def _publish(self, record: dict | None) -> None:
        """After a record (or at the start): the view the page and the action checks read."""
        s, targets = self.park.smelter, self.scenario.targets
        assert s is not None
        pcs = s.pcs_view()
        # the trends and tiles show the interval's mean voltage and superheat (the controller's view is noisy)
        voltage = pcs["voltage"] if record is None else record["cell_voltage"]
        superheat = pcs["superheat"] if record is None else record["superheat"]
        trends = {**pcs, "voltage": voltage, "superheat": superheat}
        assert self.config.smelter is not None
        control = self.config.smelter.control
        delta = pcs["resistance"] - pcs["target"]
        low_t, high_t = targets.bath_temperature_C
        alarms = {"anode_effect": pcs["anode_effect"] > 0.5, "feeder": pcs["feeder_faults"] > 0,
                  "noise": pcs["noise"] > control.noise_threshold_mV,
                  "high_resistance": delta > RESISTANCE_ALARM_UOHM, "low_resistance": delta < -RESISTANCE_ALARM_UOHM,
                  "temperature": (pcs["bath_temperature"] < low_t) | (pcs["bath_temperature"] > high_t)}
        in_service = s.in_service()
        line_current = s.line_amps()
        view = {
            "time_s": self.park.time_s, "in_service": in_service,
            "feeders": s.feeders.faulty(s), "orders": dict(self.driver.order), **pcs, "superheat": superheat,
            "voltage": voltage,
            "alarms": {name: flags & in_service for name, flags in alarms.items()},
            "line_current_kA": line_current / 1e3,
            "line_voltage_V": float(np.nansum(np.where(in_service, voltage, 0.0))),
        }
        with self._lock:
            if record is not None:
                self.history.add(self.park.time_s, trends)
            self.view = view
            self.version += 1

    def state(self) -> dict:
        """The clock and the line as the page shows them (JSON-ready)."""
        v = self.view
        shown = self.config.run.start + dt.timedelta(seconds=v["time_s"])
        return {"time_s": v["time_s"], "plant_time": shown.strftime("%Y-%m-%d %H:%M"),
                "speed": self.speed, "paused": self.paused, "finished": self.finished, "error": self.error,
                "line_current_kA": [round(float(x), 2) for x in v["line_current_kA"]],
                "line_voltage_V": round(v["line_voltage_V"], 1),
                "orders": [{"line": int(line), "fraction": f, "hours": h} for line, (_, f, h) in v["orders"].items()]}

    def tiles(self) -> dict[str, list[float]]:
        """Every cell's tile values, rounded as the page shows them."""
        v = self.view
        return {"voltage": np.round(v["voltage"], 2).tolist(), "alumina": np.round(v["alumina"], 2).tolist(),
                "superheat": np.round(v["superheat"], 1).tolist(), "noise": np.round(v["noise"], 0).tolist()}

    def alarms(self) -> list[dict]:
        """The alarms on now, cell by cell."""
        out = []
        for name in ALARMS:
            for k in np.flatnonzero(self.view["alarms"][name]):
                out.append({"cell": int(k), "pot": self.cell_names[k], "alarm": name})
        return out

    def cell(self, k: int, since: int = 0) -> dict:
        """One cell: its trend records ``since`` and what its pot control system shows now."""
        with self._lock:
            count, times, values = self.history.trend(k, since)
            v = self.view
            shown = ("voltage", "resistance", "slope", "target", "noise", "bath_temperature", "alumina", "acd",
                     "ledge", "feed_mode", "metal_mass", "superheat")
            now: dict[str, float | bool | list[int]] = {name: round(float(v[name][k]), 3) for name in shown}
            now["feeders_at_fault"] = [int(z) for z in np.flatnonzero(v["feeders"][:, k])]
            now["anode_effect"] = bool(v["anode_effect"][k])
        # the cell's actions, to mark on its trends (the last ones: the trends show the last hours)
        marks = [{"time_s": a.time_s, "kind": a.kind} for a in self.driver.applied[-200:] if a.cell == k]
        return {"cell": k, "pot": self.cell_names[k], "count": count, "times": times, "trend": values, "now": now,
                "marks": marks}


class _LiveSink:
    """The results file's sink, and the session's view published after each record."""

    def __init__(self, inner: loop.ResultsSink, session: TrainingSession):
        self.inner, self.session = inner, session

    def record(self, park, record) -> None:
        self.inner.record(park, record)
        self.session._publish(record)

    def close(self, complete: bool) -> None:
        self.inner.close(complete)


def session_inputs(path: str | Path) -> tuple[Scenario, ParkConfig, list[Action], int]:
    """What a session's results file says it had: its scenario, its park, its actions and its records."""
    from twin.training.scenario import Scenario

    with open_results(path, load=True) as ds:
        attrs = ds.attrs
        if "training_scenario" not in attrs:
            raise ValueError(f"{path}: not a training session's results (no training_scenario attribute)")
        data = json.loads(attrs["training_scenario"])
        name = data.pop("name", "")
        scenario = Scenario.model_validate({**data, "name": name, "source": str(path)})
        config = parse_config(json.loads(attrs["training_config"]), source=str(attrs.get("source_config", path)))
        start = np.datetime64(config.run.start.replace(tzinfo=None), "ns")
        times = (ds["event_time"].values - start) / np.timedelta64(1, "s") if "event_time" in ds else np.zeros(0)
        values = {str(name): ds[name].values for name in ds.data_vars if str(name).startswith("event_")}
        actions = actions_of(times, ds["event_cell"].values if "event_cell" in ds else np.zeros(0),
                             ds["event_kind"].values if "event_kind" in ds else np.zeros(0), values)
        records = ds.sizes["time"]
    return scenario, config, actions, records


def replay(path: str | Path, out: str | Path) -> Path:
    """Run a session's file again from its scenario, park and actions into ``out``: the same file, variable by
    variable."""
    scenario, config, actions, records = session_inputs(path)
    session = TrainingSession(scenario, out, actions, config=config)
    session.run(hours=records * config.run.output_interval_s / 3600.0)
    return Path(out)
