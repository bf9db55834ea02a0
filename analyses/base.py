"""What every analysis shares: its input specs, its parameters and the Result it returns."""

from __future__ import annotations

import dataclasses
import html
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import geopandas as gpd
import pandas as pd

from spatial.errors import InputError
from spatial.export import FieldMeta
from spatial.io import Field


@dataclass(frozen=True)
class InputSpec:
    """One input an analysis reads.

    Parameters
    ----------
    name
        Key under ``[inputs.<name>]`` in the config.
    kind
        ``"points"`` (tables with lon/lat, or point files), ``"polygons"``, or ``"custom"``
        (read by `reader`).
    fields
        Fields read from it (lantian's field names, README input tables).
    required
        A run without it is an error.
    description
        One line for ``lantian list`` and error messages.
    """

    name: str
    kind: str
    fields: tuple[Field, ...]
    required: bool = True
    description: str = ""
    #: for kind "custom": ``reader(cfg, spec) -> spatial.io.Table`` where cfg is the input's
    #: config entry (path, paths, crs, columns, sheet)
    reader: Callable[[dict[str, Any], InputSpec], Any] | None = None
    #: repeated ids are warned about (False where rows of one id are expected, e.g. plant units)
    unique_ids: bool = True
    #: points outside every boundary are warned about (False for inputs that cover more than the
    #: area by nature, e.g. a FIRMS download of a whole country)
    check_extent: bool = True
    #: a list or glob in `path`: ``"combine"`` (each file read alone, rows put together with
    #: ``file`` and ``row``), ``"many"`` (the reader reads every file of ``paths`` itself) or
    #: ``"one"`` (one file only: a list is refused). A "many" reader is called
    #: ``reader(cfg, spec, engine=engine)`` (engine None: in process).
    files: str = "combine"


@dataclass
class Result:
    """What ``run()`` returns: layers (EPSG:4326), tables, and a few summary lines.

    ``rejected`` rows found while reading are added by the runner to ``tables["rejected"]``.
    """

    analysis: str
    params: Any
    layers: dict[str, gpd.GeoDataFrame]
    tables: dict[str, pd.DataFrame]
    summary: list[str] = field(default_factory=list)
    fields: dict[str, FieldMeta] = field(default_factory=dict)
    title: str = ""
    #: layers shown on the map but not written (e.g. the input county outlines)
    context: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    #: the inputs it was run on (``analyses.api.Inputs``: frames and their Tables), for write()
    inputs: Any = field(default=None, repr=False, compare=False)

    def write(self, out: str | Path, *, basemap: str | None = None, offline: bool = False,
              title: str | None = None, output_crs: str | None = None,
              report: bool = True, parquet: bool = False, shp_periods: bool = False) -> Any:
        """Write layers, tables, map, figures and manifest to `out` as ``lantian run`` does.

        The same writer as the CLI (:func:`analyses.runner.write_result`): ``layers/<name>/``
        (with ``report.docx`` unless ``report=False``) and ``maps/<name>.html|png|pdf``
        published together under a lock. ``parquet`` and ``shp_periods`` as the config's
        ``[output]`` keys. Returns the ``RunOutput`` (paths of what was written).
        """
        from .runner import write_result

        return write_result(self, out, basemap=basemap, offline=offline, title=title,
                            output_crs=output_crs, report=report, parquet=parquet,
                            shp_periods=shp_periods)

    def __repr__(self) -> str:
        """One line: the analysis, its layers and tables with their row counts."""
        layers = ", ".join(f"{k}={len(v)}" for k, v in self.layers.items())
        tables = ", ".join(f"{k}={len(v)}" for k, v in self.tables.items())
        return f"Result({self.analysis!r}, layers: {layers}; tables: {tables})"

    def _repr_html_(self) -> str:
        """The title, summary lines, layers and tables, for a notebook cell."""
        esc = html.escape
        rows = "".join(f"<li>{esc(str(s))}</li>" for s in self.summary)
        layers = ", ".join(f"{esc(k)} ({len(v)})" for k, v in self.layers.items())
        tables = ", ".join(f"{esc(k)} ({len(v)})" for k, v in self.tables.items())
        return (f"<div><b>{esc(self.title or self.analysis)}</b> <code>{esc(self.analysis)}"
                f"</code><ul>{rows}</ul><p>layers: {layers or '—'}<br>tables: "
                f"{tables or '—'}</p></div>")


def _coerce(value: Any, annotation: Any, key: str) -> Any:
    """Coerce a TOML value to a parameter's annotated type, or raise InputError."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], key)
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise InputError(f"params.{key} must be true or false, not {value!r}.")
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise InputError(f"params.{key} must be a whole number, not {value!r}.")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f"params.{key} must be a number, not {value!r}.")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise InputError(f"params.{key} must be text, not {value!r}.")
        return value
    if origin is tuple:
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            value = [value]
        item = args[0] if args else str
        return tuple(_coerce(v, item, key) for v in value)
    return value


def params_from_mapping(cls: type, values: Mapping[str, Any] | None) -> Any:
    """Build a frozen Params dataclass from a config's ``[params]`` table.

    Unknown keys and values of the wrong type raise :class:`InputError` naming the key.
    """
    values = dict(values or {})
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise InputError(
            f"unknown parameter(s) {', '.join('params.' + u for u in unknown)}; "
            f"the parameters are: {', '.join(sorted(known))}."
        )
    return cls(**{k: _coerce(v, hints[k], k) for k, v in values.items()})


def check_types(params: Any) -> None:
    """Check (and coerce, e.g. 15 -> 15.0, a list -> a tuple) a Params' values to their types.

    Called first by every ``Params.__post_init__``, so ``Params(radius_km="15")`` in Python is
    refused like ``radius_km = "15"`` in a config: :class:`InputError` naming the parameter.
    """
    hints = typing.get_type_hints(type(params))
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        coerced = _coerce(value, hints[f.name], f.name)
        if coerced is not value:
            object.__setattr__(params, f.name, coerced)


@runtime_checkable
class Analysis(Protocol):
    """What every analysis module holds (the contract the runner, the CLI and the API use).

    Besides these, a module may define the optional hooks of :data:`HOOKS`, read through
    :func:`hook` (never by a bare ``getattr``, so a misspelt hook name is an error).
    """

    NAME: str
    INPUTS: tuple[InputSpec, ...]
    Params: type

    def read_inputs(self, **files: Any) -> Any: ...

    def run(self, inputs: Any, params: Any = None, **kw: Any) -> Result: ...

    def build_map(self, result: Result, **kw: Any) -> Any: ...


#: optional hooks of an analysis module: name -> (default when absent, what it is)
HOOKS: dict[str, tuple[Any, str]] = {
    "figure_spec": (None, "figure_spec(result) -> layer styles of the static figure"),
    "extra_figures": (None, "extra_figures(result) -> {name: (title, styles)}: more figures"),
    "symbology": (None, "symbology(result) -> legend definitions (QGIS files, county maps)"),
    "SOURCES": ({}, "output layer -> input whose own columns its rows get"),
    "RULES": (None, "the rules applied, for the 说明 sheet (else the docstring's policy)"),
    "ENGINES": (("local",), "engines run() accepts (engine=): local, dask"),
    "CELLS_FROM": ("area", "what the H3 cell estimate of spatial.limits counts from"),
    "CONTEXT_INPUTS": (("counties", "townships"), "inputs that are context, not study area"),
    "VOCAB_FIELDS": ({}, "input -> categorical columns checked against the vocabularies"),
    "FRAME_INPUTS": ({}, "input -> maker of its Table from a Python frame (analyses.api)"),
    "prepare_run": (None, "prepare_run(inputs, params, engine=) -> inputs ready for run"),
    "REPORT_TABLES": (None, "key tables of the report (else analyses.report_tables's entry)"),
    "map_years": (None, "map_years(result, max_periods) -> {year: result}: one map per year"),
    "PERIOD_LAYERS": ({}, "layer -> spatial.periodstore.PeriodLayer: one row per cell and period, "
                          "stored as cells + an attribute table of values"),
}


def hook(module: Any, name: str) -> Any:
    """The optional hook `name` of an analysis module, or its default (:data:`HOOKS`)."""
    if name not in HOOKS:
        raise KeyError(f"{name!r} is not an analysis hook; the hooks are: {', '.join(HOOKS)}")
    return getattr(module, name, HOOKS[name][0])
