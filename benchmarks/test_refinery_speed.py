"""Speed of the precipitation kernel (``python -m pytest benchmarks --benchmark-only``)."""
from __future__ import annotations

from twin.refinery.precipitation import PrecipitationTrain, feed_liquor


def test_precipitation_train_one_day(benchmark):
    """12 tanks x 30 classes, one plant-day at 60 s steps (growth, nucleation, agglomeration on)."""
    def setup():
        t = PrecipitationTrain(tanks=12, classes=30)
        t.fill(feed_liquor(160.0, 240.0, 70.0))
        seed = t.seed_numbers(400.0, 64.0) + t.seed_numbers(20.0, 20.0)
        t.number[:] = seed[:, None]
        return (t, seed), {}

    def one_day(t, seed):
        t.advance(86400.0, (168.0, 240.0, 75.0), seed)

    benchmark.pedantic(one_day, setup=setup, rounds=3, iterations=1)
    mean = benchmark.stats.stats.mean
    benchmark.extra_info.update({"tank_class_steps_per_s": 12 * 30 * 1440 / mean,
                                 "refinery_year_s_extrapolated": mean * 365})


def test_liquor_loop_steady_state(benchmark):
    """The 2 Mt/yr liquor loop converged by scipy.optimize.root from the design-spec estimate (goal < 1 s)."""
    from twin.refinery.flowsheet import solve

    benchmark.pedantic(solve, rounds=5, iterations=1)


def test_dynamic_refinery_one_week(benchmark):
    """The reference refinery (configs/refinery.toml, 1 h steps, 2 trains x 12 tanks x 30 classes), one plant-week.

    Extrapolated to a refinery-year (goal < 10 s on 2 cores)."""
    import copy

    from twin.config import default_config_path, load_config
    from twin.refinery.plant import Refinery

    started = Refinery(load_config(default_config_path().parent / "refinery.toml").refinery)

    def setup():
        return (copy.deepcopy(started),), {}

    def one_week(r):
        for _ in range(7):
            r.advance(86400.0)

    benchmark.pedantic(one_week, setup=setup, rounds=3, iterations=1)
    benchmark.extra_info["refinery_year_s_extrapolated"] = benchmark.stats.stats.mean * 365 / 7


def test_dynamic_refinery_start(benchmark):
    """Steady liquor loop, precipitation circuit spun up (20 days) and the loop re-solved: the initial state."""
    from twin.config import default_config_path, load_config
    from twin.refinery.plant import Refinery

    cfg = load_config(default_config_path().parent / "refinery.toml").refinery
    benchmark.pedantic(Refinery, args=(cfg,), rounds=3, iterations=1)
