"""An HTML report of a results file for the people who run the plant.

``twin report RESULTS [--out DIR]`` writes ``DIR/index.html`` and one PNG per figure beside it. The page opens
with the run's period (UTC dates) and the potlines' KPIs by line against their target bands (values outside a
band are marked), then the KPIs by day and line, trends on dates with the bands shaded, maps of each line's pots
(every pixel the mean of the pots and records it covers), anode effects, the worst pots, and the silo, refinery,
carbon footprint and circular flows where the file holds them. The figures come from `twin.kpi`, which reads the
file a day at a time.
"""
from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from twin.carbon import LOW_CARBON_LINE
from twin.kpi import MEANS, TARGETS, PlantKPIs, outside, plant_kpis, worst_pots
from twin.results import open_results, totals
from twin.smelter.anode_effects import from_results

__all__ = ["report"]

# columns of the KPI tables: (key, heading, format)
KPI_COLUMNS = (("pots_in_service", "pots in line", "{:.0f}"), ("line_current_kA", "line current kA", "{:.1f}"),
               ("metal_t", "metal t", "{:,.1f}"), ("current_efficiency", "CE %", "{:.2f}"),
               ("specific_energy", "DC kWh/kg", "{:.3f}"), ("cell_voltage", "cell V", "{:.3f}"),
               ("alumina_use", "alumina kg/t", "{:.0f}"), ("alf3_use", "AlF3 kg/t", "{:.1f}"),
               ("net_carbon", "net C kg/t", "{:.0f}"), ("ae_frequency", "AE per pot-day", "{:.3f}"),
               ("ae_minutes", "AE-min per pot-day", "{:.3f}"), ("lvae_minutes", "LVAE min per pot-day", "{:.2f}"),
               ("bath_temperature", "bath degC", "{:.1f}"), ("superheat", "superheat K", "{:.1f}"),
               ("excess_alf3", "AlF3 wt %", "{:.2f}"), ("alumina", "Al2O3 wt %", "{:.2f}"),
               ("hours_outside_validity", "h outside validity", "{:.1f}"))


def report(results: str | Path, out: str | Path | None = None, progress: bool = False) -> Path:
    """Write the report of ``results`` into ``out`` (default: ``<results>-report``); return index.html.
    ``progress`` shows a bar (tqdm, on stderr) over the days read."""
    import matplotlib
    matplotlib.use("Agg")                         # no screen: render to files

    results = Path(results)
    # axes in plain numbers: matplotlib's offsets ("+5e2" on a line current) were unreadable
    with matplotlib.rc_context({"axes.formatter.useoffset": False}), open_results(results) as ds:
        if ds.sizes.get("time", 0) == 0:
            raise ValueError(f"{results}: holds no output records yet; nothing to report")
        out = Path(out) if out is not None else results.with_name(results.stem + "-report")
        out.mkdir(parents=True, exist_ok=True)
        parts = [_header(results, ds)]
        if "cell_voltage" in ds:
            kpis = plant_kpis(ds, progress=progress)
            parts += _potline_sections(ds, kpis, out)
        if "silo_inventory" in ds:
            parts.append(_figure_section("Alumina silo", _series(ds, out, "silo", [("silo_inventory", "silo", 1e-3)],
                                                                 "kt alumina", "Alumina in the silo")))
        if "alumina_production" in ds:
            parts.append(_figure_section("Refinery", _refinery(ds, out)))
        if "co2e_intensity" in ds:
            parts.append(_figure_section("Carbon footprint", _carbon(ds, out), _carbon_table(ds)))
        flows = _circular_table(ds)
        if flows:
            parts.append("<h2>Circular flows</h2>" + pairs(flows))
    index = out / "index.html"
    index.write_text(page(parts), encoding="utf-8")
    return index


# -- sections ------------------------------------------------------------------------------------------------

def _header(results: Path, ds: xr.Dataset) -> str:
    dt = np.timedelta64(round(float(ds.attrs.get("output_interval_s", 0.0)) * 1e6), "us")
    first, last = pd.Timestamp(ds.time.values[0] - dt), pd.Timestamp(ds.time.values[-1])
    rows = [("period (UTC)", f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} "
                             f"({(last - first) / pd.Timedelta(days=1):.2f} days, {ds.sizes['time']} records)"),
            ("run complete", "yes" if ds.attrs.get("run_complete") else "no: the run stopped or is still going"),
            ("configuration", str(ds.attrs.get("source_config", ""))),
            ("run id", str(ds.attrs.get("run_id", "")))]
    return f"<h1>alutwin report: {html.escape(results.name)}</h1>" + pairs(rows)


def _potline_sections(ds: xr.Dataset, kpis: PlantKPIs, out: Path) -> list[str]:
    bands = "; ".join(f"{label} {low:g}-{high:g} {unit}" if key != "bath_temperature"
                      else f"{label}: its liquidus + the superheat band" for key, (low, high, unit, label)
                      in TARGETS.items())
    lines = kpis.lines.assign(pots_in_service=kpis.lines.pots)
    sections = [
        "<h2>Potlines: KPIs by line over the run</h2>" + _kpi_table(lines.reset_index(), ("line",))
        + f"<p class='note'>Marked values are outside the target band of a modern 400-600 kA prebake cell: {bands} "
          "(typical values compiled in the smelter notes, sec. 3.1). Consumptions are per t of metal made; "
          "alumina as fed to the cells (a plant's 1,920-1,930 kg/t also counts handling losses).</p>",
        # days as points on a date axis only where there are days to compare (one day: its table row)
        _figure_section("Daily KPIs by line", _daily_figure(kpis, out)) if _days(kpis) > 1 else "",
        "<h2>KPIs by day and line</h2>"
        + _kpi_table(kpis.daily.reset_index().assign(day=lambda d: d.day.dt.strftime("%Y-%m-%d")), ("day", "line")),
        _figure_section("Line means", _line_means_figure(kpis, out)),
        _figure_section("Pots of each line", *[_map_figure(kpis, name, out) for name in kpis.maps]),
        _figure_section("Line current and power", _line_figure(ds, kpis, out)),
    ]
    if "lvae_minutes" in ds:
        ae = from_results(ds)
        rows = [("anode effects", f"{ae.frequency:.4f} per pot-day, {ae.duration_s:.0f} s mean, {ae.aem:.4f} AE-min "
                                  f"per pot-day ({ae.detected:g} of {ae.count:g} seen by the pot control system)"),
                ("low-voltage anode effects", f"{ae.lvae_minutes / ae.pot_days:.2f} min per pot-day, "
                                              f"{100 * ae.lvae_share:.0f} % of the CF4 ({ae.lvae_detected:g} of "
                                              f"{ae.lvae_count:g} seen)"),
                ("most anode effects", ", ".join(f"{name} ({n:g} AE, {lv:.0f} LVAE min)" for name, n, lv in ae.worst)
                 or "none")]
        sections.append("<h2>Anode effects</h2>" + pairs(rows))
    worst = worst_pots(kpis.pots).reset_index()
    sections.append("<h2>Worst pots</h2><p class='note'>The pots that used most DC energy per kg of metal over the "
                    "run.</p>" + _kpi_table(worst, ("pot", "line")))
    return sections


def _days(kpis: PlantKPIs) -> int:
    return len(kpis.daily.index.get_level_values("day").unique())


def _figure_section(title: str, *images: str) -> str:
    return f"<h2>{html.escape(title)}</h2>" + "".join(
        f'<img src="{html.escape(src)}" alt="{html.escape(title)}">' if src.endswith(".png") else src
        for src in images)


# -- tables ----------------------------------------------------------------------------------------------------

def _kpi_table(frame: pd.DataFrame, keys: tuple[str, ...]) -> str:
    columns = [c for c in KPI_COLUMNS if c[0] in frame.columns]
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys) + "".join(
        f"<th>{html.escape(h)}</th>" for _, h, _ in columns)
    body = []
    for _, row in frame.iterrows():
        cells = "".join(f"<th>{html.escape(str(row[k]))}</th>" for k in keys)
        for key, _, fmt in columns:
            value = float(row[key])
            off = key in TARGETS and outside(key, value)
            text = fmt.format(value) if np.isfinite(value) else "-"
            title = f" title='target {TARGETS[key][0]:g}-{TARGETS[key][1]:g} {TARGETS[key][2]}'" if key in TARGETS \
                else ""
            if key == "bath_temperature" and "superheat" in frame.columns:
                # the bath's own band: its liquidus (set by its chemistry) plus the superheat band, not a band of
                # degrees for every bath (a bath of 11.5 % AlF3 melts near 960 degC, one of 13 % near 950)
                low, high = (value - float(row["superheat"]) + b for b in TARGETS["superheat"][:2])
                off = bool(np.isfinite(value) and not low <= value <= high)
                title = f" title='target: its liquidus + {TARGETS['superheat'][0]:g}-{TARGETS['superheat'][1]:g} K " \
                        f"= {low:.1f}-{high:.1f} degC'"
            cells += f"<td class='{'off' if off else 'ok'}'{title}>{text}</td>"
        body.append(f"<tr>{cells}</tr>")
    return f"<table class='kpi'><tr>{head}</tr>{''.join(body)}</table>"


def pairs(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


# what each source of the footprint is (twin.site.site.SOURCES; park notes sec. 4.3)
SOURCE_NOTES = {
    "anode": "CO2 of the anode carbon the cells burn (with its sulphur and ash)",
    "bake": "fuel of the anode baking furnace",
    "pfc": "CF4 and C2F6 of anode effects, as CO2e (GWP-100)",
    "pfc_lvae": "CF4 of low-voltage anode effects, as CO2e",
    "casthouse": "fuel of the casthouse furnaces",
    "electricity": "the potlines' and the carbon plant's electricity, by the supply's mix",
    "alumina": "the alumina the cells ate: the refinery's fuel, steam and electricity (or bought alumina's)",
}


def _carbon_table(ds: xr.Dataset) -> str:
    if "metal_produced" not in ds:
        return ""
    metal = float(totals(ds, ["metal_produced"])["metal_produced"].sum()) / 1e3
    if metal <= 0:
        return ""
    by_source = ds.co2e.isel(time=-1).values / metal          # t CO2e since start per t made
    total = float(by_source.sum())
    rows = [(str(s), f"{v:.2f} t CO2e/t Al: {SOURCE_NOTES.get(str(s), '')}")
            for s, v in zip(ds.source.values, by_source, strict=True)]
    mix = _power_mix(ds)
    if mix:
        rows.append(("power mix over the run", mix))
    largest = str(ds.source.values[int(np.argmax(by_source))])
    rows.append(("footprint (scope 1+2)", f"{total:.2f} t CO2e/t Al, {'under' if total < LOW_CARBON_LINE else 'over'} "
                 f"the {LOW_CARBON_LINE:g} t line; the largest share {largest} ({by_source.max():.2f} t)"))
    return pairs(rows)


def _power_mix(ds: xr.Dataset) -> str:
    """The supply's shares over the run (energy: the records are equal intervals) and its mean CO2 per MWh."""
    names = [("wind", "wind_supply"), ("captive", "captive_supply"), ("grid", "grid_supply")]
    if not all(var in ds for _, var in names):
        return ""
    energy = {label: float(np.nansum(ds[var].values)) for label, var in names}
    whole = sum(energy.values())
    if whole <= 0:
        return ""
    shares = ", ".join(f"{label} {100 * e / whole:.0f} %" for label, e in energy.items())
    ef = float(np.nansum(ds.supply_emission_factor.values * ds.park_power_demand.values)
               / np.nansum(ds.park_power_demand.values)) if "park_power_demand" in ds else float("nan")
    return f"{shares} of the energy; {ef:.2f} t CO2 per MWh on average (grid and captive power carry their factors)"


CIRCULAR = (("red_mud_made", "red mud (residue)", "t"), ("spent_pot_lining", "spent pot lining", "t"),
            ("butts_recycled", "anode butts recycled", "t"), ("dross", "dross", "t"),
            ("fluoride_returned", "fluoride returned to the pots", "kg"),
            ("fluoride_stack", "fluoride to the stack", "kg"),
            ("alumina_exported", "alumina shipped out", "t"), ("caustic_used", "caustic make-up", "t"))


def _circular_table(ds: xr.Dataset) -> list[tuple[str, str]]:
    rows = [(label, f"{float(ds[name].isel(time=-1)):,.1f} {unit}") for name, label, unit in CIRCULAR if name in ds]
    if "waste_heat" in ds:
        rows.append(("waste heat of the cells (mean)", f"{float(ds.waste_heat.mean()):,.0f} MW"))
        rows.append(("of it recoverable (mean)", f"{float(ds.recoverable_heat.mean()):,.0f} MW"))
    if "water_used" in ds:
        rows.append(("refinery fresh water", f"{float(ds.water_used.isel(time=-1)):,.0f} m3"))
    return rows


# -- figures ---------------------------------------------------------------------------------------------------

def save_figure(fig, out: Path, name: str) -> str:
    import matplotlib.pyplot as plt
    fig.savefig(out / f"{name}.png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return f"{name}.png"


def _dates(ax) -> None:
    import matplotlib.dates as mdates
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _band(ax, key: str) -> None:
    low, high, unit, _ = TARGETS[key]
    ax.axhspan(low, high, color="tab:green", alpha=0.12, label=f"target {low:g}-{high:g} {unit}")


def _daily_figure(kpis: PlantKPIs, out: Path) -> str:
    import matplotlib.pyplot as plt
    panels = (("metal_t", "metal made (t/day)"), ("current_efficiency", "CE (%)"),
              ("specific_energy", "DC kWh/kg Al"), ("ae_frequency", "AE per pot-day"),
              ("alf3_use", "AlF3 (kg/t Al)"), ("net_carbon", "net carbon (kg/t Al)"))
    fig, axes = plt.subplots(3, 2, figsize=(11, 8), sharex=True)
    days = kpis.daily.index.get_level_values("day").unique()
    for ax, (key, label) in zip(axes.flat, panels, strict=True):
        for name in kpis.lines.index:
            values = kpis.daily.xs(name, level="line")[key].reindex(days)
            ax.plot(days + pd.Timedelta(hours=12), values, marker="o" if len(days) <= 60 else None, ms=3,
                    lw=1.0, label=name)                     # dots while the days can be told apart
        if key in TARGETS:
            _band(ax, key)
        ax.set_ylabel(label)
        _dates(ax)
    axes[0, 0].legend(fontsize="small")
    return save_figure(fig, out, "daily_kpis")


def _line_means_figure(kpis: PlantKPIs, out: Path) -> str:
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(len(MEANS), 1, figsize=(11, 2.0 * len(MEANS)), sharex=True)
    for ax, key in zip(axes, MEANS, strict=True):
        for j, name in enumerate(kpis.lines.index):
            ax.plot(kpis.times, kpis.series[key][:, j], lw=0.8, label=name)
            if key == "bath_temperature":          # its own band: the line's liquidus + the superheat band
                liquidus = kpis.series["bath_temperature"][:, j] - kpis.series["superheat"][:, j]
                ax.fill_between(kpis.times, liquidus + TARGETS["superheat"][0], liquidus + TARGETS["superheat"][1],
                                alpha=0.08, color=f"C{j}")
        if key != "bath_temperature":
            _band(ax, key)
        ax.set_ylabel(f"{TARGETS[key][3]}\n({TARGETS[key][2]})")
        _dates(ax)
    axes[0].legend(fontsize="small", ncol=3)
    return save_figure(fig, out, "line_means")


def _map_figure(kpis: PlantKPIs, line: str, out: Path) -> str:
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    maps = kpis.maps[line]
    per_row = kpis.pots_per_row[line]
    edges = mdates.date2num(kpis.map_edges.astype("datetime64[us]").astype(object))
    fig, axes = plt.subplots(len(maps), 1, figsize=(11, 2.6 * len(maps)), sharex=True)
    for ax, (key, values) in zip(axes, maps.items(), strict=True):
        rows = np.arange(values.shape[0] + 1) * per_row + 0.5
        # colours span the 1st-99th percentile: a few pots on anode effect would otherwise flatten the rest
        low, high = np.nanpercentile(values, [1, 99]) if np.isfinite(values).any() else (0.0, 1.0)
        image = ax.pcolormesh(edges, rows, values, shading="flat", cmap="viridis", vmin=low, vmax=high)
        ax.xaxis_date()
        ax.set_ylabel("pot" + (f" (mean of {per_row})" if per_row > 1 else ""))
        fig.colorbar(image, ax=ax, label=f"{TARGETS[key][3]} ({TARGETS[key][2]})")
        _dates(ax)
    axes[0].set_title(f"{line}: each cell the mean of its pots and records")
    return save_figure(fig, out, f"map_{line}")


def _line_figure(ds: xr.Dataset, kpis: PlantKPIs, out: Path) -> str:
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(2, 1, figsize=(11, 6), sharex=True)
    for j, name in enumerate(kpis.lines.index):
        a.plot(kpis.times, kpis.series["line_current"][:, j] / 1e3, label=name)
    a.set_ylabel("line current (kA)")
    a.legend(fontsize="small")
    if "park_power_demand" in ds:
        b.stackplot(kpis.times, ds.wind_supply.values, ds.captive_supply.values, ds.grid_supply.values,
                    labels=("wind", "captive", "grid"), alpha=0.8)
        b.plot(kpis.times, ds.potline_power.values, "k-", label="potline DC")
        b.legend(loc="lower left", fontsize="small")
    else:
        b.plot(kpis.times, np.nansum(kpis.series["line_current"] * ds.line_voltage.values, axis=1) / 1e6)
    b.set_ylabel("power (MW)")
    for ax in (a, b):
        _dates(ax)
    return save_figure(fig, out, "line_current_and_power")


def _series(ds, out, name, items, ylabel, title) -> str:
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(11, 3))
    for var, label, scale in items:
        ax.plot(ds.time.values, ds[var].values * scale, label=label)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    _dates(ax)
    return save_figure(fig, out, name)


def _refinery(ds: xr.Dataset, out: Path) -> str:
    import matplotlib.pyplot as plt
    fig, (a, b, c) = plt.subplots(3, 1, figsize=(11, 7), sharex=True)
    t = ds.time.values
    a.plot(t, ds.alumina_production.values)
    a.set_ylabel("alumina (t/h)")
    b.plot(t, ds.precipitation_yield.values)
    b.set_ylabel("yield (g/L)")
    c.plot(t, ds.pregnant_ac.values, label="pregnant A/C")
    c.plot(t, ds.spent_ac.values, label="spent A/C")
    c.set_ylabel("A/C")
    c.legend()
    for ax in (a, b, c):
        _dates(ax)
    return save_figure(fig, out, "refinery")


def _carbon(ds: xr.Dataset, out: Path) -> str:
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(11, 4))
    values = np.nan_to_num(ds.co2e_intensity.values.T)
    ax.stackplot(ds.time.values, values, labels=[str(s) for s in ds.source.values], alpha=0.85)
    ax.axhline(LOW_CARBON_LINE, color="k", linestyle="--", label=f"{LOW_CARBON_LINE:g} t low-carbon line")
    ax.set_ylabel("t CO2e / t Al")
    ax.legend(loc="upper left", ncol=4, fontsize="small")
    _dates(ax)
    return save_figure(fig, out, "carbon_by_source")


def page(parts: list[str]) -> str:
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto}img{max-width:100%;display:block;"
             "margin:1em 0}th{text-align:left;padding-right:1em}table.kpi{border-collapse:collapse;font-size:85%}"
             "table.kpi td,table.kpi th{border:1px solid #ddd;padding:2px 6px;text-align:right}"
             "td.off{background:#f8d0d0;font-weight:bold}p.note{font-size:85%;color:#444}")
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>alutwin report</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")
