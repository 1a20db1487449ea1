"""`twin report`: the HTML page and its figures exist, are not empty, and open in a browser."""
from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest
from matplotlib.image import imread

import twin
from twin.cli import main
from twin.config import load_config, parse_config
from twin.report import report


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    data = load_config().model_dump(mode="json", by_alias=True)
    for line in data["smelter"]["potlines"]:
        line["cells"] = 6
    path = tmp_path_factory.mktemp("report") / "park.nc"
    twin.run(parse_config(data, source="<report test>"), path, hours=3)
    return path


def test_report_writes_a_page_with_every_figure(results, tmp_path):
    index = report(results, tmp_path / "rep")
    page = index.read_text()
    images = re.findall(r'<img src="([^"]+)"', page)
    assert {"potline_heat_maps.png", "line_current_and_power.png", "metal_ce_energy.png", "anode_effects.png",
            "silo.png", "refinery.png", "carbon_by_source.png"} <= set(images)
    for name in images:
        picture = imread(index.parent / name)
        assert picture.shape[0] > 100 and picture.shape[1] > 300, name
        assert float(np.std(picture[..., :3])) > 0.02, f"{name} is blank"
    for words in ("Summary", "Potlines", "Refinery", "Carbon footprint", "Circular flows", "t CO2e/t Al",
                  "red mud", "spent pot lining", "fluoride returned"):
        assert words in page, words


def test_cli_report_and_bad_paths(results, tmp_path, capsys):
    assert main(["report", str(results), "--out", str(tmp_path / "cli")]) == 0
    assert (tmp_path / "cli" / "index.html").is_file()
    assert main(["report", str(tmp_path / "missing.nc")]) == 2
    assert "missing.nc: no such results file" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_report_opens_in_headless_chromium(results, tmp_path):
    index = report(results, tmp_path / "browser")
    shot = tmp_path / "page.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=1100,3000", index.as_uri()], check=True, timeout=120,
                   capture_output=True)
    picture = imread(shot)
    assert picture.shape[:2] == (3000, 1100)
    # the figures were drawn: a good share of the page is not white
    coloured = np.mean(np.any(picture[..., :3] < 0.9, axis=-1))
    assert coloured > 0.1
