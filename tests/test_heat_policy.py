"""heat-radius policy: fuel groups, small coal CHP plants, statuses, lists (issue 11)."""

import math

import pandas as pd
import pytest
from conftest import points_frame
from pyproj import Geod

from analyses import checks, runner, vocab
from analyses import heat_radius as hr
from spatial import config as cfg
from spatial.errors import InputError

G = Geod(ellps="WGS84")
P = (116.0, 36.4)  # a 700 MW CHP plant


def plant(pid, lon, lat, mw, **kw):
    return {"id": pid, "name": f"{pid}热电", "lon": lon, "lat": lat, "capacity_mw": mw,
            "is_chp": True, "fuel": "燃煤", "status": "在运", **kw}


def at(km, az):
    x, y, _ = G.fwd(P[0], P[1], az, km * 1000.0)
    return x, y


def boiler(bid, km, az, **kw):
    x, y = at(km, az)
    return {"id": bid, "name": f"单位{bid}", "lon": x, "lat": y, "capacity_th": 10.0,
            "fuel": "燃煤", "kind": "锅炉", "status": "在用", "plant_id": None, **kw}


def inputs(boilers, plants=None):
    plants = plants or [plant("P", *P, 350), plant("P", *P, 350)]
    return {"plants": points_frame(plants), "boilers": points_frame(boilers)}


def test_six_boilers_four_targets_one_unknown_one_coal_gas():
    fuels = ["无烟煤", "焦炭", "水煤浆", None, "煤气", "燃煤"]
    rows = [boiler(f"B{i}", 5.0 + 0.4 * i, 60.0 * i, fuel=f) for i, f in enumerate(fuels)]
    res = hr.run(inputs(rows), hr.Params())
    b = res.layers["boilers"].set_index("id")
    assert b["in_radius"].all()  # 5-7 km from the plant
    assert sorted(b.index[b["target"]]) == ["B0", "B1", "B2", "B5"]
    uf = res.tables["unknown_fuel"].set_index("id")
    assert uf["fuel"].to_dict() == {"B3": "unknown", "B4": "coal_gas"}
    assert any("煤气" in s and "B4" in s for s in res.summary)
    t = res.tables["targets"]
    assert list(t.columns) == hr.hl.TARGET_COLUMNS
    assert sorted(t["编号"]) == ["B0", "B1", "B2", "B5"]
    assert list(t["序号"]) == [1, 2, 3, 4]
    # distance by hand: Geod.fwd placed them at 5.0 + 0.4 i km
    d = t.set_index("编号")["距离（公里）"]
    assert d["B5"] == pytest.approx(7.0, abs=1e-3) and d["B0"] == pytest.approx(5.0, abs=1e-3)
    assert set(t["建议（关停/整合）"]) == {"关停"}  # 10 t/h < 20 t/h


def test_raw_fuel_word_and_group_parameters():
    rows = [boiler("A", 5, 0, fuel="无烟煤"), boiler("C", 6, 90, fuel="燃煤")]
    res = hr.run(inputs(rows), hr.Params(boiler_fuels=("无烟煤",)))
    assert list(res.tables["targets"]["编号"]) == ["A"]
    res = hr.run(inputs(rows), hr.Params(boiler_fuels=("coal", "无烟煤")))
    assert sorted(res.tables["targets"]["编号"]) == ["A", "C"]


def test_small_coal_chp_inside_is_a_target():
    x, y = at(16.8, 45.0)
    plants = [plant("P", *P, 350), plant("P", *P, 350), plant("S", x, y, 135),
              plant("G", *at(10, 200), 50, fuel="天然气")]
    res = hr.run(inputs([boiler("B", 40, 0)], plants), hr.Params())
    s = res.layers["small_chp"].set_index("id")
    assert s.loc["S", "target"] and s.loc["S", "distance_km"] == pytest.approx(16.8, abs=1e-3)
    assert not s.loc["G", "target"] and s.loc["G", "in_radius"]  # gas: not a coal CHP
    t = res.tables["targets"].set_index("编号")
    assert list(t.index) == ["S"]
    assert t.loc["S", "设备类型"] == "落后燃煤小热电" and t.loc["S", "规模单位"] == "MW"
    assert t.loc["S", "规模（蒸吨/小时或MW）"] == 135 and t.loc["S", "建议（关停/整合）"] == "关停"
    assert res.layers["plants"].set_index("id").loc["P", "n_small_chp_inside"] == 1


def test_qualify_by_unit():
    plants = [plant("Q", *P, 150), plant("Q", *P, 150)]  # 300 MW summed, no unit >= 300
    rows = [boiler("B", 5, 0)]
    assert hr.run(inputs(rows, plants), hr.Params()).layers["boilers"]["target"].all()
    res = hr.run(inputs(rows, plants), hr.Params(qualify_by="unit"))
    assert not res.layers["boilers"]["in_radius"].any()
    assert any("qualify_by = unit" in s for s in res.summary)


def test_statuses_idle_target_unknown_rejected_new_coal_listed():
    rows = [boiler("IDLE", 5, 0, status="停用", capacity_th=35.0),
            boiler("SPARE", 5, 90, status="备用"),
            boiler("GONE", 5, 180, status="已取缔"),
            boiler("ODD", 5, 270, status="待查"),
            boiler("ODDK", 6, 270, kind="锅炉房"),
            boiler("NEW", 80, 0, status="拟建")]
    res = hr.run(inputs(rows), hr.Params())
    b = res.layers["boilers"].set_index("id")
    assert b.loc["IDLE", "target"] and b.loc["SPARE", "target"] and not b.loc["GONE", "target"]
    assert "ODD" not in b.index and "ODDK" not in b.index
    rej = res.tables["rejected"].set_index("id")
    assert "unknown status '待查'" in rej.loc["ODD", "reason"]
    assert "unknown kind '锅炉房'" in rej.loc["ODDK", "reason"]
    # idle: shut down even at 35 t/h (>= 20 t/h would otherwise be integrated)
    assert res.tables["targets"].set_index("编号").loc["IDLE", "建议（关停/整合）"] == "关停"
    assert list(res.tables["new_coal"]["id"]) == ["NEW"]


@pytest.mark.parametrize("kw, match", [
    ({"boiler_kinds": ("boilr",)}, "boiler_kinds"), ({"boiler_fuels": ()}, "boiler_fuels"),
    ({"min_capacity_mw": math.nan}, "min_capacity_mw"),
    ({"min_capacity_mw": math.inf}, "min_capacity_mw"), ({"qualify_by": "site"}, "qualify_by")])
def test_bad_params_name_the_parameter(kw, match):
    with pytest.raises(InputError, match=match):
        hr.Params(**kw)


def _write_case(tmp_path, extra=""):
    pd.DataFrame([plant("P", *P, 700)]).to_csv(tmp_path / "plants.csv", index=False)
    rows = [boiler("A", 5, 0, fuel="某某煤"), boiler("B", 5, 90, status="待查"),
            boiler("C", 5, 180, status="待查"), boiler("D", 5, 270, fuel=None)]
    pd.DataFrame(rows).to_csv(tmp_path / "boilers.csv", index=False)
    p = tmp_path / "c.toml"
    p.write_text('[inputs.plants]\npath = "plants.csv"\n[inputs.boilers]\npath = "boilers.csv"\n'
                 + extra, encoding="utf-8")
    return cfg.load(p)


def test_check_lists_unknown_values_and_config_vocab_is_honoured(tmp_path):
    conf = _write_case(tmp_path)
    _, warnings = runner.check("heat-radius", conf)
    text = "\n".join(warnings)
    assert "'某某煤' × 1" in text and "(blank) × 1" in text and "'待查' × 2" in text
    conf = _write_case(tmp_path, '[vocab.fuel]\n"某某煤" = "coal"\n'
                                 '[vocab.status]\n"待查" = "idle"\n')
    _, warnings = runner.check("heat-radius", conf)
    assert "某某煤" not in "\n".join(warnings) and "待查" not in "\n".join(warnings)
    with vocab.extended(conf["vocab"]):
        tables, _ = runner.check("heat-radius", conf)
        res = hr.run({k: t.frame for k, t in tables.items()}, hr.Params())
    assert sorted(res.tables["targets"]["编号"]) == ["A", "B", "C"]
    assert not checks.unknown_vocab(hr, {})


def test_run_honours_config_vocab_and_records_it(tmp_path):
    conf = _write_case(tmp_path, '[vocab.fuel]\n"某某煤" = "coal"\n'
                                 '[vocab.status]\n"待查" = "idle"\n')
    out = runner.execute("heat-radius", conf, out=tmp_path / "out", offline=True)
    assert sorted(out.result.tables["targets"]["编号"]) == ["A", "B", "C"]
    assert out.manifest["vocab"] == {"fuel": {"某某煤": "coal"}, "status": {"待查": "idle"}}
    assert any(s.startswith("Rules:") for s in out.manifest["summary"])
    # without the words: B and C are rejected (unknown status), A is an unknown fuel
    conf = _write_case(tmp_path)
    out = runner.execute("heat-radius", conf, out=tmp_path / "out2", offline=True)
    assert sorted(out.result.tables["rejected"]["id"]) == ["B", "C"]
    assert sorted(out.result.tables["unknown_fuel"]["id"]) == ["A", "D"]
    assert out.result.tables["targets"].empty
