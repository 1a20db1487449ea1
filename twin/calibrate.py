"""Calibration: fit a cell's uncertain parameters to what the plant measured, by replaying what it did.

For one cell: the twin is replayed on the cell's recorded inputs (``twin.replay``) with trial
parameters; residuals are the differences between its outputs and the measurements, each divided
by its measurement noise; ``scipy.optimize.least_squares`` (trust region, bounds, robust loss) finds
the parameters; standard errors and correlations come from the Jacobian at the optimum
(covariance = s^2 (J^T J)^-1, s^2 = the residual variance), inflated for residuals correlated in
time (AR(1) effective sample size), as a replay's misfit is.

Parameters are marked by name (keys of ``[smelter.cell]``, e.g. ``ua_top_W_per_K``,
``h_bath_ledge_W_per_m2K``, ``r_anode_uohm``, ``ce_ref``) with bounds and an optional log transform.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
from scipy.optimize import least_squares

from twin.config import ParkConfig
from twin.replay import replay

__all__ = ["CellFit", "Measurement", "Parameter", "calibrate_cell", "calibrate_cells", "write_calibration"]


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


def one_cell_config(config: ParkConfig, values: dict[str, float]) -> ParkConfig:
    """The config of a one-cell, one-line park with some cell parameters replaced (validated)."""
    cell = config.smelter.cell.model_validate({**config.smelter.cell.model_dump(), **values})
    line = config.smelter.potlines[0].model_copy(update={"cells": 1, "name": "replay"})
    smelter = config.smelter.model_copy(update={"cell": cell, "potlines": [line]})
    return config.model_copy(update={"smelter": smelter})


def calibrate_cell(config: ParkConfig, inputs: xr.Dataset, measurements: list[Measurement],
                   parameters: list[Parameter], start: dict[str, float] | None = None,
                   loss: str = "soft_l1") -> CellFit:
    """Fit ``parameters`` of one cell so its replay on ``inputs`` matches ``measurements``.

    ``inputs`` are one cell's and one line's replay inputs (``twin.replay``); ``start`` defaults to
    the configured values. Measurement NaNs are not observations.
    """
    names = [p.name for p in parameters]
    unknown = [n for n in names if n not in type(config.smelter.cell).model_fields]
    if unknown:
        raise ValueError(f"not cell parameters: {unknown}; see [smelter.cell] in the README")
    x0 = np.array([p.to_search((start or {}).get(p.name, getattr(config.smelter.cell, p.name)))
                   for p in parameters])
    lower = np.array([p.to_search(p.lower) for p in parameters])
    upper = np.array([p.to_search(p.upper) for p in parameters])
    observed = [np.isfinite(m.values) for m in measurements]
    n_obs = int(sum(o.sum() for o in observed))
    if n_obs <= len(parameters):
        raise ValueError(f"{n_obs} observations cannot determine {len(parameters)} parameters")
    calls = {"n": 0}

    def residuals(z: np.ndarray) -> np.ndarray:
        calls["n"] += 1
        values = {p.name: p.from_search(v) for p, v in zip(parameters, z, strict=True)}
        got = replay(one_cell_config(config, values), inputs, None,
                     collect=tuple({m.variable for m in measurements}))
        res = [(got[m.variable][:, 0] - m.values)[o] / m.noise for m, o in zip(measurements, observed, strict=True)]
        return np.concatenate(res)

    fit = least_squares(residuals, x0, bounds=(lower, upper), loss=loss, x_scale="jac",
                        diff_step=1e-4, xtol=1e-8, ftol=1e-10)
    jac = fit.jac
    dof = max(n_obs - len(parameters), 1)
    s2 = float(np.sum(fit.fun ** 2)) / dof      # residual variance: misfit the noise model did not explain
    try:
        cov_z = np.linalg.inv(jac.T @ jac) * s2 * _autocorrelation_factor(fit.fun, observed)
    except np.linalg.LinAlgError:
        cov_z = np.full((len(parameters), len(parameters)), np.nan)
    est = np.array([p.from_search(v) for p, v in zip(parameters, fit.x, strict=True)])
    # standard errors in the parameters' own units (delta method for log-searched ones)
    scale = np.array([e if p.log else 1.0 for p, e in zip(parameters, est, strict=True)])
    se = np.sqrt(np.diag(cov_z)) * scale
    d = np.sqrt(np.diag(cov_z))
    corr = cov_z / np.outer(d, d)
    return CellFit(names, est, se, corr, float(fit.cost), n_obs, calls["n"], bool(fit.success), fit.message)


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
                    parameters: list[Parameter], scheduler: str | None = None, n_workers: int = 2) -> xr.Dataset:
    """Calibrate many cells independently on Dask: a LocalCluster, or the scheduler at ``scheduler``.

    ``problems`` maps a cell index to its replay inputs and measurements. Returns estimates, standard
    errors, cost, observations and evaluations by ``cell`` (and the correlations) as a dataset.
    """
    from dask.distributed import Client, LocalCluster

    if scheduler:
        client, cluster = Client(scheduler), None
    else:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        cells = sorted(problems)
        futures = [client.submit(calibrate_cell, config, problems[k][0], problems[k][1], parameters,
                                 key=f"calibrate-cell-{k}", pure=False) for k in cells]
        fits: list[CellFit] = client.gather(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    names = [p.name for p in parameters]
    return xr.Dataset(
        {
            "estimate": (("cell", "parameter"), np.array([f.estimates for f in fits])),
            "std_error": (("cell", "parameter"), np.array([f.std_errors for f in fits])),
            "correlation": (("cell", "parameter", "parameter_2"), np.array([f.correlation for f in fits])),
            "cost": ("cell", np.array([f.cost for f in fits])),
            "observations": ("cell", np.array([f.observations for f in fits])),
            "evaluations": ("cell", np.array([f.evaluations for f in fits])),
            "success": ("cell", np.array([f.success for f in fits])),
        },
        coords={"cell": cells, "parameter": names, "parameter_2": names},
        attrs={"title": "alutwin calibration by cell", "method": "scipy.optimize.least_squares (trf), replay"},
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
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
