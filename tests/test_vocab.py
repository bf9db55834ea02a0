"""Vocabularies: every catalogue word to its group, exact matching, config words, labels."""

import pandas as pd
import pytest

from analyses import vocab
from spatial.errors import InputError

# the words of 《高污染燃料目录》 (国环规大气〔2017〕2号) and of issue 11, with the group each
# belongs to, written out by hand from the catalogue (煤炭及其制品 = 原煤、散煤、煤矸石、煤泥、
# 煤粉、水煤浆、型煤、焦炭、兰炭; item (二) = 石油焦、油页岩、原油、重油、渣油、煤焦油; class III
# (三) = 生物质成型燃料)
CATALOGUE = {
    "原煤": "coal", "散煤": "coal", "煤矸石": "coal", "粉煤": "coal", "煤泥": "coal",
    "无烟煤": "coal", "烟煤": "coal", "褐煤": "coal", "燃煤": "coal",
    "焦炭": "coal_product", "兰炭": "coal_product", "型煤": "coal_product",
    "洁净型煤": "coal_product", "水煤浆": "coal_product", "蜂窝煤": "coal_product",
    "煤粉": "coal_product",
    "石油焦": "heavy_oil", "油页岩": "heavy_oil", "原油": "heavy_oil", "重油": "heavy_oil",
    "渣油": "heavy_oil", "煤焦油": "heavy_oil", "燃料油": "heavy_oil",
    "柴油": "light_oil", "天然气": "gas", "液化石油气": "gas",
    "煤气": "coal_gas", "发生炉煤气": "producer_gas", "电": "electricity",
    "生物质成型燃料": "biomass_pellet", "直接燃用的生物质": "raw_biomass", "秸秆": "raw_biomass",
    "树枝": "raw_biomass", "锯末": "raw_biomass", "稻壳": "raw_biomass",
    "各种可燃废物": "waste", "醇基燃料": "alcohol",
}


def test_every_catalogue_word_maps_to_its_group():
    got = vocab.fuel(pd.Series(list(CATALOGUE)))
    assert dict(zip(CATALOGUE, got, strict=True)) == CATALOGUE


def test_no_word_in_two_codes():
    for field, table in vocab.VOCABS.items():
        seen: dict[str, str] = {}
        for code, words in table.items():
            for w in words:
                key = vocab.normalise(w)
                assert seen.setdefault(key, code) == code, (field, w)


def test_exact_matching_after_nfkc_no_substring_guess():
    raw = ["ＣＯＡＬ", " 燃煤 ", "某某煤", "煤气锅炉", "", None, float("nan")]
    got = vocab.fuel(pd.Series(raw))
    assert list(got) == ["coal", "coal", "unknown", "unknown", "unknown", "unknown", "unknown"]


def test_status_and_kind_words_of_offices():
    s = vocab.status(pd.Series(["在用", "在营", "运行", "正常", "停用", "备用", "停产", "关停",
                                "取缔", "已取缔", "已拆除", "已淘汰", "在建", "拟建", None,
                                "报废了"]))
    assert list(s) == ["operating"] * 4 + ["idle"] * 3 + ["retired"] * 5 + [
        "construction", "planned", "operating", "unknown"]
    k = vocab.kind(pd.Series(["散煤经营点", "散煤销售点", "型煤配送点", "锅炉", None, "锅 炉"]))
    assert list(k) == ["coal_seller"] * 3 + ["boiler", None, "unknown"]


def test_config_words_extend_and_are_checked():
    words = pd.Series(["某某煤", "在运营"])
    with vocab.extended({"fuel": {"某某煤": "coal"}, "status": {"在运营": "operating"}}):
        assert vocab.fuel(words[:1]).iloc[0] == "coal"
        assert vocab.status(words[1:]).iloc[0] == "operating"
        assert vocab.selection("fuel", ["某某煤"], param="boiler_fuels") == ("某某煤",)
    assert vocab.fuel(words[:1]).iloc[0] == "unknown"  # only inside the block
    with pytest.raises(InputError, match=r"\[vocab.fuel\].*not a fuel code"):
        with vocab.extended({"fuel": {"某某煤": "cole"}}):
            pass
    with pytest.raises(InputError, match=r"\[vocab.colour\]"):
        with vocab.extended({"colour": {"红": "red"}}):
            pass


def test_selection_and_matches():
    assert vocab.selection("fuel", ["coal", "无烟煤"], param="p") == ("coal", "无烟煤")
    with pytest.raises(InputError, match=r"params.boiler_kinds: unknown kind.*boilr"):
        vocab.selection("kind", ["boilr"], param="boiler_kinds")
    with pytest.raises(InputError, match=r"params.boiler_fuels is empty"):
        vocab.selection("fuel", [], param="boiler_fuels")
    raw = pd.Series(["无烟煤", "燃煤", "焦炭"])
    mask = vocab.matches(vocab.fuel(raw), vocab.words(raw), ["无烟煤"])
    assert list(mask) == [True, False, False]


def test_unknown_values_counts_and_labels():
    counts = vocab.unknown_values(pd.Series(["在用", "报废", "报废", "x", None]), "status")
    assert counts.to_dict() == {"报废": 2, "x": 1}
    assert vocab.label("fuel", "coal") == "燃煤"
    assert vocab.label("status", "idle") == "停用/备用"
    assert list(vocab.labels("kind", pd.Series(["coal_seller", None]))) == ["散煤经营点", ""]
    for field, table in vocab.VOCABS.items():
        assert set(table) <= set(vocab.LABELS[field]), field
