"""The ``twin`` command: run, calibrate, sweep, ingest, report, check-config.

The model is imported by the subcommand that needs it, after the arguments are read: ``twin --help``
and ``twin --version`` answer without loading it.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from twin._version import __version__


def _over_an_input(option: str, out: Path, inputs: dict[str, list[Path]]) -> bool:
    """True (with the one-line error printed) if writing ``out`` would replace one of the command's inputs."""
    for role, paths in inputs.items():
        for given in paths:
            if given.exists() and out.resolve() == given.resolve():
                print(f"twin: error: {option} {out} would write over {given}, {role}; choose another {option}",
                      file=sys.stderr)
                return True
    return False


def _bar_wanted(args: argparse.Namespace) -> bool:
    """A command's progress bar: on a terminal, unless --quiet (a bar in a log file or a pipe is noise)."""
    return not args.quiet and sys.stderr.isatty()


def _run(args: argparse.Namespace) -> int:
    from twin import checkpoint
    from twin.config import load_config
    from twin.park import Park, plant_time_bar

    if args.resume:
        if args.config or args.days or args.hours or args.out or args.calibration or args.force:
            print("twin: error: --resume continues a run as it was configured: give it alone", file=sys.stderr)
            return 2
        print(f"alutwin: resuming {args.resume} from its last checkpoint")
        planned = checkpoint.horizon(checkpoint.checkpoint_path(args.resume))
        with plant_time_bar(planned[1] if planned else None, disable=args.quiet) as bar:
            summary = Park.resume(args.resume, progress=lambda s: bar.update(round(s)))
        print(summary)
        return 0
    from twin.config import default_config_path, files_read

    cfg = load_config(args.config, calibration=args.calibration)
    seconds = args.hours * 3600.0 if args.hours is not None else (args.days or cfg.run.days) * 86400.0
    out = Path(args.out) if args.out else _free_name(Path.cwd(), Path(cfg.source).stem)
    inputs = {"the park config (or a file it reads)": files_read(args.config or default_config_path()),
              "the calibration": [Path(args.calibration)] if args.calibration else []}
    if any(_over_an_input("--out", written, inputs) for written in (out, Path(f"{out}.checkpoint.npz"))):
        return 2
    if out.exists() and not args.force:
        print(f"twin: error: --out {out} exists (the results of an earlier run?); give --force to replace it, "
              "or another --out", file=sys.stderr)
        return 2
    print(f"alutwin: {cfg.name} ({_describe(cfg)}) from {cfg.source}")
    park = Park(cfg)                                   # steady state first: it can fail on a bad design
    with plant_time_bar(seconds, disable=args.quiet) as bar:
        summary = park.run(out, seconds, progress=lambda s: bar.update(round(s)))
    print(summary)
    return 0


def _free_name(folder: Path, stem: str) -> Path:
    """``<stem>-results.nc`` in ``folder`` (spaces made dashes), or ``-2``, ``-3`` ... after it if that exists:
    a run with no ``--out`` never replaces the results of an earlier one."""
    base = "-".join(stem.split()) + "-results"
    out, n = folder / f"{base}.nc", 1
    while out.exists():
        n += 1
        out = folder / f"{base}-{n}.nc"
    if n > 1:
        print(f"alutwin: {base}.nc exists: writing {out.name}")
    return out


def _sweep(args: argparse.Namespace) -> int:
    from twin.config import files_read
    from twin.sweeps import SweepError, load_sweep, sweep

    if args.workers < 1:
        print(f"twin: error: --workers must be at least 1, got {args.workers}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path(args.sweep).with_suffix(".nc")
    try:
        spec, _ = load_sweep(args.sweep)          # its base by path ("reference": the packaged park)
        base = files_read(spec.base)
    except SweepError as exc:
        print(f"twin: error: {exc}", file=sys.stderr)
        return 2
    if _over_an_input("--out", out, {"the sweep": [Path(args.sweep)], "its base park (or a file it reads)": base}):
        return 2
    try:
        ds = sweep(args.sweep, out, n_workers=args.workers, scheduler=args.scheduler, progress=_bar_wanted(args))
    except SweepError as exc:                 # found when the sweep is read, before any point runs
        print(f"twin: error: {exc}", file=sys.stderr)
        return 2
    failed = int(ds.failed.sum())
    print(f"{out}: {int(ds.failed.size)} point(s) over {', '.join(f'{d} ({ds.sizes[d]})' for d in ds.failed.dims)}"
          + (f"; {failed} failed (see its message variable)" if failed else ""))
    return 0


def _check(args: argparse.Namespace) -> int:
    from twin.config import changes_against_base, load_config

    cfg = load_config(args.config)
    print(f"{cfg.source}: valid ({_describe(cfg)})")
    changes = changes_against_base(args.config)
    if changes is not None:
        print(f"against its base: {len(changes)} change(s)" + "".join(f"\n  {line}" for line in changes))
    return 0


def _describe(cfg) -> str:
    """One line on what a park holds: its potlines and its refinery."""
    parts = [f"{p.name}: {p.cells} cells at {p.current_kA:g} kA" for p in (cfg.smelter.potlines if cfg.smelter else [])]
    if cfg.refinery is not None:
        r = cfg.refinery
        parts.append(f"refinery: {r.design.alumina_t_per_year / 1e6:g} Mt/yr alumina, {r.precipitation.trains} x "
                     f"{r.precipitation.tanks} precipitators")
    return ", ".join(parts)


def _ingest(args: argparse.Namespace) -> int:
    from twin.historian import ingest, load_tag_map
    from twin.results import output_lock, write_whole

    out = Path(args.out)
    report_path = out.with_suffix(".quality.csv")
    inputs = {"an export": [Path(e) for e in args.exports], "the tag map": [Path(args.tags)]}
    if any(_over_an_input("--out", written, inputs) for written in (out, report_path)):
        return 2
    if out.exists() and not args.force:
        print(f"twin: error: --out {out} exists; give --force to replace it, or another --out", file=sys.stderr)
        return 2
    tag_map = load_tag_map(args.tags)
    ds, report = ingest(args.exports, tag_map, interval_s=args.interval, start=args.start, end=args.end,
                        progress=_bar_wanted(args))
    # locked as a run's results are (a run writing --out stops this at once), written beside and renamed: a
    # reader never meets half a file, and a refused or killed write leaves what was there
    with output_lock(out):
        write_whole(out, lambda f: ds.to_netcdf(f, engine="h5netcdf"))
        write_whole(report_path, lambda f: f.write(report.to_csv(index=False).encode()))
    unknown = report.loc[report["status"] == "unknown tag", "tag"].tolist()
    print(f"{out}: {ds.sizes['time']} intervals of {args.interval:g} s, {len(ds.sample)} samples; "
          f"quality report {report_path}")
    if unknown:
        print(f"  {len(unknown)} tag(s) not in the tag map: {', '.join(map(str, unknown[:10]))}"
              + (" ..." if len(unknown) > 10 else ""))
    return 0


def _cells(spec: str | None, n: int) -> list[int]:
    """'0-9,15' -> [0, ..., 9, 15]; None -> every cell."""
    if not spec:
        return list(range(n))
    cells: list[int] = []
    for part in spec.split(","):
        lo, _, hi = part.strip().partition("-")
        try:
            first, last = int(lo), int(hi or lo)
        except ValueError:
            raise ValueError(f"--cells {spec!r}: {part!r} is not a cell or a range like 3-17") from None
        if not 0 <= first <= last < n:
            raise ValueError(f"--cells {spec!r}: {part.strip()!r} is not a range of cells in 0..{n - 1} (the first "
                             "cell first, e.g. 2-5)")
        cells += list(range(first, last + 1))
    return sorted(set(cells))


def _calibrate(args: argparse.Namespace) -> int:
    import numpy as np
    import xarray as xr

    from twin.calibrate import calibrate_cells, check_problems, load_fit, problems_from_data, write_calibration
    from twin.config import files_read, load_config
    from twin.results import READ_ENGINE, open_results, write_whole

    config_files = files_read(args.config) if Path(args.config).is_file() else []
    inputs = {"the park config (or a file it reads)": config_files, "the fit file": [Path(args.fit)],
              "the data": [Path(args.data)]}
    written = (Path(args.out), Path(args.out).with_suffix(".toml"))
    if any(_over_an_input("--out", path, inputs) for path in written):
        return 2

    cfg = load_config(args.config)
    spec = load_fit(args.fit)
    if not Path(args.data).is_file():
        print(f"twin: error: --data {args.data}: no such file", file=sys.stderr)
        return 2
    try:
        with xr.open_dataset(args.data, engine=READ_ENGINE) as ds:
            run = ds.attrs.get("title") == "alutwin results"
            data = ds if run else ds.load()
        if run:                                    # a twin run: read with its labels, its format checked
            data = open_results(args.data, load=True)
    except (ValueError, OSError) as exc:
        print(f"twin: error: --data {args.data}: {exc}", file=sys.stderr)
        return 2
    try:
        cells = _cells(args.cells, data.sizes["cell"])
    except ValueError as exc:
        print(f"twin: error: {exc}", file=sys.stderr)
        return 2
    try:
        problems = problems_from_data(data, cells, spec, step_s=cfg.run.slow_step_s)
        check_problems(cfg, data, problems, spec, f"--data {args.data}")   # before a cluster starts
        input_noise = spec.input_noise(data)
    except (ValueError, KeyError) as exc:
        text = str(exc)
        print(f"twin: error: {text if text.startswith(('--data', 'parameter')) else f'{args.data}: {text}'}",
              file=sys.stderr)
        return 2
    print(f"alutwin: calibrating {len(cells)} cells ({', '.join(p.name for p in spec.parameter)}) "
          f"against {', '.join(m.variable for m in spec.measurement)} from {args.data}")
    for name, sd in input_noise.items():
        print(f"  {name}: noise {sd:.4g} per value, carried into the standard errors")
    try:
        result = calibrate_cells(cfg, problems, spec.parameters(), scheduler=args.scheduler, n_workers=args.workers,
                                 batch_size=args.batch_size, input_noise=input_noise, progress=_bar_wanted(args))
    except ValueError as exc:
        print(f"twin: error: --workers/--batch-size: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    write_whole(out, lambda f: result.to_netcdf(f, engine="h5netcdf"))
    toml = write_calibration(result, out.with_suffix(".toml"))
    ok = int(result.success.sum())
    print(f"  {ok} of {len(cells)} fits converged -> {out}, {toml} (use: twin run CONFIG --calibration {toml})")
    for fitted in spec.parameter:
        est = result.estimate.sel(parameter=fitted.name).values
        se = result.std_error.sel(parameter=fitted.name).values
        print(f"  {fitted.name}: median {np.nanmedian(est):.4g}, range {np.nanmin(est):.4g}..{np.nanmax(est):.4g}, "
              f"median standard error {np.nanmedian(se):.3g}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from twin.drivers.training import ACTIONS, Action
    from twin.training.scenario import load_scenario, load_script
    from twin.training.session import TrainingSession, replay

    if args.replay:
        if args.config or args.scenario or args.script:
            print("twin: error: --replay runs a session's file as it was: give it with --out only", file=sys.stderr)
            return 2
        out = Path(args.out) if args.out else _free_name(Path.cwd(), Path(args.replay).stem + "-replay")
        if _refuse_out(out, args.force, {"the session": [Path(args.replay)]}):
            return 2
        try:
            print(f"alutwin: replaying {args.replay} -> {replay(args.replay, out)}")
        except ValueError as exc:                 # not a session's file
            print(f"twin: error: {exc}", file=sys.stderr)
            return 2
        return 0
    if not args.script and not _port_free(args.port):
        return 2
    scenario = load_scenario(args.scenario)
    config = scenario.park_config(args.config)
    out = Path(args.out) if args.out else _free_name(Path.cwd(), f"training-{scenario.name}")
    inputs = {"the scenario": [Path(scenario.source)], "the park config": [Path(args.config)] if args.config else [],
              "the script": [Path(args.script)] if args.script else []}
    if _refuse_out(out, args.force, inputs):
        return 2
    session = TrainingSession(scenario, out, config=config)
    if args.script:
        actions = []
        for i, a in enumerate(load_script(args.script)):
            if a.kind not in ACTIONS:
                print(f"twin: error: {args.script}: action[{i}].kind = {a.kind!r}: actions are {', '.join(ACTIONS)}",
                      file=sys.stderr)
                return 2
            if a.pot not in session.cell_names:
                print(f"twin: error: {args.script}: action[{i}].pot = {a.pot!r}: no such pot on line {scenario.line}",
                      file=sys.stderr)
                return 2
            actions.append(Action(a.at_h * 3600.0, a.kind, session.cell_names.index(a.pot), a.value))
        session.driver.script(actions)
        session.run(args.hours)
        print(f"alutwin: scripted session of {scenario.title!r} -> {out}")
        return 0
    from twin.training.server import serve

    server = serve(session, port=args.port)
    print(f"alutwin: training on {scenario.title!r}: open http://127.0.0.1:{args.port}/ (instructor: "
          f"/instructor); the session is written to {out}; Ctrl-C ends it")
    session.start(args.hours)
    try:
        server.run()
    finally:
        session.end()
    print(f"alutwin: session ended -> {out}")
    return 0


def _port_free(port: int) -> bool:
    """True if the training pages can listen on ``port`` of the loopback; else False after one line on stderr."""
    import socket

    if not 1 <= port <= 65535:
        print(f"twin: error: --port {port}: a port is from 1 to 65535", file=sys.stderr)
        return False
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            print(f"twin: error: --port {port}: cannot listen there ({exc.strerror}); another twin train, or "
                  "choose another --port", file=sys.stderr)
            return False
    return True


def _refuse_out(out: Path, force: bool, inputs: dict[str, list[Path]]) -> bool:
    """True (after one line on stderr) if ``out`` may not be written: over an input, or there without --force."""
    if _over_an_input("--out", out, inputs):
        return True
    if out.exists() and not force:
        print(f"twin: error: --out {out} exists; give --force to replace it, or another --out", file=sys.stderr)
        return True
    return False


def _report(args: argparse.Namespace) -> int:
    from twin.report import report
    from twin.sweep_report import is_sweep, sweep_report

    if not Path(args.results).is_file():
        print(f"twin: error: {args.results}: no such results file", file=sys.stderr)
        return 2
    if args.out is not None and Path(args.out).exists() and not Path(args.out).is_dir():
        print(f"twin: error: --out {args.out} is a file; a report is a folder (index.html and its figures): "
              "choose a folder", file=sys.stderr)
        return 2
    try:
        index = (sweep_report(args.results, args.out) if is_sweep(args.results)
                 else report(args.results, args.out, progress=_bar_wanted(args)))
    except (ValueError, KeyError) as exc:
        print(f"twin: error: {args.results}: cannot report it ({exc})", file=sys.stderr)
        return 2
    print(f"alutwin: report written to {index}")
    return 0


class _StderrLines(logging.StreamHandler):
    """Warnings and errors as one line each on the present stderr, named by their level ("twin: warning: ...");
    a library's own (Dask's) with its logger's name. Records below WARNING are not shown: Dask's INFO
    ("Start Nanny at ...") propagates to the root logger whatever the root's level, so the handler filters."""

    def __init__(self, level: int = logging.WARNING) -> None:
        super().__init__()
        self.setLevel(level)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr          # the stream of now (a redirected or captured stderr), not of import
        super().emit(record)

    def format(self, record: logging.LogRecord) -> str:
        source = "" if record.name == "twin" or record.name.startswith("twin.") else f"{record.name}: "
        return f"twin: {record.levelname.lower()}: {source}{record.getMessage()}"


def _log_to_stderr(verbose: bool = False) -> None:
    """Warnings and errors on stderr; with ``verbose`` also INFO, the model's and the libraries' (Dask's)."""
    level = logging.INFO if verbose else logging.WARNING
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrLines)]:
        root.removeHandler(handler)
    root.addHandler(_StderrLines(level))
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="twin", description="alutwin: digital twin of a green-aluminium park")
    parser.add_argument("--version", action="version", version=f"alutwin {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a park and stream results to a netCDF file")
    run.add_argument("config", nargs="?", default=None,
                     help="park TOML (default: the reference park, configs/park.toml)")
    horizon = run.add_mutually_exclusive_group()
    horizon.add_argument("--days", type=float, help="plant days to simulate (default: run.days of the config)")
    horizon.add_argument("--hours", type=float, help="plant hours to simulate")
    run.add_argument("--out", help="results file (default: <config name>-results.nc in the current directory, or "
                     "-2, -3 ... after it where that exists)")
    run.add_argument("--force", action="store_true", help="replace --out if it exists")
    run.add_argument("--calibration", metavar="FILE",
                     help="per-cell parameters ([[smelter.cell_overrides]], as twin.calibrate writes them)")
    run.add_argument("--resume", metavar="FILE", help="continue the run that writes FILE from its last checkpoint")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=_run)
    ing = sub.add_parser("ingest", help="historian exports -> netCDF on the model clock + quality report")
    ing.add_argument("exports", nargs="+", help="long CSV/Parquet (timestamp, tag, value[, quality]) or wide CSV")
    ing.add_argument("--tags", required=True, help="tag map TOML (see configs/historian/)")
    ing.add_argument("--out", required=True, help="netCDF file to write (report beside it, .quality.csv)")
    ing.add_argument("--interval", type=float, default=600.0, help="model output interval, s (default 600)")
    ing.add_argument("--start", help="first time (UTC, ISO 8601); default: the first value")
    ing.add_argument("--end", help="end of the last interval (UTC, ISO 8601; values at it or after are left out); "
                                   "default: the interval holding the last value")
    ing.add_argument("--force", action="store_true", help="replace --out if it exists")
    ing.add_argument("--quiet", action="store_true", help="no progress bar")
    ing.set_defaults(func=_ingest)
    cal = sub.add_parser("calibrate", help="fit cell parameters to plant data by replay, in batches on Dask")
    cal.add_argument("config", help="park TOML (its output interval must be the data's)")
    cal.add_argument("--data", required=True, help="ingested historian data (twin ingest) or a twin results file")
    cal.add_argument("--fit", required=True, help="fit TOML: [[parameter]] and [[measurement]] (configs/calibration/)")
    cal.add_argument("--out", required=True, help="netCDF of estimates by cell; the TOML for twin run goes beside it")
    cal.add_argument("--cells", help="cells to fit, e.g. 0-359,400 (default: all)")
    cal.add_argument("--workers", type=int, default=2, help="LocalCluster workers (default 2)")
    cal.add_argument("--scheduler", help="address of an existing dask.distributed scheduler")
    cal.add_argument("--batch-size", type=int, help="cells per Dask task (default: cells / workers)")
    cal.add_argument("--quiet", action="store_true", help="no progress bar")
    cal.set_defaults(func=_calibrate)
    swp = sub.add_parser("sweep", help="run a park over axes of its config keys on Dask; KPIs of every point")
    swp.add_argument("sweep", help="sweep TOML: base, days or hours, [[axis]] (see twin.sweeps; configs/sweeps/)")
    where = swp.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=2, help="LocalCluster workers (default 2)")
    where.add_argument("--scheduler", help="address of an existing dask.distributed scheduler")
    swp.add_argument("--out", help="netCDF of the KPIs by point (default: <sweep>.nc beside it; the points' results "
                     "files in <out>.points/)")
    swp.add_argument("--quiet", action="store_true", help="no progress bar")
    swp.set_defaults(func=_sweep)
    rep = sub.add_parser("report", help="an HTML page with figures of a results file or a sweep")
    rep.add_argument("results", help="results file of twin run, or the file of twin sweep")
    rep.add_argument("--out", metavar="DIR", help="directory for index.html and figures (default: <results>-report)")
    rep.add_argument("--quiet", action="store_true", help="no progress bar")
    rep.set_defaults(func=_report)
    trn = sub.add_parser("train", help="operator training: a live potline in the browser, with a scenario's faults")
    trn.add_argument("config", nargs="?", default=None,
                     help="park TOML whose line the trainee runs (default: the scenario's park)")
    trn.add_argument("--scenario", help="a shipped scenario's name (configs/training/) or a scenario TOML")
    trn.add_argument("--port", type=int, default=8600, help="local port of the pages (default 8600)")
    trn.add_argument("--out", help="the session's results file (default: training-<scenario>-results.nc here)")
    trn.add_argument("--force", action="store_true", help="replace --out if it exists")
    trn.add_argument("--hours", type=float, help="plant hours of the session (default: the scenario's)")
    trn.add_argument("--script", metavar="ACTIONS.toml", help="no browser: run the session with the actions of this "
                     "file ([[action]] at_h, kind, pot, value)")
    trn.add_argument("--replay", metavar="SESSION.nc", help="run a session's results file again (its scenario, park "
                     "and actions) into --out")
    trn.set_defaults(func=_train)
    check = sub.add_parser("check-config", help="validate a park TOML file and exit")
    check.add_argument("config")
    check.set_defaults(func=_check)
    verbose = "also the informational records (the model's and Dask's: workers started, tasks ...)"
    parser.add_argument("--verbose", action="store_true", help=verbose)
    for command in sub.choices.values():        # before or after the command; SUPPRESS: not reset by the command
        command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=verbose)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # the model's warnings (power programs outside the cells' window ...) as one line each on stderr
    _log_to_stderr(args.verbose)
    for flag, most in (("days", 36600.0), ("hours", 36600.0 * 24.0)):
        value = getattr(args, flag, None)
        if value is not None and not 0 < value <= most:
            print(f"twin: error: --{flag} must be a positive number of at most {most:g} (a century of plant time), "
                  f"got {value}", file=sys.stderr)
            return 2
    from twin.checkpoint import CheckpointError
    from twin.config import ConfigError
    from twin.schema import HistorianError
    from twin.smelter.limits import CellPhysicsError
    from twin.smelter.steady import SteadyStateError

    def terminate(signum: int, _frame) -> None:
        # imported when needed: check-config stays light
        from twin.loop import Interrupted
        raise Interrupted(signum)

    # SIGTERM (a job scheduler, `kill`) stops a command as Ctrl-C does; a run's loop notes either signal and
    # stops between intervals
    before = signal.signal(signal.SIGTERM, terminate) if threading.current_thread() is threading.main_thread() \
        else None
    try:
        return args.func(args)
    except (ConfigError, SteadyStateError, CheckpointError, HistorianError) as exc:
        print(f"twin: error: {exc}", file=sys.stderr)
        return 2
    except CellPhysicsError as exc:             # a cell left physics: the run stopped, results kept so far
        print(f"twin: error: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt as exc:           # Ctrl-C, or a run's loop stopped by SIGINT or SIGTERM
        signum = getattr(exc, "signum", signal.SIGINT)
        print(f"twin: {'terminated' if signum == signal.SIGTERM else 'interrupted'}; a run's results file keeps "
              "what it had written (marked incomplete), and twin run --resume FILE continues from its last "
              "checkpoint", file=sys.stderr)
        return 128 + signum
    except OSError as exc:                      # results file not writable, disk full ...
        print(f"twin: error: {exc}", file=sys.stderr)
        return 1
    finally:
        if before is not None:
            signal.signal(signal.SIGTERM, before)


if __name__ == "__main__":
    sys.exit(main())
