"""spatial.engine: the Dask engine gives the in-process results (LocalCluster, 2 processes).

The tile/merge logic is checked in process against cluster.st_dbscan on random sets built to
have many neighbour pairs across tile edges; then, on one module-scoped LocalCluster: H3
indexing, Gi* per period, partitioned aggregation of CSV/Parquet files, clustering of a
2,000,000-point synthetic set (the slowest test here, ~10-20 s), and the fire-points and
pollution-hotspots demo runs compared frame by frame with their in-process runs.
"""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import optional_module

from analyses import fire_points, pollution_hotspots, runner
from spatial import cluster, config, engine, h3grid, stats
from spatial.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


def same_partition(a, b):
    """Equal up to renaming: a -> b and b -> a are functions."""
    pairs = pd.DataFrame({"a": a, "b": b}).drop_duplicates()
    return pairs["a"].is_unique and pairs["b"].is_unique


def fires(n, rng, *, days=60):
    """Clumpy detections over Shandong: many neighbours within 1 km and 24 h."""
    k = max(1, n // 20)
    clat = rng.uniform(34.5, 38.3, k)
    clng = rng.uniform(115.0, 122.5, k)
    ct = rng.uniform(0, days * 86400, k)
    which = rng.integers(0, k, n)
    lat = clat[which] + rng.normal(0, 0.006, n)
    lng = clng[which] + rng.normal(0, 0.008, n)
    t = ct[which] + rng.normal(0, 40000, n)
    return lat, lng, t


@pytest.mark.parametrize("n_tiles", [2, 9, 40])
def test_tiles_and_merge_equal_in_process(n_tiles):
    rng = np.random.default_rng(n_tiles)
    lat, lng, t = fires(6000, rng, days=20)
    ref = cluster.st_dbscan(lat, lng, t, eps_m=1000.0, eps_s=86400.0)
    members, _ = engine.tile_members(lat, t, eps_m=1000.0, eps_s=86400.0, n_tiles=n_tiles)
    assert len(members) > 1
    cover = np.bincount(np.concatenate(members), minlength=lat.size)
    assert cover.min() >= 1 and cover.max() > 1  # every point in a tile, halos shared
    labels = [cluster.st_dbscan(lat[m], lng[m], t[m], eps_m=1000.0, eps_s=86400.0)
              for m in members]
    got = engine.merge_tile_labels(lat.size, members, labels)
    np.testing.assert_array_equal(got, ref)  # same numbering too (first appearance)


def test_halo_keeps_pairs_cut_by_a_tile_edge():
    """A chain of points 900 m apart north-south crosses every latitude band edge."""
    lat = 36.0 + np.arange(400) * 900.0 / cluster.EARTH_RADIUS_M * 180 / np.pi
    lng = np.full(lat.size, 117.0)
    members, _ = engine.tile_members(lat, None, eps_m=1000.0, eps_s=None, n_tiles=8)
    assert len(members) >= 4
    labels = [cluster.st_dbscan(lat[m], lng[m], None, eps_m=1000.0, eps_s=None)
              for m in members]
    got = engine.merge_tile_labels(lat.size, members, labels)
    assert (got == 0).all()  # one chain; without halos every band edge would cut it
    # tiles without halos would not do: the same merge with cores only splits the chain
    cores = [m[(lat[m] >= lat[m].min()) & (lat[m] <= lat[m].max())] for m in members]
    assert sum(c.size for c in cores) > lat.size  # halos really overlap


def test_get_engine_errors():
    with pytest.raises(InputError, match="one of"):
        engine.get_engine("spark")
    with pytest.raises(InputError, match="--engine dask"):
        engine.get_engine("local", scheduler="tcp://x:1")
    with pytest.raises(InputError, match="in process only"):
        runner.check_engine("heat-radius", "dask")


def test_cli_engine_for_an_unsupported_analysis(capsys):
    from analyses import cli

    rc = cli.main(["run", "heat-radius", "--config", str(ROOT / "configs/heat-radius.toml"),
                   "--engine", "dask", "--out", "/nonexistent"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "fire-points" in err and "pollution-hotspots" in err


# ------------------------------------------------------------------------ on a LocalCluster
@pytest.fixture(scope="module")
def dask_engine():
    optional_module("distributed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # port/"already in use" notices while starting
        eng = engine.DaskEngine(n_workers=2, threads_per_worker=1, processes=True,
                                chunk_points=400_000, tile_points=250_000)
    yield eng
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eng.close()


def test_points_to_cells_and_gi_star_on_dask(dask_engine):
    rng = np.random.default_rng(1)
    lat, lng = rng.uniform(34.4, 38.4, 1_000_000), rng.uniform(114.8, 122.7, 1_000_000)
    np.testing.assert_array_equal(dask_engine.points_to_cells(lat, lng, resolution=8),
                                  h3grid.points_to_cells(lat, lng, resolution=8))
    cells = np.unique(h3grid.points_to_cells(lat[:5000], lng[:5000], resolution=5))
    w = stats.ring_weights(cells, k=1)
    values = rng.gamma(2.0, 20.0, (cells.size, 5))
    values[rng.random(values.shape) < 0.1] = np.nan
    got = dask_engine.gi_star_periods(values, w, alpha=0.05)
    ref = engine.LocalEngine().gi_star_periods(values, w, alpha=0.05)
    for a, b in zip(got, ref, strict=True):
        np.testing.assert_array_equal(a, b)  # bit-identical: the same function per period


def _unaligned(a):
    """A copy of float64 `a` at an address that is not a multiple of 8 (as a worker may get it)."""
    buf = np.empty(a.nbytes + 1, dtype=np.uint8)[1:].view(np.float64).reshape(a.shape)
    buf[...] = a
    assert not buf.flags.aligned
    return buf


def _gi_case(seed=3):
    """~24,000 res-7 cells with a value every day: numpy sums these in another order when the
    buffer is unaligned (8192-value chunks instead of one pairwise sum)."""
    rng = np.random.default_rng(seed)
    cells = np.unique(h3grid.points_to_cells(rng.uniform(35, 37.5, 60_000),
                                             rng.uniform(115, 119, 60_000), resolution=7))
    values = np.round(rng.gamma(4.0, 15.0, (cells.size, 6)), 3)
    return stats.ring_weights(cells, k=1), values


def test_gi_star_same_bits_whatever_the_buffer():
    w, values = _gi_case()
    col = values[:, 0].copy()
    # the cause of the engines' last-bit differences: numpy's own sum depends on alignment
    sums = [float(_unaligned(values[:, j].copy()).sum()) != float(values[:, j].copy().sum())
            for j in range(values.shape[1])]
    assert any(sums)
    for j in range(values.shape[1]):
        ref = stats.gi_star(values[:, j].copy(), w)
        for y in (values[:, j], _unaligned(values[:, j].copy()), col if j == 0 else None):
            if y is not None:
                for a, b in zip(stats.gi_star(y, w), ref, strict=True):
                    np.testing.assert_array_equal(a, b)


def test_gi_star_periods_bit_identical_on_dask_without_gaps(dask_engine):
    """Every cell has data (no NaN to drop, so no aligned copy by fancy indexing)."""
    w, values = _gi_case()
    got = dask_engine.gi_star_periods(values, w, alpha=0.05)
    ref = engine.LocalEngine().gi_star_periods(values, w, alpha=0.05)
    for a, b in zip(got, ref, strict=True):
        np.testing.assert_array_equal(a, b)


def test_emerging_hotspots_on_dask_by_blocks_of_cells(dask_engine, monkeypatch):
    """Blocks of cells on the workers give the in-process Mann-Kendall and categories exactly."""
    rng = np.random.default_rng(11)
    n_c, n_t = 7001, 24
    z = np.round(rng.normal(0.0, 2.0, (n_c, n_t)) + np.linspace(-1, 1, n_t) * rng.normal(
        0, 2, (n_c, 1)), 1)  # rounded: many ties; some trends
    z[rng.random(z.shape) < 0.05] = np.nan
    z[:50] = np.nan  # cells without any data
    cls = np.where(z > 1.96, 1, np.where(z < -1.96, -1, 0)).astype(np.int8)
    cls[:, -3:] = np.where(z[:, -3:] > 0.5, 1, cls[:, -3:])  # final-period patterns
    ref_mk = stats.mann_kendall(z)
    ref_cat = stats.emerging_hotspot_categories(z, cls, alpha=0.05, trend=ref_mk)
    assert len(set(ref_cat)) >= 6 and np.isnan(ref_mk.z).any()
    monkeypatch.setattr(dask_engine, "block_cell_days", 20_000)  # 9 blocks of unequal rows
    mk, cat = dask_engine.emerging_hotspots(z, cls, alpha=0.05)
    for a, b in zip(mk, ref_mk, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(cat, ref_cat)
    lmk, lcat = engine.LocalEngine().emerging_hotspots(z, cls, alpha=0.05)
    np.testing.assert_array_equal(lcat, ref_cat)
    np.testing.assert_array_equal(lmk.p, ref_mk.p)
    with pytest.raises(InputError, match="at least 2 periods"):
        dask_engine.emerging_hotspots(z[:, :1], cls[:, :1])
    with pytest.raises(InputError, match="alpha"):
        dask_engine.emerging_hotspots(z, cls, alpha=1.5)


def test_rasters_to_cells_on_dask_leave_the_index_on_the_workers(dask_engine, tmp_path):
    from bench.synthetic import daily_rasters

    paths = daily_rasters(tmp_path, days=3, region="shandong", scale=0.08)
    got = dask_engine.rasters_to_cells(paths, resolution=7)
    ref = engine.LocalEngine().rasters_to_cells(paths, resolution=7)
    assert len(got) == len(ref) == 3
    for g, r in zip(got, ref, strict=True):
        assert g.index is None and r.index is not None  # 4 bytes a pixel not sent back
        assert (r.count > 0).sum() > 100
        for f in ("cells", "mean", "count"):
            np.testing.assert_array_equal(getattr(g, f), getattr(r, f))


def test_aggregate_partitions_equal_h3grid_aggregate(dask_engine, tmp_path):
    rng = np.random.default_rng(2)
    frames = []
    for i in range(6):
        n = 20_000
        df = pd.DataFrame({"lat": rng.uniform(36.0, 36.5, n), "lon": rng.uniform(116, 116.6, n),
                           "time": pd.Timestamp("2025-01-01") + pd.to_timedelta(
                               rng.integers(0, 90 * 86400, n), unit="s"),
                           "pm25": rng.gamma(2.0, 30.0, n)})
        df.loc[rng.random(n) < 0.05, "pm25"] = np.nan
        frames.append(df)
        if i % 2:
            df.to_parquet(tmp_path / f"p{i}.parquet")
        else:
            df.to_csv(tmp_path / f"p{i}.csv", index=False)
    whole = pd.concat(frames, ignore_index=True)
    how = {"pm25": ["count", "mean", "max", "min", "sum"]}
    csvs = engine.read_partitions(sorted(map(str, tmp_path.glob("*.csv"))))
    pqs = engine.read_partitions(sorted(map(str, tmp_path.glob("*.parquet"))))
    assert csvs.npartitions == 3 and pqs.npartitions == 3
    import dask.dataframe as dd

    ddf = dd.concat([csvs, pqs.astype(csvs.dtypes.to_dict())])
    cells = h3grid.points_to_cells(whole["lat"], whole["lon"], resolution=7)
    ref = h3grid.aggregate(cells, whole, how=how)
    got = engine.aggregate_partitions(ddf.repartition(npartitions=12), lat="lat", lng="lon",
                                      resolution=7, how=how, split_every=3)
    pd.testing.assert_index_equal(got.index, ref.index)
    for c in ("n", "pm25_count", "pm25_max", "pm25_min"):  # exact
        np.testing.assert_array_equal(got[c].to_numpy(), ref[c].to_numpy())
    for c in ("pm25_mean", "pm25_sum"):  # float summation order only
        np.testing.assert_allclose(got[c].to_numpy(), ref[c].to_numpy(), rtol=1e-12)
    # per cell and month: against pandas groupby
    per = engine.aggregate_partitions(ddf, lat="lat", lng="lon", resolution=7,
                                      how={"pm25": "mean"}, period="time", freq="M")
    month = whole["time"].dt.to_period("M").astype(str)
    exp = pd.DataFrame({"cell": cells, "period": month, "v": whole["pm25"]}).groupby(
        ["cell", "period"])["v"].mean()
    np.testing.assert_array_equal(per.index.get_level_values("cell"),
                                  exp.index.get_level_values("cell").astype(np.uint64))
    np.testing.assert_allclose(per["pm25_mean"].to_numpy(), exp.to_numpy(), rtol=1e-12)


def test_partitioned_clustering_2m_points_equals_in_process(dask_engine):
    """The acceptance check of the issue: 2,000,000 synthetic detections, same partition."""
    rng = np.random.default_rng(2024)
    lat, lng, t = fires(2_000_000, rng, days=365)
    ref = cluster.st_dbscan(lat, lng, t, eps_m=1000.0, eps_s=86400.0)
    got = dask_engine.st_dbscan(lat, lng, t, eps_m=1000.0, eps_s=86400.0)
    assert ref.max() > 10_000  # many events, many of them cut by tile edges
    np.testing.assert_array_equal(got, ref)


def test_clustering_min_samples_and_datetimes_on_dask(dask_engine):
    rng = np.random.default_rng(5)
    lat, lng, t = fires(3000, rng, days=10)
    times = pd.Series(pd.Timestamp("2024-06-01", tz="UTC") + pd.to_timedelta(t, unit="s"))
    for ms in (1, 3):
        np.testing.assert_array_equal(
            dask_engine.st_dbscan(lat, lng, times, eps_m=1000.0, eps_s=86400.0, min_samples=ms),
            cluster.st_dbscan(lat, lng, times, eps_m=1000.0, eps_s=86400.0, min_samples=ms))


def _compare(a, b):
    assert a.layers.keys() == b.layers.keys() and a.tables.keys() == b.tables.keys()
    for k in a.layers:
        pd.testing.assert_frame_equal(a.layers[k], b.layers[k], check_exact=True)
    for k in a.tables:
        pd.testing.assert_frame_equal(a.tables[k], b.tables[k], check_exact=True)
    assert a.summary == b.summary


@pytest.mark.parametrize("module", [fire_points, pollution_hotspots], ids=lambda m: m.NAME)
def test_demo_runs_identical_on_dask(dask_engine, module, monkeypatch):
    conf = config.load(runner.demo_config_path(module.NAME))
    tables, _ = runner.check(module.NAME, conf)
    frames = {k: t.frame for k, t in tables.items()}
    params = runner.params_from_mapping(module.Params, conf["params"])
    ref = module.run(frames, params)
    if module is fire_points:  # the demo is small: force tiles (and chunks) on the workers
        monkeypatch.setattr(dask_engine, "tile_points", 300)
        monkeypatch.setattr(dask_engine, "chunk_points", 500)
    # inputs read on the workers (FIRMS files, readings: one task per file) are the same tables
    dask_tables = runner.read_inputs(module, conf, engine=dask_engine)
    assert dask_tables.keys() == tables.keys()
    for k, t in tables.items():
        if isinstance(t.frame, pd.DataFrame):
            pd.testing.assert_frame_equal(dask_tables[k].frame, t.frame, check_exact=True)
        pd.testing.assert_frame_equal(dask_tables[k].rejected, t.rejected, check_exact=True)
        assert dask_tables[k].n_read == t.n_read
    got = module.run({k: t.frame for k, t in dask_tables.items()}, params, engine=dask_engine)
    _compare(got, ref)
