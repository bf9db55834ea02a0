"""Run configurations: TOML files naming the inputs (path, crs, columns) and the parameters."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from . import limits, safepath
from .errors import InputError

INPUT_KEYS = {"path", "crs", "columns", "sheet", "header_row"}


def load(path: Path | str) -> dict[str, Any]:
    """Read and check a config file.

    Returns
    -------
    dict
        ``{"inputs": {name: {"path": Path, "crs": str, "columns": dict, "sheet": ...,
        "header_row": int | [int, int] | None}}, "params": {...},
        "vocab": {field: {word: code}}, "base": Path}``. Relative input paths are resolved
        against the config file's folder, then against the current folder.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: config file not found.")
    if not path.is_file():
        raise InputError(f"--config {path}: is a folder, not a config file; give the .toml "
                         "file inside it.")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(f"{path}: the config must be saved as UTF-8.") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{path}: not valid TOML ({err}).") from None
    unknown = sorted(set(raw) - {"inputs", "params", "title", "analysis", "map", "limits", "vocab",
                                 "fetch", "output"})
    if unknown:
        raise InputError(
            f"{path}: unknown section(s) {', '.join(unknown)}; a config has [inputs.<name>], "
            "[params], [map], [limits], [vocab.<field>], [fetch] and [output] "
            "tables."
        )
    inputs: dict[str, dict[str, Any]] = {}
    given = raw.get("inputs") or {}
    if not isinstance(given, dict):
        raise InputError(f"{path}: `inputs` must be tables, one per input, e.g. "
                         '[inputs.boilers]\npath = "boilers.csv" — not {given!r}.')
    for name, spec in given.items():
        if isinstance(spec, str):
            spec = {"path": spec}
        if not isinstance(spec, dict) or "path" not in spec:
            raise InputError(f"{path}: [inputs.{name}] needs a `path`.")
        bad = sorted(set(spec) - INPUT_KEYS)
        if bad:
            raise InputError(
                f"{path}: [inputs.{name}] has unknown key(s) {', '.join(bad)}; allowed: "
                f"{', '.join(sorted(INPUT_KEYS))}."
            )
        columns = spec.get("columns") or {}
        if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
            raise InputError(
                f'{path}: [inputs.{name}] columns must map field names to headers, e.g. '
                'columns = { lon = "经度", lat = "纬度" }.'
            )
        header_row = spec.get("header_row")
        rows = header_row if isinstance(header_row, list) else [header_row]
        if header_row is not None and not (
                len(rows) in (1, 2) and all(isinstance(r, int) and not isinstance(r, bool)
                                            and r >= 1 for r in rows)):
            raise InputError(
                f"{path}: [inputs.{name}] header_row must be the row number Excel shows for "
                f"the header (header_row = 4) or its two rows (header_row = [3, 4]), not "
                f"{header_row!r}.")
        sheet = spec.get("sheet")
        if sheet is not None and (isinstance(sheet, bool) or not isinstance(sheet, (str, int))):
            raise InputError(f'{path}: [inputs.{name}] sheet must be a sheet name (sheet = "明细") '
                             f"or a number from 0, not {sheet!r}.")
        paths = resolve_paths(spec["path"], path.parent, name=name, config=path)
        inputs[name] = {
            "path": paths[0],
            "paths": paths,
            "crs": str(spec.get("crs", "wgs84")),
            "columns": columns,
            "sheet": sheet,
            "header_row": header_row,
        }
    params = raw.get("params") or {}
    if not isinstance(params, dict):
        raise InputError(f"{path}: [params] must be a table.")
    map_table = map_options(raw.get("map"), path)
    title = raw.get("title")
    if title is not None:  # a top-level title is the map's title ([map] title says the same)
        if not isinstance(title, str) or not title.strip():
            raise InputError(f"{path}: title must be non-empty text, not {title!r}.")
        if map_table.get("title", title) != title:
            raise InputError(f"{path}: title {title!r} and [map] title "
                             f"{map_table['title']!r} differ; keep one of them.")
        map_table["title"] = title
    return {"inputs": inputs, "params": dict(params), "title": title,
            "analysis": raw.get("analysis"), "map": map_table,
            "limits": limits.from_config(raw.get("limits"), path),
            "vocab": raw.get("vocab") or {},
            "fetch": dict(raw.get("fetch") or {}),  # checked by spatial.fetch.settings
            "output": output_options(raw.get("output"), path),
            "base": path.parent, "path": path}


MAP_KEYS = {"basemap": str, "tianditu_token": str, "offline": bool, "date": str, "title": str,
            "subtitle": str, "source": str, "unit": str, "city": str, "map_periods": int}


def map_options(table: Any, path: Path | str = "config") -> dict[str, Any]:
    """Check a config's ``[map]`` table.

    ``basemap``, ``tianditu_token``, ``offline``, and the texts shown on the map and the
    figure: ``title``, ``subtitle``, ``city`` (区域), ``source`` (数据来源), ``unit`` (制图单位).
    ``map_periods``: the most periods one map holds (default 36); more become one map per year.

    Returns only the keys given (the runner fills defaults), e.g. ``{"basemap": "tianditu-vec",
    "tianditu_token": "…", "offline": False}``. The basemap name is checked against
    ``spatial.basemaps.BASEMAPS``.
    """
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise InputError(f"{path}: [map] must be a table, e.g. [map]\nbasemap = \"light\".")
    bad = sorted(set(table) - set(MAP_KEYS))
    if bad:
        raise InputError(f"{path}: [map] has unknown key(s) {', '.join(bad)}; allowed: "
                         f"{', '.join(sorted(MAP_KEYS))}.")
    table = dict(table)
    if hasattr(table.get("date"), "isoformat"):  # date = 2025-01-31 (a TOML date)
        table["date"] = table["date"].isoformat()
    n = table.get("map_periods")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise InputError(f"{path}: [map] map_periods must be a whole number of periods >= 1 "
                         f"(default 36), not {n!r}.")
    for key, typ in MAP_KEYS.items():
        if key in table and not isinstance(table[key], typ):
            raise InputError(f"{path}: [map] {key} must be "
                             f"{'true or false' if typ is bool else 'text'}, not {table[key]!r}.")
        if typ is str and key in table and not table[key].strip():
            raise InputError(f"{path}: [map] {key} is empty; give the text or leave the key out.")
    if "date" in table:
        import datetime as dt

        try:
            dt.date.fromisoformat(table["date"])
        except ValueError:
            raise InputError(f"{path}: [map] date must be a date as YYYY-MM-DD, not "
                             f"{table['date']!r}.") from None
    if "basemap" in table:
        from .basemaps import check_basemap

        try:
            check_basemap(table["basemap"])
        except InputError as err:
            raise InputError(f"{path}: [map] {err}") from None
    return dict(table)


OUTPUT_KEYS = {"crs", "parquet", "shp_periods"}


def output_options(table: Any, path: Path | str = "config") -> dict[str, Any]:
    """Check a config's ``[output]`` table.

    ``crs``: a second coordinate system the layers are also written in, besides the WGS-84
    GeoPackage the maps use: ``"cgcs2000"`` (EPSG:4490) or a projected EPSG code such as
    ``"EPSG:4547"`` (CGCS2000 3-degree Gauss-Krüger, CM 114°E). GCJ-02 and BD-09 are display
    systems, not accepted here. ``parquet`` (true/false): also a GeoParquet copy of the layers
    (``layers/<analysis>/parquet/``). ``shp_periods`` (true/false): per-period layers also as
    one Shapefile per period (else only the GeoPackage holds them). Returns
    ``{"crs": "EPSG:…", "parquet": True, "shp_periods": True}`` with only the keys given
    (false flags left out), or ``{}``.
    """
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise InputError(f'{path}: [output] must be a table, e.g. [output]\ncrs = "cgcs2000".')
    bad = sorted(set(table) - OUTPUT_KEYS)
    if bad:
        raise InputError(f"{path}: [output] has unknown key(s) {', '.join(bad)}; allowed: "
                         f"{', '.join(sorted(OUTPUT_KEYS))}.")
    flags = {}
    for k in ("parquet", "shp_periods"):
        if k in table and not isinstance(table[k], bool):
            raise InputError(f"{path}: [output] {k} must be true or false, not {table[k]!r}.")
        if table.get(k):
            flags[k] = True
    if "crs" not in table:
        return flags
    from . import coords

    value = table["crs"]
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise InputError(f'{path}: [output] crs must be text such as "cgcs2000" or '
                         f'"EPSG:4547", not {value!r}.')
    try:
        name = coords.normalize_crs_name(value)
    except InputError as err:
        raise InputError(f"{path}: [output] {err}") from None
    if name in ("gcj02", "bd09"):
        raise InputError(f"{path}: [output] crs = {value!r}: GCJ-02 and BD-09 are for display "
                         "on Amap/Baidu tiles, not for GIS layers; use \"cgcs2000\" or a "
                         "Gauss-Krüger EPSG code such as \"EPSG:4547\".")
    epsg = {"cgcs2000": "EPSG:4490", "wgs84": "EPSG:4326"}.get(name, name)
    return {"crs": epsg, **flags}


def resolve_path(value: str, base: Path) -> Path:
    """Resolve an input path against the config's folder, then the current folder."""
    p = Path(value).expanduser()
    if p.is_absolute():
        return p
    first = Path(os.path.normpath(base / p))
    if first.exists() or not p.exists():
        return first
    return p


def resolve_paths(value: str | list[str], base: Path, *, name: str, config: Path) -> list[Path]:
    """Resolve an input's `path`: one file, a list of files, or a glob (``fires/*.csv``).

    Globs are expanded (sorted) relative to the config's folder; one that matches nothing is an
    error. Plain paths are returned even if missing (the reader reports them).
    """
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) for v in values):
        raise InputError(f"{config}: [inputs.{name}] path must be a file name, a list or a glob.")
    out: list[Path] = []
    for v in values:
        safepath.check_user_path(v, option=f"{config}: [inputs.{name}] path")
        if any(ch in v for ch in "*?["):
            p = Path(v).expanduser()
            root = Path(p.anchor) if p.is_absolute() else base
            pattern = str(p.relative_to(p.anchor)) if p.is_absolute() else v
            hits = sorted(root.glob(pattern)) or (
                [] if p.is_absolute() else sorted(Path().glob(pattern)))
            if not hits:
                raise InputError(f"{config}: [inputs.{name}] path {v!r} matches no file "
                                 f"(looked in {root}).")
            out.extend(hits)
        else:
            out.append(resolve_path(v, base))
    for p in out:  # the config's own folder may be named so
        safepath.check_user_path(p, option=f"{config}: [inputs.{name}] path")
    return out


def apply_overrides(config: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``--set params.radius_km=15`` style overrides (values parsed as TOML, else text)."""
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.startswith("params."):
            raise InputError(
                f"--set {item!r}: expected params.NAME=VALUE, e.g. --set params.radius_km=15."
            )
        try:
            parsed = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            parsed = value
        config["params"][key.removeprefix("params.")] = parsed
    return config
