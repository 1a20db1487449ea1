"""Scenario sweeps (``twin.sweep``, ``twin sweep``): one park config, axes over its keys, every point run on Dask
and its KPIs in one dataset.

A sweep file (TOML)::

    base = "reference"                 # the park to vary: "reference" or a park TOML beside the sweep file
    hours = 24                         # each point's horizon (or days; default: the base's run.days)

    [[axis]]                           # a list of values
    key = "smelter.potlines.PL1.current_kA"
    values = [480, 500, 520]

    [[axis]]                           # a range: num values from start to stop, both included
    key = "smelter.cell.alf3_wt"
    range = {start = 10, stop = 13, num = 4}

    [[axis]]                           # zipped keys: they vary together, along one axis
    keys = ["smelter.potlines.PL1.current_kA", "smelter.potlines.PL2.current_kA"]
    values = [[480, 480], [500, 510]]

Or a sampled design instead of the axes (SALib's samplers; the points along one ``point`` dimension, the keys'
values as its coordinates)::

    [sample]
    method = "sobol"                   # "latin" (n points), "sobol" (n (k + 2), Sobol indices), "morris"
    n = 64                             # (n (k + 1), Morris' elementary effects)
    sensitivity = ["superheat", "current_efficiency"]      # the KPIs whose indices are computed, by line
    [[sample.parameter]]
    key = "smelter.cell.ua_top_W_per_K"
    bounds = [500, 700]                # checked against the key's range when the sweep is read
    distribution = "normal"            # or "uniform" (the default), "log_uniform", "triangular" (with mode)
    mean = 580                         # a normal's mean and sd, truncated to the bounds
    sd = 20

Keys are dotted paths into the park config; lists of named tables (potlines, products) are addressed by name.
Every point's config is validated when the sweep is read, so a value outside a key's range is refused there,
naming the sweep file, the axis, the key and the value. The grid is the product of the axes.

Points run on Dask (a LocalCluster by default, an existing scheduler by address), each a park built once and
run through the one run loop into its own results file in ``<out>.points/``, named by the hash of its resolved
config and the alutwin version. A point whose KPIs are there is not run again: a sweep killed or with failed
points is re-run and computes only what is missing. A point that leaves physics or fails is a result with its
message, never the end of the sweep. The result: per point the KPIs by line over the run (``twin.kpi``) and
the footprint, the axes as dimensions.
"""
from __future__ import annotations

import copy
import hashlib
import itertools
import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from twin._version import __version__
from twin.cluster import dask_client, on_a_worker
from twin.config import ConfigError, config_data, default_config_path, parse_config, read_toml
from twin.results import write_whole
from twin.smelter.potline import kernel_threads

__all__ = ["KPIS", "SweepError", "SweepSpec", "load_sweep", "sweep"]

# the KPIs of a point by line, over the run and by day (twin.kpi's tables): name -> (unit, what it is)
KPIS = {
    "current_efficiency": ("%", "current efficiency"),
    "specific_energy": ("kW h kg-1", "DC energy per kg Al"),
    "metal_t": ("t", "metal made"),
    "cell_voltage": ("V", "mean cell voltage"),
    "bath_temperature": ("degC", "mean bath temperature"),
    "superheat": ("K", "mean superheat"),
    "excess_alf3": ("%", "mean excess AlF3, wt %,"),
    "alf3_use": ("kg t-1", "AlF3 added per t Al"),
    "ae_frequency": ("d-1", "anode effects per pot-day"),
    "ae_minutes": ("min d-1", "anode-effect minutes per pot-day"),
}


# more points than this is a mistyped range, not a study (100,000 park-days are ~2 core-months)
MAX_POINTS = 100_000


class SweepError(ValueError):
    """A sweep file that cannot be run; the message names the file, the axis, the key and the value."""


class _Range(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    start: float
    stop: float
    num: Annotated[int, Field(ge=1, le=10_000)]


class Axis(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    key: str | None = None
    keys: list[str] | None = None
    values: list[Any] | None = None
    range: _Range | None = None

    @model_validator(mode="after")
    def _one_way(self) -> Axis:
        if (self.key is None) == (self.keys is None):
            raise ValueError("an axis has `key` (one key) or `keys` (zipped keys), not both or neither")
        if (self.values is None) == (self.range is None):
            raise ValueError("an axis has `values` or `range`, not both or neither")
        if self.keys is not None and self.range is not None:
            raise ValueError("zipped keys take `values` (a list of one value per key), not a range")
        if self.values is not None and not self.values:
            raise ValueError("an axis needs at least one value")
        if self.keys is not None:
            for v in self.values or []:
                if not isinstance(v, list) or len(v) != len(self.keys):
                    raise ValueError(f"zipped keys {self.keys}: each value is a list of {len(self.keys)}, got {v!r}")
        return self

    @property
    def names(self) -> list[str]:
        return [self.key] if self.key is not None else list(self.keys or [])

    @property
    def size(self) -> int:
        """How many points this axis has."""
        return self.range.num if self.range is not None else len(self.values or [])

    @property
    def dim(self) -> str:
        """The dimension of this axis in the result: its key, or its keys joined by '+'."""
        return "+".join(self.names)

    def points(self) -> list[list[Any]]:
        """The values of this axis, one list (a value per key) per point."""
        if self.range is not None:
            values = np.linspace(self.range.start, self.range.stop, self.range.num)
            if all(float(v).is_integer() for v in values):     # whole numbers stay whole: seeds, counts
                return [[int(v)] for v in values]
            return [[float(v)] for v in values]
        return [v if self.keys is not None else [v] for v in self.values or []]


class SampledKey(BaseModel):
    """A sampled key: its values lie within ``bounds`` (checked against the key's range when the sweep is read),
    spread by ``distribution``: ``uniform`` (the default), ``log_uniform``, ``triangular`` (most likely at
    ``mode``) or ``normal`` (``mean``, ``sd``, truncated to the bounds)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    key: str
    bounds: tuple[float, float]
    distribution: Literal["uniform", "log_uniform", "triangular", "normal"] = "uniform"
    mode: float | None = None
    mean: float | None = None
    sd: Annotated[float, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> SampledKey:
        lo, hi = self.bounds
        if not lo < hi:
            raise ValueError(f"{self.key}: bounds {list(self.bounds)} must be [lower, upper] with lower < upper")
        wanted = {"triangular": {"mode"}, "normal": {"mean", "sd"}}.get(self.distribution, set())
        given = {name for name in ("mode", "mean", "sd") if getattr(self, name) is not None}
        if given != wanted:
            raise ValueError(f"{self.key}: a {self.distribution} distribution takes "
                             f"{' and '.join(sorted(wanted)) or 'only its bounds'}, got {sorted(given) or 'none'}")
        if self.mode is not None and not lo <= self.mode <= hi:
            raise ValueError(f"{self.key}: mode = {self.mode:g} is outside its bounds {list(self.bounds)}")
        if self.mean is not None and not lo <= self.mean <= hi:
            raise ValueError(f"{self.key}: mean = {self.mean:g} is outside its bounds {list(self.bounds)}")
        if self.distribution == "log_uniform" and lo <= 0:
            raise ValueError(f"{self.key}: a log_uniform distribution needs bounds above 0, got {list(self.bounds)}")
        return self

    def salib(self) -> tuple[str, list[float]]:
        """SALib's name of the distribution and its parameters (its ``dists`` and ``bounds`` entries)."""
        lo, hi = self.bounds
        if self.distribution == "triangular":
            assert self.mode is not None
            return "triang", [lo, hi, (self.mode - lo) / (hi - lo)]        # the peak as a share of the width
        if self.distribution == "normal":
            assert self.mean is not None and self.sd is not None
            return "truncnorm", [lo, hi, self.mean, self.sd]
        return ("logunif" if self.distribution == "log_uniform" else "unif"), [lo, hi]


class Sample(BaseModel):
    """Points drawn from a design over bounded keys (SALib's samplers): ``latin`` (Latin hypercube, ``n``
    points), ``sobol`` (Saltelli's extension of a Sobol sequence, n (k + 2) points for k keys, with first-order
    and total Sobol indices) or ``morris`` (n trajectories, n (k + 1) points, with Morris' elementary effects)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    method: Literal["latin", "sobol", "morris"] = "latin"
    n: Annotated[int, Field(ge=2, le=100_000)]
    seed: int = 0
    parameter: list[SampledKey]
    sensitivity: list[str] = ["current_efficiency", "specific_energy", "superheat"]

    @model_validator(mode="after")
    def _keys_and_kpis(self) -> Sample:
        if not self.parameter:
            raise ValueError("a sample needs at least one [[sample.parameter]]")
        keys = [p.key for p in self.parameter]
        if len(set(keys)) != len(keys):
            raise ValueError(f"a sampled key is given twice: {keys}")
        unknown = [k for k in self.sensitivity if k not in KPIS]
        if unknown:
            raise ValueError(f"sensitivity of {unknown}: not KPIs of a point; allowed: {', '.join(KPIS)}")
        shaped = [p.key for p in self.parameter if p.distribution != "uniform"]
        if self.method == "morris" and shaped:
            raise ValueError(f"morris: its trajectories step over uniform levels; {shaped} are not uniform")
        if self.method == "sobol" and self.n & (self.n - 1):
            raise ValueError(f"sobol: n = {self.n} must be a power of 2 (Sobol sequences balance only then)")
        return self

    def problem(self) -> dict[str, Any]:
        dists = [p.salib() for p in self.parameter]
        return {"num_vars": len(self.parameter), "names": [p.key for p in self.parameter],
                "bounds": [b for _, b in dists], "dists": [d for d, _ in dists]}

    def design(self) -> np.ndarray:
        """The points (point x key)."""
        from SALib.sample import latin, morris, sobol

        if self.method == "sobol":
            return sobol.sample(self.problem(), self.n, calc_second_order=False, seed=self.seed)
        if self.method == "morris":
            return morris.sample(self.problem(), self.n, seed=self.seed)
        return latin.sample(self.problem(), self.n, seed=self.seed)


class SweepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    base: str = "reference"
    days: Annotated[float, Field(gt=0, le=3660)] | None = None
    hours: Annotated[float, Field(gt=0, le=87840)] | None = None
    axis: list[Axis] = []
    sample: Sample | None = None
    source: str = "<memory>"

    @model_validator(mode="after")
    def _horizon_and_axes(self) -> SweepSpec:
        if self.days is not None and self.hours is not None:
            raise ValueError("give days or hours, not both")
        if bool(self.axis) == (self.sample is not None):
            raise ValueError("a sweep has [[axis]] tables (a grid) or a [sample] (a design), one of them")
        dims = [a.dim for a in self.axis]
        if len(set(dims)) != len(dims):
            raise ValueError(f"an axis is given twice: {dims}")
        count = 1
        for axis in self.axis:
            count *= axis.size
        if count > MAX_POINTS:
            sizes = " x ".join(f"{a.dim} ({a.size})" for a in self.axis)
            raise ValueError(f"{count:,} points ({sizes}): more than {MAX_POINTS:,}; a sweep that large is a "
                             "mistyped range")
        return self

    def points(self) -> tuple[list[tuple[int, ...]], list[list[tuple[str, Any]]]]:
        """Each point's place in the result (grid indices, or its number in a sample) and its (key, value)s."""
        if self.sample is not None:
            design = self.sample.design()
            keys = [p.key for p in self.sample.parameter]
            return [(i,) for i in range(len(design))], [list(zip(keys, map(float, row), strict=True))
                                                         for row in design]
        grid = list(itertools.product(*(range(len(a.points())) for a in self.axis)))
        return grid, [[(key, value) for axis, i in zip(self.axis, index, strict=True)
                       for key, value in zip(axis.names, axis.points()[i], strict=True)] for index in grid]


def load_sweep(path: str | Path) -> tuple[SweepSpec, dict[str, Any]]:
    """Read and check a sweep file: the spec and the base park's config data (every point validated)."""
    spec, base, _ = _load(path)
    return spec, base


def _load(path: str | Path) -> tuple[SweepSpec, dict[str, Any], list[dict[str, Any]]]:
    """The spec, the base park's config data and every point's config data, validated."""
    path = Path(path)
    data = read_toml(path)
    try:
        spec = SweepSpec.model_validate({**data, "source": str(path)})
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise SweepError(f"{path}: invalid sweep ({problems})") from None
    base_path = default_config_path() if spec.base == "reference" else path.parent / spec.base
    if not base_path.is_file():
        raise SweepError(f"{path}: base = {spec.base!r}: no such park config ({base_path})")
    base = config_data(base_path)
    # the base by its path: the files a park config names (a wind profile) are found beside it
    spec = spec.model_copy(update={"base": str(base_path)})
    if spec.sample is not None:                       # the bounds inside each key's range
        for p in spec.sample.parameter:
            for bound in p.bounds:
                _resolve(spec, base, [(p.key, bound)])
    # every point valid before anything runs
    return spec, base, [_resolve(spec, base, assignment) for assignment in spec.points()[1]]


def _resolve(spec: SweepSpec, base: dict[str, Any], assignment: list[tuple[str, Any]]) -> dict[str, Any]:
    """The config data of a point (validated; a SweepError names the sweep, the keys and the values)."""
    data = copy.deepcopy(base)                         # TOML data: tables, lists, values (a start's datetime)
    what = []
    for key, value in assignment:
        _set(data, key, value, spec.source)
        what.append(f"{key} = {value!r}")
    try:
        parse_config(data, source=f"{spec.source} ({', '.join(what)})")
    except ConfigError as exc:
        raise SweepError(str(exc)) from None
    return data


def _set(data: dict[str, Any], key: str, value: Any, source: str) -> None:
    """Set dotted ``key`` in config ``data``; lists of named tables are entered by name."""
    parts = key.split(".")
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            named = [t for t in node if isinstance(t, dict) and t.get("name") == part]
            if not named:
                names = [t.get("name") for t in node if isinstance(t, dict)]
                raise SweepError(f"{source}: axis key {key}: no table named {part!r} in "
                                 f"{'.'.join(parts[:depth])} (there are {names})")
            node = named[0]
        else:
            node = node.setdefault(part, {})
            if not isinstance(node, dict | list):
                raise SweepError(f"{source}: axis key {key}: {'.'.join(parts[:depth + 1])} is a value, not a table")
    if not isinstance(node, dict):
        raise SweepError(f"{source}: axis key {key}: {'.'.join(parts[:-1])} is a list; name one of its tables")
    node[parts[-1]] = value


def point_key(data: dict[str, Any], seconds: float) -> str:
    """The cache key of a point: its resolved config, horizon and the alutwin version."""
    # TOML's datetimes (a run's start) by their ISO text
    text = json.dumps({"config": data, "seconds": seconds, "version": __version__}, sort_keys=True,
                      default=lambda value: value.isoformat())
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def run_point(data: dict[str, Any], seconds: float, folder: str, key: str, source: str) -> dict[str, Any]:
    """Run one point into ``folder/<key>.nc`` and keep its KPIs in ``folder/<key>.json`` (written whole or not at
    all); a point that fails is a result with its message."""
    from twin.kpi import plant_kpis
    from twin.park import run
    from twin.results import open_results

    out = Path(folder) / f"{key}.nc"
    try:
        with kernel_threads(1 if on_a_worker() else 0):          # a worker's point takes one core
            summary = run(parse_config(data, source=source), out, hours=seconds / 3600.0)
        with open_results(out) as ds:
            kpis = plant_kpis(ds)
        daily = kpis.daily.reset_index()
        result: dict[str, Any] = {
            "lines": {str(name): {k: float(row[k]) for k in KPIS} for name, row in kpis.lines.iterrows()},
            "daily": {str(name): {k: [float(v) for v in rows[k]] for k in KPIS}
                      for name, rows in daily.groupby("line", sort=False)},
            "co2e_per_t": float(summary.co2e_per_t), "error": ""}
    except Exception as exc:            # a point's failure is its result (its message), never the sweep's end
        result = _failed(f"{type(exc).__name__}: {exc}")
    tmp = Path(folder) / f"{key}.json.tmp"
    tmp.unlink(missing_ok=True)        # a killed point's leftover, or a link planted there: not followed
    tmp.write_text(json.dumps(result))
    os.replace(tmp, Path(folder) / f"{key}.json")
    return result


def _failed(message: str) -> dict[str, Any]:
    """The result of a point that did not run through: no KPIs, its message."""
    return {"lines": {}, "daily": {}, "co2e_per_t": float("nan"), "error": message}


def sweep(path: str | Path, out: str | Path | None = None, *, n_workers: int = 2, scheduler: str | None = None,
          progress: bool = False) -> xr.Dataset:
    """Run the sweep of ``path`` (see the module) and write its dataset to ``out`` (default ``<sweep>.nc``
    beside it); points go to a LocalCluster of ``n_workers`` or to the Dask scheduler at ``scheduler``."""
    from dask.distributed import as_completed
    from tqdm import tqdm

    spec, base, datas = _load(path)
    out = Path(out) if out is not None else Path(path).with_suffix(".nc")
    folder = out.with_name(out.name + ".points")
    folder.mkdir(parents=True, exist_ok=True)
    base_cfg = parse_config(base, source=spec.base)
    seconds = (spec.hours * 3600.0 if spec.hours is not None
               else (spec.days if spec.days is not None else base_cfg.run.days) * 86400.0)
    grid, assignments = spec.points()
    keys = [point_key(d, seconds) for d in datas]
    results: dict[str, dict[str, Any]] = {}
    for key in keys:
        done = folder / f"{key}.json"
        if done.is_file():
            kept = json.loads(done.read_text())
            # a failed point is tried again, and one kept before a KPI was added
            if not kept["error"] and all(set(KPIS) <= set(line) for line in kept["lines"].values()):
                results[key] = kept
    todo = [(k, d) for k, d in dict(zip(keys, datas, strict=True)).items() if k not in results]
    if todo:
        with dask_client(scheduler, n_workers) as (client, _):
            # a point's source is its base park's path (with the point's key: no path separator after it)
            futures = {client.submit(run_point, d, seconds, str(folder.resolve()), k, f"{spec.base} (sweep point {k})",
                                     key=f"sweep-point-{k}", pure=False): k for k, d in todo}
            with tqdm(total=len(futures), desc="sweep points", unit="point", disable=not progress) as bar:
                for future in as_completed(list(futures), loop=client.loop):
                    try:
                        results[futures[future]] = future.result()
                    except Exception as exc:      # the worker itself died (a crash): that point failed
                        results[futures[future]] = _failed(f"the worker running it failed: {type(exc).__name__}: "
                                                           f"{exc}")
                    bar.update(1)
    design = np.array([[v for _, v in a] for a in assignments])       # point x key (a sample's design)
    days = int(np.ceil(seconds / 86400.0 - 1e-9))
    ds = _dataset(spec, grid, keys, results, [p.name for p in base_cfg.smelter.potlines] if base_cfg.smelter else [],
                  design, days)
    if spec.sample is not None:
        ds = _with_sensitivity(ds, spec.sample, design)
    write_whole(out, lambda f: ds.to_netcdf(f, engine="h5netcdf"))       # whole or not at all
    return ds


def _dataset(spec: SweepSpec, grid: list[tuple[int, ...]], keys: list[str], results: dict[str, dict[str, Any]],
             lines: list[str], design: np.ndarray, days: int) -> xr.Dataset:
    shape = tuple(len(a.points()) for a in spec.axis) if spec.sample is None else (len(grid),)
    dims = tuple(a.dim for a in spec.axis) if spec.sample is None else ("point",)
    kpis = {name: np.full((*shape, len(lines)), np.nan) for name in KPIS}
    daily = {name: np.full((*shape, days, len(lines)), np.nan) for name in KPIS}
    co2e = np.full(shape, np.nan)
    failed = np.zeros(shape, dtype="i1")
    message = np.full(shape, "", dtype=object)
    point = np.full(shape, "", dtype=object)
    for index, key in zip(grid, keys, strict=True):
        r = results[key]
        point[index] = key
        message[index] = r["error"]
        failed[index] = int(bool(r["error"]))
        co2e[index] = r["co2e_per_t"]
        for j, line in enumerate(lines):
            for name in KPIS:
                kpis[name][(*index, j)] = r["lines"].get(line, {}).get(name, np.nan)
                by_day = r.get("daily", {}).get(line, {}).get(name, [])[:days]
                where: tuple[Any, ...] = (*index, slice(0, len(by_day)), j)
                daily[name][where] = by_day
    coords: dict[str, Any] = {"line": ("line", np.array(lines, dtype=object), {"long_name": "potline name"}),
                              "day": ("day", np.arange(days), {"long_name": "plant day of the run (0: its first)",
                                                               "units": "1"})}
    if spec.sample is not None:
        coords["point"] = ("point", np.arange(len(grid)), {"long_name": f"point of the {spec.sample.method} design"})
        for j, p in enumerate(spec.sample.parameter):
            coords[p.key] = ("point", design[:, j], {"long_name": f"{p.key} at the point"})
    for axis in spec.axis:
        values = axis.points()
        coords[axis.dim] = (axis.dim, np.array([v[0] for v in values]) if axis.key is not None
                            else np.arange(len(values)), {"long_name": f"sweep axis: {axis.dim}"})
        if axis.keys is not None:
            for n, name in enumerate(axis.keys):
                coords[name] = (axis.dim, np.array([v[n] for v in values]), {"long_name": f"{name} along the axis"})
    data_vars: dict[str, Any] = {}
    for name, (unit, what) in KPIS.items():
        data_vars[name] = ((*dims, "line"), kpis[name], {"units": unit, "long_name": f"{what} over the run"})
        data_vars[f"daily_{name}"] = ((*dims, "day", "line"), daily[name],
                                      {"units": unit, "long_name": f"{what}, day by day"})
    data_vars["co2e_per_t"] = (dims, co2e, {"units": "t t-1", "long_name": "scope 1+2 t CO2e per t Al over the run"})
    data_vars["failed"] = (dims, failed, {"units": "1", "long_name": "1 where the point failed (see message)",
                                          "flag_values": np.array([0, 1], dtype="i1"),
                                          "flag_meanings": "ran failed"})
    data_vars["message"] = (dims, message, {"long_name": "why the point failed (empty where it ran)"})
    data_vars["point_key"] = (dims, point, {"long_name": "the point's key: its results file in the points folder"})
    return xr.Dataset(data_vars, coords=coords, attrs={"title": "alutwin sweep", "Conventions": "CF-1.11",
                                                        "source_sweep": spec.source, "alutwin_version": __version__})


def _with_sensitivity(ds: xr.Dataset, sample: Sample, design: np.ndarray) -> xr.Dataset:
    """Sobol indices (first order and total, with their confidence intervals) or Morris' mu* and sigma of the
    ``sample.sensitivity`` KPIs by line, by SALib; not computed (NaN, with the reason) while a point failed."""
    from SALib.analyze import morris, sobol

    if sample.method == "latin":
        return ds
    names = ("first_order", "first_order_conf", "total", "total_conf") if sample.method == "sobol" \
        else ("mu_star", "mu_star_conf", "sigma")
    shape = (len(sample.sensitivity), ds.sizes["line"], len(sample.parameter))
    out = {name: np.full(shape, np.nan) for name in names}
    failed = int(ds.failed.sum())
    if not failed:
        for i, kpi in enumerate(sample.sensitivity):
            for j in range(ds.sizes["line"]):
                y = np.asarray(ds[kpi].isel(line=j).values, float)
                if sample.method == "sobol":
                    got = sobol.analyze(sample.problem(), y, calc_second_order=False, seed=sample.seed)
                    for name, salib in zip(names, ("S1", "S1_conf", "ST", "ST_conf"), strict=True):
                        out[name][i, j] = got[salib]
                else:
                    got = morris.analyze(sample.problem(), design, y, scaled=True, seed=sample.seed)
                    for name in names:
                        out[name][i, j] = got[name]
    prefix = f"{sample.method}_"
    what = {
        "first_order": "first-order Sobol index",
        "first_order_conf": "95 % confidence half-width of the first-order Sobol index",
        "total": "total Sobol index",
        "total_conf": "95 % confidence half-width of the total Sobol index",
        "mu_star": "Morris mu* (mean absolute elementary effect, scaled by the ranges of key and KPI)",
        "mu_star_conf": "95 % confidence half-width of mu*",
        "sigma": "Morris sigma (spread of the scaled effects)",
    }
    ds = ds.assign_coords(kpi=("kpi", np.array(sample.sensitivity, dtype=object), {"long_name": "KPI analysed"}),
                          parameter=("parameter", np.array([p.key for p in sample.parameter], dtype=object),
                                     {"long_name": "sampled key"}))
    for name in names:
        ds[prefix + name] = (("kpi", "line", "parameter"), out[name], {"long_name": what[name], "units": "1"})
    ds.attrs["sensitivity"] = (f"{sample.method} indices by SALib over {ds.sizes['point']} points" if not failed
                               else f"not computed: {failed} point(s) failed (see message)")
    return ds
