"""CSV tables built in bulk (spatial.csvwrite) are the bytes pandas' ``to_csv`` writes.

The reference is pandas itself (row by row through Python's csv module), on frames with the
awkward values tables hold: commas, quotes, CR and LF inside text, Chinese text, empty and
missing text, NaN, infinities, -0.0, tiny and huge floats, negative integers, booleans.
"""

import os

import numpy as np
import pandas as pd
import pytest

from spatial import csvwrite, excel


def _awkward(n=3000, seed=5):
    rng = np.random.default_rng(seed)
    texts = np.array(["临清市", "a,b", 'say "hi"', "line\nbreak", "cr\rhere", "", " lead",
                      "trail ", "=1+2", "plain", "tab\there", '"', ",", "x" * 40], dtype=object)
    reals = np.concatenate([rng.normal(0, 1e3, n - 12),
                            [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-5, 1e16, 123456789.125,
                             5e-324, 1.7976931348623157e308, 0.1 + 0.2, 1 / 3]])
    return pd.DataFrame({
        "序号": np.arange(n) - 7,
        "big": rng.integers(-2**62, 2**62, n),
        "small": rng.integers(0, 9, n).astype(np.int32),
        "u": rng.integers(0, 2**63, n, dtype=np.uint64),
        "real": rng.permutation(reals),
        "f32": rng.random(n).astype(np.float32),
        "flag": rng.random(n) < 0.5,
        "text": np.where(rng.random(n) < 0.2, None, texts[rng.integers(0, len(texts), n)]),
        "arrow": pd.array(np.where(rng.random(n) < 0.2, None,
                                   texts[rng.integers(0, len(texts), n)]), dtype="str"),
        "nan_text": np.where(rng.random(n) < 0.5, np.nan,
                             texts[rng.integers(0, len(texts), n)]).astype(object),
        "col,with \"quote\"": texts[rng.integers(0, len(texts), n)],
    })


@pytest.mark.parametrize("lineterminator", ["\n", "\r\n"])
def test_same_bytes_as_pandas(lineterminator):
    df = _awkward()
    want = df.to_csv(index=False, lineterminator=lineterminator).encode("utf-8")
    assert csvwrite.csv_text(df, lineterminator=lineterminator) == want


def test_empty_and_all_missing_columns():
    df = pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype=object)})
    assert csvwrite.csv_text(df, lineterminator="\n") == df.to_csv(index=False).encode()
    df = pd.DataFrame({"a": [None, None], "b": pd.array([None, None], dtype="str"),
                       "c": [np.nan, np.nan]})
    assert csvwrite.csv_text(df, lineterminator="\n") == \
        df.to_csv(index=False, lineterminator="\n").encode()


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"only": ["", "a"]}),  # a lone empty field is written ""
    pd.DataFrame({"when": pd.to_datetime(["2025-06-01", None]), "b": [1, 2]}),
    pd.DataFrame({"mixed": ["a", 1], "b": [1, 2]}),
    pd.DataFrame({"n": pd.array([1, None], dtype="Int64"), "b": [1, 2]}),
    pd.DataFrame({"c": pd.Categorical(["x", "y"]), "b": [1, 2]}),
])
def test_other_tables_left_to_pandas(frame, tmp_path):
    assert csvwrite.csv_text(frame) is None
    excel.write_csv(frame, tmp_path / "t.csv")  # written by pandas, as before
    assert (tmp_path / "t.csv").read_bytes() == \
        frame.to_csv(index=False).encode("utf-8-sig")


def test_write_csv_is_pandas_file(tmp_path):
    df = _awkward(500, seed=9)
    excel.write_csv(df, tmp_path / "new.csv")
    excel.neutralize_csv(df).to_csv(tmp_path / "old.csv", index=False, encoding="utf-8-sig")
    assert (tmp_path / "new.csv").read_bytes() == (tmp_path / "old.csv").read_bytes()
    assert os.linesep.encode() in (tmp_path / "new.csv").read_bytes()
    assert "'=1+2" in (tmp_path / "new.csv").read_text(encoding="utf-8-sig")  # neutralized
