"""A plant manager's figures of a results file: KPIs by line and by day, by pot, and binned maps of the cells.

One pass over the file, a day of records at a time, so memory does not grow with the run's length (a plant-year
holds 52,560 records of 720 cells): what is kept is per day and line, per pot, per record and line, and the maps'
bins. Totals come from the counters (each record holds its interval's), so a day's metal is the metal made in it;
current efficiency is that metal over Faraday's for the charge the cells in the line carried.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from tqdm import tqdm

from twin._core.pot import AL_KG_PER_COULOMB

__all__ = ["TARGETS", "PlantKPIs", "by_day", "plant_kpis"]

# Target bands: typical values of a modern 400-600 kA prebake cell (Grjotheim & Kvande; Kvande & Drablos 2014, as
# compiled in the project's smelter notes sec. 3.1 [M]): what a plant aims for, not limits of the model.
# name: (low, high, unit, label)
TARGETS: dict[str, tuple[float, float, str, str]] = {
    "current_efficiency": (93.0, 96.0, "%", "current efficiency"),
    "specific_energy": (12.5, 14.0, "kWh/kg Al", "DC energy"),
    "cell_voltage": (3.9, 4.3, "V", "cell voltage"),
    "bath_temperature": (950.0, 965.0, "degC", "bath temperature"),
    "superheat": (5.0, 12.0, "K", "superheat"),
    "excess_alf3": (10.0, 13.0, "wt %", "excess AlF3"),
    "alumina": (2.0, 3.0, "wt %", "dissolved alumina"),
    "alf3_use": (15.0, 25.0, "kg/t Al", "AlF3 use"),
    "net_carbon": (400.0, 430.0, "kg/t Al", "net carbon"),
    "ae_frequency": (0.0, 0.05, "per pot-day", "anode effects"),
    "ae_minutes": (0.0, 0.1, "min per pot-day", "AE minutes"),
}
MEANS = ("cell_voltage", "bath_temperature", "superheat", "excess_alf3", "alumina")   # averaged over cells in line
TOTALS = ("metal_produced", "energy_dc", "alumina_fed", "alf3_added", "carbon_consumed", "anode_effect_count",
          "anode_effect_minutes", "lvae_minutes", "out_of_range")
MAPS = ("cell_voltage", "superheat", "alumina")


@dataclass
class PlantKPIs:
    """What `plant_kpis` finds. ``daily``: one row per (day, line); ``lines``: one row per line over the run;
    ``pots``: one row per pot over the run; ``series``: line means per record (name -> array time x line);
    ``maps``: per line, per variable, the mean of each bin of pots x records (pots in rows); ``map_edges``: the
    bins' time edges (UTC, numpy datetime64) and, per line, how many pots each row holds."""

    daily: pd.DataFrame
    lines: pd.DataFrame
    pots: pd.DataFrame
    times: np.ndarray
    series: dict[str, np.ndarray]
    maps: dict[str, dict[str, np.ndarray]]
    map_edges: np.ndarray
    pots_per_row: dict[str, int]


def _ratios(t: dict[str, np.ndarray], charge_C: np.ndarray, pot_days: np.ndarray) -> dict[str, np.ndarray]:
    """KPIs from totals (``t``: name -> totals over whatever the rows are) and the charge and pot-days of the rows."""
    metal = t["metal_produced"]
    with np.errstate(invalid="ignore", divide="ignore"):
        per_t = 1e3 / metal
        return {
            "metal_t": metal / 1e3,
            "current_efficiency": 100.0 * metal / (AL_KG_PER_COULOMB * charge_C),
            "specific_energy": t["energy_dc"] / metal,
            "alumina_use": t["alumina_fed"] * per_t,
            "alf3_use": t["alf3_added"] * per_t,
            "net_carbon": t["carbon_consumed"] * per_t,
            "ae_frequency": t["anode_effect_count"] / pot_days,
            "ae_minutes": t["anode_effect_minutes"] / pot_days,
            "lvae_minutes": t["lvae_minutes"] / pot_days,
            "hours_outside_validity": t["out_of_range"] / 3600.0,
        }


def plant_kpis(ds: xr.Dataset, time_bins: int = 600, pot_bins: int = 120, progress: bool = False) -> PlantKPIs:
    """KPIs of a results file opened with `twin.open_results` (read a day of records at a time).

    ``time_bins`` and ``pot_bins`` bound the maps' size: each map value is the mean of the records and pots of
    its bin (a figure's pixel shows all its cells, not every n-th one).
    """
    dt = float(ds.attrs["output_interval_s"])
    times = ds.time.values
    n_time, n_cells = ds.sizes["time"], ds.sizes["cell"]
    cell_line = np.asarray(ds.cell_line.values)
    line_names = [str(n) for n in ds.line.values]
    n_lines = len(line_names)
    members = [np.flatnonzero(cell_line == j) for j in range(n_lines)]
    # interval (t - dt, t] belongs to the day it starts in
    day_of = (times - np.timedelta64(round(dt * 1e6), "us")).astype("datetime64[D]")
    starts = np.flatnonzero(np.r_[True, day_of[1:] != day_of[:-1]])
    ends = np.r_[starts[1:], n_time]

    n_tb = min(time_bins, n_time)
    time_bin = np.arange(n_time) * n_tb // n_time
    rows = {name: max(1, -(-len(m) // pot_bins)) for name, m in zip(line_names, members, strict=True)}
    pot_bin = [np.arange(len(m)) // rows[name] for name, m in zip(line_names, members, strict=True)]
    map_sum = {name: {v: np.zeros((pot_bin[j][-1] + 1, n_tb)) for v in MAPS} for j, name in enumerate(line_names)}
    map_n = {name: {v: np.zeros((pot_bin[j][-1] + 1, n_tb)) for v in MAPS} for j, name in enumerate(line_names)}

    pot_totals = {name: np.zeros(n_cells) for name in TOTALS}
    pot_sums = {name: np.zeros(n_cells) for name in MEANS}
    pot_counts = np.zeros(n_cells)
    pot_charge, pot_days = np.zeros(n_cells), np.zeros(n_cells)
    series = {name: np.full((n_time, n_lines), np.nan) for name in (*MEANS, "line_current", "pots_in_service")}
    daily_rows = []
    for i0, i1 in tqdm(list(zip(starts, ends, strict=True)), desc="days read", unit="day", disable=not progress,
                       leave=False):
        chunk = ds.isel(time=slice(int(i0), int(i1)))
        current = np.asarray(chunk.line_current.values, float)                  # A, (t, line)
        in_line = np.asarray(chunk.in_service.values, float) if "in_service" in chunk \
            else np.ones((i1 - i0, n_cells))
        charge = current[:, cell_line] * in_line * dt                           # C per record and cell
        totals = {name: np.nan_to_num(np.asarray(chunk[name].values, float)) for name in TOTALS}
        means = {name: np.asarray(chunk[name].values, float) for name in MEANS}
        for name in TOTALS:
            pot_totals[name] += totals[name].sum(axis=0)
        for name in MEANS:
            pot_sums[name] += np.nansum(means[name], axis=0)
        pot_counts += np.isfinite(means["cell_voltage"]).sum(axis=0)
        pot_charge += charge.sum(axis=0)
        pot_days += in_line.sum(axis=0) * dt / 86400.0
        for j, name in enumerate(line_names):
            m = members[j]
            for v in MEANS:
                series[v][i0:i1, j] = _nanmean(means[v][:, m], axis=1)
            series["line_current"][i0:i1, j] = current[:, j]
            series["pots_in_service"][i0:i1, j] = in_line[:, m].sum(axis=1)
            line_t = {v: totals[v][:, m].sum() for v in TOTALS}
            kpi = _ratios(line_t, charge[:, m].sum(), in_line[:, m].sum() * dt / 86400.0)
            daily_rows.append({"day": pd.Timestamp(day_of[i0]), "line": name,
                               "pots_in_service": float(in_line[:, m].sum(axis=1).mean()),
                               "line_current_kA": float(current[:, j].mean()) / 1e3, **_scalar(kpi),
                               **{v: float(_nanmean(means[v][:, m])) for v in MEANS}})
            for v in MAPS:
                values = means[v][:, m]
                ok = np.isfinite(values)
                onehot = np.zeros((len(m), pot_bin[j][-1] + 1))
                onehot[np.arange(len(m)), pot_bin[j]] = 1.0
                np.add.at(map_sum[name][v].T, time_bin[i0:i1], np.where(ok, values, 0.0) @ onehot)
                np.add.at(map_n[name][v].T, time_bin[i0:i1], ok.astype(float) @ onehot)
    daily = pd.DataFrame(daily_rows).set_index(["day", "line"])
    pots = _pot_table(ds, pot_totals, pot_sums, pot_counts, pot_charge, pot_days)
    lines = _line_table(pots, cell_line, line_names, pot_totals, pot_charge, pot_days)
    with np.errstate(invalid="ignore"):
        maps = {name: {v: map_sum[name][v] / map_n[name][v] for v in MAPS} for name in line_names}
    first = times[0] - np.timedelta64(round(dt * 1e6), "us")
    edge_index = np.r_[np.searchsorted(time_bin, np.arange(n_tb)), n_time]
    edges = np.r_[first, times][edge_index]
    return PlantKPIs(daily, lines, pots, times, series, maps, edges, rows)


def _nanmean(values: np.ndarray, axis: int | None = None) -> np.ndarray:
    """Mean of the finite values (NaN where there are none: cells cut out), without numpy's empty-slice warning."""
    ok = np.isfinite(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, values, 0.0).sum(axis=axis) / ok.sum(axis=axis)


def _scalar(kpi: dict[str, np.ndarray]) -> dict[str, float]:
    return {k: float(v) for k, v in kpi.items()}


def _pot_table(ds, totals, sums, counts, charge, pot_days) -> pd.DataFrame:
    kpi = _ratios(totals, charge, pot_days)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = {name: sums[name] / counts for name in MEANS}
    table = pd.DataFrame({"line": [str(ds.line.values[j]) for j in ds.cell_line.values], **kpi, **means,
                          "anode_effects": totals["anode_effect_count"], "pot_days": pot_days},
                         index=pd.Index([str(p) for p in ds.pot.values], name="pot"))
    return table


def _line_table(pots, cell_line, line_names, totals, charge, pot_days) -> pd.DataFrame:
    rows = []
    for j, name in enumerate(line_names):
        m = cell_line == j
        kpi = _ratios({k: v[m].sum() for k, v in totals.items()}, charge[m].sum(), pot_days[m].sum())
        weights = pots.loc[m, "pot_days"].to_numpy()
        means = {v: float(np.average(np.nan_to_num(pots.loc[m, v].to_numpy()), weights=weights))
                 if weights.sum() > 0 else np.nan for v in MEANS}
        rows.append({"line": name, "pots": int(m.sum()), **_scalar(kpi), **means})
    return pd.DataFrame(rows).set_index("line")


def worst_pots(pots: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` pots that used most DC energy per kg of metal over the run (the plant's cost of a poor pot:
    low current efficiency or high voltage both show in it); pots that made no metal are left out."""
    return pots[pots.metal_t > 0].sort_values("specific_energy", ascending=False).head(n)


def outside(name: str, value: float) -> bool:
    """Is ``value`` outside the target band of ``name`` (a key of `TARGETS`)?"""
    low, high = TARGETS[name][:2]
    return bool(np.isfinite(value) and not low <= value <= high)


def by_day(ds: xr.Dataset, names: list[str] | None = None) -> xr.Dataset:
    """The records of ``ds`` by the UTC calendar day of their intervals: each variable as its ``cell_methods``
    says: summed ("time: sum", the counters), averaged ("time: mean") or the day's last value ("time: point").

    A record's ``time`` is its interval's end, so ``ds.metal_produced.resample(time="1D").sum()`` puts each
    day's last record (stamped 00:00 of the next day) into the next day: a phantom extra day. Here a record
    belongs to the day its interval starts in (``time_bounds``). ``records`` counts each day's records, so a
    day the run only began or ended in shows as short. Loads the chosen variables (``names``; default every
    one over time) a variable at a time."""
    start = ds["time_bounds"].isel(bounds=0).values
    day = xr.DataArray(start.astype("datetime64[D]").astype("datetime64[ns]"), dims="time", name="day")
    chosen = names if names is not None else [n for n, v in ds.data_vars.items()
                                              if "time" in v.dims and v.attrs.get("cell_methods")]
    out = {}
    for name in chosen:
        variable = ds[name]
        method = variable.attrs.get("cell_methods", "")
        grouped = (variable.load() if method == "time: point" else variable.astype("float64")).groupby(day)
        if method == "time: sum":
            daily = grouped.sum(min_count=1)
        elif method == "time: mean":
            daily = grouped.mean()
        elif method == "time: point":
            daily = grouped.last()
        else:
            raise ValueError(f"{name}: cell_methods {method!r} says neither sum, mean nor point over time; "
                             f"by_day aggregates the variables of a results file")
        out[name] = daily.assign_attrs(variable.attrs)
    records = xr.ones_like(day, dtype=int).groupby(day).sum().rename("records")
    return xr.Dataset(out, coords={"records": records}, attrs={"aggregated": "by UTC day of interval start"})
