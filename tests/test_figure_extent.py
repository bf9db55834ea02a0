"""The static figure's frame: the whole counties, or the layers when they are small beside them.

A built-up zone of a few km in a county of ~60 km was drawn as a speck in the county outline
(machinery-zones' demo figure). When the drawn layers span less than a quarter of the counties'
extent both ways, the frame is the layers' box padded by a quarter of its size and widened to
the counties' width-to-height ratio; the county outline runs out of the frame and its name is
written on the part inside it. Distances here are checked with pyproj's geodesic (independent
of the figure's metric CRS): a few km on the ground at 36.45°N.
"""

import geopandas as gpd
import pyproj
from shapely.geometry import Point, box

from spatial import figure

GEOD = pyproj.Geod(ellps="WGS84")
COUNTY = gpd.GeoDataFrame({"name": ["某县"]}, geometry=[box(115.7, 36.2, 116.3, 36.7)],
                          crs=4326)


def _points(lngs, lats) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"kind": ["a"] * len(lngs)},
                            geometry=[Point(x, y) for x, y in zip(lngs, lats, strict=True)],
                            crs=4326)


def _frame(layer):
    style = [figure.LayerStyle("pts", "点", color="#d7301f")]
    fig = figure.draw({"pts": layer}, title="测试", style=style, counties=COUNTY)
    ax = fig.axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    texts = [t.get_text() for t in ax.texts]
    return x1 - x0, y1 - y0, texts


def test_a_small_layer_gets_a_frame_of_its_own_in_the_counties_shape():
    # two points 2 km apart east-west in the middle of a county ~54 km x 56 km
    lng2, _, _ = GEOD.fwd(116.0, 36.45, 90.0, 2000.0)
    w, h, texts = _frame(_points([116.0, lng2], [36.45, 36.45]))
    cw = GEOD.inv(115.7, 36.45, 116.3, 36.45)[2]  # the county's width on the ground (m)
    ch = GEOD.inv(116.0, 36.2, 116.0, 36.7)[2]
    # 2 km + a quarter of it each side = 3 km wide, then 4 % padding each side: 3.24 km
    assert abs(w - 3000.0 * 1.08) < 60.0, w
    assert abs(w / h - cw / ch) < 0.02, (w / h, cw / ch)  # the counties' shape (~0.96)
    assert "某县" in texts  # the county's name, on its part inside the frame


def test_layers_across_the_county_keep_the_whole_county():
    w, h, texts = _frame(_points([115.9, 116.1], [36.3, 36.6]))  # a third of its width
    cw = GEOD.inv(115.7, 36.45, 116.3, 36.45)[2]
    assert w > cw  # the whole county (plus 4 % padding) is in the frame
    assert "某县" in texts
