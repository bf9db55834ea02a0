"""Run configurations: TOML files naming the inputs (path, crs, columns) and the parameters."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from .errors import InputError

INPUT_KEYS = {"path", "crs", "columns", "sheet"}


def load(path: Path | str) -> dict[str, Any]:
    """Read and check a config file.

    Returns
    -------
    dict
        ``{"inputs": {name: {"path": Path, "crs": str, "columns": dict, "sheet": ...}},
        "params": {...}, "base": Path}``. Relative input paths are resolved against the config
        file's folder, then against the current folder.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: config file not found.")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(f"{path}: the config must be saved as UTF-8.") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{path}: not valid TOML ({err}).") from None
    unknown = sorted(set(raw) - {"inputs", "params", "title", "analysis", "map"})
    if unknown:
        raise InputError(
            f"{path}: unknown section(s) {', '.join(unknown)}; a config has [inputs.<name>], "
            "[params] and [map] tables."
        )
    inputs: dict[str, dict[str, Any]] = {}
    for name, spec in (raw.get("inputs") or {}).items():
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
        paths = resolve_paths(spec["path"], path.parent, name=name, config=path)
        inputs[name] = {
            "path": paths[0],
            "paths": paths,
            "crs": str(spec.get("crs", "wgs84")),
            "columns": columns,
            "sheet": spec.get("sheet"),
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
            "base": path.parent, "path": path}


MAP_KEYS = {"basemap": str, "tianditu_token": str, "offline": bool, "title": str,
            "subtitle": str, "source": str, "unit": str, "city": str}


def map_options(table: Any, path: Path | str = "config") -> dict[str, Any]:
    """Check a config's ``[map]`` table.

    ``basemap``, ``tianditu_token``, ``offline``, and the texts shown on the map and the
    figure: ``title``, ``subtitle``, ``city`` (区域), ``source`` (数据来源), ``unit`` (制图单位).

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
    for key, typ in MAP_KEYS.items():
        if key in table and not isinstance(table[key], typ):
            raise InputError(f"{path}: [map] {key} must be "
                             f"{'true or false' if typ is bool else 'text'}, not {table[key]!r}.")
        if typ is str and key in table and not table[key].strip():
            raise InputError(f"{path}: [map] {key} is empty; give the text or leave the key out.")
    if "basemap" in table:
        from .basemaps import check_basemap

        try:
            check_basemap(table["basemap"])
        except InputError as err:
            raise InputError(f"{path}: [map] {err}") from None
    return dict(table)


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
