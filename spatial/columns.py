"""Column resolution: find the fields an analysis reads among a file's headers.

Headers are matched case- and width-insensitively (NFKC), ignoring white space and a trailing
unit in brackets; a config's ``columns`` mapping wins. Split from :mod:`spatial.io` (which
re-exports these names).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

# Headers recognised without a `columns` mapping, after normalisation (see `norm_header`).
COMMON_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "编号", "代码", "序号", "站点编码", "监测点编码", "stationcode", "station_id"),
    # XZQMC/XZQDM: 行政区名称/代码 of land-survey (三调) and county GIS data
    "name": ("name", "名称", "单位名称", "企业名称", "站点名称", "监测点名称", "xzqmc",
             "行政区名称"),
    "lon": ("lon", "lng", "long", "longitude", "x", "经度", "东经"),
    "lat": ("lat", "latitude", "y", "纬度", "北纬"),
    "code": ("code", "adcode", "行政区划代码", "区划代码", "县区代码", "xzqdm", "行政区代码"),
    "county": ("county", "县区", "区县", "所属县区", "县(市、区)"),
}


@dataclass(frozen=True)
class Field:
    """One field an analysis reads from an input.

    Parameters
    ----------
    name
        Our field name (the README's input tables), e.g. ``"capacity_mw"``.
    kind
        ``"text"``, ``"float"``, ``"int"``, ``"bool"`` or ``"datetime"``.
    required
        Rows without a usable value are rejected; a file without the column is an error.
    aliases
        Headers recognised for it besides ``COMMON_ALIASES[name]``.
    """

    name: str
    kind: str = "text"
    required: bool = False
    aliases: tuple[str, ...] = ()


def norm_header(h: object) -> str:
    """A header as compared: NFKC, stripped, lower case, no white space."""
    s = unicodedata.normalize("NFKC", str(h)).strip().lower()
    return re.sub(r"\s+", "", s)


def strip_unit(h: str) -> str:
    """A normalised header without a trailing unit in brackets (``装机容量(mw)``)."""
    return re.sub(r"[(\[（].*?[)\]）]$", "", h)


def resolve_columns(headers: Sequence[object], fields: Sequence[Field],
                    mapping: Mapping[str, str] | None, *, path: Path | str, name: str
                    ) -> dict[str, str]:
    """Map our field names to the file's headers.

    A `mapping` entry (from the config's ``columns``) wins; otherwise the header is recognised
    from the field name, ``COMMON_ALIASES`` and the field's own aliases, case- and width-
    insensitively, ignoring a trailing unit in brackets (``装机容量(MW)``).

    Raises
    ------
    InputError
        A mapped header is absent, or a required field has no column.
    """
    mapping = dict(mapping or {})
    known = {f.name for f in fields}
    for key in mapping:
        if key not in known:
            raise InputError(
                f"{path}: `columns` maps unknown field '{key}' for input '{name}'; "
                f"known fields: {', '.join(sorted(known))}."
            )
    by_norm: dict[str, str] = {}
    for h in headers:
        by_norm.setdefault(norm_header(h), str(h))
        by_norm.setdefault(strip_unit(norm_header(h)), str(h))
    found: dict[str, str] = {}
    for f in fields:
        if f.name in mapping:
            header = mapping[f.name]
            if header not in [str(h) for h in headers]:
                raise InputError(
                    f"{path}: column '{header}' (mapped to '{f.name}' in the config) is not in the "
                    f"file; its columns are: {', '.join(map(str, headers))}."
                )
            found[f.name] = header
            continue
        for alias in (f.name, *COMMON_ALIASES.get(f.name, ()), *f.aliases):
            hit = by_norm.get(norm_header(alias))
            if hit is not None and hit not in found.values():
                found[f.name] = hit
                break
    missing = [f.name for f in fields if f.required and f.name not in found]
    if missing:
        example = ", ".join(f'{m} = "…"' for m in missing)
        raise InputError(
            f"{path}: input '{name}' has no column for required field(s) {', '.join(missing)}; "
            f"its columns are: {', '.join(map(str, headers))}. Name the columns in the config: "
            f"columns = {{ {example} }}."
        )
    return found
