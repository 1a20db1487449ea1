"""The coupled park: refinery -> silo -> potlines, fume treatment, power and curtailment, the footprint."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_identical, interrupted_then_resumed, park_with

import twin
from twin.carbon import LOW_CARBON_LINE
from twin.site.site import SOURCES
from twin.smelter.cell import COUNTER, F_IN_ALF3, fluoride_mass


def run(cfg, hours: int):
    park = twin.Park(cfg)
    records = [park.step_interval() for _ in range(round(hours * 3600 / cfg.run.output_interval_s))]
    return park, records


def test_alumina_and_fluoride_balances_of_the_park():
    """Alumina made = fed + handling losses + exported + silo change; fluorine of cells, secondary
    alumina and stack = what the operators added as AlF3."""
    cfg = park_with(cells=6, silo={"capacity_t": 1500.0, "initial_t": 1200.0})
    park = twin.Park(cfg)
    f_cells = fluoride_mass(park.smelter.state, park.smelter.params).sum()
    alf3_before = park.smelter.counters[COUNTER["alf3_added"]].sum()
    fed_before = park.smelter.counters[COUNTER["alumina_fed"]].sum()
    records = [park.step_interval() for _ in range(36)]
    site, silo = park.site, park.site.silo
    made = sum(float(r["alumina_production"]) * 600.0 / 3600.0 for r in records)
    assert silo.totals["received"] == pytest.approx(made, rel=1e-12)
    change = silo.inventory_t - 1200.0
    assert made == pytest.approx(silo.totals["fed"] + silo.totals["lost"] + silo.totals["exported"] + change,
                                 rel=1e-12)
    assert silo.totals["exported"] > 0                       # the big refinery overfills the small silo
    assert park.refinery.throttle < cfg.silo.throttle_min + 0.05   # a full silo slows the refinery
    fed = park.smelter.counters[COUNTER["alumina_fed"]].sum() - fed_before
    assert silo.totals["fed"] * 1e3 == pytest.approx(fed, rel=1e-12)     # the silo gave what the feeders took
    # fluorine: the cells lost to the gas, the store and the stack hold it, the operators' AlF3 came in
    f = site.fume.totals
    added = (park.smelter.counters[COUNTER["alf3_added"]].sum() - alf3_before) * F_IN_ALF3
    f_now = fluoride_mass(park.smelter.state, park.smelter.params).sum()
    ledger = ((f_now - f_cells) + (site.fume.store_f_kg - site.fume.start_store_f_kg) + f["stack"]
              + park.smelter.bath_fluorine_out().sum())     # tapped and crushed bath, the cathodes' NaF
    assert ledger == pytest.approx(added, abs=1e-9 * f["evolved"] + 1e-9)
    assert f["stack"] == pytest.approx((1 - cfg.fume.capture_efficiency) * f["evolved"], rel=1e-12)
    assert f["returned"] == pytest.approx(f["captured"], rel=0.05)     # a running loop: what is caught comes back


def test_energy_and_footprint_add_up():
    cfg = park_with(cells=6)
    park, records = run(cfg, 4)
    for r in records:
        supplied = r["wind_supply"] + r["captive_supply"] + r["grid_supply"]
        assert supplied == pytest.approx(r["park_power_demand"], rel=1e-6)
        assert float(np.sum(r["co2e_intensity"])) == pytest.approx(r["co2e_total_intensity"], rel=1e-6)
    # DC power is what the cells took: U I summed
    dc = float(np.sum(records[-1]["cell_voltage"] * records[-1]["line_current"][park.smelter.cell_line])) / 1e6
    assert records[-1]["potline_power"] == pytest.approx(dc, rel=0.02)
    totals = dict(zip(SOURCES, records[-1]["co2e"], strict=True))
    fp = park.site.footprint()
    assert sum(totals.values()) / park.site.metal_t == pytest.approx(sum(fp.values()), rel=1e-12)
    assert 1.3 < fp["anode"] < 1.7                       # ~0.4 t C/t Al, IPCC 44/12 (park notes 4.2)
    assert 0.1 < fp["bake"] < 0.4


def test_a_starved_silo_stops_the_feeders_and_the_cells_go_on_anode_effect():
    """The refinery at 30 % for the whole park: the silo runs down, the feeders stop, AEs follow."""
    cfg = park_with(cells=360, silo={"initial_t": 600.0},
                    refinery={"disturbances": [{"hour": 0, "key": "spent_flow_factor", "value": 0.3}]})
    _, records = run(cfg, 10)
    feeding = np.array([r["feeding_enabled"] for r in records])
    assert feeding[0] == 1.0 and feeding.min() == 0.0
    assert min(r["silo_inventory"] for r in records) >= -1e-6
    ae = sum(r["anode_effect_count"].sum() for r in records)
    assert ae > 10                                          # starving cells go on anode effect
    starved = [r for r in records if r["feeding_enabled"] == 0.0]
    fed = [r for r in records[:3]]
    assert np.mean([r["alumina"].mean() for r in starved]) < np.mean([r["alumina"].mean() for r in fed])


def test_curtailment_program_lowers_power_within_the_heat_balance_window():
    cfg = park_with(cells=8, power={"program": [{"hour": 0, "power_fraction": 1.0}, {"hour": 2, "power_fraction": 1.0},
                                                {"hour": 2.01, "power_fraction": 0.8},
                                                {"hour": 14, "power_fraction": 0.8}]})
    _, records = run(cfg, 12)
    before = records[5]
    after = records[-1]
    assert after["potline_power"] == pytest.approx(0.8 * before["potline_power"], rel=0.03)
    assert np.all(after["line_current"] < 0.9 * before["line_current"])
    # less heat in: the bath cools toward its liquidus and the ledge grows
    assert after["superheat"].mean() < before["superheat"].mean() - 1.0
    assert after["ledge_thickness"].mean() > before["ledge_thickness"].mean()


def test_following_a_weak_supply_stops_at_the_minimum_current():
    cfg = park_with(cells=8, power={"follow_supply": True, "wind_capacity_MW": 0.0, "grid_limit_MW": 1.0,
                                    "captive_MW": 0.0})
    park, records = run(cfg, 1)
    base = park.setpoints(0.0)
    assert records[-1]["power_fraction"] < 0.5
    np.testing.assert_allclose(records[-1]["line_current"], cfg.power.min_current_fraction * base, rtol=0.01)


@pytest.mark.parametrize(("grid_ef", "wind_MW", "under"), [(0.0, 1e5, True), (0.75, 0.0, False)])
def test_low_carbon_line_follows_the_supply(grid_ef, wind_MW, under):
    cfg = park_with(cells=6, power={"grid_ef_t_per_MWh": grid_ef, "wind_capacity_MW": wind_MW,
                                    "wind_profile": [1.0]})
    _, records = run(cfg, 2)
    total = records[-1]["co2e_total_intensity"]
    assert (total < LOW_CARBON_LINE) == under
    assert records[-1]["low_carbon"] == float(under)
    electricity = float(records[-1]["co2e_intensity"][SOURCES.index("electricity")])
    if under:
        assert electricity == 0.0
    else:
        assert electricity > 8.0                          # ~14 MWh/t at 0.75 t/MWh (park notes 4.3: 10.5)


def test_park_resumes_bit_identically(tmp_path):
    cfg = park_with(cells=3, power={"program": [{"hour": 0, "power_fraction": 1.0},
                                                {"hour": 3, "power_fraction": 0.85}]},
                    run={"checkpoint_interval_h": 1.0, "buffer_records": 2})
    twin.Park(cfg).run(tmp_path / "whole.nc", 5 * 3600.0)
    interrupted_then_resumed(cfg, tmp_path / "cut.nc", 5 * 3600.0, 3.5 * 3600.0)
    assert_identical(tmp_path / "whole.nc", tmp_path / "cut.nc")


def test_organics_raise_the_product_soda_and_the_pots_need_more_alf3():
    """A bauxite with twice the soluble organics (0.03 -> 0.06 % C): the liquor holds twice the TOC, the
    refinery's yield falls and its hydrate binds more soda (QAL 1999 law: the TOOC/C term), the silo passes it
    on, the pots are fed it, and the Na2O takes AlF3 out of their bath (3 Na2O + 4 AlF3 -> 2 Na3AlF6 + Al2O3):
    the crew adds more AlF3. Each park on its own steady state; 2 cells, 10 days, a silo that is drawn on
    faster than it fills."""
    results = {}
    for organics in (0.0003, 0.0006):
        refinery = twin.load_config().refinery.model_dump(mode="json", by_alias=True)
        refinery["bauxite"]["organic_carbon"] = organics
        cfg = park_with(cells=2, silo={"capacity_t": 60000.0, "initial_t": 300.0}, refinery=refinery)
        park = twin.Park(cfg)
        added = park.smelter.counters[COUNTER["alf3_added"]].sum()
        records = [park.step_interval() for _ in range(10 * 144)]
        assert park.smelter.params_of("na2o") == pytest.approx(park.site.silo.na2o_fraction, rel=1e-12)
        results[organics] = (records[-1], park.smelter.counters[COUNTER["alf3_added"]].sum() - added)
    (base, base_alf3), (organic, organic_alf3) = results[0.0003], results[0.0006]
    assert organic["liquor_toc"] > 1.8 * base["liquor_toc"]
    assert organic["precipitation_yield"] < base["precipitation_yield"] - 1.0
    assert organic["product_soda"] > base["product_soda"] + 0.05             # wt % Na2O of the alumina
    assert organic["silo_na2o"] > base["silo_na2o"] + 0.03
    assert 0.1 < base["product_soda"] < 0.5
    assert organic_alf3 > base_alf3
