"""An HTML report of a results file: figures (matplotlib) and the run's figures of merit.

``twin report RESULTS [--out DIR]`` writes ``DIR/index.html`` and one PNG per figure beside it.
Sections appear for what the file holds: potlines (heat maps of cells x time, line current and
power, metal, CE and kWh/kg, anode effects), silo, refinery (yield, A/C), carbon by source against
the 4 t line, and circular flows.
"""
from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import xarray as xr

from twin.carbon import LOW_CARBON_LINE
from twin.results import open_results
from twin.smelter.anode_effects import from_results

__all__ = ["report"]


def report(results: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of ``results`` into ``out`` (default: ``<results>-report``); return index.html."""
    import matplotlib
    matplotlib.use("Agg")                         # no screen: render to files

    results = Path(results)
    ds = open_results(results)
    if ds.sizes.get("time", 0) == 0:
        raise ValueError(f"{results}: holds no output records yet; nothing to report")
    out = Path(out) if out is not None else results.with_name(results.stem + "-report")
    out.mkdir(parents=True, exist_ok=True)
    hours = (ds.time.values - ds.time.values[0]).astype("timedelta64[s]").astype(float) / 3600.0
    hours = hours + float(np.diff(hours[:2])[0] if len(hours) > 1 else 0.0)
    sections: list[tuple[str, list[str]]] = []
    if "cell_voltage" in ds:
        sections.append(("Potlines", [_heat_maps(ds, hours, out), _line(ds, hours, out), _metal(ds, hours, out),
                                      _anode_effects(ds, hours, out)]))
    if "silo_inventory" in ds:
        sections.append(("Alumina silo", [_series(ds, hours, out, "silo", [("silo_inventory", "silo", 1e-3)],
                                                  "kt alumina", "Alumina in the silo")]))
    if "alumina_production" in ds:
        sections.append(("Refinery", [_refinery(ds, hours, out)]))
    if "co2e_intensity" in ds:
        sections.append(("Carbon footprint", [_carbon(ds, hours, out)]))
    flows = _circular_table(ds)
    page = _page(results, ds, sections, _summary_table(ds), flows)
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


# -- figures -------------------------------------------------------------------------------------------------

def _save(fig, out: Path, name: str) -> str:
    import matplotlib.pyplot as plt
    fig.tight_layout()
    fig.savefig(out / f"{name}.png", dpi=90)
    plt.close(fig)
    return f"{name}.png"


def _heat_maps(ds: xr.Dataset, hours: np.ndarray, out: Path) -> str:
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(3, 1, figsize=(10, 9), sharex=True)
    for ax, (name, label, cmap) in zip(axes, (("cell_voltage", "cell voltage (V)", "viridis"),
                                               ("superheat", "superheat (K)", "magma"),
                                               ("alumina", "dissolved alumina (wt %)", "cividis")), strict=True):
        values = ds[name].values.T
        image = ax.imshow(values, aspect="auto", origin="lower", cmap=cmap, interpolation="nearest",
                          extent=(hours[0], hours[-1], -0.5, values.shape[0] - 0.5))
        ax.set_ylabel("cell")
        fig.colorbar(image, ax=ax, label=label)
    axes[-1].set_xlabel("hours")
    return _save(fig, out, "potline_heat_maps")


def _line(ds: xr.Dataset, hours: np.ndarray, out: Path) -> str:
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    for j, name in enumerate(ds.line.values):
        a.plot(hours, ds.line_current.values[:, j] / 1e3, label=str(name))
    a.set_ylabel("line current (kA)")
    a.legend()
    if "park_power_demand" in ds:
        b.stackplot(hours, ds.wind_supply.values, ds.captive_supply.values, ds.grid_supply.values,
                    labels=("wind", "captive", "grid"), alpha=0.8)
        b.plot(hours, ds.potline_power.values, "k-", label="potline DC")
        b.legend(loc="lower left")
    else:
        b.plot(hours, np.sum(ds.cell_voltage.values * ds.line_current.values[:, ds.cell_line.values], axis=1) / 1e6)
    b.set_ylabel("power (MW)")
    b.set_xlabel("hours")
    return _save(fig, out, "line_current_and_power")


def _metal(ds: xr.Dataset, hours: np.ndarray, out: Path) -> str:
    import matplotlib.pyplot as plt
    fig, (a, b, c) = plt.subplots(3, 1, figsize=(10, 7), sharex=True)
    metal = ds.metal_produced.values.sum(axis=1)
    a.plot(hours, metal / 1e3)
    a.set_ylabel("metal made (t)")
    b.plot(hours, 100 * np.nanmean(ds.current_efficiency.values, axis=1))
    b.set_ylabel("CE (%)")
    energy = np.diff(ds.energy_dc.values.sum(axis=1), prepend=np.nan)
    made = np.diff(metal, prepend=np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        c.plot(hours, energy / made)
    c.set_ylabel("DC kWh/kg Al")
    c.set_xlabel("hours")
    return _save(fig, out, "metal_ce_energy")


def _anode_effects(ds: xr.Dataset, hours: np.ndarray, out: Path) -> str:
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(10, 3))
    ax.plot(hours, ds.anode_effect_minutes.values.sum(axis=1) - ds.anode_effect_minutes.values[0].sum())
    ax.set_ylabel("AE minutes since start")
    ax.set_xlabel("hours")
    return _save(fig, out, "anode_effects")


def _series(ds, hours, out, name, items, ylabel, title) -> str:
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(10, 3))
    for var, label, scale in items:
        ax.plot(hours, ds[var].values * scale, label=label)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("hours")
    ax.set_title(title)
    return _save(fig, out, name)


def _refinery(ds: xr.Dataset, hours: np.ndarray, out: Path) -> str:
    import matplotlib.pyplot as plt
    fig, (a, b, c) = plt.subplots(3, 1, figsize=(10, 7), sharex=True)
    a.plot(hours, ds.alumina_production.values)
    a.set_ylabel("alumina (t/h)")
    b.plot(hours, ds.precipitation_yield.values)
    b.set_ylabel("yield (g/L)")
    c.plot(hours, ds.pregnant_ac.values, label="pregnant A/C")
    c.plot(hours, ds.spent_ac.values, label="spent A/C")
    c.set_ylabel("A/C")
    c.legend()
    c.set_xlabel("hours")
    return _save(fig, out, "refinery")


def _carbon(ds: xr.Dataset, hours: np.ndarray, out: Path) -> str:
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(10, 4))
    values = np.nan_to_num(ds.co2e_intensity.values.T)
    ax.stackplot(hours, values, labels=[str(s) for s in ds.source.values], alpha=0.85)
    ax.axhline(LOW_CARBON_LINE, color="k", linestyle="--", label=f"{LOW_CARBON_LINE:g} t low-carbon line")
    ax.set_ylabel("t CO2e / t Al")
    ax.set_xlabel("hours")
    ax.legend(loc="upper left", ncol=4, fontsize="small")
    return _save(fig, out, "carbon_by_source")


# -- tables and the page -------------------------------------------------------------------------------------

def _last(ds: xr.Dataset, name: str) -> float:
    values = ds[name].isel(time=-1).values
    return float(np.sum(values))


def _summary_table(ds: xr.Dataset) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = [("records", f"{ds.sizes['time']}"),
                                   ("run complete", "yes" if ds.attrs.get("run_complete") else "no")]
    if "metal_produced" in ds:
        metal = _last(ds, "metal_produced") / 1e3           # counters run from the start of the run
        rows += [("cells", f"{ds.sizes['cell']}"), ("metal made", f"{metal:,.1f} t"),
                 ("mean cell voltage", f"{float(ds.cell_voltage.mean()):.3f} V"),
                 ("mean current efficiency", f"{100 * float(ds.current_efficiency.mean()):.2f} %")]
    if "lvae_minutes" in ds:
        ae = from_results(ds)
        rows += [("anode effects", f"{ae.frequency:.4f} per pot-day, {ae.duration_s:.0f} s mean, {ae.aem:.4f} AE-min "
                                   f"per pot-day ({ae.detected:g} of {ae.count:g} seen by the pot control system)"),
                 ("low-voltage anode effects", f"{ae.lvae_minutes / ae.pot_days:.2f} min per pot-day, "
                                               f"{100 * ae.lvae_share:.0f} % of the CF4 ({ae.lvae_detected:g} of "
                                               f"{ae.lvae_count:g} seen)"),
                 ("worst pots", ", ".join(f"{name} ({n:g} AE, {lv:.0f} LVAE min)" for name, n, lv in ae.worst)
                  or "none")]
    if "co2e" in ds and "metal_produced" in ds and metal > 0:
        total = float(ds.co2e.isel(time=-1).sum()) / metal
        rows.append(("footprint (scope 1+2)", f"{total:.2f} t CO2e/t Al "
                     f"({'under' if total < LOW_CARBON_LINE else 'over'} the {LOW_CARBON_LINE:g} t line)"))
    if "alumina_produced" in ds:
        rows += [("alumina made", f"{_last(ds, 'alumina_produced'):,.1f} t"),
                 ("mean yield", f"{float(ds.precipitation_yield.mean()):.1f} g/L")]
    return rows


CIRCULAR = (("red_mud_made", "red mud (residue)", "t"), ("spent_pot_lining", "spent pot lining", "t"),
            ("butts_recycled", "anode butts recycled", "t"), ("dross", "dross", "t"),
            ("fluoride_returned", "fluoride returned to the pots", "kg"), ("fluoride_stack", "fluoride to the stack",
                                                                          "kg"),
            ("alumina_exported", "alumina shipped out", "t"), ("caustic_used", "caustic make-up", "t"))


def _circular_table(ds: xr.Dataset) -> list[tuple[str, str]]:
    rows = [(label, f"{_last(ds, name):,.1f} {unit}") for name, label, unit in CIRCULAR if name in ds]
    if "waste_heat" in ds:
        rows.append(("waste heat of the cells (mean)", f"{float(ds.waste_heat.mean()):,.0f} MW"))
        rows.append(("of it recoverable (mean)", f"{float(ds.recoverable_heat.mean()):,.0f} MW"))
    if "water_used" in ds:
        rows.append(("refinery fresh water", f"{_last(ds, 'water_used'):,.0f} m3"))
    return rows


def _table(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _page(results: Path, ds: xr.Dataset, sections, summary, flows) -> str:
    parts = [f"<h1>alutwin report: {html.escape(results.name)}</h1>",
             f"<p>{html.escape(str(ds.attrs.get('source_config', '')))}</p>", "<h2>Summary</h2>", _table(summary)]
    for title, images in sections:
        parts.append(f"<h2>{html.escape(title)}</h2>")
        parts += [f'<img src="{html.escape(src)}" alt="{html.escape(title)}">' for src in images]
    if flows:
        parts += ["<h2>Circular flows</h2>", _table(flows)]
    style = ("body{font-family:sans-serif;max-width:1000px;margin:2em auto}img{max-width:100%;display:block;"
             "margin:1em 0}th{text-align:left;padding-right:2em}")
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>alutwin report</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")
