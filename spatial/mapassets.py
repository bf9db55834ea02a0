"""Offline map pages: the shipped Leaflet inlined, unused libraries dropped, stable element ids.

The Leaflet JS/CSS shipped in ``spatial/assets`` (see its README) replace folium's CDN links, the
libraries a map does not use are dropped, and folium's random element ids are replaced by
sequence numbers so a map renders to the same bytes on every run.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path

from .htmlsafe import js_json

ASSETS_DIR = Path(__file__).parent / "assets"

LEAFLET_VERSION = "1.9.4"

_LEAFLET_DIR = ASSETS_DIR / f"leaflet-{LEAFLET_VERSION}"


@cache
def _asset_text(name: str) -> str:
    return (_LEAFLET_DIR / name).read_text(encoding="utf-8")


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


@cache
def leaflet_js() -> str:
    """Shipped Leaflet JS, without its source-map comment (there is no map file offline)."""
    text = re.sub(r"\n//# sourceMappingURL=\S*\s*$", "\n", _asset_text("leaflet.js"))
    if "</script" in text.lower():
        raise RuntimeError("leaflet.js contains '</script' and cannot be inlined")
    return text


@cache
def leaflet_css() -> str:
    """Shipped Leaflet CSS with its images (``url(images/*.png)``) inlined as data: URIs."""

    def repl(mo: re.Match) -> str:
        return f'url("{_data_uri(_LEAFLET_DIR / "images" / mo.group(1))}")'

    pattern = r"url\(\s*['\"]?images/([\w.-]+\.png)['\"]?\s*\)"
    text = re.sub(pattern, repl, _asset_text("leaflet.css"))
    if "</style" in text.lower():
        raise RuntimeError("leaflet.css contains '</style' and cannot be inlined")
    return text


@cache
def _marker_icon_js() -> str:
    img = _LEAFLET_DIR / "images"
    opts = {
        "iconUrl": _data_uri(img / "marker-icon.png"),
        "iconRetinaUrl": _data_uri(img / "marker-icon-2x.png"),
        "shadowUrl": _data_uri(img / "marker-shadow.png"),
    }
    return f"L.Icon.Default.imagePath = '';\nL.Icon.Default.mergeOptions({js_json(opts)});\n"


_SCRIPT_SRC = re.compile(
    r"<script\b[^>]*?\bsrc\s*=\s*([\"'])(?P<url>[^\"']+)\1[^>]*>\s*</script>", re.IGNORECASE
)

_LINK = re.compile(r"<link\b[^>]*>", re.IGNORECASE)

_HREF = re.compile(r"\bhref\s*=\s*([\"'])(?P<url>[^\"']+)\1", re.IGNORECASE)

_REL_STYLESHEET = re.compile(r"\brel\s*=\s*([\"'])[^\"']*stylesheet[^\"']*\1", re.IGNORECASE)

# Libraries folium links by default that lantian's maps do not need.
_DROPPABLE = re.compile(
    r"jquery[\w.-]*\.js$|bootstrap[\w.-]*\.(js|css)$|bootstrap-glyphicons\.css$"
    r"|leaflet\.awesome-markers\.(js|css)$|fontawesome[^/]*/css/all(\.min)?\.css$"
    r"|leaflet\.awesome\.rotate(\.min)?\.css$",
    re.IGNORECASE,
)

_LEAFLET_JS = re.compile(r"(^|/)leaflet\.js$", re.IGNORECASE)

_LEAFLET_CSS = re.compile(r"(^|/)leaflet\.css$", re.IGNORECASE)

_BANNER = f"/* inlined by lantian: Leaflet {LEAFLET_VERSION} (BSD-2-Clause), spatial/assets */"

_OWN_ASSETS = re.compile(
    r"<(script|style) data-lantian-asset>.*?</\1>", re.IGNORECASE | re.DOTALL
)


def _inline_assets(page: str) -> str:
    """Replace folium's CDN ``<script src>``/stylesheet links by shipped assets, drop the rest."""
    # What the map's own code uses, judged without the library tags themselves.
    own = _LINK.sub("", _SCRIPT_SRC.sub("", _OWN_ASSETS.sub("", page)))
    uses_jquery = re.search(r"\$\(|\$\.|\bjQuery\b", own) is not None
    uses_awesome = "L.AwesomeMarkers" in own
    uses_default_marker = re.search(r"\bL\.marker\(", own) is not None
    unknown: list[str] = []

    def script(mo: re.Match) -> str:
        url = mo.group("url")
        if _LEAFLET_JS.search(url):
            extra = _marker_icon_js() if uses_default_marker else ""
            return f"<script>{_BANNER}\n{leaflet_js()}\n{extra}</script>"
        if _DROPPABLE.search(url):
            if (uses_jquery and "jquery" in url.lower()) or (
                uses_awesome and "awesome" in url.lower()
            ):
                unknown.append(url)
            return ""
        unknown.append(url)
        return mo.group(0)

    def link(mo: re.Match) -> str:
        tag = mo.group(0)
        href = _HREF.search(tag)
        if not _REL_STYLESHEET.search(tag) or href is None:
            return tag
        url = href.group("url")
        if _LEAFLET_CSS.search(url):
            return f"<style>{_BANNER}\n{leaflet_css()}</style>"
        if _DROPPABLE.search(url):
            if uses_awesome and ("awesome" in url.lower() or "fontawesome" in url.lower()):
                unknown.append(url)
            return ""
        unknown.append(url)
        return tag

    page = _SCRIPT_SRC.sub(script, page)
    page = _LINK.sub(link, page)
    if unknown:
        raise ValueError(
            "The map uses resources that are not shipped in spatial/assets and cannot be inlined "
            f"for an offline map: {unknown}. Build it with spatial.webmap's add_* functions "
            "(folium.Marker icons, folium.Popup and plugins need online libraries), or render "
            "with offline=False."
        )
    leftover = re.findall(r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>", page, re.I)
    leftover += [t for t in _LINK.findall(page) if re.search(r"href\s*=\s*[\"']?(https?:)?//", t)]
    if leftover:  # pragma: no cover - defensive: the substitutions above cover folium's tags
        raise ValueError(f"external resources left in an offline map: {leftover}")
    return page


_ELEMENT_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])")


def stable_ids(page: str) -> str:
    """Replace folium's random element ids (32 hex digits) by sequence numbers.

    The same map then renders to the same bytes on every run. Apply it to a finished page:
    the names of the map's elements in Python (``m.get_name()``) no longer match.
    """
    ids: dict[str, str] = {}

    def number(match: re.Match[str]) -> str:
        return ids.setdefault(match.group(0), f"{len(ids) + 1:032d}")

    return _ELEMENT_ID.sub(number, page)
