"""The ``lantian`` command: list, demo, check, run and export analyses.

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

from .errors import InputError

log = logging.getLogger("lantian")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lantian",
        description="lantian (蓝天): air-quality action-plan analyses on H3 cells.")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    p.add_argument("-q", "--quiet", action="count", default=0, help="less output")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the analyses")
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
    run.add_argument("--engine", choices=["local", "dask"], default="local",
                     help="where the heavy steps run: in this process (default) or on Dask "
                     "(fire-points, pollution-hotspots; needs pip install lantian[dask])")
    run.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="Dask scheduler, e.g. tcp://host:8786 (default with --engine dask: "
                     "a local cluster of 2 worker processes)")
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
    for sp in (demo, run, chk, exp):
        sp.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
        sp.add_argument("-q", "--quiet", action="count", default=0, help="less output")
    return p


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
    print(f"   layers: {output.layers_dir}")
    print(f"   map:    {output.map_path}")
    for p in getattr(output, "figure_paths", ()):
        print(f"   figure: {p}")
    qgz = output.layers_dir / f"{name}.qgz"
    if qgz.exists():
        print(f"   QGIS:   {qgz}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lantian`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    _setup_logging(args.verbose, args.quiet + 1)  # INFO logs only with -v
    try:
        from analyses import REGISTRY, checks, describe, get, runner

        from . import config as cfg

        if args.command == "list":
            for name in REGISTRY:
                print(f"{name:20s} {describe(get(name))}")
            return 0
        if args.command == "demo":
            for name in REGISTRY:
                conf = cfg.load(runner.demo_config_path(name))
                _report(name, runner.execute(name, conf, out=args.out, basemap=args.basemap,
                                             offline=args.offline, default_offline=True),
                        args.quiet > 0)
            return 0
        if args.command == "run":
            get(args.analysis)
            conf = cfg.apply_overrides(cfg.load(args.config), args.overrides)
            runner.check_engine(args.analysis, args.engine, args.scheduler)
            from .engine import get_engine

            if args.engine == "dask" and not args.verbose:
                # distributed configures its own INFO logging, in this process and in the
                # worker processes it starts (which read the environment)
                os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
                with contextlib.suppress(ImportError):  # get_engine says how to install it
                    import dask

                    dask.config.refresh()
                logging.getLogger("distributed").setLevel(logging.WARNING)
            with get_engine(args.engine, scheduler=args.scheduler) as engine:
                out = runner.execute(args.analysis, conf, out=args.out, strict=args.strict,
                                     basemap=args.basemap, offline=args.offline,
                                     engine=None if args.engine == "local" else engine)
            _report(args.analysis, out, args.quiet > 0)
            return 0
        if args.command == "export":
            from . import packs

            get(args.analysis)
            builder = runner.county_map_builder(
                args.analysis, Path(args.out) / "layers" / args.analysis)
            zips = packs.export_by_county(args.analysis, out=args.out,
                                          encoding=args.shp_encoding, map_builder=builder)
            if not args.quiet:
                print(f"== {args.analysis}: {len(zips)} county pack(s)")
                for z in zips:
                    print(f"   {z}")
            return 0
        if args.command == "check":
            conf = cfg.load(args.config)
            name = args.analysis or runner.infer_analysis(conf)
            tables, warnings = runner.check(name, conf, strict=args.strict)
            print(f"== {name}: {args.config}")
            print(checks.report(tables, warnings))
            return 0
    except InputError as err:
        print(f"lantian: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lantian: interrupted; previous outputs were left as they were.", file=sys.stderr)
        return 130
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
