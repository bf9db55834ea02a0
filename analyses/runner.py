"""Run an analysis from a config and write its result the same way for every analysis."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.metadata
import logging
import platform
import re
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from spatial import (
    basemaps,
    export,
    figure,
    frames,
    io,
    legend,
    limits,
    mapparts,
    multifile,
    periodstore,
    progress,
    provenance,
    publish,
    qgis,
    safepath,
    sources,
    webmap,
)
from spatial.errors import InputError

from . import REGISTRY, api, checks, get, result_report, vocab
from .base import Result, hook, params_from_mapping

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

    Returns ``{"basemap": str | None, "tianditu_token": str | None, "offline": bool,
    "map_periods": int | None, ...}`` (the texts shown on the map; ``map_periods`` None: the
    analysis's default);
    ``basemap`` None keeps each analysis's own choice. Offline maps have no basemap tiles, so
    the basemap is then ``"none"`` (no Tianditu key needed, no GCJ-02 shift).
    """
    table = config.get("map") or {}
    off = offline if offline is not None else table.get("offline", default_offline)
    name = basemap or table.get("basemap")
    if name is not None:
        basemaps.check_basemap(name)
    return {"basemap": "none" if off else name, "tianditu_token": table.get("tianditu_token"),
            "offline": bool(off), "map_periods": table.get("map_periods"),
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


def render_map(module: ModuleType, result: Result, settings: dict[str, Any], *,
               legends: list[legend.LayerLegend] | None = None) -> str:
    """The analysis's ``build_map(result)`` rendered with the run's basemap, HTML text.

    Leaflet and the map tools are always inlined (the page needs the network for tiles only);
    offline pages have no tiles at all. ``legends``: the result's ``symbology(result)`` when
    the caller has it (made once per write, :func:`run_symbology`).
    """
    with basemaps.override(settings["basemap"], token=settings["tianditu_token"]):
        m = (module.build_map(result) if legends is None
             else module.build_map(result, legends=legends))
    mapparts.set_heading(m, title=settings.get("title"), subtitle=settings.get("subtitle"))
    mapparts.add_credits(m, city=_city(result, settings), source=settings.get("source"),
                         unit=settings.get("unit"))
    return webmap.render_html(m, offline=settings["offline"], inline=True)


def render_year_maps(module: ModuleType, result: Result, settings: dict[str, Any],
                     stem: str) -> dict[str, str]:
    """``{file name: HTML}`` of the maps per year when one map would hold too many periods.

    An analysis with per-period maps has ``map_years(result, max_periods)`` (e.g.
    :func:`analyses.pollution_hotspots_map.map_years`); ``[map] map_periods`` (default 36) is
    the most periods one map holds. The maps are ``<stem>.<year>.html``, each linking to the
    others, and ``<stem>.html`` is the latest year's map. ``{}``: one map as usual.
    """
    split = hook(module, "map_years")
    if split is None:
        return {}
    n = settings.get("map_periods")
    years = split(result) if n is None else split(result, n)
    if not years:
        return {}
    names = {y: f"{stem}.{y}.html" for y in years}
    pages = {}
    for year, sub in years.items():
        with basemaps.override(settings["basemap"], token=settings["tianditu_token"]):
            m = module.build_map(sub)
        mapparts.set_heading(m, title=settings.get("title"), subtitle=settings.get("subtitle"))
        mapparts.add_credits(m, city=_city(result, settings), source=settings.get("source"),
                             unit=settings.get("unit"))
        webmap.add_links(m, title="年份", links=[(f"{y}年", None if y == year else names[y])
                                                 for y in years])
        pages[names[year]] = webmap.stable_ids(
            webmap.render_html(m, offline=settings["offline"], inline=True))
    pages[f"{stem}.html"] = pages[names[max(years)]]
    return pages


def render_figure(module: ModuleType, result: Result,
                  settings: dict[str, Any] | None = None, *, date_line: str = "",
                  legends: list[legend.LayerLegend] | None = None) -> dict[str, bytes]:
    """PNG and PDF bytes of the static figure: ``module.figure_spec(result)`` or the default.

    ``settings`` (:func:`map_settings`): its title, subtitle, city, source and unit are
    written on the figure as on the map. ``date_line`` closes the subtitle
    (``"数据日期：2025-12-31"``, see :func:`map_date`).

    Keys are file-name endings: ``png``, ``pdf`` (``maps/<analysis>.png``), and for each extra
    figure of ``module.extra_figures(result) -> {name: (title, [LayerStyle, …])}`` also
    ``<name>.png`` and ``<name>.pdf`` (``maps/<analysis>.<name>.png``). ``legends``: as for
    :func:`render_map` (passed to ``figure_spec(result, legends=…)``).
    """
    settings = settings or {}
    spec_fn = hook(module, "figure_spec")
    style = (None if spec_fn is None else spec_fn(result) if legends is None
             else spec_fn(result, legends=legends))
    sub = settings.get("subtitle")
    subtitle = "　".join(x for x in (sub, date_line) if x) or None
    notes = mapparts.credit_lines(city=_city(result, settings), source=settings.get("source"),
                                  unit=settings.get("unit"))
    fig = figure.draw(result.layers, title=settings.get("title") or result.title or module.NAME,
                      style=style, counties=result.context.get("counties"),
                      subtitle=subtitle, notes=notes)
    out = {"png": figure.to_bytes(fig, "png"), "pdf": figure.to_bytes(fig, "pdf")}
    extra_fn = hook(module, "extra_figures")
    for name, (title, spec) in (extra_fn(result) if extra_fn is not None else {}).items():
        fig = figure.draw(result.layers, title=title, style=spec,
                          counties=result.context.get("counties"), subtitle=subtitle,
                          notes=notes)
        out[f"{name}.png"] = figure.to_bytes(fig, "png")
        out[f"{name}.pdf"] = figure.to_bytes(fig, "pdf")
    return out


def run_symbology(module: ModuleType, result: Result) -> list[legend.LayerLegend] | None:
    """The analysis's ``symbology(result)``, or None for an analysis without one.

    A write makes it once and gives the same list to the map, the figure and the QGIS styles
    (on a province-year one call takes over a second).
    """
    symbology = hook(module, "symbology")
    return None if symbology is None else symbology(result)


def _qgis_writer(module: ModuleType, result: Result, settings: dict[str, Any], *,
                 legends: list[legend.LayerLegend] | None = None):
    """The writer of the QGIS styles and project of a result folder, or None.

    None for an analysis without a ``symbology(result)``. ``legends``: that symbology when
    the caller has it (:func:`run_symbology`).
    """
    if legends is None:
        legends = run_symbology(module, result)
    if legends is None:
        return None
    # a per-period layer is one row per cell in the files: its styles (by value, one period)
    # go to the view that joins it with its values (spatial.periodstore); the cells themselves
    # get the plain style below
    views = {k: v.view(k) for k, v in hook(module, "PERIOD_LAYERS").items()}
    legends = [dataclasses.replace(leg, layer=views.get(leg.layer, leg.layer))
               for leg in legends]
    styled = {leg.layer for leg in legends}
    for name, gdf in result.layers.items():  # every layer of the GeoPackage gets a style
        if name in styled:
            continue
        kinds = set(gdf.geom_type.dropna().unique()) if len(gdf) else set()  # not per row
        geometry = ("polygon" if kinds & {"Polygon", "MultiPolygon"} else
                    "line" if kinds & {"LineString", "MultiLineString"} else "point")
        legends.append(legend.single(name, name, geometry, "#666666", visible=False,
                                     fill_opacity=0.2))
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
    symbology = hook(module, "symbology")
    manifest = Path(layers_dir) / "manifest.json"
    if symbology is None or not manifest.exists():
        return None
    man = json.loads(manifest.read_text(encoding="utf-8"))
    params = params_from_mapping(module.Params, man.get("params") or {})
    gpkg = Path(layers_dir) / f"{name}.gpkg"
    layers = periodstore.read_layers(gpkg, periodstore.from_manifest(man))
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


def read_inputs(module: ModuleType, config: dict[str, Any], *, engine: Any = None,
                require: bool = True) -> dict[str, io.Table]:
    """Read every input the analysis declares, as the config describes it.

    ``require`` False: a required input that is not in the config is left out (Python gives
    it as a frame: :func:`analyses.api.read_inputs` checks the whole set).

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
    base = config.get("base")
    for name, spec in specs.items():
        if name not in given:
            if spec.required and require:
                raise InputError(
                    f"{config.get('path', 'config')}: input '{name}' ({spec.description}) is "
                    f'required: add [inputs.{name}] with path = "…".'
                )
            continue
        g = given[name]
        paths = list(g.get("paths") or [g["path"]])
        provenance.note_files(paths)  # hashed before anything reads them
        if spec.files == "one":
            multifile.refuse_many(paths, name=name, config=config.get("path", "config"))

        def read_one(path: Path, spec=spec, g=g, name=name) -> io.Table:
            one = {**g, "path": path, "paths": [path]}
            if spec.kind == "points":
                return io.read_points(path, fields=spec.fields, name=name, crs=one["crs"],
                                      columns=one["columns"], sheet=one["sheet"],
                                      header_row=one.get("header_row"))
            if spec.kind == "polygons":
                return io.read_polygons(path, fields=spec.fields, name=name, crs=one["crs"],
                                        columns=one["columns"])
            if spec.kind == "custom" and spec.reader is not None:
                return spec.reader(one, spec)
            raise TypeError(f"unknown input kind {spec.kind!r}")  # pragma: no cover

        if spec.kind == "custom" and spec.files == "many":
            tables[name] = spec.reader(g, spec, engine=engine)  # InputSpec: "many" readers
        else:
            tables[name] = multifile.read_each(read_one, paths, name=name, base=base)
    return tables


def attach_sources(module: ModuleType, result: Result, tables: dict[str, io.Table]) -> None:
    """Give the output layers that hold input records the input's own columns, in place.

    ``module.SOURCES`` maps a layer to the input its rows come from (``{"boilers":
    "boilers"}``); each row gets that record's columns as ``src_<header>``, ``src_file`` and,
    for points not given in WGS-84, the coordinates as given (``lon_gcj02``/``lat_gcj02``),
    matched by file row number (:func:`spatial.sources.attach`). Their Chinese labels go to
    ``result.fields``.
    """
    result.fields = dict(result.fields)  # often the module's FIELDS: not to be changed
    for layer, name in hook(module, "SOURCES").items():
        t = tables.get(name)
        if layer not in result.layers or t is None or t.source is None:
            continue
        result.layers[layer] = sources.attach(result.layers[layer], t.source, path=t.path)
        new = [c for c in result.layers[layer].columns if c not in result.fields]
        for col, (label, unit) in sources.field_labels(new, result.fields).items():
            short = col[len(sources.PREFIX):] if col.startswith(sources.PREFIX) else col
            result.fields[col] = export.FieldMeta("src_file" if col == sources.FILE_COLUMN
                                                  else short, label, unit)


def rejected_with_sources(rej: pd.DataFrame, tables: dict[str, io.Table]) -> pd.DataFrame:
    """Return the rejected rows with the columns of their input record (``src_<header>``).

    Whoever fixes the list sees the row as typed. Rows of inputs without them are unchanged.
    """
    if not len(rej):
        return rej
    parts = []
    for name, grp in rej.groupby("input", sort=False):
        t = tables.get(str(name))
        src = t.source if t is not None else None
        parts.append(sources.attach(grp, src) if src is not None else grp)
    return pd.concat(parts).loc[rej.index].reset_index(drop=True)


def rules_of(module: ModuleType) -> list[str]:
    """The rules an analysis applies, for the 说明 sheet.

    Its ``RULES``, else the paragraphs of its docstring before "Inputs" (the policy it
    implements, with the quoted source text).
    """
    rules = hook(module, "RULES")
    if rules:
        return [str(r) for r in rules]
    out = []
    for para in (module.__doc__ or "").split("\n\n"):
        if para.strip().startswith(("Inputs", "Method", "Outputs")):
            break
        if para.strip():
            out.append(" ".join(para.split()))
    return out


def _sha256s(t: io.Table, base: Path | None = None) -> str | dict[str, str]:
    """The hash of each file of `t` as it was read (:mod:`spatial.provenance`).

    An input given as a frame in Python has no file: ``"(no file)"``.
    """
    if frames.is_frame_table(t):
        return "(no file)"
    paths = getattr(t, "paths", None) or [t.path]
    if len(paths) == 1:
        return provenance.digest(Path(paths[0]))
    return {multifile.display_path(p, base): provenance.digest(Path(p)) for p in paths}


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
    """Read and check every input of analysis `name`; with `strict`, warnings are errors.

    The config's ``[vocab.<field>]`` words extend the vocabularies while checking.
    """
    module = get(name)
    with vocab.extended(config.get("vocab"), str(config.get("path", "config"))):
        return _check(module, config, strict=strict)


def _check(module: ModuleType, config: dict[str, Any], *, strict: bool
           ) -> tuple[dict[str, io.Table], list[str]]:
    params_from_mapping(module.Params, config["params"])  # a bad parameter fails here too
    return _read_checked(module, config, strict=strict)


def _read_checked(module: ModuleType, config: dict[str, Any], *, strict: bool,
                  engine: Any = None
                  ) -> tuple[dict[str, io.Table], list[str]]:
    with limits.using(config.get("limits")):
        tables = read_inputs(module, config, engine=engine)
    warnings = checks.warnings_for(module, tables)
    if strict and warnings:
        raise InputError("--strict: the inputs have warnings:\n  - " + "\n  - ".join(warnings))
    return tables, warnings


def check_engine(name: str, engine: str, scheduler: str | None = None) -> None:
    """Raise InputError unless analysis `name` runs on `engine` ("local" or "dask")."""
    supported = [n for n in REGISTRY if engine in hook(get(n), "ENGINES")]
    if engine not in hook(get(name), "ENGINES"):
        raise InputError(f"--engine {engine}: {name} runs in process only; the analyses that run "
                         f"on {engine} are: {', '.join(supported)}. Leave out --engine.")
    if scheduler and engine != "dask":
        raise InputError("--scheduler needs --engine dask.")
    if scheduler and not re.fullmatch(r"((tcp|tls|ucx|ws|wss)://)?[\w.\-]+(:\d{1,5})?|"
                                      r"((tcp|tls|ucx|ws|wss)://)?\[[0-9a-fA-F:.]+\](:\d{1,5})?",
                                      scheduler):
        raise InputError(f"--scheduler {scheduler!r}: not a scheduler address; give it as "
                         "tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786), as `dask scheduler` "
                         "prints it.")


def map_date(config: dict[str, Any], tables: dict[str, io.Table]) -> tuple[str, str]:
    """The date maps and figures show, as ``(label, YYYY-MM-DD)``; the same on every rerun.

    The config's ``[map] date`` (制图日期) if given; else the date of the data (数据日期): the
    latest date in the inputs' date/time columns; else the latest modification date of the
    input files (文件日期). Never today's date, so reruns give the same bytes.
    """
    given = (config.get("map") or {}).get("date")
    if given:
        return "制图日期", str(given)
    latest = None
    for t in tables.values():
        f = t.frame
        if not isinstance(f, pd.DataFrame):
            continue
        for col in f.columns:
            if pd.api.types.is_datetime64_any_dtype(f[col]):
                m = f[col].max()
                if pd.notna(m) and (latest is None or m.date() > latest):
                    latest = m.date()
    if latest is not None:
        return "数据日期", latest.isoformat()
    stamps = [Path(p).stat().st_mtime for t in tables.values()
              for p in (t.paths or [t.path]) if Path(p).exists()]
    if not stamps:
        return "数据日期", ""
    # no date in the data: the files' date, said as such (not passed off as the data's)
    return "文件日期", dt.datetime.fromtimestamp(max(stamps), dt.UTC).date().isoformat()


def _relative_files(df: pd.DataFrame, base: Path | None) -> pd.DataFrame:
    """``file`` column paths relative to the config's folder (same tables from any folder)."""
    if "file" not in df.columns or not len(df):
        return df
    df = df.copy()
    # once per distinct path, not per row: a national season has 1 M rows of a few files
    codes, uniques = pd.factorize(df["file"], use_na_sentinel=True)
    shown = [multifile.display_path(v, base) if isinstance(v, str) and v else v
             for v in uniques]
    col = pd.Series(shown + [None], dtype=object).to_numpy()[codes]  # -1: the missing value
    keep = codes < 0
    if keep.any():  # missing values stay as they were (None, NaN)
        col[keep] = df["file"].to_numpy(dtype=object)[keep]
    df["file"] = col
    return df


def execute(name: str, config: dict[str, Any], *, out: Path, strict: bool = False,
            basemap: str | None = None, offline: bool | None = None,
            default_offline: bool = False, engine: Any = None, report: bool = True
            ) -> RunOutput:
    """Read, check, run, map and write analysis `name` with `config` (``spatial.config.load``).

    ``basemap`` and ``offline`` (command line) override the config's ``[map]`` table; see
    :func:`map_settings`. Writes ``layers/<name>/`` (with ``context.gpkg``: the counties used),
    ``maps/<name>.html``, ``maps/<name>.png`` and ``maps/<name>.pdf`` (and with `report`
    ``layers/<name>/report.docx``, :mod:`analyses.result_report`) as one set: built in a
    staging folder and published together (:mod:`spatial.publish`), under a lock on `out` and
    `name` (a second run exits with status 2 naming the holder). The work is estimated against
    the config's ``[limits]`` before it is done (:mod:`spatial.limits`). The config's
    ``[vocab.<field>]`` words extend the vocabularies for the whole run (recorded in the
    manifest).
    """
    with vocab.extended(config.get("vocab"), str(config.get("path", "config"))):
        return _execute(name, config, out=out, strict=strict, basemap=basemap, offline=offline,
                        default_offline=default_offline, engine=engine, report=report)


def _execute(name: str, config: dict[str, Any], *, out: Path, strict: bool,
             basemap: str | None, offline: bool | None, default_offline: bool,
             engine: Any, report: bool = True) -> RunOutput:
    module = get(name)
    settings = map_settings(config, basemap=basemap, offline=offline,
                            default_offline=default_offline)
    params = params_from_mapping(module.Params, config["params"])
    if engine is not None:
        check_engine(name, getattr(engine, "name", "dask"))
    with (publish.lock(out, name, command=f"lantian run {name}"),
          limits.using(config.get("limits")), provenance.recording()):
        return _execute_locked(module, name, config, params, settings, out=Path(out),
                               strict=strict, engine=engine, report=report)


def _execute_locked(module: ModuleType, name: str, config: dict[str, Any], params: Any,
                    settings: dict[str, Any], *, out: Path, strict: bool, engine: Any,
                    report: bool = True) -> RunOutput:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with progress.step(f"{name}: reading the inputs"):
        tables, warnings = _read_checked(module, config, strict=strict, engine=engine)
    for w in warnings:
        log.warning(w)
    timings["read_s"] = round(time.perf_counter() - t0, 3)

    t1 = time.perf_counter()
    given = api.Inputs(tables, warnings)
    estimate = limits.check_work(name, given, params,
                                 cells_from=hook(module, "CELLS_FROM"),
                                 context=hook(module, "CONTEXT_INPUTS"))
    log.info("%s: estimated work %s", name, {k: round(v) for k, v in estimate.items()})
    with progress.step(f"{name}: running the analysis"):
        if engine is not None:
            result: Result = module.run(given, params, engine=engine)
        else:
            result = module.run(given, params)
    timings["run_s"] = round(time.perf_counter() - t1, 3)
    return _publish(module, name, result, tables, warnings, config, params, settings, out=out,
                    timings=timings, t0=t0, report=report)


def write_result(result: Result, out: Path | str, *, basemap: str | None = None,
                 offline: bool = False, title: str | None = None,
                 output_crs: str | None = None, report: bool = True, parquet: bool = False,
                 shp_periods: bool = False) -> RunOutput:
    """Write a Result of ``run()`` (Python) as ``lantian run`` writes it: same files.

    The layers, tables (with the rejected rows of the inputs), map, figures, QGIS files and
    manifest go to `out` as one staged set under the output lock, by the code path of
    :func:`execute`. ``offline``: the map without basemap tiles; ``title`` the map's title;
    ``output_crs`` a second CRS of the layers (``[output] crs``); ``report``: also
    ``report.docx``; ``parquet``, ``shp_periods``: as ``[output] parquet`` and
    ``[output] shp_periods``. The result itself is not changed (a copy gets the input's own
    columns).
    """
    from spatial import config as cfgmod

    if result.inputs is None:
        raise InputError("this Result was not made by an analysis's run(); nothing to write.")
    module = get(result.analysis)
    tables = result.inputs.tables
    config: dict[str, Any] = {"inputs": {}, "params": {}, "path": "",
                              "base": getattr(result.inputs, "base", None),
                              "map": {"title": title} if title else {},
                              "output": cfgmod.output_options(
                                  {**({"crs": output_crs} if output_crs else {}),
                                   "parquet": parquet, "shp_periods": shp_periods}, "write")}
    settings = map_settings(config, basemap=basemap, offline=offline)
    copy = dataclasses.replace(result, layers=dict(result.layers), tables=dict(result.tables),
                               summary=list(result.summary))
    out = Path(out)
    with (publish.lock(out, module.NAME, command=f"{module.__name__}: Result.write"),
          provenance.recording()):
        return _publish(module, module.NAME, copy, tables, list(result.inputs.warnings), config,
                        result.params, settings, out=out, timings={}, t0=time.perf_counter(),
                        report=report)


def _publish(module: ModuleType, name: str, result: Result, tables: dict[str, io.Table],
             warnings: list[str], config: dict[str, Any], params: Any,
             settings: dict[str, Any], *, out: Path, timings: dict[str, float], t0: float,
             report: bool = True) -> RunOutput:
    """Everything after ``run()``: rejected rows, map, figures, manifest, the staged set."""
    base = config.get("base")
    attach_sources(module, result, tables)
    rejected = [t.rejected for t in tables.values()]
    if "rejected" in result.tables:
        rejected.append(result.tables["rejected"])
    rej = pd.concat(rejected, ignore_index=True) if rejected else io.empty_rejected()
    rej = rejected_with_sources(rej, tables)
    result.tables["rejected"] = _relative_files(rej, base)
    for k, layer in result.layers.items():
        if "file" in layer.columns:
            result.layers[k] = _relative_files(layer, base)
    if len(rej):
        result.summary.append(f"{len(rej)} input rows rejected (see the rejected table).")

    moved = provenance.changed()
    if moved:
        warnings = [*warnings, *(f"{multifile.display_path(p, base)}: changed while the run "
                                 "was reading it; the manifest has the hash of the bytes read, "
                                 "run again to use the new version." for p in moved)]
        for p in moved:
            log.warning("%s changed during the run", p)
    if warnings:
        result.summary.append(f"{len(warnings)} input warning(s): see `lantian check` or the "
                              "manifest.")

    t2 = time.perf_counter()
    legends = run_symbology(module, result)  # once: the map, the figure and QGIS share it
    label, date = map_date(config, tables)
    with webmap.map_date(date, label=label), progress.step(f"{name}: drawing the map"):
        # rendered before anything is written; element ids numbered so reruns give the same bytes
        stem = safepath.safe_name(name)
        year_maps = render_year_maps(module, result, settings, stem)
        html = (year_maps.pop(f"{stem}.html") if year_maps
                else webmap.stable_ids(render_map(module, result, settings, legends=legends)))
    timings["map_s"] = round(time.perf_counter() - t2, 3)
    t3 = time.perf_counter()
    with progress.step(f"{name}: drawing the figure"):
        figures = render_figure(module, result, settings,
                                date_line=f"{label}：{date}" if date else "", legends=legends)
    timings["figure_s"] = round(time.perf_counter() - t3, 3)

    manifest = {
        "analysis": name,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "config": str(config.get("path", "")),
        "inputs": {
            k: {"path": multifile.display_path(t.path, base),
                **({"paths": [multifile.display_path(p, base) for p in t.paths]}
                   if len(t.paths) > 1 else {}),
                "sha256": _sha256s(t, base), "encoding": t.encoding,
                "crs": t.crs, "columns": t.columns, "rows_read": t.n_read,
                "rows_used": len(t.frame), "rows_rejected": len(t.rejected)}
            for k, t in tables.items()
        },
        "params": dataclasses.asdict(params),
        "vocab": vocab.extension(),
        "rules": rules_of(module),
        "title": settings.get("title") or result.title or name,
        "summary": result.summary,
        "warnings": warnings,
        "versions": _versions(),
        "timings": timings,
        "map": {"basemap": settings["basemap"] or "(analysis default)",
                "offline": settings["offline"], "date": f"{label} {date}".strip(),
                **({"year_maps": sorted(year_maps)} if year_maps else {}),
                "credits": mapparts.credit_lines(city=_city(result, settings),
                                                 source=settings.get("source"),
                                                 unit=settings.get("unit"))},
        # Chinese labels of the report's table columns (lantian report reads them back)
        "fields": result_report.report_fields(module, result.fields),
        "output_crs": (config.get("output") or {}).get("crs", "EPSG:4326"),
    }
    context = {k: g for k, g in result.context.items() if g is not None} or None
    stem = safepath.safe_name(name)
    output = config.get("output") or {}
    left_out: list[str] = []  # Shapefiles past the format's 2 GB (the GeoPackage has them)
    with (publish.Staging(out, name) as stage,
          progress.step(f"{name}: writing layers, tables, map and figures")):
        try:
            export.write_result_files(stage.layers_dir, analysis=name, layers=result.layers,
                                      tables=result.tables, fields=result.fields,
                                      manifest=manifest,
                                      context=context,
                                      crs=output.get("crs"),
                                      finish=_qgis_writer(module, result, settings,
                                                          legends=legends),
                                      periods=hook(module, "PERIOD_LAYERS"),
                                      shp_periods=bool(output.get("shp_periods")),
                                      parquet=bool(output.get("parquet")),
                                      left_out=left_out)
            (stage.maps_dir / f"{stem}.html").write_text(html, encoding="utf-8")
            for file_name, page in year_maps.items():  # more periods than one map holds
                (stage.maps_dir / file_name).write_text(page, encoding="utf-8")
            for ext, data in figures.items():
                (stage.maps_dir / f"{stem}.{ext}").write_bytes(data)
            if report:  # from the staged files, as `lantian report` reads the published ones
                with progress.step(f"{name}: writing the report"):
                    result_report.write_staged(name, stage.layers_dir, stage.maps_dir)
        except OSError as err:
            raise InputError(publish.oserror_message(out, err)) from None
        stage.publish()
    if left_out:  # as in manifest.json; `lantian run` prints them
        manifest["warnings"] = [*manifest["warnings"], *left_out]
        manifest["left_out"] = left_out
    layers_dir = out / "layers" / stem
    map_path = out / "maps" / f"{stem}.html"
    fig_paths = tuple(out / "maps" / f"{stem}.{ext}" for ext in figures)
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
