"""What a results file holds of the potlines: their variables, the event table and one record's counters.

Every cell variable is an interval mean, a total over the interval ("sum": the kernel's counters) or the value
at the interval's end ("point"); see ``twin.results.Variable``. Cell voltage is kept at float precision (the
signal calibration fits; ``exact``), the other cell means are bit-rounded by the writer.
"""
from __future__ import annotations

import numpy as np

from twin.results import EventLayout, Layout, Variable
from twin.smelter.cell import pot_names
from twin.smelter.limits import WINDOW
from twin.smelter.operations import EVENT_KINDS, EVENT_VALUES, TRAINING_EVENT_VALUES

__all__ = ["COUNTER_OUTPUTS", "VARIABLES", "counter_record", "smelter_layout"]

# the slow drifts and the timing of moves and feed keep 10 significant bits (2**-11 of the value: 0.002 wt % of
# CaF2, 0.2 mm of an anode, 0.15 mV of a drop, 0.15 s of a 10-min interval): what their uses need, and a plant-year
# of them then costs a quarter of what 16 bits did (the year's file stays within 1.5 GB)
SLOW_BITS = 10

VARIABLES: dict[str, Variable] = {
    "line_current": Variable(("time", "line"), "A", "line current, interval mean"),
    "line_voltage": Variable(("time", "line"), "V", "rectifier (line) voltage, interval mean"),
    "in_service": Variable(("time", "cell"), "1", "1: the cell is in the line; 0: cut out for relining (its "
                           "interval means are then missing)", "i1", "point", ("cut_out", "in_line")),
    "pot_age": Variable(("time", "cell"), "d", "age of the cell's lining at the end of the interval", "f4", "point"),
    "cells_outside_window": Variable(("time", "line"), "1", "cells of the line whose interval means are outside "
                                     "the operating window (" + ", ".join(
                                         f"{name} {low:g}-{high:g}" for name, (low, high) in WINDOW.items()) + ")"),
    "cell_voltage": Variable(("time", "cell"), "V", "cell voltage incl. busbar share, interval mean", exact=True),
    "bath_temperature": Variable(("time", "cell"), "degC", "bath and metal temperature, interval mean"),
    "liquidus_temperature": Variable(("time", "cell"), "degC", "bath liquidus temperature (Solheim 1996), mean"),
    "superheat": Variable(("time", "cell"), "K", "bath temperature minus liquidus, interval mean"),
    "alumina": Variable(("time", "cell"), "%", "dissolved alumina, wt %, interval mean"),
    "excess_alf3": Variable(("time", "cell"), "%", "excess AlF3 in the bath, wt %, interval mean"),
    "bath_mass": Variable(("time", "cell"), "kg", "liquid bath mass, interval mean"),
    "caf2": Variable(("time", "cell"), "%", "CaF2 in the bath, wt %, end of the interval", "f4", "point",
                     rounded=True, keep_bits=SLOW_BITS),
    "anode_height": Variable(("time", "cell"), "m", "mean carbon height of the cell's anodes, end of the interval",
                             "f4", "point", rounded=True, keep_bits=SLOW_BITS),
    "anode_drop": Variable(("time", "cell"), "V", "anode voltage drop (assemblies and carbon at its height) at "
                           "the interval's mean line current, end of the interval", "f4", "point",
                           rounded=True, keep_bits=SLOW_BITS),
    "cathode_drop": Variable(("time", "cell"), "V", "cathode voltage drop (blocks and bars at the lining's age) "
                             "at the interval's mean line current, end of the interval", "f4", "point",
                             rounded=True, keep_bits=SLOW_BITS),
    "metal_mass": Variable(("time", "cell"), "kg", "metal pad mass, interval mean"),
    "ledge_thickness": Variable(("time", "cell"), "cm", "side-ledge thickness, interval mean"),
    "acd": Variable(("time", "cell"), "cm", "anode-cathode distance, interval mean"),
    "current_efficiency": Variable(("time", "cell"), "1", "current efficiency (fraction), charge-weighted mean"),
    "shell_temperature": Variable(("time", "cell"), "degC", "sidewall lining/shell node temperature, mean"),
    "heat_loss": Variable(("time", "cell"), "W", "heat lost through top, bottom and shell, interval mean"),
    "shell_cooling": Variable(("time", "cell"), "1", "shell heat exchangers' setting (factor on the shell's "
                              "heat transfer to air; 1 = design), interval mean"),
    "out_of_range": Variable(("time", "cell"), "s", "time in the interval with a correlation used outside its "
                             "validity range (bath 940-1000 degC, AlF3 and CaF2 < 20 wt %, superheat 0-30 K)",
                             "f4", "sum"),
    "bath_tapped": Variable(("time", "cell"), "kg", "bath tapped by the crew in the interval", "f4", "sum"),
    "sodium_uptake": Variable(("time", "cell"), "kg", "NaF taken up by the cathode in the interval", "f4", "sum"),
    "bath_added": Variable(("time", "cell"), "kg", "crushed bath added by the crew in the interval", "f4", "sum"),
    "metal_produced": Variable(("time", "cell"), "kg", "aluminium produced in the interval (Faraday x CE)",
                               "f4", "sum"),
    "metal_tapped": Variable(("time", "cell"), "kg", "aluminium tapped in the interval", "f4", "sum"),
    "alumina_fed": Variable(("time", "cell"), "kg", "alumina fed in the interval (as fed, incl. Na2O)", "f4", "sum"),
    "alf3_added": Variable(("time", "cell"), "kg", "AlF3 added in the interval", "f4", "sum"),
    "energy_dc": Variable(("time", "cell"), "kW h", "DC energy U*I in the interval", "f4", "sum"),
    "anode_effect_minutes": Variable(("time", "cell"), "min", "anode-effect minutes in the interval", "f4", "sum"),
    "anode_effect_count": Variable(("time", "cell"), "1", "anode effects started in the interval", "f4", "sum"),
    "cf4": Variable(("time", "cell"), "kg", "CF4 emitted in the interval (slope method)", "f4", "sum"),
    "c2f6": Variable(("time", "cell"), "kg", "C2F6 emitted in the interval (slope method)", "f4", "sum"),
    "cf4_overvoltage": Variable(("time", "cell"), "kg", "CF4 emitted in the interval (overvoltage method)", "f4",
                                "sum"),
    "c2f6_overvoltage": Variable(("time", "cell"), "kg", "C2F6 emitted in the interval (overvoltage method)", "f4",
                                 "sum"),
    "carbon_consumed": Variable(("time", "cell"), "kg", "net anode carbon consumed in the interval", "f4", "sum"),
    "feed_shots": Variable(("time", "cell"), "1", "feeder shots in the interval", "f4", "sum"),
    "feed_tracks": Variable(("time", "cell"), "1", "underfeed tracks started in the interval", "f4", "sum"),
    "beam_moves": Variable(("time", "cell"), "1", "resistance-control beam moves in the interval", "f4", "sum"),
    "beam_travel": Variable(("time", "cell"), "m", "resistance-control beam travel in the interval", "f4", "sum"),
    "beam_position": Variable(("time", "cell"), "m", "net resistance-control beam travel since start (+ up), end "
                              "of the interval", "f4", "point"),
    "beam_moved_at": Variable(("time", "cell"), "1", "when in the interval the beam moved: time centroid of its net "
                              "travel as a fraction of the interval (0 start, 1 end; 0.5 where it did not move)", "f4",
                              "mean", keep_bits=SLOW_BITS),
    "alumina_fed_at": Variable(("time", "cell"), "1", "when in the interval the alumina was fed: time centroid of "
                               "the feed as a fraction of the interval (0 start, 1 end; 0.5 where none was fed)", "f4",
                               "mean", keep_bits=SLOW_BITS),
    "anode_effect_quenches": Variable(("time", "cell"), "1", "anode effects quenched in the interval", "f4", "sum"),
    "anode_effect_quench_failures": Variable(("time", "cell"), "1",
                                             "quench attempts that left the anode effect on, in the interval", "f4",
                                             "sum"),
    "anodes_set": Variable(("time", "cell"), "1", "anodes set in the interval", "f4", "sum"),
    "butts_returned": Variable(("time", "cell"), "kg", "anode butts taken out in the interval", "f4", "sum"),
    "anode_effect_overvoltage": Variable(("time", "cell"), "V s",
                                         "voltage above target integrated over anode effects in the interval", "f4",
                                         "sum"),
    "anode_effect_detected": Variable(("time", "cell"), "1",
                                      "anode effects the pot control system saw (voltage above its detection level) "
                                      "in the interval", "f4", "sum"),
    "lvae_minutes": Variable(("time", "cell"), "min", "minutes with a zone on low-voltage anode effect in the interval",
                             "f4", "sum"),
    "lvae_count": Variable(("time", "cell"), "1", "low-voltage anode effects started in the interval", "f4", "sum"),
    "lvae_detected": Variable(("time", "cell"), "1",
                              "low-voltage anode effects the pot control system saw in the interval", "f4", "sum"),
    "cf4_lvae": Variable(("time", "cell"), "kg", "CF4 emitted by low-voltage anode effects in the interval", "f4",
                         "sum"),
    "feeder_faults": Variable(("time", "cell"), "1", "feeder faults (choked or blocked) in the interval", "f4", "sum"),
}

# counters of the kernel whose increments over each interval are the "sum" variables above (kernel name -> output
# name; beam_position is the one "point": the counter's value)
COUNTER_OUTPUTS = {
    "metal_produced": "metal_produced", "metal_tapped": "metal_tapped", "alumina_fed": "alumina_fed",
    "alf3_added": "alf3_added", "energy_dc": "energy_dc", "ae_minutes": "anode_effect_minutes",
    "ae_count": "anode_effect_count", "cf4": "cf4", "c2f6": "c2f6", "carbon_consumed": "carbon_consumed",
    "shots": "feed_shots", "tracks": "feed_tracks", "beam_moves": "beam_moves", "beam_travel": "beam_travel",
    "beam_position": "beam_position",
    "quenches": "anode_effect_quenches", "quench_failures": "anode_effect_quench_failures",
    "ae_overvoltage": "anode_effect_overvoltage",
    "anodes_set": "anodes_set", "butts": "butts_returned", "cf4_overvoltage": "cf4_overvoltage",
    "c2f6_overvoltage": "c2f6_overvoltage", "out_of_range": "out_of_range", "bath_tapped": "bath_tapped",
    "sodium_uptake": "sodium_uptake", "bath_added": "bath_added", "ae_detected": "anode_effect_detected",
    "lvae_minutes": "lvae_minutes", "lvae_count": "lvae_count", "lvae_detected": "lvae_detected",
    "cf4_lvae": "cf4_lvae", "feeder_faults": "feeder_faults",
}


def counter_record(potlines, before: np.ndarray) -> dict[str, np.ndarray]:
    """The counter variables of one record of ``potlines``: each counter's increase since ``before`` (the
    counters at the interval's start), or its value for a "point" variable."""
    record = {}
    for kernel_name, out_name in COUNTER_OUTPUTS.items():
        record[out_name] = potlines.counter(kernel_name).copy() if VARIABLES[out_name].method == "point" \
            else potlines.counted_since(before, kernel_name)
    return record


def smelter_layout(line_names: list[str], cell_line: np.ndarray, training: bool = False) -> Layout:
    """Potline outputs on ``cell`` and ``line`` (``training``: with the values of a training session's events)."""
    n_cells = len(cell_line)
    return Layout(
        {"cell": n_cells, "line": len(line_names)},
        {"cell": (("cell",), np.arange(n_cells, dtype="i4"), {"long_name": "cell index over all potlines",
                                                               "units": "1"}),
         "line": (("line",), np.array(line_names, dtype=object), {"long_name": "potline name"}),
         "cell_line": (("cell",), np.asarray(cell_line, dtype="i4"),
                       {"long_name": "index of the potline of each cell", "units": "1"}),
         "pot": (("cell",), np.array(pot_names(line_names, cell_line), dtype=object),
                 {"long_name": "pot name (line name, .P and the pot's number in its line)"})},
        VARIABLES, EventLayout(EVENT_KINDS, {**EVENT_VALUES, **(TRAINING_EVENT_VALUES if training else {})}))
