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


def test_a_what_if_on_one_potline_keeps_the_other(tmp_path, capsys):
    """Issue 23: one [[smelter.potlines]] table in a file with a base replaced the whole list, and check-config
    said "valid (PL1: 360 cells ...)": the smelter halved without a word. Lists of named tables merge by name:
    PL1 changes, PL2 stays; a new name adds a line; remove = true takes one out; check-config lists the
    changes. base = "reference" is the packaged reference park from anywhere."""
    from twin.cli import main

    what_if = tmp_path / "what_if.toml"
    what_if.write_text('base = "reference"\n[[smelter.potlines]]\nname = "PL1"\ncurrent_kA = 530.0\n')
    cfg, park = load_config(what_if), load_config()
    assert [(p.name, p.current_kA) for p in cfg.smelter.potlines] == [("PL1", 530.0), ("PL2", 500.0)]
    assert cfg.smelter.potlines[0].cells == park.smelter.potlines[0].cells
    assert main(["check-config", str(what_if)]) == 0
    out = capsys.readouterr().out
    assert "PL2: 360 cells at 500 kA" in out and "1 change(s)" in out
    assert "smelter.potlines[PL1].current_kA: 500.0 -> 530.0" in out
    grown = tmp_path / "grown.toml"
    grown.write_text('base = "what_if.toml"\n[[smelter.potlines]]\nname = "PL3"\ncells = 10\n'
                     '[[smelter.potlines]]\nname = "PL2"\nremove = true\n')
    assert [p.name for p in load_config(grown).smelter.potlines] == ["PL1", "PL3"]
    assert main(["check-config", str(grown)]) == 0
    out = capsys.readouterr().out
    assert "smelter.potlines[PL2]: removed" in out and "smelter.potlines[PL3]: added" in out
    # the stages build on the park the same way: stage 1 takes PL2 out by name
    assert [p.name for p in load_config(STAGES / "stage1.toml").smelter.potlines] == ["PL1"]


def test_a_merge_that_cannot_be_done_is_named(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('base = "reference"\n[[smelter.potlines]]\nname = "PL9"\nremove = true\n')
    with pytest.raises(ConfigError, match=r"smelter.potlines 'PL9': remove = true, but the base has no 'PL9' "
                                          r"\(it has 'PL1', 'PL2'\)"):
        load_config(bad)
    bad.write_text('base = "reference"\n[[smelter.potlines]]\nname = "PL1"\nremove = "yes"\n')
    with pytest.raises(ConfigError, match="remove = 'yes'; remove takes true or false"):
        load_config(bad)
    bad.write_text('base = "referenc"\n')
    with pytest.raises(ConfigError, match=r"base = 'referenc': no such file beside bad.toml \(or base = "
                                          r"\"reference\" for the packaged reference park\)"):
        load_config(bad)
