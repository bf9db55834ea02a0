"""A write makes the analysis's legend definitions once and gives that list to the map, the
figure and the QGIS styles (issue 16: on a province-year one ``symbology`` call takes > 1 s)."""

from pathlib import Path

from analyses import get, runner
from spatial import config, qgis

ROOT = Path(__file__).resolve().parent.parent


def test_one_symbology_per_run_shared_by_map_figure_and_qgis(tmp_path, monkeypatch):
    module = get("heat-radius")
    made, seen = [], {}
    real_symbology, real_map, real_spec = module.symbology, module.build_map, module.figure_spec
    real_qgis = qgis.write_qgis

    def symbology(result):
        made.append(real_symbology(result))
        return made[-1]

    def build_map(result, **kw):
        seen["map"] = kw.get("legends")
        return real_map(result, **kw)

    def figure_spec(result, **kw):
        seen["figure"] = kw.get("legends")
        return real_spec(result, **kw)

    def write_qgis(folder, name, legends, **kw):
        seen["qgis"] = legends
        return real_qgis(folder, name, legends, **kw)

    monkeypatch.setattr(module, "symbology", symbology)
    monkeypatch.setattr(module, "build_map", build_map)
    monkeypatch.setattr(module, "figure_spec", figure_spec)
    monkeypatch.setattr(qgis, "write_qgis", write_qgis)
    runner.execute("heat-radius", config.load(ROOT / "configs" / "heat-radius.toml"),
                   out=tmp_path, offline=True)
    assert len(made) == 1
    legends = made[0]
    assert seen["map"] is legends and seen["figure"] is legends
    # QGIS gets the same definitions (per-period layers renamed to their views, then a plain
    # style for each layer without one)
    assert [leg.title for leg in seen["qgis"][:len(legends)]] == [leg.title for leg in legends]
    assert (tmp_path / "maps" / "heat-radius.html").exists()
