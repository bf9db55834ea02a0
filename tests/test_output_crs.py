"""`[output] crs`: layers also written in CGCS2000 or a Gauss-Krüger zone, WGS-84 kept for maps."""

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from analyses import runner
from spatial import config
from spatial.errors import InputError


def run_with(tmp_path, root, crs):
    text = (root / "configs" / "heat-radius.toml").read_text(encoding="utf-8")
    text = text.replace('"../data/', f'"{root}/data/')
    p = tmp_path / "config.toml"
    p.write_text(text + f'\n[output]\ncrs = "{crs}"\n', encoding="utf-8")
    return runner.execute("heat-radius", config.load(p), out=tmp_path / "out", offline=True)


def vertices(gdf):
    return shapely.get_coordinates(gdf.geometry.to_numpy())


@pytest.mark.parametrize(("crs", "tag", "epsg"), [("cgcs2000", "cgcs2000", 4490),
                                                  ("EPSG:4548", "epsg4548", 4548)])
def test_layers_in_another_crs_reproject_back_to_the_wgs84_layers(tmp_path, root, crs, tag,
                                                                  epsg):
    out = run_with(tmp_path, root, crs)
    d = out.layers_dir
    wgs = d / "heat-radius.gpkg"
    other = d / f"heat-radius_{tag}.gpkg"
    assert sorted(n for n, _ in pyogrio.list_layers(other)) == \
        sorted(n for n, _ in pyogrio.list_layers(wgs) if n != "layer_styles")  # QGIS styles
    for layer in ("boilers", "plants", "radius"):
        a = gpd.read_file(wgs, layer=layer)
        b = gpd.read_file(other, layer=layer)
        assert b.crs.to_epsg() == epsg and a.crs.to_epsg() == 4326
        assert len(a) == len(b) > 0
        back = vertices(b.to_crs(4326))
        assert np.abs(back - vertices(a)).max() < 1e-9
        assert b.drop(columns="geometry").equals(a.drop(columns="geometry"))
    shp = gpd.read_file(d / f"shp_{tag}" / "boilers.shp")
    assert shp.crs.to_epsg() == epsg
    if epsg == 4548:  # Gauss-Krüger metres, CM 117°E, false easting 500 km (no zone prefix)
        a = gpd.read_file(wgs, layer="boilers")
        x = vertices(gpd.read_file(other, layer="boilers"))[:, 0]
        # east of the CM by about (lon - 117°) × 111.32 km × cos(lat), within 1 %
        approx = (a["lon"] - 117.0) * 111_320 * np.cos(np.radians(a["lat"]))
        np.testing.assert_allclose(x - 500_000, approx, rtol=0.01, atol=50)
    assert out.manifest["output_crs"] == f"EPSG:{epsg}"


def test_display_systems_are_refused(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('[output]\ncrs = "gcj02"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"\[output\] crs = 'gcj02'.*cgcs2000"):
        config.load(p)
    p.write_text('[output]\ncrs = "EPSG:999999"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"\[output\]"):
        config.load(p)
