"""spatial.firms: MODIS and VIIRS (CSV and Shapefile) into one schema, UTC -> local, duplicates."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from spatial import firms
from spatial.errors import InputError

VIIRS = ("latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,confidence,"
         "version,bright_ti5,frp,daynight\n") + """\
36.10001,116.20002,330.5,0.4,0.4,2024-06-10,1830,N,n,2.0NRT,290.1,3.2,N
36.10101,116.20102,340.0,0.4,0.4,2024-06-11,0512,1,h,2.0NRT,295.0,5.5,D
36.1,116.2,320.0,0.4,0.4,2024-06-11,0512,2,l,2.0NRT,291.0,1.0,D
"""
MODIS = ("latitude,longitude,brightness,scan,track,acq_date,acq_time,satellite,confidence,"
         "version,bright_t31,frp,daynight\n") + """\
35.5,116.5,315.9,1.2,1.1,2024-06-10,0230,T,29,6.1NRT,293.8,6.6,D
35.6,116.6,319.9,1.2,1.1,2024-06-10,1745,A,80,6.1NRT,290.0,9.0,N
"""


@pytest.fixture
def files(tmp_path):
    v = tmp_path / "viirs.csv"
    m = tmp_path / "modis.csv"
    v.write_text(VIIRS, encoding="utf-8")
    m.write_text(MODIS, encoding="utf-8")
    return v, m


def test_viirs_and_modis_one_schema(files):
    t = firms.read_firms(list(files))
    f = t.frame
    assert list(f.columns) == [*firms.COLUMNS, "geometry"]
    assert t.n_read == 5 and len(f) == 5 and len(t.rejected) == 0
    assert f["instrument"].tolist() == ["VIIRS"] * 3 + ["MODIS"] * 2
    assert f["satellite"].tolist() == ["Suomi-NPP", "NOAA-20", "NOAA-21", "Terra", "Aqua"]
    assert f["confidence"].tolist() == [55.0, 90.0, 15.0, 29.0, 80.0]
    assert f["conf_class"].tolist() == ["n", "h", "l", "l", "h"]
    assert f["brightness"].tolist() == [330.5, 340.0, 320.0, 315.9, 319.9]
    assert f["bright_2"].tolist() == [290.1, 295.0, 291.0, 293.8, 290.0]
    assert f["row"].tolist() == [2, 3, 4, 2, 3]
    assert f.geometry.x.tolist() == f["lon"].tolist()


def test_utc_to_local_date_shift(files):
    f = firms.read_firms(files[0]).frame
    # 18:30 UTC on 10 June is 02:30 on 11 June in Beijing
    assert f["utc_time"][0] == pd.Timestamp("2024-06-10 18:30", tz="UTC")
    assert f["local_time"][0] == pd.Timestamp("2024-06-11 02:30", tz="Asia/Shanghai")
    assert f["local_time"][0].date().isoformat() == "2024-06-11"
    assert f["local_time"][1] == pd.Timestamp("2024-06-11 13:12", tz="Asia/Shanghai")
    assert firms.read_firms(files[0], tz="UTC").frame["local_time"][0].day == 10


def test_shapefile_reads_like_the_csv(files, tmp_path):
    csv = firms.read_firms(files[1]).frame
    raw = pd.read_csv(files[1], dtype=str)
    raw.columns = [c.upper() for c in raw.columns]          # FIRMS shapefiles: upper case
    raw["ACQ_DATE"] = pd.to_datetime(raw["ACQ_DATE"]).dt.date   # and a date field
    for c in ("LATITUDE", "LONGITUDE", "BRIGHTNESS", "FRP", "CONFIDENCE"):
        raw[c] = raw[c].astype(float)
    gdf = gpd.GeoDataFrame(raw, geometry=gpd.points_from_xy(raw["LONGITUDE"], raw["LATITUDE"]),
                           crs="EPSG:4326")
    gdf.to_file(tmp_path / "modis.shp")
    shp = firms.read_firms(tmp_path / "modis.shp").frame
    for c in ("lon", "lat", "utc_time", "satellite", "confidence", "conf_class", "frp"):
        assert shp[c].tolist() == csv[c].tolist(), c
    assert shp["row"].tolist() == [1, 2]


def test_duplicates_marked_once(files, tmp_path):
    again = tmp_path / "viirs_again.csv"
    lines = VIIRS.splitlines()
    again.write_text("\n".join([lines[0], lines[2], lines[1]]) + "\n", encoding="utf-8")
    f = firms.read_firms([files[0], files[1], again]).frame
    dup = firms.duplicated(f)
    assert dup.tolist() == [False] * 5 + [True, True]
    # the same place and time by another satellite is not a duplicate
    assert not firms.duplicated(f.iloc[[1, 2]]).any()


def test_malformed_rows_rejected_with_reasons(tmp_path):
    lines = VIIRS.splitlines()
    bad = [lines[0], lines[1],
           ",116.2,330,0.4,0.4,2024-06-10,0100,N,n,2.0NRT,290,1,D",
           "36.1,116.2,330,0.4,0.4,10/06/2024,0100,N,n,2.0NRT,290,1,D",
           "36.1,116.2,330,0.4,0.4,2024-06-10,0100,N,x,2.0NRT,290,1,D",
           "96.1,116.2,330,0.4,0.4,2024-06-10,0100,N,n,2.0NRT,290,1,D"]
    p = tmp_path / "bad.csv"
    p.write_text("\n".join(bad) + "\n", encoding="utf-8")
    t = firms.read_firms(p)
    assert len(t.frame) == 1
    assert t.rejected["row"].tolist() == [3, 4, 5, 6]
    reasons = t.rejected["reason"].tolist()
    assert "latitude/longitude" in reasons[0] and "acq_date" in reasons[1]
    assert "confidence" in reasons[2] and "out of range" in reasons[3]


def test_not_a_firms_file(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("lat,lon,value\n36,116,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a FIRMS fire file"):
        firms.read_firms(p)


def test_empty_list_is_an_error():
    with pytest.raises(InputError, match="no FIRMS file"):
        firms.read_firms([])


def test_utc_times_formats():
    t = firms.utc_times(pd.Series(["2024-01-01", "2024-01-01", "2024-01-01", "bad"]),
                        pd.Series(["5", "05:10", 510.0, "0100"]))
    hand = [pd.Timestamp("2024-01-01 00:05", tz="UTC"), pd.Timestamp("2024-01-01 05:10", tz="UTC"),
            pd.Timestamp("2024-01-01 05:10", tz="UTC")]
    assert t[:3].tolist() == hand
    assert t[3] is pd.NaT  # an unreadable date is missing, not a guess
    assert t.isna().tolist() == [False, False, False, True]


def test_date_and_time_texts_equal_a_call_per_row():
    """The texts are made once per distinct value: the same as mapping every row."""
    dates = pd.Series(["2024-06-01", "2024/06/02", None, np.nan, " 2024-06-01 ", "2024-06-01"],
                      dtype=object)
    times = pd.Series([5, 510.0, "05:10", None, np.nan, "12345", "0510", 5], dtype=object)
    want_d = [None if v is None or (isinstance(v, float) and np.isnan(v))
              else str(v).strip()[:10].replace("/", "-") for v in dates]
    assert firms._date_text(dates).tolist() == want_d
    assert firms._time_text(times).tolist() == ["0005", "0510", "0510", None, None, None,
                                                "0510", "0005"]
