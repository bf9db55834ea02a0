"""The Python face of the analyses (notebooks, scripts): read inputs, run, show, write.

Every analysis module exposes ``read_inputs(**files)``, ``run(inputs, params)``, ``Params`` and
``build_map(result)``; ``run`` takes what ``read_inputs`` returns or plain (Geo)DataFrames with
only the required columns (normalised here as the file readers do: :mod:`spatial.frames`), and
its :class:`~analyses.base.Result` writes itself with the CLI's writer (``result.write(out)``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from spatial import frames, io
from spatial.errors import InputError

from .base import hook, params_from_mapping

log = logging.getLogger(__name__)


class Inputs(dict):
    """Input name -> frame as ``run`` uses it, with the :class:`spatial.io.Table` of each.

    ``tables`` (name -> Table: rejected rows, the file's own columns, hashes) is what the
    writer needs besides the frames; ``warnings`` are those of ``lantian check``.
    """

    def __init__(self, tables: Mapping[str, io.Table], warnings: list[str] | None = None,
                 base: Path | None = None):
        super().__init__({k: t.frame for k, t in tables.items()})
        self.tables = dict(tables)
        self.warnings = list(warnings or [])
        #: the folder file paths in the outputs are relative to (the config's folder)
        self.base = base


def _options(value: Any) -> tuple[Any, dict[str, Any]]:
    """``value`` or ``(value, {"crs": …, "columns": …, "sheet": …, "header_row": …})``."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], Mapping):
        return value[0], dict(value[1])
    return value, {}


def _is_paths(value: Any) -> bool:
    if isinstance(value, (str, Path)):
        return True
    return (isinstance(value, (list, tuple)) and len(value) > 0
            and all(isinstance(v, (str, Path)) for v in value))


def _file_entry(name: str, target: Any, opts: Mapping[str, Any], folder: Path
                ) -> dict[str, Any]:
    """The config entry ``[inputs.<name>]`` of files given in Python (as spatial.config)."""
    from spatial import config as cfgmod

    bad = sorted(set(opts) - cfgmod.INPUT_KEYS)
    if bad:
        raise InputError(f"input '{name}': unknown option(s) {', '.join(bad)}; allowed: "
                         f"{', '.join(sorted(cfgmod.INPUT_KEYS - {'path'}))}.")
    raw = [str(p) for p in target] if isinstance(target, (list, tuple)) else str(target)
    paths = cfgmod.resolve_paths(raw, folder, name=name, config=folder / "(python)")
    return {"path": paths[0], "paths": paths, "crs": str(opts.get("crs", "wgs84")),
            "columns": dict(opts.get("columns") or {}), "sheet": opts.get("sheet"),
            "header_row": opts.get("header_row")}


def read_inputs(module: ModuleType, *, base: Path | str | None = None, strict: bool = False,
                **given: Any) -> Inputs:
    """Read the files of an analysis's inputs as ``lantian run`` does (same readers, checks).

    Each keyword is an input name with a path, a list of paths, or ``(path, options)`` where
    options are the config's keys (``crs``, ``columns``, ``sheet``, ``header_row``); relative
    paths are taken from `base` (default: the current folder). A (Geo)DataFrame is taken as
    :func:`prepare` takes it. Warnings are logged (``strict``: an InputError).
    """
    from . import checks, runner

    folder = Path(base) if base is not None else Path.cwd()
    files: dict[str, dict[str, Any]] = {}
    other: dict[str, Any] = {}
    for name, value in given.items():
        target, opts = _options(value)
        if not _is_paths(target):
            other[name] = value
            continue
        files[name] = _file_entry(name, target, opts, folder)
    specs = {s.name: s for s in module.INPUTS}
    _check_names(module, {**files, **other}, specs)
    conf = {"inputs": files, "path": "(python)", "base": folder}
    tables = runner.read_inputs(module, conf, require=False) if files else {}
    tables.update(prepare(module, other, require=False).tables if other else {})
    warnings = checks.warnings_for(module, tables)
    for w in warnings:
        log.warning(w)
    if strict and warnings:
        raise InputError("strict: the inputs have warnings:\n  - " + "\n  - ".join(warnings))
    return Inputs(tables, warnings, base=folder)


def _check_names(module: ModuleType, given: Mapping[str, Any], specs: Mapping[str, Any],
                 require: bool = True) -> None:
    unknown = sorted(set(given) - set(specs))
    if unknown:
        raise InputError(f"unknown input(s) {', '.join(unknown)} for {module.NAME}; its inputs "
                         f"are: {', '.join(specs)}.")
    for name, spec in specs.items():
        if require and spec.required and given.get(name) is None:
            raise InputError(f"input '{name}' ({spec.description}) is required for "
                             f"{module.NAME}.")


def _one(module: ModuleType, spec: Any, value: Any) -> io.Table:
    """One input given in Python as a Table of the same shape as its reader's."""
    if isinstance(value, io.Table):
        return value
    value, opts = _options(value)
    crs = str(opts.get("crs", "wgs84"))
    if _is_paths(value):  # files (e.g. the GeoTIFFs of pollution-hotspots): read as the CLI does
        from . import runner

        conf = {"inputs": {spec.name: _file_entry(spec.name, value, opts, Path.cwd())},
                "path": "(python)", "base": Path.cwd()}
        return runner.read_inputs(module, conf, require=False)[spec.name]
    custom = hook(module, "FRAME_INPUTS").get(spec.name)
    if custom is not None:  # the analysis knows this input's own shape (FIRMS, readings)
        return custom(value, spec)
    if spec.kind == "points":
        return frames.points_from_frame(value, fields=spec.fields, name=spec.name, crs=crs)
    if spec.kind == "polygons":
        return frames.polygons_from_frame(value, fields=spec.fields, name=spec.name, crs=crs)
    if spec.fields and isinstance(value, pd.DataFrame):
        return frames.table_from_frame(value, fields=spec.fields, name=spec.name)
    return frames.as_is(value, name=spec.name)


def prepare(module: ModuleType, inputs: Mapping[str, Any], *, require: bool = True) -> Inputs:
    """Inputs as ``run`` uses them, from read Tables, (Geo)DataFrames or paths.

    Frames need only the required columns (lantian's field names, as in the README's input
    tables, or the headers the readers recognise); optional ones are added empty, ``row``
    numbers 1, 2, … unless given. A missing required column raises :class:`InputError`
    naming it. What :func:`read_inputs` returned passes unchanged.
    """
    if isinstance(inputs, Inputs):
        return inputs
    if not isinstance(inputs, Mapping):
        raise InputError(f"{module.NAME}: inputs must be a dict of input name -> frame (or "
                         f"what {module.__name__}.read_inputs returns), not "
                         f"{type(inputs).__name__}.")
    specs = {s.name: s for s in module.INPUTS}
    _check_names(module, inputs, specs, require)
    tables = {name: _one(module, specs[name], v) for name, v in inputs.items() if v is not None}
    return Inputs(tables)


def params_for(module: ModuleType, params: Any) -> Any:
    """``params`` checked to be the module's Params (None: the defaults; a dict: its values)."""
    if params is None:
        return module.Params()
    if isinstance(params, Mapping):
        return params_from_mapping(module.Params, params)
    if not isinstance(params, module.Params):
        raise InputError(f"{module.NAME}: params must be {module.__name__}.Params(...), not "
                         f"{type(params).__name__}.")
    return params


def entry(run: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate an analysis's ``run(inputs, params)``: inputs prepared, result writable.

    The decorated function takes what :func:`prepare` takes and Params (or None, or a dict);
    the Result it returns keeps the input Tables, so ``result.write(out)`` writes what
    ``lantian run`` writes. The CLI passes already prepared :class:`Inputs`.
    """

    @functools.wraps(run)
    def wrapper(inputs: Mapping[str, Any], params: Any = None, **kw: Any) -> Any:
        import sys

        module = sys.modules[run.__module__]
        params = params_for(module, params)
        prepared = prepare(module, inputs)
        ready = hook(module, "prepare_run")  # inputs made ready with the params
        if ready is not None:  # (pollution-hotspots: the rasters' pixels onto H3 cells)
            prepared = ready(prepared, params, engine=kw.get("engine"))
        result = run(prepared, params, **kw)
        result.inputs = prepared
        return result

    return wrapper


def module_reader(name: str) -> Callable[..., Inputs]:
    """The ``read_inputs(**files)`` function of analysis module `name` (``__name__``)."""

    def read(*, base: Path | str | None = None, strict: bool = False, params: Any = None,
             **files: Any) -> Inputs:
        import sys

        module = sys.modules[name]
        inputs = read_inputs(module, base=base, strict=strict, **files)
        ready = hook(module, "prepare_run")
        if params is not None and ready is not None:
            inputs = ready(inputs, params_for(module, params))
        return inputs

    read.__doc__ = ("Read this analysis's input files as `lantian run` does.\n\n"
                    "Keywords are input names (see INPUTS) with a path, a list of paths or "
                    "(path, {'crs': 'gcj02', 'columns': {...}, 'sheet': ...}); relative paths "
                    "from `base` (default: the current folder). With `params`, inputs that "
                    "depend on them are prepared now (pollution-hotspots: the rasters on H3 "
                    "cells), once for several runs. Returns Inputs for run().")
    return read
