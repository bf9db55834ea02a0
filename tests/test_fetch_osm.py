"""lantian fetch osm through osmnx against a local Overpass-like server (no internet)."""

import json
import socket
import urllib.parse

import geopandas as gpd
import pyogrio
import pytest
import shapely
from conftest import ROOT
from httpserver import serve

from analyses import cli
from spatial import osm
from spatial.fetch import FetchError

ANSWER = (ROOT / "tests" / "data" / "overpass_receptors.json").read_text(encoding="utf-8")
STATUS = ("Connected as: 1\nCurrent time: 2024-06-01T00:00:00Z\nAnnounced endpoint: none\n"
          "Rate limit: 2\n2 slots available now.\nCurrently running queries:\n")
AREA = shapely.box(115.95, 36.42, 116.02, 36.48)


LANDUSE = (ROOT / "tests" / "data" / "overpass_landuse.json").read_text(encoding="utf-8")


def overpass(interpreter=(200, ANSWER, 0)):
    def routes(path):
        if path.endswith("/status"):
            return 200, STATUS, 0
        return interpreter
    return routes


def test_receptors_from_overpass(tmp_path):
    with serve(overpass()) as srv:
        path, n = osm.download_features("receptors", AREA, overpass_url=srv.url + "/api",
                                        cache=tmp_path)
        query = urllib.parse.unquote_plus(srv.bodies[-1])
    assert srv.paths[-1] == "/api/interpreter" and "node['amenity'='school'](poly:" in query
    got = gpd.read_file(path, layer="features").sort_values("id")
    # by hand from the recorded answer: 3 tagged nodes and the hospital way (as a point in it)
    assert got["id"].tolist() == ["node/101", "node/102", "node/103", "way/301"]
    assert got["kind"].tolist() == ["school", "school", "care_home", "hospital"]
    assert got["name"].tolist()[3] == "人民医院（示例）"
    hosp = got.geometry.iloc[3]
    assert shapely.box(115.98, 36.445, 115.982, 36.4465).contains(hosp)
    meta = pyogrio.read_info(path, layer="features")["layer_metadata"]
    assert json.loads(meta["query"])["amenity"][0] == "school"
    assert meta["overpass_url"] == srv.url + "/api" and meta["downloaded_utc"][:2] == "20"


def test_busy_overpass_keeps_cache(tmp_path):
    with serve(overpass()) as srv:
        path, _ = osm.download_features("receptors", AREA, overpass_url=srv.url + "/api",
                                        cache=tmp_path)
    before = path.read_bytes()
    busy = (503, "Dispatcher_Client::request_read_and_idx::timeout. The server is probably too "
                 "busy to handle your request.", 0)
    with serve(overpass(busy)) as srv:
        with pytest.raises(FetchError, match="busy or failed"):
            osm.download_features("receptors", AREA, overpass_url=srv.url + "/api/interpreter",
                                  cache=tmp_path)
    assert path.read_bytes() == before
    assert [p.name for p in (tmp_path / "osm").iterdir()] == ["receptors.gpkg"]


def test_no_network_osm(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchError, match="no network connection"):
        osm.download_features("built_up", AREA, overpass_url=f"http://127.0.0.1:{port}/api",
                              cache=tmp_path)


def test_cli_fetch_osm(tmp_path, monkeypatch, capsys):
    gpd.GeoDataFrame({"code": ["371502"], "name": ["甲区"]}, geometry=[AREA],
                     crs="EPSG:4326").to_file(tmp_path / "c.gpkg", engine="pyogrio")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[inputs.counties]\npath = "c.gpkg"\n[fetch]\ncache = "raw"\n',
                   encoding="utf-8")
    with serve(overpass()) as srv:
        monkeypatch.setenv("LANTIAN_OVERPASS_URL", srv.url + "/api")
        assert cli.main(["fetch", "osm", "--config", str(cfg), "--what", "receptors"]) == 0
    out = capsys.readouterr().out
    assert "receptors: 4 features" in out
    pts = gpd.read_file(tmp_path / "raw" / "osm" / "receptors.gpkg")
    assert len(pts) == 4 and (pts.geometry.geom_type == "Point").all()


def test_built_up_cache_is_an_input_of_no_burn_zones(tmp_path):
    from analyses import no_burn_zones as nbz

    with serve(overpass((200, LANDUSE, 0))) as srv:
        path, n = osm.download_features("built_up", AREA, overpass_url=srv.url + "/api",
                                        cache=tmp_path)
    assert n == 2  # the two landuse ways of the recorded answer (the road is not landuse)
    spec = next(s for s in nbz.INPUTS if s.name == "built_up")
    t = spec.reader({"path": path, "paths": [path], "crs": "wgs84", "columns": {},
                     "sheet": None}, spec)
    assert sorted(t.frame["id"]) == ["way/501", "way/502"]
    assert (t.frame.geometry.geom_type == "Polygon").all()
    got = gpd.read_file(path).set_index("id")
    assert got.loc["way/501", "kind"] == "residential" and got.loc["way/501", "name"] == "示例小区"
