"""lantian fetch firms against a local server replaying FIRMS answers (no internet)."""

import dataclasses
import datetime as dt
import io as _io
import socket
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT
from httpserver import serve

from analyses import cli
from spatial import fetch
from spatial.errors import InputError

KEY = "abcdef0123456789abcdef0123456789"
BODY = (ROOT / "tests" / "data" / "firms_area_viirs_snpp_nrt.csv").read_text(encoding="utf-8")
HEADER = BODY.split("\n", 1)[0]
BBOX = (115.3, 34.9, 117.1, 37.0)
TODAY = dt.date(2024, 6, 20)


def settings(url, tmp_path, **kw):
    return dataclasses.replace(fetch.Settings(), firms_url=url, map_key=KEY, cache=tmp_path,
                               **kw)


def test_day_range_and_chunks():
    days = fetch.day_range(start="2024-06-01", end="2024-06-12", today=TODAY)
    assert len(days) == 12
    # 12 consecutive days -> 5 + 5 + 2; a gap starts a new request
    assert fetch.chunks(days) == [(dt.date(2024, 6, 1), 5), (dt.date(2024, 6, 6), 5),
                                  (dt.date(2024, 6, 11), 2)]
    gap = [dt.date(2024, 6, 1), dt.date(2024, 6, 2), dt.date(2024, 6, 4)]
    assert fetch.chunks(gap) == [(dt.date(2024, 6, 1), 2), (dt.date(2024, 6, 4), 1)]
    assert fetch.day_range(days=3, today=TODAY) == [dt.date(2024, 6, 18), dt.date(2024, 6, 19),
                                                    TODAY]
    with pytest.raises(InputError, match="before"):
        fetch.day_range(start="2024-06-05", end="2024-06-01", today=TODAY)


def test_bbox_margin():
    # 10 km is 0.0898° of latitude; of longitude at 36°N 10 / (111.32 cos 36°) = 0.1110°
    w, s, e, n = fetch.bbox_of((116.0, 35.0, 117.0, 37.0), margin_km=10)
    assert (w, s, e, n) == (115.88, 34.91, 117.12, 37.09)


def test_area_api_days_split_cached_and_empty(tmp_path):
    with serve(lambda p: (200, BODY if p.endswith("/2024-06-01") else HEADER + "\n", 0)) as srv:
        s = settings(srv.url, tmp_path)
        days = fetch.day_range(start="2024-06-01", end="2024-06-07", today=TODAY)
        rep = fetch.fetch_firms(s, bbox=BBOX, days=days, sources=["VIIRS_SNPP_NRT"],
                                today=TODAY)
        # two requests: 5 days from 06-01, 2 days from 06-06; key and box in the path
        assert srv.paths == [
            f"/api/area/csv/{KEY}/VIIRS_SNPP_NRT/115.3,34.9,117.1,37/5/2024-06-01",
            f"/api/area/csv/{KEY}/VIIRS_SNPP_NRT/115.3,34.9,117.1,37/2/2024-06-06"]
        # rows per day counted by hand in the recorded body: 06-01: 3, 06-03: 1, others 0
        assert [(r.day.day, r.rows, r.status) for r in rep] == [
            (1, 3, "downloaded"), (2, 0, "empty"), (3, 1, "downloaded"), (4, 0, "empty"),
            (5, 0, "empty"), (6, 0, "empty"), (7, 0, "empty")]
        day1 = pd.read_csv(rep[0].path, dtype=str)
        assert list(day1.columns) == HEADER.split(",")
        assert day1["acq_time"].tolist() == ["0521", "0521", "1812"]
        assert rep[1].path.read_text(encoding="utf-8").strip() == HEADER
        assert "rows" in rep[1].line() and "zero rows" in rep[1].line()
        # again: every day is cached, nothing is requested
        rep2 = fetch.fetch_firms(s, bbox=BBOX, days=days, sources=["VIIRS_SNPP_NRT"],
                                 today=TODAY)
        assert len(srv.paths) == 2
        assert [r.status for r in rep2] == ["cached"] * 7 and [r.rows for r in rep2] == [
            3, 0, 1, 0, 0, 0, 0]
    # the key is in no cached file
    assert not any(KEY in p.read_text(encoding="utf-8") for p in tmp_path.rglob("*.csv"))


def test_today_and_yesterday_are_downloaded_again(tmp_path):
    with serve(lambda p: (200, HEADER + "\n", 0)) as srv:
        s = settings(srv.url, tmp_path)
        days = fetch.day_range(days=3, today=TODAY)
        fetch.fetch_firms(s, bbox=BBOX, days=days, sources=["MODIS_NRT"], today=TODAY)
        rep = fetch.fetch_firms(s, bbox=BBOX, days=days, sources=["MODIS_NRT"], today=TODAY)
        assert [r.status for r in rep] == ["cached", "empty", "empty"]
        assert srv.paths[-1].endswith("/MODIS_NRT/115.3,34.9,117.1,37/2/2024-06-19")


def test_invalid_key_says_so_without_the_key(tmp_path):
    with serve(lambda p: (400, "Invalid MAP_KEY.", 0)) as srv:
        with pytest.raises(fetch.FetchError, match="Invalid MAP_KEY") as err:
            fetch.fetch_firms(settings(srv.url, tmp_path), bbox=BBOX, days=[dt.date(2024, 6, 1)],
                              sources=["VIIRS_SNPP_NRT"], today=TODAY)
    assert KEY not in str(err.value) and "<MAP_KEY>" in str(err.value)
    assert not list(tmp_path.rglob("*.csv"))


def test_rate_limit_waits_with_countdown_and_retries(tmp_path):
    answers = iter([(429, "Exceeding allowed transaction limit", 0), (200, BODY, 0)])
    waited, shown = [], _io.StringIO()
    with serve(lambda p: next(answers)) as srv:
        rep = fetch.fetch_firms(settings(srv.url, tmp_path, rate_wait_s=3), bbox=BBOX,
                                days=[dt.date(2024, 6, 1)], sources=["VIIRS_SNPP_NRT"],
                                today=TODAY, sleep=waited.append, stream=shown)
        assert len(srv.paths) == 2
    assert waited == [1, 1, 1]
    text = shown.getvalue()
    assert "retrying in   3 s" in text and "retrying in   1 s" in text
    assert rep[0].rows == 3


def test_rate_limit_gives_up_after_retries(tmp_path):
    with serve(lambda p: (429, "Too Many Requests", 0)) as srv:
        with pytest.raises(fetch.FetchError, match="rate limit"):
            fetch.fetch_firms(settings(srv.url, tmp_path, rate_wait_s=1, max_retries=2),
                              bbox=BBOX, days=[dt.date(2024, 6, 1)], sources=["MODIS_NRT"],
                              today=TODAY, sleep=lambda s: None, stream=_io.StringIO())
        assert len(srv.paths) == 3


def test_slow_answer_times_out_and_leaves_cache(tmp_path):
    cached = fetch.cache_path(tmp_path, "MODIS_NRT", BBOX, dt.date(2024, 6, 1))
    cached.parent.mkdir(parents=True)
    cached.write_text(HEADER + "\n", encoding="utf-8")
    with serve(lambda p: (200, BODY, 2.0)) as srv:
        with pytest.raises(fetch.FetchError, match="no answer within 0.5 s"):
            fetch.fetch_firms(settings(srv.url, tmp_path, timeout_s=0.5), bbox=BBOX,
                              days=[dt.date(2024, 6, 1), dt.date(2024, 6, 2)],
                              sources=["MODIS_NRT"], today=TODAY)
    assert cached.read_text(encoding="utf-8") == HEADER + "\n"
    assert len(list(tmp_path.rglob("*.csv"))) == 1


def test_no_network(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(fetch.FetchError, match="no network connection"):
        fetch.fetch_firms(settings(f"http://127.0.0.1:{port}", tmp_path), bbox=BBOX,
                          days=[dt.date(2024, 6, 1)], sources=["MODIS_NRT"], today=TODAY)


def test_not_csv_answer(tmp_path):
    with serve(lambda p: (200, "<html><body>maintenance</body></html>", 0)) as srv:
        with pytest.raises(fetch.FetchError, match="not a FIRMS CSV"):
            fetch.fetch_firms(settings(srv.url, tmp_path), bbox=BBOX,
                              days=[dt.date(2024, 6, 1)], sources=["MODIS_NRT"], today=TODAY)


def test_keyless_regional_file_cut_to_box(tmp_path):
    outside = "48.1,130.2,331.0,0.4,0.4,2024-06-19,0500,N,VIIRS,n,2.0NRT,290.0,3.0,D"
    body = HEADER + "\n" + "\n".join(BODY.strip().split("\n")[1:]).replace(
        "2024-06-01", "2024-06-19").replace("2024-06-03", "2024-06-20") + "\n" + outside + "\n"
    with serve(lambda p: (200, body, 0)) as srv:
        s = dataclasses.replace(settings(srv.url, tmp_path), map_key=None)
        rep = fetch.fetch_firms(s, bbox=BBOX, days=fetch.day_range(days=2, today=TODAY),
                                sources=["VIIRS_SNPP_NRT"], today=TODAY)
        assert srv.paths == [
            "/data/active_fire/suomi-npp-viirs-c2/csv/SUOMI_VIIRS_C2_Russia_Asia_48h.csv"]
    assert [(r.day.day, r.rows) for r in rep] == [(19, 3), (20, 1)]  # the 130.2°E row is cut
    with pytest.raises(fetch.FetchError, match="7 days"):
        fetch.fetch_firms(s, bbox=BBOX, days=[dt.date(2024, 6, 1)], sources=["MODIS_NRT"],
                          today=TODAY)
    with pytest.raises(fetch.FetchError, match="SP"):
        fetch.fetch_firms(s, bbox=BBOX, days=[TODAY], sources=["MODIS_SP"], today=TODAY)


def test_settings_env_over_config(tmp_path):
    conf = {"fetch": {"firms_url": "http://mirror.example/", "map_key": "fromconfig",
                      "cache": "cache"}, "base": tmp_path, "path": tmp_path / "c.toml"}
    s = fetch.settings(conf, environ={})
    assert (s.firms_url, s.map_key, s.cache) == ("http://mirror.example", "fromconfig",
                                                 tmp_path / "cache")
    s = fetch.settings(conf, environ={"LANTIAN_FIRMS_URL": "http://127.0.0.1:9",
                                      "FIRMS_MAP_KEY": "fromenv",
                                      "LANTIAN_OVERPASS_URL": "http://127.0.0.1:8/api"})
    assert (s.firms_url, s.map_key, s.overpass_url) == ("http://127.0.0.1:9", "fromenv",
                                                        "http://127.0.0.1:8/api")
    assert "fromenv" not in repr(s)
    with pytest.raises(InputError, match="unknown key"):
        fetch.settings({"fetch": {"firmsurl": "x"}})
    with pytest.raises(InputError, match="unknown FIRMS source"):
        fetch.settings({"fetch": {"sources": ["VIIRS_NRT"]}})


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "fires.toml"
    counties = (ROOT / "data" / "raw" / "counties.gpkg").as_posix()
    cfg.write_text(f'[inputs.counties]\npath = "{counties}"\n[fetch]\ncache = "raw"\n',
                   encoding="utf-8")
    return cfg


def test_cli_fetch_firms(tmp_path, monkeypatch, capsys):
    today = dt.datetime.now(dt.UTC).date().isoformat()
    body = HEADER + "\n" + BODY.strip().split("\n")[1].replace("2024-06-01", today) + "\n"
    with serve(lambda p: (200, body, 0)) as srv:
        monkeypatch.setenv("LANTIAN_FIRMS_URL", srv.url)
        monkeypatch.setenv("FIRMS_MAP_KEY", KEY)
        code = cli.main(["fetch", "firms", "--config", str(_config(tmp_path)), "--days", "1",
                         "--source", "viirs_snpp_nrt,VIIRS_SNPP_SP"])
        out = capsys.readouterr()
        assert code == 0, out.err
        assert len(srv.paths) == 2 and "/VIIRS_SNPP_SP/" in srv.paths[1]
    assert KEY not in out.out + out.err
    lines = [x for x in out.out.splitlines() if today in x]
    assert len(lines) == 2 and all("1 rows" in x for x in lines)
    assert len(list((tmp_path / "raw" / "firms").rglob("*.csv"))) == 2
    with serve(lambda p: (401, "Invalid MAP_KEY.", 0)) as srv:
        monkeypatch.setenv("LANTIAN_FIRMS_URL", srv.url)
        code = cli.main(["fetch", "firms", "--config", str(_config(tmp_path)), "--days", "1"])
        err = capsys.readouterr().err
    assert code == 2 and "Invalid MAP_KEY" in err and KEY not in err
    assert "Traceback" not in err
