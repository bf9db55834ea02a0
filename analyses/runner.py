"""Run an analysis from a config and write its result the same way for every analysis."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.metadata
import inspect
import logging
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from spatial import basemaps, export, figure, io, mapparts, qgis, webmap
from spatial.errors import InputError

from . import REGISTRY, checks, get
from .base import Result, params_from_mapping

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIGS = PROJECT_ROOT / "configs"


@dataclass
class RunOutput:
    """Where a run wrote its result, and the result itself."""

    result: Result
    layers_dir: Path
    map_path: Path
    manifest: dict[str, Any]
    figure_paths: tuple[Path, ...] = ()


def map_settings(config: dict[str, Any], *, basemap: str | None = None,
                 offline: bool | None = None, default_offline: bool = False) -> dict[str, Any]:
    """The map options of a run: command-line values over the config's ``[map]`` over defaults.

    Returns ``{"basemap": str | None, "tianditu_token": str | None, "offline": bool}``;
    ``basemap`` None keeps each analysis's own choice. Offline maps have no basemap tiles, so
    the basemap is then ``"none"`` (no Tianditu key needed, no GCJ-02 shift).
    """
    table = config.get("map") or {}
    off = offline if offline is not None else table.get("offline", default_offline)
    name = basemap or table.get("basemap")
    if name is not None:
        basemaps.check_basemap(name)
    return {"basemap": "none" if off else name, "tianditu_token": table.get("tianditu_token"),
            "offline": bool(off),
            **{k: table.get(k) for k in ("title", "subtitle", "source", "unit", "city")}}


def _city(result: Result, settings: dict[str, Any]) -> str | None:
    """``[map] city``, else the counties' ``city_name`` when they name one city."""
    if settings.get("city"):
        return settings["city"]
    counties = result.context.get("counties")
    if counties is not None and "city_name" in counties.columns:
        names = counties["city_name"].dropna().astype(str).unique().tolist()
        return "、".join(sorted(names)) if 0 < len(names) <= 3 else None
    return None


def render_map(module: ModuleType, result: Result, settings: dict[str, Any]) -> str:
    """The analysis's ``build_map(result)`` rendered with the run's basemap, HTML text.

    Leaflet and the map tools are always inlined (the page needs the network for tiles only);
    offline pages have no tiles at all.
    """
    with basemaps.override(settings["basemap"], token=settings["tianditu_token"]):
        m = module.build_map(result)
    mapparts.set_heading(m, title=settings.get("title"), subtitle=settings.get("subtitle"))
    mapparts.add_credits(m, city=_city(result, settings), source=settings.get("source"),
                         unit=settings.get("unit"))
    return webmap.render_html(m, offline=settings["offline"], inline=True)


def render_figure(module: ModuleType, result: Result,
                  settings: dict[str, Any] | None = None) -> dict[str, bytes]:
    """PNG and PDF bytes of the static figure: ``module.figure_spec(result)`` or the default.

    ``settings`` (:func:`map_settings`): its title, subtitle, city, source and unit are
    written on the figure as on the map.
    """
    settings = settings or {}
    spec_fn = getattr(module, "figure_spec", None)
    style = spec_fn(result) if spec_fn is not None else None
    date = f"制图日期：{dt.date.today().isoformat()}"
    sub = settings.get("subtitle")
    fig = figure.draw(result.layers, title=settings.get("title") or result.title or module.NAME,
                      style=style, counties=result.context.get("counties"),
                      subtitle=f"{sub}　{date}" if sub else date,
                      notes=mapparts.credit_lines(city=_city(result, settings),
                                                  source=settings.get("source"),
                                                  unit=settings.get("unit")))
    return {"png": figure.to_bytes(fig, "png"), "pdf": figure.to_bytes(fig, "pdf")}


def _qgis_writer(module: ModuleType, result: Result, settings: dict[str, Any]):
    """The writer of the QGIS styles and project of a result folder, or None.

    None for an analysis without a ``symbology(result)``.
    """
    symbology = getattr(module, "symbology", None)
    if symbology is None:
        return None
    legends = symbology(result)
    title = settings.get("title") or result.title or module.NAME

    def write(folder: Path) -> None:
        qgis.write_qgis(folder, module.NAME, legends, title=title, fields=result.fields,
                        offline=settings["offline"])

    return write


def county_map_builder(name: str, layers_dir: Path):
    """The county-pack map writer of analysis `name`'s last result in `layers_dir`, or None.

    The result is read back (layers, the boundaries in ``context.gpkg``, parameters and title
    from the manifest) and its legend definitions (``symbology``) made once from the whole
    run, so every county's map has the classes, colours and Chinese names of the full map.
    Returns ``build(layers, outline, title) -> html`` for :func:`spatial.packs.export_by_county`.
    """
    import json

    import geopandas as gpd
    import pyogrio

    module = get(name)
    symbology = getattr(module, "symbology", None)
    manifest = Path(layers_dir) / "manifest.json"
    if symbology is None or not manifest.exists():
        return None
    man = json.loads(manifest.read_text(encoding="utf-8"))
    params = params_from_mapping(module.Params, man.get("params") or {})
    gpkg = Path(layers_dir) / f"{name}.gpkg"
    layers = {n: gpd.read_file(gpkg, layer=n, engine="pyogrio")
              for n, g in pyogrio.list_layers(gpkg) if g is not None}
    ctx_path = Path(layers_dir) / "context.gpkg"
    context = ({n: gpd.read_file(ctx_path, layer=n, engine="pyogrio")
                for n, _ in pyogrio.list_layers(ctx_path)} if ctx_path.exists() else {})
    full = Result(analysis=name, params=params, layers=layers, tables={},
                  title=man.get("title") or name, context=context)
    legends = symbology(full)

    def build(sub: dict, outline: Any, title: str) -> str:
        parts = {k: sub.get(k, v.iloc[:0]) for k, v in layers.items()}
        res = Result(analysis=name, params=params, layers=parts, tables={}, title=title,
                     context={"counties": outline} if outline is not None else {})
        m = module.build_map(res, legends=legends)
        return webmap.stable_ids(webmap.render_html(m, offline=True))

    return build


def read_inputs(module: ModuleType, config: dict[str, Any], *, engine: Any = None
                ) -> dict[str, io.Table]:
    """Read every input the analysis declares, as the config describes it.

    With a Dask `engine`, readers that accept one read their files as tasks on the workers
    (FIRMS downloads, readings); the tables are the same as read here.
    """
    specs = {s.name: s for s in module.INPUTS}
    given = config["inputs"]
    unknown = sorted(set(given) - set(specs))
    if unknown:
        raise InputError(
            f"{config.get('path', 'config')}: unknown input(s) {', '.join(unknown)} for "
            f"{module.NAME}; its inputs are: {', '.join(specs)}."
        )
    tables: dict[str, io.Table] = {}
    for name, spec in specs.items():
        if name not in given:
            if spec.required:
                raise InputError(
                    f"{config.get('path', 'config')}: input '{name}' ({spec.description}) is "
                    f'required: add [inputs.{name}] with path = "…".'
                )
            continue
        g = given[name]
        if spec.kind == "points":
            tables[name] = io.read_points(g["path"], fields=spec.fields, name=name, crs=g["crs"],
                                          columns=g["columns"], sheet=g["sheet"])
        elif spec.kind == "polygons":
            tables[name] = io.read_polygons(g["path"], fields=spec.fields, name=name,
                                            crs=g["crs"], columns=g["columns"])
        elif spec.kind == "custom" and spec.reader is not None:
            takes_engine = "engine" in inspect.signature(spec.reader).parameters
            tables[name] = (spec.reader(g, spec, engine=engine) if engine is not None
                            and takes_engine else spec.reader(g, spec))
        else:  # pragma: no cover - a programming error in an analysis module
            raise TypeError(f"unknown input kind {spec.kind!r}")
    return tables


def _sha256s(t: io.Table) -> str | dict[str, str]:
    paths = getattr(t, "paths", None) or [t.path]
    if len(paths) == 1:
        return io.sha256(Path(paths[0]))
    return {str(p): io.sha256(Path(p)) for p in paths}


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("lantian", "numpy", "pandas", "geopandas", "shapely", "pyproj", "h3", "folium",
                "pyogrio"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def infer_analysis(config: dict[str, Any]) -> str:
    """The analysis a config is for: its ``analysis`` key, else the one whose inputs fit."""
    if config.get("analysis"):
        get(config["analysis"])
        return config["analysis"]
    given = set(config["inputs"])
    fits = []
    for name in REGISTRY:
        specs = get(name).INPUTS
        names = {s.name for s in specs}
        if given <= names and all(s.name in given for s in specs if s.required):
            fits.append(name)
    if len(fits) != 1:
        raise InputError(
            f"{config.get('path', 'config')}: cannot tell which analysis the inputs "
            f"({', '.join(sorted(given))}) are for; name it: lantian check ANALYSIS --config …"
        )
    return fits[0]


def check(name: str, config: dict[str, Any], *, strict: bool = False
          ) -> tuple[dict[str, io.Table], list[str]]:
    """Read and check every input of analysis `name`; with `strict`, warnings are errors."""
    module = get(name)
    params_from_mapping(module.Params, config["params"])  # a bad parameter fails here too
    return _read_checked(module, config, strict=strict)


def _read_checked(module: ModuleType, config: dict[str, Any], *, strict: bool,
                  engine: Any = None
                  ) -> tuple[dict[str, io.Table], list[str]]:
    tables = read_inputs(module, config, engine=engine)
    warnings = checks.warnings_for(module, tables)
    if strict and warnings:
        raise InputError("--strict: the inputs have warnings:\n  - " + "\n  - ".join(warnings))
    return tables, warnings


def check_engine(name: str, engine: str, scheduler: str | None = None) -> None:
    """Raise InputError unless analysis `name` runs on `engine` ("local" or "dask")."""
    supported = [n for n in REGISTRY if engine in getattr(get(n), "ENGINES", ("local",))]
    if engine not in getattr(get(name), "ENGINES", ("local",)):
        raise InputError(f"--engine {engine}: {name} runs in process only; the analyses that run "
                         f"on {engine} are: {', '.join(supported)}. Leave out --engine.")
    if scheduler and engine != "dask":
        raise InputError("--scheduler needs --engine dask.")


def execute(name: str, config: dict[str, Any], *, out: Path, strict: bool = False,
            basemap: str | None = None, offline: bool | None = None,
            default_offline: bool = False, engine: Any = None) -> RunOutput:
    """Read, check, run, map and write analysis `name` with `config` (``spatial.config.load``).

    ``basemap`` and ``offline`` (command line) override the config's ``[map]`` table; see
    :func:`map_settings`. Writes ``layers/<name>/`` (with ``context.gpkg``: the counties used),
    ``maps/<name>.html``, ``maps/<name>.png`` and ``maps/<name>.pdf``.
    """
    module = get(name)
    settings = map_settings(config, basemap=basemap, offline=offline,
                            default_offline=default_offline)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    params = params_from_mapping(module.Params, config["params"])
    if engine is not None:
        check_engine(name, getattr(engine, "name", "dask"))
    tables, warnings = _read_checked(module, config, strict=strict, engine=engine)
    for w in warnings:
        log.warning(w)
    timings["read_s"] = round(time.perf_counter() - t0, 3)

    t1 = time.perf_counter()
    frames = {k: t.frame for k, t in tables.items()}
    if engine is not None:
        result: Result = module.run(frames, params, engine=engine)
    else:
        result = module.run(frames, params)
    timings["run_s"] = round(time.perf_counter() - t1, 3)

    rejected = [t.rejected for t in tables.values()]
    if "rejected" in result.tables:
        rejected.append(result.tables["rejected"])
    rej = pd.concat(rejected, ignore_index=True) if rejected else io.empty_rejected()
    result.tables["rejected"] = rej
    if len(rej):
        result.summary.append(f"{len(rej)} input rows rejected (see the rejected table).")
    if warnings:
        result.summary.append(f"{len(warnings)} input warning(s): see `lantian check` or the "
                              "manifest.")

    t2 = time.perf_counter()
    # rendered before anything is written; element ids numbered so reruns give the same bytes
    html = webmap.stable_ids(render_map(module, result, settings))
    timings["map_s"] = round(time.perf_counter() - t2, 3)
    t3 = time.perf_counter()
    figures = render_figure(module, result, settings)
    timings["figure_s"] = round(time.perf_counter() - t3, 3)

    manifest = {
        "analysis": name,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "config": str(config.get("path", "")),
        "inputs": {
            k: {"path": str(t.path), "sha256": _sha256s(t), "encoding": t.encoding,
                "crs": t.crs, "columns": t.columns, "rows_read": t.n_read,
                "rows_used": len(t.frame), "rows_rejected": len(t.rejected)}
            for k, t in tables.items()
        },
        "params": dataclasses.asdict(params),
        "title": settings.get("title") or result.title or name,
        "summary": result.summary,
        "warnings": warnings,
        "versions": _versions(),
        "timings": timings,
        "map": {"basemap": settings["basemap"] or "(analysis default)",
                "offline": settings["offline"]},
    }
    layers_dir = export.write_result(analysis=name, layers=result.layers, tables=result.tables,
                                     fields=result.fields, manifest=manifest, out=out,
                                     context={k: g for k, g in result.context.items()
                                              if g is not None} or None,
                                     finish=_qgis_writer(module, result, settings))
    map_path = Path(out) / "maps" / f"{name}.html"
    export.write_text_atomic(map_path, html)
    fig_paths = tuple(Path(out) / "maps" / f"{name}.{ext}" for ext in figures)
    for p, data in zip(fig_paths, figures.values(), strict=True):
        export.write_bytes_atomic(p, data)
    log.info("%s done in %.1f s", name, time.perf_counter() - t0)
    return RunOutput(result=result, layers_dir=layers_dir, map_path=map_path, manifest=manifest,
                     figure_paths=fig_paths)


def demo_config_path(name: str) -> Path:
    """The bundled demo config of analysis `name` (``configs/<name>.toml``)."""
    path = DEMO_CONFIGS / f"{name}.toml"
    if not path.exists():
        raise InputError(
            f"{path}: demo config not found; `lantian demo` runs from a clone of the lantian "
            "repository (pip install -e .), where configs/ and data/raw/ are."
        )
    return path
