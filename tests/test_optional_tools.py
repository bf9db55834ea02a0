"""The conftest hooks: a missing optional tool skips (reason printed once), fails under CI=true."""

import pytest
from conftest import ROOT

MISSING = '''
from conftest import optional_module

def test_a():
    optional_module("lantian_no_such_tool")

def test_b():
    optional_module("lantian_no_such_tool")

def test_c():
    assert True
'''


@pytest.fixture
def suite(pytester):
    pytester.makeconftest((ROOT / "tests" / "conftest.py").read_text(encoding="utf-8"))
    pytester.makepyfile(test_x=MISSING)
    return pytester


@pytest.mark.parametrize("ci", ["", "false", "0"])
def test_outside_ci_skips_and_prints_the_reason_once(suite, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    r = suite.runpytest_subprocess("-p", "no:cacheprovider")
    r.assert_outcomes(passed=1, skipped=2)
    lines = [ln for ln in r.outlines if "lantian_no_such_tool is not installed" in ln]
    assert lines == ["   2 test(s): optional tool missing: lantian_no_such_tool is not installed"]


@pytest.mark.parametrize("ci", ["true", "TRUE", "1"])
def test_under_ci_a_missing_tool_fails(suite, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    r = suite.runpytest_subprocess("-p", "no:cacheprovider")
    r.assert_outcomes(passed=1, failed=2)
    assert r.ret == 1
    r.stdout.fnmatch_lines(["*CI=true: this test would be skipped (optional tool missing: "
                            "lantian_no_such_tool is not installed)*"])
