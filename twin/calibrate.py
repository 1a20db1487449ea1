"""Calibration: fit a cell's uncertain parameters to what the plant measured, by replaying what it did.

For one cell: the twin is replayed on the cell's recorded inputs (``twin.replay``) with trial
parameters; residuals are the differences between its outputs and the measurements, each divided
by its measurement noise; ``scipy.optimize.least_squares`` (trust region, bounds, robust loss) finds
the parameters; standard errors and correlations come from the Jacobian at the optimum
(covariance = s^2 (J^T J)^-1, s^2 = the residual variance), inflated for residuals correlated in
time (AR(1) effective sample size), as a replay's misfit is, plus the share of noisy recorded inputs
(the line current: replay takes it as true, the bath integrates it) by perturbed replays.

Parameters are marked by name (keys of ``[smelter.cell]``, e.g. ``ua_top_W_per_K``,
``h_bath_ledge_W_per_m2K``, ``r_anode_uohm``, ``ce_ref``) with bounds and an optional log transform.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.optimize import least_squares
from tqdm import tqdm

from twin.cluster import dask_client, on_a_worker
from twin.config import (
    PER_CELL_KEYS,
    CellOverride,
    ConfigError,
    ParkConfig,
    SmelterConfig,
    VariationConfig,
    cell_key_allows,
    read_toml,
)
from twin.replay import BatchReplay
from twin.results import write_whole
from twin.smelter.potline import kernel_threads
from twin.smelter.steady import SteadyStateError

INFEASIBLE_RESIDUAL = 1e3     # per observation, in noise units, for trial parameters without a steady state
INPUT_DRAWS = 16              # replays that carry the inputs' noise into the standard errors (~18 % on them)
INPUT_NOISE_SEED = 20270101

__all__ = ["CellFit", "FitSpec", "Measurement", "Parameter", "batch_config", "batch_inputs", "calibrate_batch",
           "calibrate_cell", "calibrate_cells", "interval_noise", "load_fit", "one_cell_config", "problems_from_data",
           "write_calibration"]


def _check_bounds(name: str, lower: float, upper: float) -> None:
    """Fit bounds inside what the cell's configuration allows (an estimate outside would be refused by
    ``twin run``); a clear error naming the key otherwise."""
    allowed = cell_key_allows(name, lower, upper)
    if allowed:
        raise ValueError(f"{name}: bounds {lower:g}..{upper:g} reach outside what the cell configuration allows "
                         f"({name} {allowed})")


@dataclass(frozen=True)
class Parameter:
    """A cell parameter to fit: its config key, bounds and whether to search it in log space."""

    name: str
    lower: float
    upper: float
    log: bool = False

    def to_search(self, value: float) -> float:
        return float(np.log(value)) if self.log else float(value)

    def from_search(self, z: float) -> float:
        return float(np.exp(z)) if self.log else float(z)


@dataclass(frozen=True)
class Measurement:
    """A measured output series of the cell: a results variable, values on the model clock, its noise."""

    variable: str               # e.g. "cell_voltage", "bath_temperature"
    values: np.ndarray          # one per output interval, NaN where not measured
    noise: float                # standard deviation, in the variable's unit


@dataclass
class CellFit:
    names: list[str]
    estimates: np.ndarray
    std_errors: np.ndarray
    correlation: np.ndarray
    cost: float
    observations: int
    evaluations: int
    success: bool
    message: str
    input_std_errors: np.ndarray | None = None   # the part of std_errors from the inputs' noise


def _known_cells(config: ParkConfig, **smelter_update) -> ParkConfig:
    """The park as a model of known cells, with ``smelter_update``: each cell its own parameters (no drawn
    cell-to-cell variation), no random feeder faults (in replay the feed is what the historian recorded going
    in), every lining at the design age (a cell's age does not depend on its place in a batch), no refinery."""
    smelter = _smelter(config)
    operations = smelter.operations.model_copy(update={"feeder_fault_rate_per_day": 0.0})
    smelter = smelter.model_copy(update={"variation": VariationConfig(), "operations": operations, **smelter_update})
    lining = config.lining.model_copy(update={"start_ages": "design"})
    return config.model_copy(update={"smelter": smelter, "lining": lining, "refinery": None})


def _smelter(config: ParkConfig) -> SmelterConfig:
    """The park's potlines, which calibration fits (a park without them has nothing to calibrate)."""
    if config.smelter is None:
        raise ValueError(f"{config.source}: calibration fits cells, and this park has no [smelter]")
    return config.smelter


def one_cell_config(config: ParkConfig, values: dict[str, float]) -> ParkConfig:
    """The config of a one-cell, one-line park with some cell parameters replaced (validated)."""
    cell = _smelter(config).cell.model_validate({**_smelter(config).cell.model_dump(), **values})
    line = _smelter(config).potlines[0].model_copy(update={"cells": 1, "name": "replay"})
    return _known_cells(config, cell=cell, potlines=[line])


def batch_config(config: ParkConfig, values: list[dict[str, float]], line_sizes: list[int]) -> ParkConfig:
    """A park for a batch of calibration problems: lines of ``line_sizes`` cells, cell k with its own
    parameter ``values[k]``.

    In replay every line runs at its recorded current (the regulator is bypassed) and, replayed with
    ``independent_cells``, every cell has its own fume store, so the cells do not feel each other: one
    kernel call advances a whole batch of independent problems.
    """
    line = _smelter(config).potlines[0]
    lines = [line.model_copy(update={"cells": size, "name": f"batch{j}", "schedule": []})
             for j, size in enumerate(line_sizes)]
    overrides = [CellOverride.model_validate({"cells": [k], **v}) for k, v in enumerate(values) if v]
    return _known_cells(config, potlines=lines, cell_overrides=overrides)


def batch_inputs(inputs: list[xr.Dataset]) -> tuple[xr.Dataset, np.ndarray, list[int]]:
    """Replay inputs of one-cell problems side by side.

    Problems whose line current is the same series share a line (cells of one potline do), so a
    batch has as few lines as the plant. Returns the inputs, the batch cell of each problem and
    the number of cells on each line.
    """
    times = inputs[0].time.values
    for i, ds in enumerate(inputs):
        if ds.sizes["time"] != len(times) or not np.array_equal(ds.time.values, times):
            raise ValueError(f"problem {i}: its inputs are on another clock than problem 0's; a batch shares one")
    groups: list[list[int]] = []
    currents: list[np.ndarray] = []
    for i, ds in enumerate(inputs):
        current = np.asarray(ds["line_current"].values, float).reshape(-1) if "line_current" in ds else np.zeros(0)
        for g, c in enumerate(currents):
            if np.array_equal(c, current, equal_nan=True):
                groups[g].append(i)
                break
        else:
            currents.append(current)
            groups.append([i])
    order = [i for g in groups for i in g]                  # problems in batch-cell order
    position = np.empty(len(inputs), dtype=int)
    position[order] = np.arange(len(order))
    out = xr.Dataset(coords={"time": times}, attrs=dict(inputs[0].attrs))
    for name in inputs[0].data_vars:
        if "line" in inputs[0][name].dims:
            out[name] = (("time", "line"), np.stack(currents, axis=1))
        elif "time" not in inputs[0][name].dims:            # by cell only: the linings' ages at the start
            out[name] = (("cell",), np.concatenate(
                [np.asarray(inputs[i][name].values, float).reshape(-1)[:1] for i in order]))
        else:
            out[name] = (("time", "cell"), np.concatenate(
                [np.asarray(inputs[i][name].values, float).reshape(len(times), -1)[:, :1] for i in order], axis=1))
    return out, position, [len(g) for g in groups]


def calibrate_cell(config: ParkConfig, inputs: xr.Dataset, measurements: list[Measurement],
                   parameters: list[Parameter], start: dict[str, float] | None = None,
                   loss: str = "soft_l1", input_noise: dict[str, float] | None = None) -> CellFit:
    """Fit ``parameters`` of one cell so its replay on ``inputs`` matches ``measurements``.

    ``inputs`` are one cell's and one line's replay inputs (``twin.replay``); ``start`` defaults to
    the configured values. Measurement NaNs are not observations. ``input_noise``: see
    ``calibrate_batch``.
    """
    return calibrate_batch(config, {0: (inputs, measurements)}, parameters, start, loss, input_noise)[0]


def _batch_on_one_core(*args: Any, **kwargs: Any) -> list[CellFit]:
    """``calibrate_batch`` as a Dask worker's task: its kernel on one core, the other workers on the others."""
    with kernel_threads(1 if on_a_worker() else 0):
        return calibrate_batch(*args, **kwargs)


def calibrate_batch(config: ParkConfig, problems: dict[int, tuple[xr.Dataset, list[Measurement]]],
                    parameters: list[Parameter], start: dict[str, float] | None = None,
                    loss: str = "soft_l1", input_noise: dict[str, float] | None = None,
                    input_draws: int = INPUT_DRAWS) -> list[CellFit]:
    """Fit every cell of ``problems`` (index -> one-cell inputs and measurements) in one joint problem.

    One replay evaluates every cell (``batch_config``); the joint Jacobian is block-diagonal (a cell's
    residuals depend on its own parameters only), which ``least_squares`` is told through
    ``jac_sparsity``: its finite differences then perturb one parameter of every cell at once, so a
    Jacobian costs as many replays as there are parameters, however many cells. Each cell's standard
    errors and correlations come from its own block. Returns the fits in the order of ``sorted(problems)``.

    ``input_noise`` gives the standard deviation of recorded inputs' values on the measurement clock
    by input name (e.g. ``{"line_current": 160.0}`` A for 10-min means of a noisy line current).
    Replay takes inputs as true, but the bath integrates them (the alumina a cell eats is the
    integral of its current), so their noise moves the estimates more than the measurement noise
    alone says. Its share of the standard errors is found by ``input_draws`` replays at the optimum
    with the inputs perturbed by that noise, each turned into a parameter shift by one Gauss-Newton
    step; the shifts' covariance adds to the measurement part (errors in variables, linearised).
    """
    from scipy.sparse import lil_matrix

    names = [p.name for p in parameters]
    unknown = [n for n in names if n not in PER_CELL_KEYS]
    if unknown:
        raise ValueError(f"not cell parameters: {unknown}; calibration fits the keys of "
                         f"twin.config.PER_CELL_KEYS: {', '.join(PER_CELL_KEYS)}")
    for par in parameters:
        _check_bounds(par.name, par.lower, par.upper)
        first = float((start or {}).get(par.name, getattr(_smelter(config).cell, par.name)))
        if not par.lower <= first <= par.upper:
            raise ValueError(f"{par.name}: the start {first:g} is outside the bounds {par.lower:g}..{par.upper:g}")
    cells = sorted(problems)
    n, p = len(cells), len(parameters)
    inputs, position, line_sizes = batch_inputs([problems[k][0] for k in cells])
    measured = [problems[k][1] for k in cells]
    variables = tuple(sorted({m.variable for ms in measured for m in ms}))
    observed = [[np.isfinite(m.values) for m in ms] for ms in measured]
    counts = [int(sum(o.sum() for o in obs)) for obs in observed]
    for k, count in zip(cells, counts, strict=True):
        if count <= p:
            raise ValueError(f"cell {k}: {count} observations cannot determine {p} parameters")
    x0 = np.tile([p_.to_search(float((start or {}).get(p_.name, getattr(_smelter(config).cell, p_.name))))
                  for p_ in parameters], n)
    lower = np.tile([p_.to_search(p_.lower) for p_ in parameters], n)
    upper = np.tile([p_.to_search(p_.upper) for p_ in parameters], n)
    rows = np.concatenate([[0], np.cumsum(counts)])
    sparsity = lil_matrix((int(rows[-1]), n * p), dtype=int)
    for i in range(n):
        sparsity[rows[i]:rows[i + 1], i * p:(i + 1) * p] = 1
    calls = {"n": 0}
    left, messages = np.zeros(n, bool), [""] * n
    # the batch's park is built once; each trial restores it with its values (the bounds were checked against the
    # config's ranges above, so a trial's values need no validation)
    batch = BatchReplay(batch_config(config, [{}] * n, line_sizes), inputs, variables, independent_cells=True)

    def residuals(z: np.ndarray, driven_by: xr.Dataset | None = None) -> np.ndarray:
        calls["n"] += 1
        values: list[dict[str, float]] = [{} for _ in range(n)]
        for i in range(n):
            values[position[i]] = {par.name: par.from_search(z[i * p + j]) for j, par in enumerate(parameters)}
        try:
            got = batch(values, driven_by)
        except SteadyStateError:
            # a trial design with no steady heat balance: a cost far above any fit's, so the trust
            # region draws back from it (a finite value: least_squares cannot take inf)
            return np.full(int(rows[-1]), INFEASIBLE_RESIDUAL)
        # a cell whose replay left physics: the same, for that cell alone
        left[:] = [got["left_physics"][position[i]] for i in range(n)]
        messages[:] = [got["physics_messages"][position[i]] for i in range(n)]
        return np.concatenate([np.full(int(o.sum()), INFEASIBLE_RESIDUAL) if left[i]
                               else (got[m.variable][:, position[i]] - m.values)[o] / m.noise
                               for i in range(n) for m, o in zip(measured[i], observed[i], strict=True)])

    # one cell: a small dense problem (scipy's sparse path needs more than one unknown)
    sparse = {"jac_sparsity": sparsity, "tr_solver": "lsmr"} if n > 1 else {}
    fit = least_squares(residuals, x0, bounds=(lower, upper), loss=loss, x_scale="jac", diff_step=1e-4,
                        xtol=1e-6, ftol=1e-8, **sparse)   # 1e-6 of a parameter: far below its standard error
    jac = fit.jac.tocsr() if hasattr(fit.jac, "tocsr") else np.asarray(fit.jac)
    blocks = []
    for i in range(n):
        j_i = jac[rows[i]:rows[i + 1]][:, i * p:(i + 1) * p]
        blocks.append(j_i.toarray() if hasattr(j_i, "toarray") else np.asarray(j_i))
    residuals(fit.x)                       # which cells the replay at the estimates leaves in physics
    left_at_fit, why = left.copy(), list(messages)
    shifts = _input_noise_shifts(config, inputs, input_noise or {}, input_draws, fit, residuals, blocks, rows)
    fits = []
    for i in range(n):
        j_i, r_i = blocks[i], fit.fun[rows[i]:rows[i + 1]]
        s2 = float(np.sum(r_i ** 2)) / max(counts[i] - p, 1)   # misfit the noise model did not explain
        try:
            cov_z = np.linalg.inv(j_i.T @ j_i) * s2 * _autocorrelation_factor(r_i, observed[i])
        except np.linalg.LinAlgError:
            cov_z = np.full((p, p), np.nan)
        cov_inputs = shifts[:, i].T @ shifts[:, i] / len(shifts) if len(shifts) else np.zeros((p, p))
        cov_z = cov_z + cov_inputs
        est = np.array([par.from_search(v) for par, v in zip(parameters, fit.x[i * p:(i + 1) * p], strict=True)])
        # standard errors in the parameters' own units (delta method for log-searched ones)
        scale = np.array([e if par.log else 1.0 for par, e in zip(parameters, est, strict=True)])
        d = np.sqrt(np.diag(cov_z))
        success, message = _verdict(bool(fit.success), fit.message, left_at_fit[i], why[i], d * scale, est,
                                    parameters)
        fits.append(CellFit(names, est, d * scale, cov_z / np.outer(d, d), 0.5 * float(np.sum(r_i ** 2)),
                            counts[i], calls["n"], success, message, np.sqrt(np.diag(cov_inputs)) * scale))
    return fits


def _verdict(converged: bool, message: str, left_physics: bool, why: str, std_errors: np.ndarray,
             estimates: np.ndarray, parameters: list[Parameter]) -> tuple[bool, str]:
    """A fit counts as a success only if the optimiser converged, the replay at its estimates stays in
    physics, every standard error is a finite number and no estimate sits on its bound (where the bound,
    not the data, decided it)."""
    if not converged:
        return False, message
    if left_physics:
        return False, f"the replay at the estimates leaves physics ({why}): not a fit"
    if not np.all(np.isfinite(std_errors)):
        return False, "standard errors undetermined (the data do not constrain every parameter)"
    for par, est in zip(parameters, estimates, strict=True):
        if min(est - par.lower, par.upper - est) <= 1e-6 * max(abs(par.upper - par.lower), 1e-12):
            return False, f"{par.name} = {est:g} is on its bound ({par.lower:g}..{par.upper:g}): the bound decided it"
    return True, message


def _input_noise_shifts(config: ParkConfig, inputs: xr.Dataset, noise: dict[str, float], draws: int, fit,
                        residuals, blocks: list[np.ndarray], rows: np.ndarray) -> np.ndarray:
    """Parameter shifts (draw x cell x parameter, search space) that the inputs' noise causes.

    Each draw perturbs the inputs named in ``noise`` by independent normal errors on the measurement
    clock (held over its input steps), replays every cell at the optimum and takes one Gauss-Newton
    step on the change of its residuals. The draws are seeded: a fit is reproducible.
    """
    from twin.replay import input_clock

    if not noise:
        return np.zeros((0, len(blocks), blocks[0].shape[1]))
    unknown = sorted(set(noise) - set(inputs.data_vars))
    if unknown:
        raise ValueError(f"input_noise names {unknown}, which the replay inputs do not hold "
                         f"({', '.join(sorted(map(str, inputs.data_vars)))})")
    _, per_record = input_clock(inputs, config.run)
    rng = np.random.default_rng(INPUT_NOISE_SEED)
    shifts = np.zeros((draws, len(blocks), blocks[0].shape[1]))
    for d in range(draws):
        perturbed = inputs.copy()
        for name, sd in noise.items():
            values = np.asarray(inputs[name].values, float)
            error = rng.normal(0.0, sd, (values.shape[0] // per_record, *values.shape[1:]))
            perturbed[name] = (inputs[name].dims, values + np.repeat(error, per_record, axis=0))
        change = residuals(fit.x, perturbed) - fit.fun
        for i, j_i in enumerate(blocks):
            shifts[d, i] = -np.linalg.lstsq(j_i, change[rows[i]:rows[i + 1]], rcond=None)[0]
    return shifts


def _autocorrelation_factor(residuals: np.ndarray, observed: list[np.ndarray]) -> float:
    """Variance inflation for residuals that are correlated in time (a replay's misfit is).

    Each measured series is taken as AR(1) with its lag-1 autocorrelation rho: n observations carry
    the information of n (1 - rho)/(1 + rho) independent ones. The largest factor is used.
    """
    factor, start = 1.0, 0
    for mask in observed:
        r = residuals[start:start + int(mask.sum())]
        start += int(mask.sum())
        if len(r) > 3 and np.std(r) > 0:
            rho = float(np.clip(np.corrcoef(r[:-1], r[1:])[0, 1], 0.0, 0.98))
            factor = max(factor, (1.0 + rho) / (1.0 - rho))
    return factor


def calibrate_cells(config: ParkConfig, problems: dict[int, tuple[xr.Dataset, list[Measurement]]],
                    parameters: list[Parameter], scheduler: str | None = None, n_workers: int = 2,
                    batch_size: int | None = None, input_noise: dict[str, float] | None = None,
                    progress: bool = False) -> xr.Dataset:
    """Calibrate many cells on Dask: a LocalCluster, or the scheduler at ``scheduler`` (``progress``: a bar of the
    cells whose batch is done, tqdm on stderr; smaller batches, ``batch_size``, move it more often).

    ``problems`` maps a cell index to its replay inputs and measurements. Cells go to the workers in
    batches (``batch_size``; default: as many batches as workers), each batch one ``calibrate_batch``
    (``input_noise`` as there). Returns estimates, standard errors (and their part from the inputs'
    noise), cost, observations and evaluations by ``cell`` (and the correlations) as a dataset.
    """
    from dask.distributed import as_completed

    if n_workers < 1 or (batch_size is not None and batch_size < 1):
        raise ValueError(f"workers ({n_workers}) and batch size ({batch_size}) must be at least 1")
    cells = sorted(problems)
    size = batch_size or max(1, -(-len(cells) // n_workers))
    batches = [cells[i:i + size] for i in range(0, len(cells), size)]
    with dask_client(scheduler, n_workers) as (client, local):
        # the data go to the workers once, as futures, not inside the task graph
        data = [client.scatter({k: problems[k] for k in batch}, direct=local) for batch in batches]
        futures = [client.submit(_batch_on_one_core, config, part, parameters, input_noise=input_noise,
                                 key=f"calibrate-cells-{batch[0]}-{batch[-1]}", pure=False)
                   for part, batch in zip(data, batches, strict=True)]
        done: dict[int, list[CellFit]] = {}
        index = {future.key: i for i, future in enumerate(futures)}
        with tqdm(total=len(cells), desc="cells fitted", unit="cell", disable=not progress) as bar:
            for future in as_completed(futures, loop=client.loop):        # the client is not the default one
                i = index[future.key]
                done[i] = future.result()
                bar.update(len(batches[i]))
        fits: list[CellFit] = [f for i in range(len(futures)) for f in done[i]]
    names = [p.name for p in parameters]
    return xr.Dataset(
        {
            "estimate": (("cell", "parameter"), np.array([f.estimates for f in fits])),
            "std_error": (("cell", "parameter"), np.array([f.std_errors for f in fits])),
            "std_error_inputs": (("cell", "parameter"), np.array([f.input_std_errors for f in fits])),
            "correlation": (("cell", "parameter", "parameter_2"), np.array([f.correlation for f in fits])),
            "cost": ("cell", np.array([f.cost for f in fits])),
            "observations": ("cell", np.array([f.observations for f in fits])),
            "evaluations": ("cell", np.array([f.evaluations for f in fits])),
            "success": ("cell", np.array([f.success for f in fits])),
        },
        coords={"cell": cells, "parameter": names, "parameter_2": names},
        attrs={"title": "alutwin calibration by cell", "method": "scipy.optimize.least_squares (trf), batched replay",
               **{f"input_noise_{name}": sd for name, sd in (input_noise or {}).items()}},
    )


def write_calibration(result: xr.Dataset, path: str | Path) -> Path:
    """Write the estimates of ``calibrate_cells`` as ``[[smelter.cell_overrides]]`` for ``twin run``.

    Only cells whose fit succeeded are written; use with ``twin run PARK --calibration FILE``.
    """
    path = Path(path)
    lines = ["# alutwin calibration: per-cell parameters estimated by twin.calibrate (least_squares by replay)",
             "# use: twin run PARK.toml --calibration THIS.toml", ""]
    for k in result.cell.values:
        fit = result.sel(cell=k)
        if not bool(fit.success):
            continue
        lines += ["[[smelter.cell_overrides]]", f"cells = [{int(k)}]"]
        for name in result.parameter.values:
            est = float(fit.estimate.sel(parameter=name))
            se = float(fit.std_error.sel(parameter=name))
            lines.append(f"{name} = {est!r}   # +- {se:.3g} (1 standard error)")
        lines.append("")
    write_whole(path, lambda f: f.write("\n".join(lines).encode("utf-8")))
    return path


# -- batch calibration from files (``twin calibrate``) -------------------------------------------------------

class _FitParameter(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    name: str
    lower: float
    upper: float
    log: bool = False

    @model_validator(mode="after")
    def _bounds(self) -> _FitParameter:
        if not self.lower < self.upper:
            raise ValueError(f"{self.name}: lower = {self.lower:g} must be below upper = {self.upper:g}")
        if self.name not in PER_CELL_KEYS:
            raise ValueError(f"{self.name!r} is not a per-cell parameter; allowed: {', '.join(PER_CELL_KEYS)}")
        if self.log and self.lower <= 0:
            raise ValueError(f"{self.name}: a log-searched parameter needs lower > 0, got {self.lower:g}")
        _check_bounds(self.name, self.lower, self.upper)
        return self


class _FitMeasurement(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    variable: str
    noise: Annotated[float, Field(gt=0)]


class _FitInput(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    variable: Literal["line_current"]
    noise: Annotated[float, Field(gt=0)] | None = None     # of one value on the data's clock; None: estimated


class FitSpec(BaseModel):
    """What ``twin calibrate`` fits (``[[parameter]]``), against what (``[[measurement]]``), and which
    recorded inputs are noisy enough to count in the standard errors (``[[input]]``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    parameter: Annotated[list[_FitParameter], Field(min_length=1)]
    measurement: Annotated[list[_FitMeasurement], Field(min_length=1)]
    input: list[_FitInput] = []

    def parameters(self) -> list[Parameter]:
        return [Parameter(p.name, p.lower, p.upper, p.log) for p in self.parameter]

    def input_noise(self, data: xr.Dataset) -> dict[str, float]:
        """The ``[[input]]`` noises, those not given estimated from ``data`` (``interval_noise``)."""
        return {i.variable: i.noise if i.noise is not None else interval_noise(np.asarray(data[i.variable].values))
                for i in self.input}


def interval_noise(values: np.ndarray) -> float:
    """Noise (standard deviation) of one value of a regulated signal on the model clock, e.g. the line
    current, from the data: the robust spread of successive differences (1.4826 x their median
    absolute deviation) over sqrt 2.

    Valid where the signal itself moves much less than its noise from one interval to the next: a
    regulated line current does (its set-point steps and dips are few, and the median ignores them).
    Gaps (NaN) are skipped; series are taken column by column and pooled.
    """
    diffs = np.diff(np.asarray(values, float).reshape(len(values), -1), axis=0).ravel()
    diffs = diffs[np.isfinite(diffs)]
    if diffs.size < 10:
        raise ValueError(f"{diffs.size} successive differences cannot estimate an input's noise; give noise = ...")
    return float(1.4826 * np.median(np.abs(diffs - np.median(diffs))) / np.sqrt(2.0))


def load_fit(path: str | Path) -> FitSpec:
    """Read a fit TOML (see ``configs/calibration/``); errors name the file, key and value."""
    from pydantic import ValidationError

    path = Path(path)
    data = read_toml(path)
    try:
        return FitSpec.model_validate(data)
    except ValidationError as err:
        lines = [f"{path}: invalid fit ({err.error_count()} problem(s))"]
        for e in err.errors():
            loc = ".".join(str(x) for x in e["loc"])
            lines.append(f"  {loc}: {e['msg']}" + (f" (value {e['input']!r})" if not isinstance(e["input"], dict)
                                                  else ""))
        raise ConfigError("\n".join(lines)) from None


# observations a cell needs per fitted parameter: fewer cannot estimate it and its standard error (a fit of 2
# values for 2 parameters "converges" exactly, with a meaningless error) [A]
MIN_OBSERVATIONS_PER_PARAMETER = 5


def check_problems(config: ParkConfig, data: xr.Dataset, problems: dict, spec: FitSpec, source: str) -> None:
    """Refuse, before a cluster starts, what calibration cannot fit: data of another number of cells or lines
    than the park, a start (the park's design value) outside a parameter's bounds, a cell with too few
    observations for its parameters. One line each (``ValueError``), naming the file, the key or the cell."""
    sm = _smelter(config)
    cells, lines = sum(ln.cells for ln in sm.potlines), len(sm.potlines)
    have_cells, have_lines = data.sizes.get("cell", 0), data.sizes.get("line", 0)
    if (have_cells, have_lines) != (cells, lines):
        raise ValueError(f"{source}: holds {have_cells} cells on {have_lines} lines, the park {cells} cells on "
                         f"{lines} lines: the data is not of this park")
    for par in spec.parameter:
        start = float(getattr(sm.cell, par.name))
        if not par.lower <= start <= par.upper:
            raise ValueError(f"parameter {par.name}: the fit starts at the park's {start:g}, outside its bounds "
                             f"{par.lower:g}..{par.upper:g}; widen the bounds or change the park's value")
    needed = MIN_OBSERVATIONS_PER_PARAMETER * len(spec.parameter)
    for k, (_, measured) in problems.items():
        have = sum(int(np.isfinite(m.values).sum()) for m in measured)
        if have < needed:
            raise ValueError(f"{source}: cell {k} has {have} observations of {', '.join(m.variable for m in measured)}"
                             f"; {len(spec.parameter)} parameters need at least {needed} "
                             f"({MIN_OBSERVATIONS_PER_PARAMETER} per parameter)")


def problems_from_data(data: xr.Dataset, cells: list[int], spec: FitSpec,
                       step_s: float | None = None) -> dict[int, tuple[xr.Dataset, list[Measurement]]]:
    """One-cell replay inputs and measurements for ``cells`` from an ingested historian dataset
    (``twin ingest``) or a twin results file.

    ``step_s`` is the clock of the replay inputs made from a historian's event logs (default: the
    data's interval). ``twin calibrate`` uses the park's slow step: the feed and the beam moves then
    land within a minute of their time stamps instead of somewhere in a 10-min interval, which
    removes most of replay's misfit (~3.6 -> ~0.4 mV RMS in 10-min voltage means).

    Signals (``time`` x ``cell``) are measurements as they are; manual samples (historian records with
    their own timestamps, e.g. bath temperatures) count in the output interval that holds them.
    """
    from twin.replay import inputs_from_historian, inputs_from_results

    historian = "sample_variable" in data
    inputs = inputs_from_historian(data, step_s) if historian else inputs_from_results(data)
    cell_line = np.asarray(data["cell_line"].values, dtype=int)
    n_time = data.sizes["time"]
    known = {str(v) for v in np.unique(data.sample_variable.values)} if historian else set()
    known |= {str(name) for name in data.data_vars if data[name].dims == ("time", "cell")}
    for m in spec.measurement:
        if m.variable not in known:
            raise ValueError(f"measurement {m.variable!r} is not in the data; it holds: {', '.join(sorted(known))}")
    problems = {}
    for k in cells:
        if not 0 <= k < data.sizes["cell"]:
            raise ValueError(f"cell {k} is not in the data (cells 0..{data.sizes['cell'] - 1})")
        measured = []
        for m in spec.measurement:
            if m.variable in data and data[m.variable].dims == ("time", "cell"):
                values = np.asarray(data[m.variable].values[:, k], float)
            else:
                values = np.full(n_time, np.nan)
                chosen = (data.sample_variable.values == m.variable) & (data.sample_index.values == k)
                bins = np.searchsorted(data.time.values, data.sample_time.values[chosen], side="left")
                inside = bins < n_time
                values[bins[inside]] = data.sample_value.values[chosen][inside]
            measured.append(Measurement(m.variable, values, m.noise))
        problems[k] = (inputs.isel(cell=[k], line=[int(cell_line[k])]), measured)
    return problems
