"""The ``lantian`` command: list, demo, check, run, report and export analyses.

Bad input prints one message naming the file, rows or column and the fix, and exits with
status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from pathlib import Path

from spatial.errors import InputError

log = logging.getLogger("lantian")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lantian",
        description="lantian (蓝天): air-quality action-plan analyses on H3 cells.")
    p.add_argument("--version", action="version", version=f"lantian {_version()}")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    p.add_argument("-q", "--quiet", action="count", default=0,
                   help="less output (no progress, no summary)")
    sub = p.add_subparsers(dest="command", required=True)
    lst = sub.add_parser("list", help="list the analyses")
    demo = sub.add_parser("demo", help="run every analysis on the bundled demo data")
    demo.add_argument("--out", type=Path, default=Path("."),
                      help="output folder (layers/ and maps/ are written inside; default: .)")
    run = sub.add_parser("run", help="run one analysis on your own files")
    run.add_argument("analysis", help="analysis name, see `lantian list`")
    run.add_argument("--config", type=Path, required=True, help="TOML config: inputs and params")
    run.add_argument("--out", type=Path, default=Path("."), help="output folder (default: .)")
    run.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="params.NAME=VALUE", help="override a parameter, e.g. "
                     "--set params.radius_km=15 (repeatable)")
    run.add_argument("--strict", action="store_true", help="input warnings are errors")
    run.add_argument("--shp-periods", action="store_true",
                     help="per-period layers (pollution-hotspots cells) also as one Shapefile "
                     "per period, shp/<layer>_<period>.shp (as [output] shp_periods = true)")
    day = run.add_mutually_exclusive_group()
    day.add_argument("--date", default=None, metavar="YYYY-MM-DD",
                     help="fire-points daily run for this local date: new detections, "
                     "layers/fire-points/notice_<date>.docx and .xlsx (核查 sheet)")
    day.add_argument("--since", choices=["last"], default=None,
                     help="fire-points daily run: new = not in the previous result in --out")
    run.add_argument("--verification", nargs="+", type=Path, default=None, metavar="XLSX",
                     help="fire-points: returned 核查 workbooks (any number)")
    run.add_argument("--engine", choices=["local", "dask"], default="local",
                     help="where the heavy steps run: in this process (default) or on Dask "
                     "(fire-points, pollution-hotspots; needs pip install lantian[dask])")
    run.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="Dask scheduler, e.g. tcp://host:8786 (default with --engine dask: "
                     "a local cluster of 2 worker processes)")
    for sp in (demo, run):
        sp.add_argument("--no-report", dest="report", action="store_false",
                        help="do not write layers/<analysis>/report.docx (the Word report)")
    rep = sub.add_parser("report", help="rewrite the Word report (layers/<analysis>/"
                         "report.docx) of the last run's result")
    rep.add_argument("analysis", help="analysis name, see `lantian list`")
    rep.add_argument("--out", type=Path, default=Path("."),
                     help="the run's output folder, holding layers/ and maps/ (default: .)")
    for sp, default in ((demo, "offline"), (run, "online")):
        sp.add_argument("--basemap", default=None,
                        help="basemap of every map: light, osm, tianditu-vec, tianditu-img, "
                        "amap (gaode), none (default: the config's [map] basemap, else each "
                        "analysis's own)")
        grp = sp.add_mutually_exclusive_group()
        grp.add_argument("--offline", dest="offline", action="store_true", default=None,
                         help="maps need no network at all: no basemap tiles"
                         + (" (default)" if default == "offline" else ""))
        grp.add_argument("--online", dest="offline", action="store_false",
                         help="keep the basemap tiles (fetched when the map is opened)"
                         + (" (default)" if default == "online" else ""))
    exp = sub.add_parser("export", help="per-county packs of the last run's result")
    exp.add_argument("analysis", help="analysis name, see `lantian list`")
    exp.add_argument("--by", choices=["county"], required=True, help="split by county")
    exp.add_argument("--shp-encoding", choices=["utf-8", "gbk"], default="utf-8",
                     help="Shapefile attribute encoding (gbk for ArcGIS 10.x; default utf-8)")
    exp.add_argument("--out", type=Path, default=Path("."),
                     help="the run's output folder, holding layers/ (default: .)")
    chk = sub.add_parser("check", help="read and check the inputs of a config, run nothing")
    chk.add_argument("analysis", nargs="?",
                     help="analysis name (default: inferred from the inputs)")
    chk.add_argument("--config", type=Path, required=True, help="TOML config: inputs and params")
    chk.add_argument("--strict", action="store_true", help="warnings are errors (exit 2)")
    _fetch_parser(sub)
    for sp in (lst, demo, run, chk, exp, rep):
        _verbosity_flags(sp)
    return p


def _verbosity_flags(sp: argparse.ArgumentParser) -> None:
    """-v/-q also after the command; SUPPRESS keeps a count given before it."""
    sp.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                    help="more log output")
    sp.add_argument("-q", "--quiet", action="count", default=argparse.SUPPRESS,
                    help="less output (no progress, no summary)")


def _version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("lantian")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - not installed
        return "(not installed)"


def _setup_progress(quiet: int) -> None:
    """A bar on a terminal, one line per step otherwise, nothing with -q."""
    from spatial import progress

    if quiet:
        progress.set_reporter(lambda desc, done, total: None)
    elif sys.stderr.isatty():
        progress.set_reporter(progress.Bar(sys.stderr))
    else:
        progress.set_reporter(progress.Lines(sys.stderr))


def _fetch_parser(sub: argparse._SubParsersAction) -> None:
    fetch = sub.add_parser("fetch", help="download FIRMS detections (or OSM features) of the "
                           "config's counties into the cache")
    fsub = fetch.add_subparsers(dest="what", required=True)
    firms = fsub.add_parser("firms", help="NASA FIRMS area API (MAP_KEY) or keyless files")
    firms.add_argument("--config", type=Path, required=True,
                       help="TOML config with [inputs.counties] and optional [fetch]")
    firms.add_argument("--days", type=int, default=None, help="the last N UTC days (default 1)")
    firms.add_argument("--start", default=None, help="first UTC day YYYY-MM-DD")
    firms.add_argument("--end", default=None, help="last UTC day YYYY-MM-DD (default: --start)")
    firms.add_argument("--source", default=None, help="comma-separated FIRMS sources, e.g. "
                       "VIIRS_SNPP_NRT,MODIS_NRT,VIIRS_SNPP_SP (default: [fetch] sources)")
    firms.add_argument("--cache", type=Path, default=None,
                       help="cache folder (default: [fetch] cache, else data/raw)")
    firms.add_argument("--keyless", action="store_true",
                       help="use the keyless regional 24h/48h/7d files even with a MAP_KEY")
    osm = fsub.add_parser("osm", help="OpenStreetMap features through osmnx (Overpass)")
    osm.add_argument("--config", type=Path, required=True,
                     help="TOML config with [inputs.counties] and optional [fetch]")
    osm.add_argument("--what", dest="what_list", default="built_up,receptors",
                     help="comma-separated: built_up, roads, receptors (default: built_up, "
                     "receptors)")
    osm.add_argument("--cache", type=Path, default=None,
                     help="cache folder (default: [fetch] cache, else data/raw)")
    for sp in (fetch, firms, osm):
        _verbosity_flags(sp)


def _fetch(args: argparse.Namespace) -> int:
    """``lantian fetch firms|osm``: download into the cache and say what was fetched."""
    import dataclasses
    import datetime as dt

    from spatial import config as cfg
    from spatial import fetch, io

    conf = cfg.load(args.config)
    s = fetch.settings(conf)
    if args.cache is not None:
        s = dataclasses.replace(s, cache=args.cache)
    if "counties" not in conf["inputs"]:
        raise InputError(f"{args.config}: fetch needs [inputs.counties] (the area to download).")
    c = conf["inputs"]["counties"]
    counties = io.read_polygons(c["path"], fields=(), name="counties", crs=c["crs"],
                                columns=c["columns"]).frame
    if args.what == "osm":
        from spatial import osm

        area = counties.geometry.union_all()
        for what in [w.strip() for w in args.what_list.split(",") if w.strip()]:
            path, n = osm.download_features(what, area, overpass_url=s.overpass_url,
                                            cache=s.cache, timeout_s=max(s.timeout_s, 180))
            if not args.quiet:
                print(f"== fetch osm {what}: {n} features" + (" (none in the area)" if not n
                                                              else "") + f" -> {path}")
        return 0
    bbox = fetch.bbox_of(counties.total_bounds, margin_km=s.margin_km)
    today = dt.datetime.now(dt.UTC).date()
    days = fetch.day_range(days=args.days, start=args.start, end=args.end, today=today)
    sources = [x.strip().upper() for x in args.source.split(",")] if args.source else None
    reports = fetch.fetch_firms(s, bbox=bbox, days=days, sources=sources, today=today,
                                keyless=True if args.keyless else None)
    if not args.quiet:
        print(f"== fetch firms: box {bbox} (W, S, E, N), {len(days)} day(s), cache {s.cache}")
        for r in reports:
            print(f"   {r.line()}")
    return 0


def _setup_logging(verbose: int, quiet: int) -> None:
    level = logging.INFO - 10 * verbose + 10 * quiet
    logging.basicConfig(level=max(level, logging.DEBUG), stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    logging.captureWarnings(True)


def _report(name: str, output, quiet: bool) -> None:
    if quiet:
        return
    print(f"== {name}")
    for line in output.result.summary:
        print(f"   {line}")
    for line in output.manifest.get("left_out", []):  # Shapefiles past the format's 2 GB
        print(f"   warning: {line}")
    print(f"   layers: {output.layers_dir}")
    print(f"   map:    {output.map_path}")
    for p in getattr(output, "figure_paths", ()):
        print(f"   figure: {p}")
    docx = output.layers_dir / "report.docx"
    if docx.exists():
        print(f"   report: {docx}")
    qgz = output.layers_dir / f"{name}.qgz"
    if qgz.exists():
        print(f"   QGIS:   {qgz}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lantian`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    _setup_logging(args.verbose, args.quiet + 1)  # INFO logs only with -v
    from spatial import progress

    previous = progress.set_reporter(None)
    _setup_progress(args.quiet)
    try:
        return _main(args)
    finally:
        progress.set_reporter(previous)


def _main(args: argparse.Namespace) -> int:
    try:
        from analyses import REGISTRY, checks, describe, get, runner
        from spatial import config as cfg

        if args.command == "list":
            for name in REGISTRY:
                print(f"{name:20s} {describe(get(name))}")
            return 0
        if args.command == "demo":
            for name in REGISTRY:
                conf = cfg.load(runner.demo_config_path(name))
                _report(name, runner.execute(name, conf, out=args.out, basemap=args.basemap,
                                             offline=args.offline, default_offline=True,
                                             report=args.report),
                        args.quiet > 0)
            return 0
        if args.command == "run":
            get(args.analysis)
            conf = cfg.apply_overrides(cfg.load(args.config), args.overrides)
            if args.shp_periods:  # per-period layers also as one Shapefile per period
                conf["output"] = {**(conf.get("output") or {}), "shp_periods": True}
            runner.check_engine(args.analysis, args.engine, args.scheduler)
            from spatial.engine import get_engine

            if args.engine == "dask" and not args.verbose:
                # distributed configures its own INFO logging, in this process and in the
                # worker processes it starts (which read the environment)
                os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
                with contextlib.suppress(ImportError):  # get_engine says how to install it
                    import dask

                    dask.config.refresh()
                logging.getLogger("distributed").setLevel(logging.WARNING)
            daily = args.date or args.since or args.verification
            if daily and args.analysis != "fire-points":
                raise InputError("--date, --since and --verification are for fire-points.")
            if args.analysis == "fire-points":  # daily flags; earlier notices kept
                from analyses import fire_daily

                kept = fire_daily.prepare(conf, out=args.out, date=args.date,
                                          since_last=args.since == "last",
                                          verification=args.verification)
            with get_engine(args.engine, scheduler=args.scheduler) as engine:
                out = runner.execute(args.analysis, conf, out=args.out, strict=args.strict,
                                     basemap=args.basemap, offline=args.offline,
                                     engine=None if args.engine == "local" else engine,
                                     report=args.report)
            _report(args.analysis, out, args.quiet > 0)
            if args.analysis == "fire-points":
                for p in fire_daily.finish(out, kept):
                    if not args.quiet:
                        print(f"   notice: {p}")
            return 0
        if args.command == "export":
            from spatial import packs, publish

            get(args.analysis)
            builder = runner.county_map_builder(
                args.analysis, Path(args.out) / "layers" / args.analysis)
            with publish.lock(args.out, args.analysis,
                              command=f"lantian export {args.analysis}"):
                zips = packs.export_by_county(args.analysis, out=args.out,
                                              encoding=args.shp_encoding, map_builder=builder)
            if not args.quiet:
                print(f"== {args.analysis}: {len(zips)} county pack(s)")
                for z in zips:
                    print(f"   {z}")
            return 0
        if args.command == "report":
            from analyses import result_report

            path = result_report.rewrite(args.analysis, args.out)
            if not args.quiet:
                print(f"== {args.analysis}: report {path}")
            return 0
        if args.command == "fetch":
            return _fetch(args)
        if args.command == "check":
            conf = cfg.load(args.config)
            name = args.analysis or runner.infer_analysis(conf)
            tables, warnings = runner.check(name, conf, strict=args.strict)
            print(f"== {name}: {args.config}")
            print(checks.report(tables, warnings, conf))
            return 0
    except InputError as err:
        print(f"lantian: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        from spatial import publish

        print(f"lantian: {publish.interrupt_message()}", file=sys.stderr)
        return 130
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
