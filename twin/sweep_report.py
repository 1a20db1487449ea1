"""An HTML page of a sweep (``twin report SWEEP.nc``): what the axes or the sampled keys do to the KPIs.

A grid of two or more axes: a heat map per KPI and line over the first two axes (further axes at their first
value, said under the figure); one axis: response lines per line. A sampled design: each KPI against each key,
and where the sweep computed them, a tornado chart of the sensitivity indices (Sobol total or Morris mu*) with
their confidence intervals. The failed points are listed with their messages.
"""
from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import xarray as xr

from twin.report import page, pairs, save_figure
from twin.results import READ_ENGINE
from twin.sweeps import KPIS

__all__ = ["SHOWN", "is_sweep", "sweep_report"]

SHOWN = ("current_efficiency", "specific_energy", "superheat", "cell_voltage")   # the KPIs on the page


def is_sweep(path: str | Path) -> bool:
    """True if ``path`` is a sweep's dataset (``twin.sweep``), not a run's results file."""
    try:
        with xr.open_dataset(path, engine=READ_ENGINE) as ds:
            return ds.attrs.get("title") == "alutwin sweep"
    except (OSError, ValueError):
        return False


def sweep_report(path: str | Path, out: str | Path | None = None) -> Path:
    """Write the page of the sweep in ``path`` into ``out`` (default ``<sweep>-report``); return index.html."""
    import matplotlib
    matplotlib.use("Agg")

    path = Path(path)
    with xr.open_dataset(path, engine=READ_ENGINE) as f:
        ds = f.load()
    out = Path(out) if out is not None else path.with_name(path.stem + "-report")
    out.mkdir(parents=True, exist_ok=True)
    axes = [d for d in ds.failed.dims]
    failed = int(ds.failed.sum())
    parts = [f"<h1>alutwin sweep: {html.escape(path.name)}</h1>",
             pairs([("sweep", str(ds.attrs.get("source_sweep", ""))),
                     ("points", f"{int(ds.failed.size)} over {', '.join(f'{d} ({ds.sizes[d]})' for d in axes)}"),
                     ("failed", str(failed))])]
    if "point" in ds.dims:
        keys = [str(name) for name, c in ds.coords.items() if c.dims == ("point",) and name != "point"]
        parts.append("<h2>KPIs against the sampled keys</h2>" + "".join(
            f'<img src="{_scatter(ds, kpi, keys, out)}" alt="{kpi}">' for kpi in SHOWN))
        for indices in ("sobol_total", "morris_mu_star"):
            if indices in ds:
                parts.append(f"<h2>Sensitivity ({html.escape(str(ds.attrs.get('sensitivity', '')))})</h2>"
                             f'<img src="{_tornado(ds, indices, out)}" alt="sensitivity">')
    elif len(axes) >= 2:
        rest = [f"{d} = {ds[d].values[0]}" for d in axes[2:]]
        note = f"<p class='note'>other axes at {', '.join(rest)}</p>" if rest else ""
        parts.append("<h2>KPIs over the first two axes</h2>" + "".join(
            f'<img src="{_heat_map(ds, kpi, axes, out)}" alt="{kpi}">' for kpi in SHOWN) + note)
    else:
        parts.append("<h2>KPIs along the axis</h2>" + "".join(
            f'<img src="{_response(ds, kpi, axes[0], out)}" alt="{kpi}">' for kpi in SHOWN))
    if failed:
        rows = [(", ".join(f"{d} = {ds[d].values[i]}" for d, i in zip(axes, idx, strict=True)),
                 str(ds.message.values[idx])) for idx in zip(*np.nonzero(ds.failed.values), strict=True)]
        parts.append("<h2>Failed points</h2>" + pairs(rows))
    index = out / "index.html"
    index.write_text(page(parts), encoding="utf-8")
    return index


def _label(kpi: str) -> str:
    unit, what = KPIS[kpi]
    return f"{what} ({unit})"


def _heat_map(ds: xr.Dataset, kpi: str, axes: list[str], out: Path) -> str:
    import matplotlib.pyplot as plt

    lines = [str(v) for v in ds.line.values]
    fig, panels = plt.subplots(1, len(lines), figsize=(5 * len(lines), 4), squeeze=False)
    first = {d: 0 for d in axes[2:]}
    for ax, line in zip(panels[0], lines, strict=True):
        values = ds[kpi].sel(line=line).isel(first).transpose(axes[1], axes[0]).values
        image = ax.imshow(values, origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(ds.sizes[axes[0]]), [f"{v}" for v in ds[axes[0]].values], rotation=45)
        ax.set_yticks(range(ds.sizes[axes[1]]), [f"{v}" for v in ds[axes[1]].values])
        ax.set_xlabel(axes[0])
        ax.set_ylabel(axes[1])
        ax.set_title(line)
        fig.colorbar(image, ax=ax, label=_label(kpi))
    return save_figure(fig, out, f"map_{kpi}")


def _response(ds: xr.Dataset, kpi: str, axis: str, out: Path) -> str:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    x = ds[axis].values
    for line in ds.line.values:
        ax.plot(x, ds[kpi].sel(line=line).values, marker="o", label=str(line))
    ax.set_xlabel(axis)
    ax.set_ylabel(_label(kpi))
    ax.legend(fontsize="small")
    return save_figure(fig, out, f"response_{kpi}")


def _scatter(ds: xr.Dataset, kpi: str, keys: list[str], out: Path) -> str:
    import matplotlib.pyplot as plt

    fig, panels = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3.2), squeeze=False)
    for ax, key in zip(panels[0], keys, strict=True):
        for line in ds.line.values:
            ax.scatter(ds[key].values, ds[kpi].sel(line=line).values, s=12, label=str(line))
        ax.set_xlabel(key)
        ax.set_ylabel(_label(kpi))
    panels[0][0].legend(fontsize="small")
    return save_figure(fig, out, f"scatter_{kpi}")


def _tornado(ds: xr.Dataset, index: str, out: Path) -> str:
    """Bars of each key's index for each KPI analysed (the first line), largest on top, with the confidence
    interval as the error bar."""
    import matplotlib.pyplot as plt

    kpis = [str(k) for k in ds.kpi.values]
    fig, panels = plt.subplots(1, len(kpis), figsize=(4.5 * len(kpis), 0.5 * ds.sizes["parameter"] + 1.5),
                               squeeze=False)
    for ax, kpi in zip(panels[0], kpis, strict=True):
        values = ds[index].sel(kpi=kpi).isel(line=0).values
        conf = ds[f"{index}_conf"].sel(kpi=kpi).isel(line=0).values
        order = np.argsort(np.nan_to_num(values))
        names = [str(ds.parameter.values[i]) for i in order]
        ax.barh(names, values[order], xerr=conf[order], color="tab:blue")
        ax.set_title(f"{kpi} ({ds.line.values[0]})")
        ax.set_xlabel(index.replace("_", " "))
    return save_figure(fig, out, f"tornado_{index}")
