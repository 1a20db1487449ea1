"""A session's score and debrief, from its results file (so a live session and its replay score the same).

Against the scenario's targets: AE-minutes per cell-day, current efficiency and DC kWh/kg of the line, cell-hours
outside the bath temperature and alumina bands, the actions taken, and for every fault or alarm that asks for an
answer (an anode effect: quench; a feeder at fault: clear it; a curtailment order: accept it; a raised target:
lower the beam) the trainee's answer and how late it came. Onsets are known to the record (a minute): an anode
effect starts at the start of the record that counts it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from twin._core.pot import AL_KG_PER_COULOMB
from twin.results import open_results
from twin.smelter.operations import EVENT_KINDS

__all__ = ["debrief"]

# what answers what: the fault or alarm, the trainee's action that answers it
ANSWERS = {"anode_effect": "quench", "feeder_blocked": "clear_feeder", "feeder_choked": "clear_feeder",
           "curtailment_order": "accept_program", "hot_cell": "beam"}
TREND_VARIABLES = ("cell_voltage", "bath_temperature", "alumina", "acd")


def debrief(path: str | Path, max_cells: int = 6) -> dict:
    """The score of the session in ``path``, its answers and the trends of the cells it was about (the watched
    cell, cells acted on or at fault; at most ``max_cells``), JSON-ready."""
    from twin.training.session import session_inputs

    scenario, config, actions, _ = session_inputs(path)
    interval = config.run.output_interval_s
    with open_results(path, load=True) as ds:
        start = np.datetime64(config.run.start.replace(tzinfo=None), "ns")
        t_end = (ds["time"].values - start) / np.timedelta64(1, "s")
        names = [str(p) for p in ds["pot"].values]
        in_line = ds["in_service"].values > 0.5
        cells = len(names)
        days = len(t_end) * interval / 86400.0
        metal = float(np.nansum(ds["metal_produced"].values))
        amps = ds["line_current"].values[:, ds["cell_line"].values]
        charge = float(np.sum(amps * in_line) * interval)
        low_t, high_t = scenario.targets.bath_temperature_C
        low_a, high_a = scenario.targets.alumina_wt
        t, a = ds["bath_temperature"].values, ds["alumina"].values
        hours = interval / 3600.0
        score: dict[str, float | int | str | None] = {
            "hours": round(len(t_end) * hours, 3),
            "ae_minutes_per_cell_day": _round(float(np.nansum(ds["anode_effect_minutes"].values)) / (cells * days)),
            "anode_effects": int(np.nansum(ds["anode_effect_count"].values)),
            "current_efficiency_pct": _round(100.0 * metal / (charge * AL_KG_PER_COULOMB) if charge > 0 else np.nan),
            "dc_kWh_per_kg": _round(float(np.nansum(ds["energy_dc"].values)) / metal if metal > 0 else np.nan),
            "cell_hours_outside_temperature": _round(float(np.sum(((t < low_t) | (t > high_t)) & in_line)) * hours),
            "cell_hours_outside_alumina": _round(float(np.sum(((a < low_a) | (a > high_a)) & in_line)) * hours),
            "actions": sum(1 for x in actions if not x.kind.startswith(("feeder_block", "power_cut", "curtailment",
                                                                         "hot_cell"))),
        }
        asks = _asks(ds, scenario, t_end, interval, names, start)
        trainee = [x for x in actions if x.kind in ANSWERS.values()]
        answers = []
        for ask in asks:
            answer = next((x for x in trainee if x.kind == ANSWERS[ask["what"]] and x.time_s >= ask["at_s"] - 1e-6
                           and (ask["cell"] is None or x.cell == ask["cell"])
                           and (ask["what"] != "hot_cell" or x.value < 0)
                           and x.time_s <= ask["at_s"] + ask["window_s"]), None)
            answers.append({**ask, "answered_by": answer.kind if answer else None,
                            "delay_min": round((answer.time_s - ask["at_s"]) / 60.0, 1) if answer else None})
        answered = [x["delay_min"] for x in answers if x["delay_min"] is not None]
        score["answered"] = f"{len(answered)} of {len(answers)}"
        score["mean_delay_min"] = round(float(np.mean(answered)), 1) if answered else None
        about = [scenario.watch] if scenario.watch else []
        about += [names[x.cell] for x in actions if x.kind not in ("line_current", "accept_program", "power_cut",
                                                                   "curtailment")]
        about += [ask["pot"] for ask in asks if ask["pot"]]
        shown = list(dict.fromkeys(p for p in about if p in names))[:max_cells] or names[:1]
        trends = {pot: {v: _series(ds[v].values[:, names.index(pot)]) for v in TREND_VARIABLES} for pot in shown}
    marks = [{"time_s": x.time_s, "pot": names[x.cell], "kind": x.kind, "value": x.value} for x in actions]
    return {"title": scenario.title, "score": score, "answers": answers, "actions": marks,
            "times_s": t_end.tolist(), "trends": trends}


def _asks(ds, scenario, t_end: np.ndarray, interval: float, names: list[str], start) -> list[dict]:
    """What asked the trainee for an answer, when: anode effects (from the records), feeder faults (events),
    curtailment orders and raised targets (the scenario's faults and the instructor's)."""
    asks = []
    ae = np.nan_to_num(ds["anode_effect_count"].values)
    for i, k in zip(*np.nonzero(ae > 0), strict=True):
        asks.append(_ask("anode_effect", t_end[i] - interval, int(k), names, scenario.auto_quench_after_s + interval))
    if "event_kind" in ds:
        kinds = ds["event_kind"].values.astype(int)
        times = (ds["event_time"].values - start) / np.timedelta64(1, "s")
        cells = ds["event_cell"].values
        by_code = {code: name for name, code in EVENT_KINDS.items()}
        long = float(t_end[-1]) + interval if len(t_end) else 0.0
        for when, k, code in zip(times, cells, kinds, strict=True):
            name = by_code.get(int(code), "")
            if name in ("feeder_blocked", "feeder_choked"):
                asks.append(_ask(name, when, int(k), names, long))
            elif name == "instructor_curtailment":
                asks.append(_ask("curtailment_order", when, None, names, long))
            elif name == "instructor_hot_cell":
                asks.append(_ask("hot_cell", when, int(k), names, long))
    for fault in scenario.faults:
        if fault.kind in ("curtailment_order", "hot_cell"):
            k = names.index(fault.cell) if fault.cell else None
            at = np.ceil(fault.at_h * 3600.0 / interval - 1e-9) * interval    # applied at an interval's start
            asks.append(_ask(fault.kind, at, k if fault.kind == "hot_cell" else None, names, 1e12))
    return sorted(asks, key=lambda x: x["at_s"])


def _ask(what: str, at_s: float, cell: int | None, names: list[str], window_s: float) -> dict:
    return {"what": what, "at_s": float(at_s), "cell": cell, "pot": names[cell] if cell is not None else None,
            "window_s": float(window_s)}


def _series(values: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), 3) for v in values]


def _round(value: float) -> float | None:
    return round(value, 3) if np.isfinite(value) else None
