"""The one run loop (issue 20): every driver steps the park the same way, every sink gets the same records."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from conftest import reference_with_cells

import twin
from twin import loop
from twin.config import ProgramPoint
from twin.drivers import RecordedDriver, ScheduleDriver
from twin.park import Park
from twin.replay import inputs_from_results, replay
from twin.results import _quantized, bitround
from twin.smelter.outputs import VARIABLES

PACKAGE = Path(twin.__file__).parent


def test_a_forward_run_hands_a_collecting_sink_the_records_it_writes(tmp_path):
    cfg = reference_with_cells(2, output_interval_s=600.0)
    twin.run(cfg, tmp_path / "run.nc", hours=6)
    written = twin.open_results(tmp_path / "run.nc", load=True)
    park = Park(cfg)
    sink = loop.CollectSink(("cell_voltage", "alumina", "line_current"))
    loop.run(park, ScheduleDriver(), sink, 6 * 3600.0)
    got = sink.arrays()
    assert got["cell_voltage"].shape == written.cell_voltage.shape
    for name in got:       # the file keeps float32, interval means of cells bit-rounded: the same numbers as written
        kept = got[name].astype(np.float32)
        if _quantized(VARIABLES[name]):
            kept = bitround(kept, VARIABLES[name].keep_bits)
        np.testing.assert_array_equal(kept, written[name].values)


def test_replay_books_the_site_as_a_forward_run_does(tmp_path):
    """Replay goes through the same step as a forward run: the site's books (footprint, fluoride, power) and the
    events of what it applied are in its file, not only the cells' means."""
    cfg = reference_with_cells(2, output_interval_s=600.0)
    ran = twin.run(cfg, tmp_path / "run.nc", hours=12)
    replayed = replay(cfg, inputs_from_results(twin.open_results(tmp_path / "run.nc", load=True)),
                      tmp_path / "replay.nc")
    again = twin.open_results(tmp_path / "replay.nc", load=True)
    assert again.attrs["replay"] == 1 and "co2e_total_intensity" in again
    assert np.isfinite(replayed.co2e_per_t)
    assert abs(replayed.footprint["anode"] - ran.footprint["anode"]) < 0.01 * ran.footprint["anode"]
    assert (again.event_kind.values == 6).sum() > 0          # the anode settings it applied, as events


def test_replay_without_recorded_currents_follows_the_power_program(tmp_path):
    """Inputs without a line current leave the current to the park's schedules after its power program (it was
    the bare schedule: a curtailment was silently skipped)."""
    cfg = reference_with_cells(2, output_interval_s=600.0)
    program = cfg.power.model_copy(update={"program": [ProgramPoint(hour=0, power_fraction=1.0),
                                                       ProgramPoint(hour=1, power_fraction=1.0),
                                                       ProgramPoint(hour=1.5, power_fraction=0.85)]})
    cfg = cfg.model_copy(update={"power": program})
    twin.run(cfg, tmp_path / "run.nc", hours=3)
    inputs = inputs_from_results(twin.open_results(tmp_path / "run.nc", load=True)).drop_vars("line_current")
    park = Park(cfg)
    driver = RecordedDriver(park, inputs)
    driver.take_over(park)
    assert np.allclose(driver.line_setpoints(park, 0.0), park.setpoints(0.0))
    got = replay(cfg, inputs, None, collect=("line_current",))["line_current"]
    design = park.setpoints(0.0)
    assert np.all(got[-1] < 0.95 * design) and np.allclose(got[0], design, rtol=1e-3)


def test_no_kernel_row_is_indexed_outside_the_smelter():
    """The potlines are the only owner of the kernel's rows: everything else goes through their methods."""
    rows = re.compile(r"\b(STATE|PARAM|COUNTER|LINE|LINE_PARAM|AUX|SUM)\[")
    offenders = [f"{path.relative_to(PACKAGE)}:{n}" for path in PACKAGE.rglob("*.py")
                 if "smelter" not in path.relative_to(PACKAGE).parts
                 for n, line in enumerate(path.read_text().splitlines(), 1) if rows.search(line)]
    assert not offenders, offenders
