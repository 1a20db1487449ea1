"""Streaming results: one netCDF4/HDF5 file, appended in buffered blocks while a run goes on.

The file is opened, appended and closed at each flush, so between flushes it is a complete,
consistent netCDF4 file that any reader can open (also after the run is killed). Writer and
readers share HDF5's file lock: a reader never sees a half-written flush; while a reader holds
the file, the writer keeps its records buffered and writes them at its next chance, so a
reader never stops a run. Memory holds one buffer of outputs, whatever the simulated horizon
(plus what piles up while a reader keeps the file open). xarray reads the file with
``open_results``: lazily (values read when used, the file held until the dataset is closed) or,
with ``load=True``, all at once, letting go of it.

What a record means is in each variable's ``cell_methods`` (interval mean, total over the
interval, value at its end; see ``Variable.method``); files of another ``results_format`` are
refused. The cells' means are bit-rounded before compression (``MEAN_BITS``); a write the disk
has no room for is not started (``DiskFullError``).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import shutil
import time as _time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import h5netcdf
import h5py
import numpy as np
import xarray as xr

from twin import __version__
from twin.smelter.cell import COUNTER, pot_names
from twin.smelter.limits import WINDOW
from twin.smelter.operations import EVENT_KINDS, EVENT_VALUES

__all__ = [
    "REFINERY_VARIABLES",
    "VARIABLES",
    "DiskFullError",
    "Layout",
    "OutputLockedError",
    "ResultsWriter",
    "bitround",
    "counter_record",
    "open_results",
    "output_lock",
    "refinery_layout",
    "smelter_layout",
]


class OutputLockedError(OSError):
    """Another run is writing the results file."""


class DiskFullError(OSError):
    """No room on the disk for the next records; the file keeps what it had."""


@contextlib.contextmanager
def output_lock(path: str | Path) -> Iterator[None]:
    """Hold ``<path>.lock`` (an exclusive ``flock``) while a run writes ``path``: a second run on the same
    file stops at once with the pid of the first, instead of both writing and one being lost. The
    operating system drops the lock when the process ends, however it ends."""
    lock = Path(path).with_name(Path(path).name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "another process"
            raise OutputLockedError(f"{path}: another run (pid {holder}) is writing this results file; "
                                    "wait for it or choose another --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Variable:
    dims: tuple[str, ...]
    units: str
    long_name: str
    dtype: str = "f4"
    # what a record holds over its interval (CF cell_methods): "mean" of the interval, "point" (the value at
    # its end: states and totals since the start), "sum" (the total over the interval: the cells' counters)
    method: str = "mean"
    flags: tuple[str, ...] = ()  # a flag variable: the meanings of the values 0, 1, ... (CF flag_meanings)


VARIABLES: dict[str, Variable] = {
    "line_current": Variable(("time", "line"), "A", "line current, interval mean"),
    "line_voltage": Variable(("time", "line"), "V", "rectifier (line) voltage, interval mean"),
    "in_service": Variable(("time", "cell"), "1", "1: the cell is in the line; 0: cut out for relining (its "
                           "interval means are then missing)", "i1", "point", ("cut_out", "in_line")),
    "pot_age": Variable(("time", "cell"), "d", "age of the cell's lining at the end of the interval", "f4", "point"),
    "cells_outside_window": Variable(("time", "line"), "1", "cells of the line whose interval means are outside "
                                     "the operating window (" + ", ".join(
                                         f"{name} {low:g}-{high:g}" for name, (low, high) in WINDOW.items()) + ")"),
    "cell_voltage": Variable(("time", "cell"), "V", "cell voltage incl. busbar share, interval mean"),
    "bath_temperature": Variable(("time", "cell"), "degC", "bath and metal temperature, interval mean"),
    "liquidus_temperature": Variable(("time", "cell"), "degC", "bath liquidus temperature (Solheim 1996), mean"),
    "superheat": Variable(("time", "cell"), "K", "bath temperature minus liquidus, interval mean"),
    "alumina": Variable(("time", "cell"), "%", "dissolved alumina, wt %, interval mean"),
    "excess_alf3": Variable(("time", "cell"), "%", "excess AlF3 in the bath, wt %, interval mean"),
    "bath_mass": Variable(("time", "cell"), "kg", "liquid bath mass, interval mean"),
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
        counter = potlines.counter(kernel_name)
        record[out_name] = counter.copy() if VARIABLES[out_name].method == "point" \
            else counter - before[COUNTER[kernel_name]]
    return record


REFINERY_VARIABLES: dict[str, Variable] = {
    "alumina_production": Variable(("time",), "t h-1", "alumina (Al2O3 in the product hydrate), interval mean"),
    "precipitation_yield": Variable(("time",), "g L-1", "Al2O3 precipitated per litre of liquor through the trains"),
    "pregnant_ac": Variable(("time",), "1", "A/C of the liquor filling the precipitators (Al2O3/Na2CO3 g/g)"),
    "spent_ac": Variable(("time",), "1", "A/C of the liquor leaving the precipitators, flow-weighted mean"),
    "caustic_consumption": Variable(("time",), "kg t-1", "caustic make-up, kg NaOH per t alumina"),
    "bauxite_factor": Variable(("time",), "t t-1", "dry bauxite per t alumina"),
    "red_mud": Variable(("time",), "t t-1", "dry residue per t alumina"),
    "steam_energy": Variable(("time",), "GJ t-1", "live steam for digestion and evaporation per t alumina"),
    "fuel_energy": Variable(("time",), "GJ t-1", "calcination fuel per t alumina"),
    "soda_loss": Variable(("time",), "kg t-1", "Na2O lost with residue liquor and desilication product per t alumina"),
    "fresh_water": Variable(("time",), "m3 t-1", "fresh water (wash water beyond the flash condensate) per t alumina"),
    "gibbsite_extraction": Variable(("time",), "1", "fraction of the bauxite's gibbsite dissolved in digestion"),
    "spent_caustic": Variable(("time",), "g L-1", "caustic (as Na2CO3 @25) in the spent liquor tank, end of interval",
                            "f4", "point"),
    "spent_tank_volume": Variable(("time",), "m3", "liquor in the spent liquor tank, end of interval", "f4",
                                  "point"),
    "seed_inventory": Variable(("time",), "t", "hydrate in the seed store, end of interval", "f4", "point"),
    "classifier_cut": Variable(("time",), "um", "product classifiers' cut size d50c, end of interval", "f4",
                               "point"),
    "product_fines": Variable(("time",), "%", "product hydrate finer than 45 um, mass %"),
    "product_d50": Variable(("time",), "um", "mass-median size of the product hydrate"),
    "product_psd": Variable(("time", "size_class"), "1", "product hydrate mass fraction per size class"),
    "tank_alumina": Variable(("time", "tank"), "g L-1", "liquor Al2O3 in each precipitator, end of interval",
                             "f4", "point"),
    "tank_caustic": Variable(("time", "tank"), "g L-1", "liquor caustic (Na2CO3) in each precipitator, end of interval",
                             "f4", "point"),
    "tank_temperature": Variable(("time", "tank"), "degC", "slurry temperature in each precipitator, end of interval",
                                 "f4", "point"),
    "tank_solids": Variable(("time", "tank"), "kg m-3", "hydrate solids per m3 of liquor in each precipitator, end of "
                            "interval", "f4", "point"),
    "tank_psd": Variable(("time", "tank", "size_class"), "m-3", "particles per m3 of liquor per size class, end of "
                          "interval", "f4", "point"),
    "alumina_produced": Variable(("time",), "t", "alumina produced since start", "f8", "point"),
    "bauxite_used": Variable(("time",), "t", "dry bauxite digested since start", "f8", "point"),
    "caustic_used": Variable(("time",), "t", "caustic make-up (NaOH) since start", "f8", "point"),
    "steam_used": Variable(("time",), "GJ", "steam heat since start", "f8", "point"),
    "fuel_used": Variable(("time",), "GJ", "calcination fuel since start", "f8", "point"),
    "red_mud_made": Variable(("time",), "t", "dry residue since start", "f8", "point"),
    "water_used": Variable(("time",), "m3", "fresh water since start", "f8", "point"),
}


# The cells' interval means keep 16 significant bits (relative resolution 2**-17 = 7.6e-6: 0.007 K of a 960 degC
# bath, 0.1 kg of a 12 t bath), far below what the model or a plant measures; the zeroed low bits are what lets gzip
# halve them (a reference park-day 3.3 -> 2.4 MB of means). Everything else keeps float precision: the cell voltage
# (the signal calibration fits and historians are compared on; rounded, it would also change which samples a
# synthetic export's compression keeps), the cells' totals over the interval ("sum"), whose sums and differences
# must stay exact, states ("point"), and the few series of lines and the park (a line current rounded so would be
# off by up to 4 A, which a replay's alumina balance integrates).
MEAN_BITS = 16
# what the records of a file mean; a file of another format is refused, not misread or appended to
RESULTS_FORMAT = 2
# gzip after the byte shuffle. Level 4: a reference park-day of records 7.4 % smaller than at level 1 for +0.04 s of
# its ~1.4 s wall (level 6: 9 % for +0.2 s; level 9: 10 % for +5 s)
COMPRESSION = {"compression": "gzip", "compression_opts": 4, "shuffle": True}


def _quantized(var: Variable) -> bool:
    return var.method == "mean" and var.dtype == "f4" and "cell" in var.dims and var is not VARIABLES["cell_voltage"]


def bitround(values: np.ndarray, keep_bits: int) -> np.ndarray:
    """Round float32 ``values`` to ``keep_bits`` explicit mantissa bits (to nearest, ties away from zero); the
    dropped bits become zeros. NaN and infinities pass unchanged. CF 1.11 sec. 8.4 "bitround"
    (``quantization_nsb`` = ``keep_bits``), as netCDF-C's ``nc_def_var_quantize`` writes it."""
    values = np.ascontiguousarray(values, dtype=np.float32)
    drop = 23 - keep_bits
    if drop <= 0:
        return values
    bits = values.view(np.uint32)
    rounded = ((bits + np.uint32(1 << (drop - 1))) & np.uint32(~((1 << drop) - 1) & 0xFFFFFFFF)).view(np.float32)
    return np.where(np.isfinite(values), rounded, values)


@dataclass
class Layout:
    """What a results file holds: dimension sizes, coordinate variables and the output variables."""

    dims: dict[str, int] = field(default_factory=dict)
    coords: dict[str, tuple[tuple[str, ...], np.ndarray, dict[str, str]]] = field(default_factory=dict)
    variables: dict[str, Variable] = field(default_factory=dict)

    def __add__(self, other: Layout) -> Layout:
        return Layout({**self.dims, **other.dims}, {**self.coords, **other.coords},
                      {**self.variables, **other.variables})


def smelter_layout(line_names: list[str], cell_line: np.ndarray) -> Layout:
    """Potline outputs on ``cell`` and ``line``."""
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
        VARIABLES)


def refinery_layout(tanks: int, sizes_um: np.ndarray) -> Layout:
    """Refinery outputs on ``tank`` (precipitators of one train) and ``size_class``."""
    return Layout(
        {"tank": tanks, "size_class": len(sizes_um)},
        {"tank": (("tank",), np.arange(tanks, dtype="i4"), {"long_name": "precipitator in train order", "units": "1"}),
         "size_class": (("size_class",), np.asarray(sizes_um, dtype="f8"),
                        {"long_name": "characteristic size of the class (volume ratio 2)", "units": "um"})},
        REFINERY_VARIABLES)


class ResultsWriter:
    """Append interval outputs to a netCDF4 file in blocks of ``buffer_size`` records.

    Parameters
    ----------
    path : path of the file to create (overwritten; written beside it first and renamed into place).
    start : UTC start of the run; ``time`` is written as seconds since it.
    line_names : names of the potlines (the ``line`` coordinate).
    cell_line : index of each cell's line (length = number of cells).
    attrs : global attributes (config source, model version ...).
    buffer_size : records kept in memory between writes.
    flush_seconds : also write when this much wall time has passed since the last write.
    """

    def __init__(self, path: str | Path, start: dt.datetime, layout: Layout,
                 attrs: dict[str, str | float | int] | None = None, buffer_size: int = 144,
                 flush_seconds: float = 20.0):
        self.path = Path(path)
        self.layout = layout
        self.buffer_size = int(buffer_size)
        self.flush_seconds = float(flush_seconds)
        self.written = 0
        self.events_written = 0
        self.interval_s = float((attrs or {}).get("output_interval_s", 0.0))
        self._events: list[tuple[float, int, int, float]] = []
        self._times: list[float] = []
        self._buffer: dict[str, list[np.ndarray]] = {name: [] for name in layout.variables}
        self._last_flush = _time.monotonic()
        self._stopped = ""                     # why nothing more can be written (full disk, failed write)
        stamp = start.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # created beside its place and renamed into it: a kill while the layout is written leaves the old
        # file (or none), never one that does not open
        creating = self.path.with_name(self.path.name + ".creating")
        try:
            with h5netcdf.File(creating, "w") as f:
                f.dimensions = {"time": None, **layout.dims, "event": None, "bounds": 2}
                t = f.create_variable("time", ("time",), "f8", chunks=(self.buffer_size,))
                t.attrs.update({"units": f"seconds since {stamp}", "long_name": "end of the output interval",
                                "standard_name": "time", "calendar": "proleptic_gregorian",
                                "units_metadata": "leap_seconds: none"})
                if self.interval_s:
                    # each record covers (time - interval, time]: CF cell boundaries for the means
                    t.attrs["bounds"] = "time_bounds"
                    f.create_variable("time_bounds", ("time", "bounds"), "f8", chunks=(self.buffer_size, 2))
                for name, (dims, values, coord_attrs) in layout.coords.items():
                    dtype = h5py.string_dtype() if values.dtype == object else values.dtype
                    f.create_variable(_on_disk(name, dims, values), dims, dtype, data=values).attrs.update(coord_attrs)
                et = f.create_variable("event_time", ("event",), "f8", chunks=(4096,), **COMPRESSION)
                et.attrs.update({"units": f"seconds since {stamp}", "long_name": "time of an operations event",
                                 "calendar": "proleptic_gregorian", "units_metadata": "leap_seconds: none"})
                ec = f.create_variable("event_cell", ("event",), "i4", chunks=(4096,), **COMPRESSION)
                ec.attrs.update({"long_name": "cell of the event", "units": "1"})
                ek = f.create_variable("event_kind", ("event",), "i1", chunks=(4096,), **COMPRESSION)
                ek.attrs.update({"long_name": "kind of operations event", "units": "1",
                                 "flag_values": np.array(list(EVENT_KINDS.values()), dtype="i1"),
                                 "flag_meanings": " ".join(EVENT_KINDS)})
                # each event's value in the variable of its unit, missing (NaN) in the others
                for name, (units, long_name, kinds) in EVENT_VALUES.items():
                    ev = f.create_variable(name, ("event",), "f8", chunks=(4096,), fillvalue=np.nan, **COMPRESSION)
                    ev.attrs.update({"units": units, "long_name": f"{long_name} (events {', '.join(kinds)})",
                                     "coordinates": "event_time event_cell event_kind"})
                for name, var in layout.variables.items():
                    shape = (self.buffer_size, *(layout.dims[d] for d in var.dims[1:]))
                    v = f.create_variable(name, var.dims, var.dtype, chunks=shape, **COMPRESSION)
                    v.attrs.update({"units": var.units, "long_name": var.long_name,
                                    "cell_methods": f"time: {var.method}"})
                    labels = [label for label, (dims, _, _) in layout.coords.items()
                              if dims[0] in var.dims[1:] and label not in layout.dims]
                    labels += [f"{d}{LABEL}" for d in var.dims[1:] if _labelled(layout, d)]
                    if labels:
                        v.attrs["coordinates"] = " ".join(labels)
                    if _quantized(var):
                        v.attrs.update({"quantization": "quantization_info", "quantization_nsb": MEAN_BITS})
                    if var.flags:
                        v.attrs.update({"flag_values": np.arange(len(var.flags), dtype=var.dtype),
                                        "flag_meanings": " ".join(var.flags)})
                q = f.create_variable("quantization_info", (), "i1")
                q.attrs.update({"algorithm": "bitround", "implementation": f"alutwin {__version__} (numpy)",
                                "long_name": "how interval means are rounded before compression (CF 8.4)"})
                written = f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ} written by alutwin {__version__}"
                f.attrs.update({"Conventions": "CF-1.11", "title": "alutwin results", "results_format": RESULTS_FORMAT,
                                "history": written,
                                "run_complete": 0, **(attrs or {})})
        except BaseException:
            creating.unlink(missing_ok=True)
            raise
        os.replace(creating, self.path)

    @classmethod
    def reopen(cls, path: str | Path, records: int, events: int, layout: Layout, buffer_size: int = 144,
               flush_seconds: float = 20.0) -> ResultsWriter:
        """Continue writing an existing results file after its first ``records`` records.

        Later records (written after the checkpoint being resumed) are dropped: they are
        written again, identically, by the resumed run.
        """
        self = cls.__new__(cls)
        self.path = Path(path)
        self.layout = layout
        self.buffer_size = int(buffer_size)
        self.flush_seconds = float(flush_seconds)
        self._times = []
        self._events = []
        self._buffer = {name: [] for name in layout.variables}
        self._last_flush = _time.monotonic()
        self._stopped = ""
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no results file to resume")
        with h5netcdf.File(self.path, "a") as f:
            check_format(self.path, f.attrs)
            sizes = {name: f.dimensions[name].size for name in layout.dims if name in f.dimensions}
            have = f.dimensions["time"].size
            if sizes != layout.dims or have < records:
                raise ValueError(f"{self.path}: holds {have} records of {sizes}; the checkpoint "
                                 f"needs at least {records} records of {layout.dims}")
            f.resize_dimension("time", records)
            f.resize_dimension("event", events)
            f.attrs["run_complete"] = 0
            self.interval_s = float(f.attrs.get("output_interval_s", 0.0)) if "time_bounds" in f.variables else 0.0
        self.written = records
        self.events_written = events
        return self

    def append_events(self, events: list[tuple[float, int, int, float]]) -> None:
        """Buffer operations events (time s, cell, kind code, value); written with the next records."""
        self._events.extend(events)

    def append(self, time_s: float, values: dict[str, np.ndarray]) -> None:
        """Buffer one output record (every variable of the layout); write when the buffer is full."""
        variables = self.layout.variables
        missing = set(variables) - set(values)
        if missing:
            raise KeyError(f"output record lacks {sorted(missing)}")
        self._times.append(float(time_s))
        for name, var in variables.items():
            self._buffer[name].append(np.asarray(values[name], dtype=var.dtype))
        if (len(self._times) >= self.buffer_size
                or _time.monotonic() - self._last_flush >= self.flush_seconds):
            self.flush()

    def flush(self, wait: float = 0.0) -> bool:
        """Write the buffered records and close the file, so it is whole on disk.

        If a reader holds the file, keep the records and return False (after retrying for up to
        ``wait`` seconds); they go out with a later flush.
        """
        if not self._times:
            return True
        deadline = _time.monotonic() + wait
        while True:
            try:
                self._write_buffer()
                return True
            except BlockingIOError:
                if _time.monotonic() >= deadline:
                    return False
                _time.sleep(0.05)

    def _check_space(self) -> None:
        """Stop before a write the disk cannot take: a write that fails half-way leaves an HDF5 file that does not
        open, so the records go out only with room for all of them uncompressed (and 1 MB for the file's index)."""
        needed = sum(sum(row.nbytes for row in rows) for rows in self._buffer.values()) \
            + 32 * len(self._events) + 2**20
        free = shutil.disk_usage(self.path.parent).free
        if free < needed:
            self._stopped = (f"{self.path}: the disk is full ({free / 2**20:.2f} MB free, {needed / 2**20:.2f} MB "
                             f"needed for the next {len(self._times)} records): the file keeps its {self.written} "
                             "records; free some space and continue with twin run --resume")
            raise DiskFullError(self._stopped)

    def _write_buffer(self) -> None:
        if self._stopped:
            raise OSError(self._stopped)
        self._check_space()
        try:
            self._write_records()
        except BlockingIOError:
            raise
        except (OSError, RuntimeError, ValueError) as exc:       # h5py reports a failed write as any of these
            self._stopped = (f"{self.path}: writing records {self.written + 1}-{self.written + len(self._times)} "
                             f"failed ({str(exc).splitlines()[0]}); the file may be damaged past its last checkpoint, "
                             "which twin run --resume continues from")
            raise OSError(self._stopped) from None

    def _write_records(self) -> None:
        n0, n1 = self.written, self.written + len(self._times)
        e0, e1 = self.events_written, self.events_written + len(self._events)
        with h5netcdf.File(self.path, "a") as f:
            if e1 > e0:
                f.resize_dimension("event", e1)
                table = np.array(self._events, dtype=float)
                f.variables["event_time"][e0:e1] = table[:, 0]
                f.variables["event_cell"][e0:e1] = table[:, 1].astype("i4")
                f.variables["event_kind"][e0:e1] = table[:, 2].astype("i1")
                kinds = table[:, 2].astype(int)
                for name, (_, _, names) in EVENT_VALUES.items():
                    mine = np.isin(kinds, [EVENT_KINDS[k] for k in names])
                    f.variables[name][e0:e1] = np.where(mine, table[:, 3], np.nan)
            f.resize_dimension("time", n1)
            times = np.asarray(self._times)
            f.variables["time"][n0:n1] = times
            if self.interval_s:
                f.variables["time_bounds"][n0:n1] = np.stack([times - self.interval_s, times], axis=1)
            for name, rows in self._buffer.items():
                block = np.stack(rows)
                f.variables[name][n0:n1, ...] = bitround(block, MEAN_BITS) if _quantized(self.layout.variables[name]) \
                    else block
        self.written = n1
        self.events_written = e1
        self._events.clear()
        self._times.clear()
        for rows in self._buffer.values():
            rows.clear()
        self._last_flush = _time.monotonic()

    def close(self, complete: bool = True) -> None:
        """Flush and mark the file complete (a run that stopped early leaves ``run_complete = 0``). After a write
        that could not be made (full disk) nothing more is written."""
        if self._stopped:
            return
        if not self.flush(wait=120.0):
            raise OSError(f"{self.path}: a reader has held the file for 2 minutes; "
                          f"{len(self._times)} output records could not be written")
        for _ in range(2400):
            try:
                with h5netcdf.File(self.path, "a") as f:
                    f.attrs["run_complete"] = int(complete)
                return
            except BlockingIOError:
                _time.sleep(0.05)
        raise OSError(f"{self.path}: a reader has held the file for 2 minutes; run_complete not set")


def open_results(path: str | Path, load: bool = False, chunks: dict[str, int] | str | None = None) -> xr.Dataset:
    """Open a results file as an ``xarray.Dataset``.

    By default the dataset is lazy: values are read from the file when used (a plant-year holds several GB of
    values once decompressed), and the file stays open until ``ds.close()`` or the end of a ``with`` block; a
    run writing the file meanwhile keeps its records in memory and writes them once the file is let go. With
    ``load=True`` everything is read at once and the file let go (small files; a file a run is still writing).
    ``chunks`` (as ``xarray.open_dataset`` takes them, e.g. ``{"time": 4320}``) makes the arrays Dask arrays, so a
    plant-year's variables are computed block by block.

    Works while a run is still writing it: the dataset then holds what was flushed so far and
    ``ds.attrs["run_complete"]`` is 0.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such results file")
    for attempt in range(50):
        try:
            ds = xr.open_dataset(path, engine="h5netcdf", chunks=chunks)
        except BlockingIOError:
            # the writer holds the file for the few milliseconds of a flush: wait and retry
            if attempt == 49:
                raise
            _time.sleep(0.1)
            continue
        except OSError as exc:
            raise OSError(f"{path}: not a readable results file ({exc}); a file cut short in a copy or "
                          "a transfer cannot be opened: take it again from its source") from None
        try:
            check_format(path, ds.attrs)
            if load:
                ds.load()
                ds.close()
        except BaseException:
            ds.close()
            raise
        named = _labels_as_index(ds)
        if named is not ds:
            named.set_close(ds.close)         # closing what is returned lets go of the file
        return named
    raise AssertionError("unreachable")


def totals(ds: xr.Dataset, names: list[str] | tuple[str, ...], block: int = 1008) -> dict[str, np.ndarray]:
    """The run's totals of "sum" variables (``name`` -> array over the other dimensions), read ``block`` records
    at a time: memory stays that of a block, not of the file (a plant-year of one cell variable is 150 MB)."""
    out = {name: np.zeros(ds[name].shape[1:]) for name in names}
    for start in range(0, ds.sizes["time"], block):
        part = ds.isel(time=slice(start, start + block))
        for name in names:
            out[name] += np.nansum(np.asarray(part[name].values, float), axis=0)
    return out


# CF: a coordinate variable (named as its dimension) is numeric; names of lines, footprint sources and products are
# string labels (auxiliary coordinates, CF 6.1) stored as <dimension>_name, which open_results makes the index again
LABEL = "_name"


def _labelled(layout: Layout, dim: str) -> bool:
    return dim in layout.coords and layout.coords[dim][1].dtype == object


def _on_disk(name: str, dims: tuple[str, ...], values: np.ndarray) -> str:
    return f"{name}{LABEL}" if values.dtype == object and dims == (name,) else name


def _labels_as_index(ds: xr.Dataset) -> xr.Dataset:
    for dim in list(ds.dims):
        label = f"{dim}{LABEL}"
        if label in ds.variables and ds[label].dims == (dim,):
            ds = ds.assign_coords({dim: ds[label].values}).drop_vars(label)
    return ds


def check_format(path: Path, attrs) -> None:
    """Refuse a results file whose records mean something else than this version's (``results_format``)."""
    found = int(attrs.get("results_format", 1))
    if found != RESULTS_FORMAT:
        raise ValueError(f"{path}: results format {found}, this alutwin ({__version__}) reads format "
                         f"{RESULTS_FORMAT} only (format 1, before alutwin 0.2, kept the cells' counters as totals "
                         "since the start of the run, format 2 keeps each interval's): run it again with this version")
