"""Generate an illustrative township (乡镇) layer for the demo counties (seeded, reproducible).

No public township boundaries are bundled, so each county is split into Voronoi cells around
random seed points, clipped to the county, and named "<county>第N镇（示例）". The result tiles
each (simplified) county exactly; it is NOT a real township map. Used by no-burn-zones and
fire-points for township attribution in the demo.

Usage::

    python scripts/make_demo_townships.py     # writes data/raw/townships.gpkg (layer townships)

Schema: code (9-digit text: county adcode + 3 digits), name, county_code, county_name;
EPSG:4326 (Multi)Polygons. Requires data/raw/counties.gpkg.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from demo_common import random_points_in

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
SEED = 20261124
KM2_PER_TOWNSHIP = 100.0   # Shandong townships average roughly 80-120 km²
SIMPLIFY_DEG = 0.002       # ~200 m; coverage simplification keeps shared borders shared




def make_townships(counties: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    simple = shapely.coverage_simplify(counties.geometry.to_numpy(), SIMPLIFY_DEG)
    area = counties.to_crs(32650).area.to_numpy() / 1e6
    rows = []
    for geom, code, cname, a in zip(simple, counties["code"], counties["name"], area,
                                    strict=True):
        geom = shapely.make_valid(geom)
        n = max(3, int(round(a / KM2_PER_TOWNSHIP)))
        x, y = random_points_in(geom, n, rng, oversample=8)
        # sort seeds west->east, south->north so numbering reads sensibly
        order = np.lexsort((x, np.round(y, 1)))[::-1]
        seeds = shapely.points(x[order], y[order])
        cells = shapely.get_parts(shapely.voronoi_polygons(
            shapely.MultiPoint(list(seeds)), extend_to=geom.envelope.buffer(0.5)))
        # match each Voronoi cell to its seed
        for k, seed in enumerate(seeds, 1):
            cell = cells[shapely.contains(cells, seed)][0]
            part = shapely.make_valid(shapely.intersection(cell, geom))
            polys = [p for p in shapely.get_parts(part) if p.geom_type == "Polygon"]
            rows.append({"code": f"{code}{k:03d}", "name": f"{cname}第{k}镇（示例）",
                         "county_code": code, "county_name": cname,
                         "geometry": shapely.union_all(polys)})
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    out["geometry"] = shapely.set_precision(out.geometry.to_numpy(), 1e-6)
    return out


def main() -> None:
    counties = gpd.read_file(RAW / "counties.gpkg", layer="counties")
    counties["code"] = counties["code"].astype(str)
    towns = make_townships(counties, np.random.default_rng(SEED))
    assert towns.geometry.is_valid.all() and not towns.geometry.is_empty.any()
    path = RAW / "townships.gpkg"
    path.unlink(missing_ok=True)
    towns.to_file(path, layer="townships", driver="GPKG")
    print(f"wrote {path} ({len(towns)} townships, {path.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
