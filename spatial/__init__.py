"""lantian's analysis-agnostic GIS library: one module per noun.

Modules are re-exported, not their functions, so the namespace reads like a table of contents:
``spatial.h3grid.points_to_cells``, ``spatial.coords.gcj02_to_wgs84``.
"""

from .errors import InputError as InputError

__all__ = ["InputError"]
