"""lantian's analyses: one module per analysis, registered by its CLI name.

Each module holds a docstring (what, inputs, outputs), ``NAME``, ``INPUTS`` (input specs), a frozen
``Params`` dataclass that validates itself, ``run(inputs, params) -> Result`` (pure: reads and
writes nothing) and ``build_map(result) -> folium.Map``. ``analyses.runner`` reads a config,
runs one and writes its result.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from spatial.errors import InputError

#: CLI name -> module name, in the order ``lantian list`` and ``lantian demo`` use.
REGISTRY: dict[str, str] = {
    "heat-radius": "analyses.heat_radius",
    "no-burn-zones": "analyses.no_burn_zones",
    "fire-points": "analyses.fire_points",
    "pollution-hotspots": "analyses.pollution_hotspots",
    "machinery-zones": "analyses.machinery_zones",
}


def get(name: str) -> ModuleType:
    """Return the module of analysis `name` (its CLI name, e.g. ``"heat-radius"``)."""
    if name not in REGISTRY:
        raise InputError(
            f"unknown analysis '{name}'; the analyses are: {', '.join(REGISTRY)} "
            "(see `lantian list`)."
        )
    return importlib.import_module(REGISTRY[name])


def describe(module: ModuleType) -> str:
    """The first line of an analysis module's docstring."""
    return (module.__doc__ or "").strip().splitlines()[0]


def __getattr__(attr: str) -> ModuleType:
    """``analyses.heat_radius`` and the other analysis modules after ``import analyses``."""
    modules = {m.rsplit(".", 1)[1] for m in REGISTRY.values()}
    if attr in modules:
        return importlib.import_module(f"{__name__}.{attr}")
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
