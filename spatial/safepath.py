"""Path safety: names built from data stay plain file names, and stay under the output folder.

GDAL reads some paths specially: ``/vsizip/…``, ``/vsicurl/…`` and other ``/vsi`` prefixes
open archives and URLs, and ``a.zip!b.shp`` (pyogrio) is "``b.shp`` inside the archive
``a.zip``". A county named ``临清市!`` made ``lantian export --by county`` write outside
``--out``. So every file or folder name built from data (county names and codes, layer and
table names, analysis names) goes through :func:`safe_name`, every path built from it is
checked with :func:`within`, and a path the user gives (``--out``, input paths) that GDAL would
read specially is refused by :func:`check_user_path`.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from .errors import InputError

#: characters kept in a name built from data: letters and digits of any script (Chinese names
#: stay readable), ``-``, ``_``, ``.`` and ``(`` ``)``; everything else becomes ``_``
_UNSAFE = re.compile(r"[^\w.()\-]+", flags=re.UNICODE)
#: Windows device names, refused as a whole name on every system (files move between them)
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
             *(f"lpt{i}" for i in range(10))}
MAX_NAME_BYTES = 120


def safe_name(text: object, *, fallback: str = "unnamed") -> str:
    """A file-name-safe version of `text`: letters, digits, ``_ - . ( )`` only.

    Path separators, GDAL's archive separator ``!``, control and NUL characters, spaces,
    shell and Windows-reserved characters all become ``_``; leading dots (hidden files,
    ``..``) are removed; the result is at most :data:`MAX_NAME_BYTES` UTF-8 bytes and never
    empty (`fallback`) or a Windows device name.

    Examples
    --------
    >>> safe_name("临清市!")
    '临清市'
    >>> safe_name("../../etc/passwd")
    'etc_passwd'
    >>> safe_name("/vsizip/a.zip")
    'vsizip_a.zip'
    """
    s = unicodedata.normalize("NFKC", str(text))
    s = "".join(ch if unicodedata.category(ch)[0] != "C" else "_" for ch in s)
    s = _UNSAFE.sub("_", s)
    s = re.sub(r"_+", "_", s).strip("_. ")
    b = s.encode("utf-8")[:MAX_NAME_BYTES]
    s = b.decode("utf-8", errors="ignore").strip("_. ")
    if not s or s.split(".")[0].lower() in _RESERVED:
        s = f"{fallback}_{s}" if s else fallback
    return s


def within(root: Path | str, path: Path | str) -> Path:
    """Return `path` resolved, raising InputError unless it lies inside `root` (resolved).

    Symbolic links are followed on both sides, so a link that points out of `root` is caught.
    """
    r = Path(os.path.realpath(root))
    p = Path(os.path.realpath(path))
    if p != r and r not in p.parents:
        raise InputError(f"{path}: this output path would lie outside {root} (it resolves to "
                         f"{p}); a name built from the data escaped the output folder.")
    return p


def gdal_special(path: Path | str) -> str | None:
    """Why GDAL would read `path` specially (``"!"`` or ``"/vsi"``), or None if it would not."""
    s = str(path).replace("\\", "/")
    if re.search(r"(^|/)vsi[a-z0-9_]*(/|$)", s, flags=re.IGNORECASE):
        return "/vsi"
    if "!" in s:
        return "!"
    if re.match(r"^[a-z][a-z0-9+.-]*://", s, flags=re.IGNORECASE):
        return "://"
    return None


def check_user_path(path: Path | str, *, option: str) -> Path:
    """Refuse a path given by the user that GDAL would not take literally.

    ``!`` is pyogrio's archive separator (``a.zip!b.shp``), ``/vsi…`` prefixes are GDAL's
    virtual file systems and ``scheme://`` is a URL: a folder or file named so would be read
    or written somewhere else. `option` names the config key or command-line option.
    """
    why = gdal_special(path)
    if why is not None:
        what = {"!": "'!' (GDAL reads it as an archive separator)",
                "/vsi": "a /vsi… part (a GDAL virtual file system)",
                "://": "a URL scheme"}[why]
        raise InputError(f"{option} {str(path)!r}: the path contains {what}, so it would not be "
                         "read or written where it says; rename the file or folder.")
    return Path(path)
