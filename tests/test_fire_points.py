"""fire-points: statuses, persistent sources, events vs brute force, attribution, outputs."""

import os

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from affine import Affine
from conftest import ROOT, TEST_DATA
from pyproj import Geod

from analyses import fire_points as fp
from analyses import runner
from spatial import config, firms, io
from spatial.errors import InputError

GEOD = Geod(ellps="WGS84")
HEADER = ["latitude", "longitude", "bright_ti4", "scan", "track", "acq_date", "acq_time",
          "satellite", "confidence", "version", "bright_ti5", "frp", "daynight"]


def viirs(rows):
    """A normalised fires frame from (lon, lat, 'YYYY-MM-DD HHMM' UTC, conf[, sat]) tuples."""
    recs = []
    for r in rows:
        lon, lat, t, conf = r[:4]
        sat = r[4] if len(r) > 4 else "N"
        d, hm = t.split()
        recs.append([str(lat), str(lon), "330", "0.4", "0.4", d, hm, sat, conf, "2.0NRT", "290",
                     "5.0", "D"])
    f, rej = firms.normalize(pd.DataFrame(recs, columns=HEADER, dtype=object), path="t.csv")
    assert len(rej) == 0
    return f


def box(code, name, x0, y0, x1, y1):
    return {"code": code, "name": name, "geometry": shapely.box(x0, y0, x1, y1)}


def units(*rows):
    return gpd.GeoDataFrame(list(rows), crs="EPSG:4326")


def test_persistent_source_derivation():
    # a chimney on 5 dates in June and July (< 100 m jitter); a field on 5 dates in June only
    dates = ["2024-06-01", "2024-06-05", "2024-06-20", "2024-07-02", "2024-07-15"]
    rng = np.random.default_rng(1)
    chim, field = [], []
    for d in dates:
        x, y, _ = GEOD.fwd(116.3, 36.3, rng.uniform(0, 360), rng.uniform(0, 60))
        chim.append((x, y, f"{d} 0530", "h"))
        field.append((116.5, 36.5, f"2024-06-{int(d[-2:]) % 28 + 1:02d} 0530", "n"))
    f = viirs(chim + field)
    r = fp.run({"fires": f}, fp.Params())
    st = r.layers["points"]["status"].tolist()
    assert st == ["industrial"] * 5 + ["kept"] * 5
    hs = r.layers["heat_sources"]
    assert hs["id"].tolist() == ["PS01"] and hs["source"].tolist() == ["derived"]
    assert hs["n_dates"].tolist() == [5] and hs["n_months"].tolist() == [2]
    assert hs["n_excluded"].tolist() == [5]
    # four dates are not enough at the default threshold of 4 ... when one is a duplicate
    r2 = fp.run({"fires": f.iloc[[0, 1, 2, 3]]}, fp.Params())
    assert (r2.layers["points"]["status"] == "industrial").all()
    r3 = fp.run({"fires": f.iloc[[0, 1, 2]]}, fp.Params())
    assert (r3.layers["points"]["status"] == "kept").all()


def test_persistent_cells_k_rings_by_hand():
    import h3
    c = h3.latlng_to_cell(36.3, 116.3, 9)
    lat0, lng0 = h3.cell_to_latlng(c)
    nb = [n for n in h3.grid_disk(c, 1) if n != c][0]
    far = [n for n in h3.grid_ring(c, 2)][0]
    pts = [h3.cell_to_latlng(x) for x in (c, c, c, c, nb, far)]
    lat = np.array([p[0] for p in pts])
    lng = np.array([p[1] for p in pts])
    days = np.array(["2024-05-01", "2024-05-02", "2024-06-01", "2024-06-02", "2024-06-03",
                     "2024-06-04"], dtype="datetime64[D]")
    _, zone0, t0 = fp.persistent_cells(lat, lng, days, resolution=9, k=0, min_dates=4,
                                       min_months=2)
    assert zone0.tolist() == [True] * 4 + [False, False] and t0["persistent"].all()
    _, zone1, t1 = fp.persistent_cells(lat, lng, days, resolution=9, k=1, min_dates=4,
                                       min_months=2)
    assert zone1.tolist() == [True] * 5 + [False]

    def rows(t):
        return [(int(a), bool(b), int(n), int(m)) for a, b, n, m in
                t[["cell", "persistent", "n_dates", "n_months"]].itertuples(index=False)]

    # by hand: c has 4 dates in May and June; its neighbour nb 1 date; far is 2 rings away
    assert rows(t0) == [(h3.str_to_int(c), True, 4, 2)]
    assert rows(t1) == sorted([(h3.str_to_int(c), True, 4, 2), (h3.str_to_int(nb), False, 1, 1)])


def test_known_heat_source_radius_geodesic():
    x_in, y_in, _ = GEOD.fwd(116.0, 36.0, 30.0, 990.0)
    x_out, y_out, _ = GEOD.fwd(116.0, 36.0, 30.0, 1010.0)
    f = viirs([(x_in, y_in, "2024-06-10 0530", "n"), (x_out, y_out, "2024-06-10 0530", "n")])
    known = gpd.GeoDataFrame({"id": ["HS1"], "name": ["钢厂"], "kind": ["steel"],
                              "lon": [116.0], "lat": [36.0]},
                             geometry=gpd.points_from_xy([116.0], [36.0]), crs="EPSG:4326")
    r = fp.run({"fires": f, "heat_sources": known}, fp.Params())
    p = r.layers["points"]
    assert p["status"].tolist() == ["industrial", "kept"]
    assert p["heat_source"][0] == "HS1" and pd.isna(p["heat_source"][1])
    assert r.layers["heat_sources"]["n_excluded"].tolist() == [1]


def test_status_precedence_and_duplicates():
    rows = [(116.0, 36.0, "2024-06-10 0530", "n"),      # kept
            (116.0, 36.0, "2024-06-10 0530", "n"),      # exact repeat -> duplicate
            (116.1, 36.0, "2024-06-10 0530", "l"),      # low confidence
            (116.1, 36.0, "2024-06-10 0530", "l"),      # duplicate wins over low confidence
            (116.2, 36.0, "2024-03-10 0530", "l"),      # low confidence wins over the window
            (116.3, 36.0, "2024-03-10 0530", "h")]      # outside the window
    f = viirs(rows)
    r = fp.run({"fires": f}, fp.Params(windows=("2024-06-01/2024-06-30",)))
    assert r.layers["points"]["status"].tolist() == [
        "kept", "duplicate", "low_confidence", "duplicate", "low_confidence", "outside_window"]
    assert r.layers["events"]["n_points"].tolist() == [1]
    assert len(r.layers["points"]) == len(rows)   # every detection is in the points layer


def test_window_uses_local_date():
    # 31 May 18:30 UTC is 1 June 02:30 local: inside a window starting 1 June
    f = viirs([(116.0, 36.0, "2024-05-31 1830", "n"), (116.5, 36.0, "2024-05-31 0530", "n")])
    p = fp.run({"fires": f}, fp.Params(windows=("2024-06-01/2024-06-20",))).layers["points"]
    assert p["status"].tolist() == ["kept", "outside_window"]
    assert p["local_date"].tolist() == ["2024-06-01", "2024-05-31"]
    assert p["local_time"][0] == "2024-06-01 02:30"


def brute_force_components(lat, lng, t, eps_m, eps_s):
    n = len(lat)
    la, lo = np.radians(lat), np.radians(lng)
    hav = (np.sin((la[:, None] - la[None]) / 2) ** 2 + np.cos(la[:, None]) * np.cos(la[None])
           * np.sin((lo[:, None] - lo[None]) / 2) ** 2)
    d = 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.clip(hav, 0, 1)))
    adj = (d <= eps_m) & (np.abs(t[:, None] - t[None]) <= eps_s)
    lab = -np.ones(n, dtype=int)
    for s in range(n):
        if lab[s] >= 0:
            continue
        stack, lab[s] = [s], s
        while stack:
            i = stack.pop()
            for j in np.flatnonzero(adj[i] & (lab < 0)):
                lab[j] = s
                stack.append(j)
    return lab


def same_partition(a, b):
    return len(set(zip(a, b, strict=True))) == len(set(a)) == len(set(b))


def test_events_equal_brute_force_partition():
    rng = np.random.default_rng(7)
    n = 300
    lng = 116.0 + rng.uniform(0, 0.08, n)
    lat = 36.0 + rng.uniform(0, 0.08, n)
    minutes = rng.integers(0, 4 * 24 * 60, n)
    t = pd.Timestamp("2024-06-01", tz="UTC") + pd.to_timedelta(minutes, unit="min")
    f = viirs([(x, y, ti.strftime("%Y-%m-%d %H%M"), "n") for x, y, ti in zip(lng, lat, t,
                                                                             strict=True)])
    r = fp.run({"fires": f}, fp.Params(derive_persistent=False))
    p = r.layers["points"]
    ref = brute_force_components(f["lat"].to_numpy(), f["lon"].to_numpy(),
                                 minutes.astype(float) * 60, 1000.0, 86400.0)
    assert (p["status"] == "kept").all()
    assert same_partition(p["event_id"].to_numpy(int), ref)
    ev = r.layers["events"]
    assert ev["n_points"].sum() == n and len(ev) == len(set(ref))
    # ids follow the start time
    assert (pd.to_datetime(ev["start_time"]).diff().dropna() >= pd.Timedelta(0)).all()
    # every event polygon holds its detections
    joined = gpd.sjoin(p, ev[["event_id", "geometry"]], predicate="within")
    assert (joined["event_id_left"] == joined["event_id_right"]).sum() == n


def test_event_polygon_is_half_pixel_buffer():
    f = viirs([(116.0, 36.0, "2024-06-10 0530", "n")])
    ev = fp.run({"fires": f}, fp.Params()).layers["events"]
    area = ev.to_crs("EPSG:32650").area.iloc[0]
    assert area == pytest.approx(np.pi * 187.5 ** 2, rel=0.01)


def test_townships_first_event_per_window():
    towns = units(box("371502001", "甲镇", 116.0, 36.0, 116.5, 36.5),
                  box("371502002", "乙镇", 116.5, 36.0, 117.0, 36.5))
    counties = units(box("371502", "东昌府区", 116.0, 36.0, 117.0, 36.5))
    counties["city_name"] = "聊城市"
    f = viirs([(116.2, 36.2, "2024-06-05 0530", "n"),   # 甲 first in summer
               (116.4, 36.4, "2024-06-03 0530", "n"),   # 甲 earlier: this one is first
               (116.7, 36.2, "2024-06-09 0530", "n"),   # 乙 first in summer
               (116.2, 36.2, "2024-10-01 0530", "n"),   # 甲 first in autumn
               (116.3, 36.3, "2024-10-02 0530", "n"),
               (118.0, 36.2, "2024-10-02 0530", "n")])  # outside the county: left out
    r = fp.run({"fires": f, "counties": counties, "townships": towns},
               fp.Params(windows=("2024-06-01/2024-06-20", "2024-09-25/2024-10-31")))
    ev = r.layers["events"].set_index("start_time")
    assert len(r.layers["points"]) == 5
    first = ev["first_in_township"].to_dict()
    assert first == {"2024-06-03 13:30": True, "2024-06-05 13:30": False,
                     "2024-06-09 13:30": True, "2024-10-01 13:30": True,
                     "2024-10-02 13:30": False}
    assert ev.loc["2024-06-09 13:30", "township_name"] == "乙镇"
    bt = r.tables["by_township"]
    summer = bt[(bt["period_kind"] == "window") & (bt["period"] == "2024-06-01/2024-06-20")]
    assert summer[["township_name", "n_events", "rank"]].values.tolist() == [
        ["甲镇", 2, 1], ["乙镇", 1, 2]]
    b = r.tables["bulletin"]
    assert b["市"].unique().tolist() == ["聊城市"] and b["序号"].tolist() == [1, 2, 3, 4, 5]
    assert b["过境时间（北京时间）"].tolist() == sorted(b["过境时间（北京时间）"])


def test_no_townships_leaves_columns_empty():
    r = fp.run({"fires": viirs([(116.0, 36.0, "2024-06-10 0530", "n")])}, fp.Params())
    assert r.layers["points"]["township_code"].isna().all()
    assert r.layers["events"]["first_in_township"].isna().all()
    assert len(r.tables["by_township"]) == 0


def test_cropland_raster_and_polygons(tmp_path):
    codes = np.full((10, 10), 40, dtype=np.uint8)
    codes[:, 5:] = 50                                   # east half built-up
    path = tmp_path / "lc.tif"
    with rasterio.open(path, "w", driver="GTiff", width=10, height=10, count=1, dtype="uint8",
                       crs="EPSG:4326", transform=Affine(0.1, 0, 116.0, 0, -0.1, 37.0)) as d:
        d.write(codes, 1)
    f = viirs([(116.25, 36.5, "2024-06-10 0530", "n"), (116.75, 36.5, "2024-06-10 0530", "n"),
               (118.0, 36.5, "2024-06-10 0530", "n")])
    table = fp.read_cropland({"paths": [path], "crs": "wgs84", "columns": {}}, fp.INPUTS[3])
    r = fp.run({"fires": f, "cropland": table.frame}, fp.Params())
    assert r.layers["points"]["on_cropland"].tolist() == [True, False, False]
    polys = units(box("1", "耕地", 116.0, 36.0, 116.5, 37.0))
    r2 = fp.run({"fires": f, "cropland": polys}, fp.Params())
    assert r2.layers["points"]["on_cropland"].tolist() == [True, False, False]


def test_params_validation():
    with pytest.raises(InputError, match="windows"):
        fp.Params(windows=("2024-06-20/2024-06-01",))
    with pytest.raises(InputError, match="viirs_classes"):
        fp.Params(viirs_classes=("x",))
    with pytest.raises(InputError, match="daynight"):
        fp.Params(daynight="dusk")


def test_dms():
    assert fp.dms(np.array([116.50422, 36.0, -0.5])).tolist() == [
        "116°30'15.2\"", "36°00'00.0\"", "-0°30'00.0\""]


def counties_frame():
    return io.read_polygons(ROOT / "data/raw/counties.gpkg", fields=fp.INPUTS[1].fields,
                            name="counties").frame


def data_rows(path):
    """Data lines of a CSV file, counted without any CSV parser."""
    return len(path.read_text(encoding="utf-8").splitlines()) - 1


def test_real_files_per_county_counts_equal_point_in_polygon():
    files = [TEST_DATA / "firms" / "MODIS_C6_Global_24h_2017-05-01.csv",
             TEST_DATA / "firms" / "MODIS_C6_Global_24h_2020-10-02.csv"]
    t = firms.read_firms(files)
    assert len(t.frame) == sum(data_rows(f) for f in files) == 80 and len(t.rejected) == 0
    counties = counties_frame()
    r = fp.run({"fires": t.frame, "counties": counties}, fp.Params())
    got = r.layers["points"]["county_code"].value_counts().to_dict()
    raw = pd.concat([pd.read_csv(f) for f in files])
    raw = raw[raw["longitude"].between(114, 119) & raw["latitude"].between(34, 38)]
    expected = {}
    for code, geom in zip(counties["code"], counties.geometry, strict=True):
        n = sum(geom.contains(shapely.Point(x, y))
                for x, y in zip(raw["longitude"], raw["latitude"], strict=True))
        if n:
            expected[code] = n
    assert got == expected
    # of the 15 + 1 Shandong detections of the two full files (all in the extracts), 6 are in
    # the demo's counties, all Aqua 2017-05-02 05:20 UTC: 金乡县 35.043N 116.267E, 兖州区
    # 35.503N 116.788E, 汶上县 35.693N 116.471E, 冠县 36.494N 115.678E, 临清市 36.705N
    # 115.496E and 36.864N 115.732E
    assert expected == {"370828": 1, "370812": 1, "370830": 1, "371525": 1, "371581": 2}


def test_zero_detections_in_area_gives_empty_outputs(tmp_path):
    cfg = tmp_path / "c.toml"
    fires = TEST_DATA / "firms" / "MODIS_C6_Global_24h_2020-10-02.csv"
    cfg.write_text(f'[inputs.fires]\npath = "{fires}"\n'
                   f'[inputs.counties]\npath = "{ROOT / "data/raw/counties.gpkg"}"\n',
                   encoding="utf-8")
    out = runner.execute("fire-points", config.load(cfg), out=tmp_path)
    n = data_rows(fires)
    assert n == 34
    assert any(f"No FIRMS detection in the counties ({n} in the files)" in s
               for s in out.result.summary)
    gpkg = out.layers_dir / "fire-points.gpkg"
    layers = dict(pyogrio.list_layers(gpkg))
    assert set(layers) == {"points", "events", "cells", "heat_sources", "layer_styles"}  # + QGIS
    for name in set(layers) - {"layer_styles"}:
        assert len(gpd.read_file(gpkg, layer=name)) == 0
    pts = gpd.read_file(gpkg, layer="points")
    assert {"status", "local_time", "event_id", "township_code"} <= set(pts.columns)
    tables = pd.read_excel(out.layers_dir / "tables.xlsx", sheet_name=None)
    assert set(tables) == {"按县区统计", "按乡镇统计", "火点通报", "乡镇问责", "未采用的记录",
                           "说明"}
    assert out.map_path.exists()


def test_empty_in_memory():
    r = fp.run({"fires": firms.empty_frame(), "counties": counties_frame()}, fp.Params())
    assert all(len(v) == 0 for v in r.layers.values())
    assert "written empty" in r.summary[-1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("fp")
    return runner.execute("fire-points", config.load(ROOT / "configs/fire-points.toml"), out=out)


def test_demo_outputs_round_trip(demo):
    d = demo.layers_dir
    res = demo.result
    pts = gpd.read_file(d / "fire-points.gpkg", layer="points")
    assert len(pts) == len(res.layers["points"])
    assert pts["local_time"].tolist() == res.layers["points"]["local_time"].tolist()
    shp = gpd.read_file(d / "shp" / "points.shp")
    assert shp["local_time"].tolist() == pts["local_time"].tolist()
    counts = pts["status"].value_counts()
    # the demo covers the whole year (no windows: only day/night could be outside) and keeps
    # detections off cropland (flagged)
    assert set(counts.index) == set(fp.STATUSES) - {"off_cropland", "outside_window"}
    assert (pts.loc[pts["status"] == "kept", "on_cropland"] == False).any()  # noqa: E712
    # the 7-day download repeats every one of its rows
    week = pd.read_csv(ROOT / "data/raw/firms_viirs_2024-06-07_7d.csv")
    # file: relative to the config's folder (configs/), and the file's name in src_file
    dup = pts[pts["file"] == "../data/raw/firms_viirs_2024-06-07_7d.csv"]
    assert len(dup) and (dup["src_file"] == "firms_viirs_2024-06-07_7d.csv").all()
    assert (dup["status"] == "duplicate").all() and counts["duplicate"] >= len(week) - 5
    # night overpasses cross the UTC date line
    night = pts[pts["daynight"] == "N"]
    assert (night["local_date"] != night["utc_time"].str[:10]).any()
    hs = gpd.read_file(d / "fire-points.gpkg", layer="heat_sources")
    assert (hs["source"] == "known").sum() == 3 and (hs["source"] == "derived").sum() == 2
    assert (hs["n_excluded"] > 0).all()
    bulletin = pd.read_excel(d / "tables.xlsx", sheet_name="火点通报")
    assert len(bulletin) == counts["kept"]


def test_day_picker_lists_days_with_kept_detections_or_events():
    from analyses import fire_points_map
    from analyses.base import Result

    pts = gpd.GeoDataFrame(
        {"status": ["kept", "industrial", "outside_window", "kept", "duplicate"],
         "local_date": ["2024-06-02", "2024-03-01", "2024-07-09", "2024-06-01", "2024-08-01"]},
        geometry=gpd.points_from_xy([116.0] * 5, [36.4] * 5), crs="EPSG:4326")
    events = gpd.GeoDataFrame({"start_date": ["2024-06-01", "2024-10-03"]},
                              geometry=gpd.points_from_xy([116.0] * 2, [36.4] * 2),
                              crs="EPSG:4326")
    r = Result("fire-points", None, {"points": pts, "events": events}, {})
    # heat-source and out-of-season days are left out; an event's day is kept
    assert fire_points_map.picker_days(r) == ["2024-06-01", "2024-06-02", "2024-10-03"]


def test_points_carry_the_firms_columns_as_read_with_file_and_row(tmp_path):
    """Each point keeps its FIRMS record's own columns (src_<column>, text as typed) and the
    file's name; checked against the CSV lines read with the csv module, by file and row."""
    import csv

    files = [TEST_DATA / "firms" / "MODIS_C6_Global_24h_2017-05-01.csv",
             TEST_DATA / "firms" / "MODIS_C6_Global_24h_2020-10-02.csv"]
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[inputs.fires]\npath = ["{files[0]}", "{files[1]}"]\n'
                   f'[inputs.counties]\npath = "{ROOT / "data/raw/counties.gpkg"}"\n',
                   encoding="utf-8")
    out = runner.execute("fire-points", config.load(cfg), out=tmp_path / "o")
    pts = out.result.layers["points"]
    assert len(pts) == 6  # the 6 detections in the demo counties (see the test above)
    lines = {}
    for f in files:
        with f.open(encoding="utf-8", newline="") as fh:
            for i, rec in enumerate(csv.DictReader(fh), start=2):  # row 1 is the header
                lines[(f.name, i)] = rec
    header = list(lines[(files[0].name, 2)])
    assert "bright_t31" in header and "version" in header
    for _, p in pts.iterrows():
        rec = lines[(p["src_file"], p["row"])]
        assert p["src_file"] == files[0].name
        for col in header:  # every column as typed: '6.0NRT', 'A', '0520', confidence digits
            assert p[f"src_{col}"] == rec[col], col
        assert float(rec["latitude"]) == pytest.approx(p["lat"])
    # GeoPackage keeps the names; the Shapefile's are <= 10 bytes and unique, listed in
    # fields.csv with the Chinese label "<column>（原表）"
    gpkg = gpd.read_file(out.layers_dir / "fire-points.gpkg", layer="points")
    assert gpkg["src_version"].tolist() == pts["src_version"].tolist()
    # file: the path as given, written relative to the config's folder
    assert set(gpkg["file"]) == {os.path.relpath(files[0], tmp_path).replace(os.sep, "/")}
    fields = pd.read_csv(out.layers_dir / "shp" / "fields.csv", encoding="utf-8-sig",
                         dtype=str)
    f = fields[fields["layer"] == "points"].set_index("full_name")
    assert (f["short_name"].str.encode("utf-8").str.len() <= 10).all()
    assert f["short_name"].str.lower().is_unique
    assert f.loc["src_bright_t31", "label"] == "bright_t31（原表）"
    shp = gpd.read_file(out.layers_dir / "shp" / "points.shp")
    assert shp[f.loc["src_acq_time", "short_name"]].tolist() == pts["src_acq_time"].tolist()
    assert shp[f.loc["src_confidence", "short_name"]].tolist() == \
        pts["src_confidence"].tolist()


def test_firms_source_frame_keys_file_and_row():
    src = TEST_DATA / "firms" / "MODIS_C6_Global_24h_2020-10-02.csv"
    one = firms.read_firms([src])
    assert list(one.source.columns[:2]) == ["file", "row"] and len(one.source) == 34
    assert one.source["row"].tolist() == list(range(2, 36))
    assert (one.source["file"] == str(src)).all()
    assert one.source["version"].iloc[0] == "6.0NRT"  # text as typed


def test_map_leaves_points_out_over_the_size_limit(monkeypatch):
    """The decision by estimate: with a limit between the map without and with the points, the
    points are left out (note on the map, line in the summary); with the real limit they stay."""
    from analyses import fire_points_map as fpm
    from spatial import webmap

    rng = np.random.default_rng(3)
    lng, lat = 116.0 + rng.uniform(0, 0.3, 60), 36.0 + rng.uniform(0, 0.3, 60)
    f = viirs([(x, y, f"2024-06-0{1 + i % 3} 0500", "n")
               for i, (x, y) in enumerate(zip(lng, lat, strict=True))])
    params = fp.Params(derive_persistent=False)
    small = fp.run({"fires": f}, params)
    html_all = webmap.render_html(fp.build_map(small))
    assert not any("points would" in s or "single detections" in s for s in small.summary)

    monkeypatch.setattr(fpm, "SMALL", 0)  # always estimate
    legs = {leg.layer: leg for leg in fpm.symbology(small)}
    per_point = fpm._bytes_per_feature(legs, "points", small.layers["points"])
    # the points' bytes measured by the real map: with them minus without them (a limit just
    # under the estimate: cells and events still fit as they are, analyses.fire_display)
    monkeypatch.setattr(fpm, "MAP_MAX_BYTES", int(fpm.points_plan(small)[1]) - 1)
    r0 = fp.run({"fires": f}, params)
    html_none = webmap.render_html(fp.build_map(r0))
    measured = (len(html_all) - len(html_none)) / len(f)
    assert per_point == pytest.approx(measured, rel=0.25)  # the estimate is the map's own size
    assert "本图未逐个绘制卫星火点" in html_none and "本图未逐个绘制" not in html_all
    assert any("single detections" in s for s in r0.summary)
    assert len(html_none) < len(html_all)

    # a limit just above the estimate draws them again
    _, est = fpm.points_plan(small)
    monkeypatch.setattr(fpm, "MAP_MAX_BYTES", int(est) + 1)
    assert fpm.points_plan(small)[0]
    assert not any("single detections" in s for s in fp.run({"fires": f}, params).summary)
