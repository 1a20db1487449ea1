"""The three build-out stages in configs/stages/ run with `twin run` and show what each adds."""
from __future__ import annotations

import numpy as np
import pytest

import twin
from twin.cli import main
from twin.config import ConfigError, default_config_path, load_config

STAGES = default_config_path().parent / "stages"


@pytest.mark.parametrize(("stage", "lines"), [("stage1", 1), ("stage2", 2), ("stage3", 2)])
def test_each_stage_runs_through_twin_run(stage, lines, tmp_path):
    out = tmp_path / f"{stage}.nc"
    assert main(["run", str(STAGES / f"{stage}.toml"), "--hours", "2", "--out", str(out), "--quiet"]) == 0
    ds = twin.open_results(out, load=True)
    assert ds.attrs["run_complete"] == 1 and ds.sizes["line"] == lines and ds.sizes["cell"] == 360 * lines
    assert float(ds.alumina_production.isel(time=-1)) > 200.0
    for name in ("cell_voltage", "silo_inventory", "co2e_intensity", "park_power_demand"):
        assert np.all(np.isfinite(ds[name].values)), name
    if stage == "stage3":
        assert float(ds.products.isel(time=-1).sum()) > 0.0
        assert list(ds["product"].values) == ["rolled_sheet_and_foil", "extrusions", "wire_rod_and_cable",
                                              "foundry_alloys"]


def test_stage_one_is_the_park_with_one_line():
    one, park = load_config(STAGES / "stage1.toml"), load_config()
    assert [p.name for p in one.smelter.potlines] == ["PL1"]
    assert one.smelter.cell == park.smelter.cell and one.refinery == park.refinery
    assert one.power.wind_capacity_MW == 1500.0 and park.power.wind_capacity_MW == 3000.0


def test_base_files_that_are_missing_or_circular_are_named(tmp_path):
    (tmp_path / "a.toml").write_text('base = "b.toml"\n')
    (tmp_path / "b.toml").write_text('base = "a.toml"\n')
    with pytest.raises(ConfigError, match="include each other"):
        load_config(tmp_path / "a.toml")
    (tmp_path / "c.toml").write_text('base = "nowhere.toml"\n')
    with pytest.raises(ConfigError, match=r"base = 'nowhere.toml': no such file"):
        load_config(tmp_path / "c.toml")
