"""Replay: the twin driven by recorded inputs reproduces the run that recorded them."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import reference_with_cells

import twin
from twin.replay import ReplayError, inputs_from_results, replay


def small_reference(tmp_path, cells=4):
    return reference_with_cells(cells, output_interval_s=600.0)


def test_replay_of_a_runs_own_inputs_reproduces_it(tmp_path):
    cfg = small_reference(tmp_path)
    twin.run(cfg, tmp_path / "original.nc", days=1)
    original = twin.open_results(tmp_path / "original.nc")
    inputs = inputs_from_results(original)
    replay(cfg, inputs, tmp_path / "replayed.nc")
    again = twin.open_results(tmp_path / "replayed.nc")
    assert again.attrs["replay"] == 1
    assert all(again.sizes[d] == original.sizes[d] for d in ("time", "cell", "line"))
    # the same feed, taps, AlF3, anodes and beam moves, applied at interval starts instead of their moments
    np.testing.assert_allclose(again.alumina_fed.values[-1], original.alumina_fed.values[-1], rtol=2e-3)
    np.testing.assert_allclose(again.metal_tapped.values[-1], original.metal_tapped.values[-1], rtol=1e-9)
    np.testing.assert_allclose(again.line_current.values, original.line_current.values, rtol=1e-3)
    np.testing.assert_allclose(again.cell_voltage.values, original.cell_voltage.values, rtol=0.01)
    np.testing.assert_allclose(again.bath_temperature.values, original.bath_temperature.values, atol=0.5)
    np.testing.assert_allclose(again.alumina.values, original.alumina.values, atol=0.1)
    np.testing.assert_allclose(again.metal_mass.values, original.metal_mass.values, rtol=2e-3)
    # and it is the inputs that drive it: a different feed gives a different bath
    starved = inputs.copy(deep=True)
    starved["feed_rate"][:] = 0.5 * starved["feed_rate"]
    replay(cfg, starved, tmp_path / "starved.nc")
    assert twin.open_results(tmp_path / "starved.nc").anode_effect_count.values[-1].sum() > 0


def test_replay_inputs_must_fit_the_park(tmp_path):
    cfg = small_reference(tmp_path)
    twin.run(cfg, tmp_path / "original.nc", hours=2)
    inputs = inputs_from_results(twin.open_results(tmp_path / "original.nc"))
    with pytest.raises(ReplayError, match="cells"):
        replay(small_reference(tmp_path, cells=5), inputs, tmp_path / "x.nc")
    hourly = twin.load_config(output_interval_s=3600.0)
    with pytest.raises(ReplayError, match="clock"):
        replay(hourly.model_copy(update={"smelter": cfg.smelter}), inputs, tmp_path / "y.nc")
