"""Speed of the whole park (``python -m pytest benchmarks --benchmark-only``): the reference park of
configs/park.toml (720 cells, the refinery, silo, fume treatment, power and carbon) as `twin run` runs it.
The park-day is in test_potline_speed.py (test_reference_park_one_day); here a park-week, extrapolated
to the park-year (goal: about a minute on 2 cores), and the cost of the coupling itself."""
from __future__ import annotations

from twin import Park, load_config


def test_reference_park_one_week(benchmark, tmp_path):
    config = load_config()

    def setup():
        return (Park(config),), {}

    def one_week(park):
        park.run(tmp_path / "week.nc", 7 * 86400.0)

    benchmark.pedantic(one_week, setup=setup, rounds=1, iterations=1)
    benchmark.extra_info["park_year_s_extrapolated"] = benchmark.stats.stats.mean * 365.0 / 7.0


def test_smelter_alone_one_day(benchmark, tmp_path):
    """The same potlines without the refinery and site sections: the difference to the park-day is the coupling."""
    config = load_config()
    config = config.model_copy(update={"refinery": None, "fume": None})

    def setup():
        return (Park(config),), {}

    def one_day(park):
        park.run(tmp_path / "day.nc", 86400.0)

    benchmark.pedantic(one_day, setup=setup, rounds=3, iterations=1)
    benchmark.extra_info["plant_year_s_extrapolated"] = benchmark.stats.stats.mean * 365.0
