"""The library (spatial/) knows nothing of the application (analyses/): checked on the source."""

import ast
from pathlib import Path

SPATIAL = Path(__file__).resolve().parents[1] / "spatial"


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
              and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant)):
            out.append((node.lineno, str(node.args[0].value)))
    return out


def test_spatial_imports_nothing_of_analyses():
    files = sorted(SPATIAL.glob("*.py"))
    assert len(files) > 20  # the library is where the test looks
    bad = [f"{f.name}:{line} imports {mod}" for f in files for line, mod in _imported_modules(f)
           if mod == "analyses" or mod.startswith("analyses.")]
    assert not bad, "spatial/ must not import analyses/: " + "; ".join(bad)


def test_the_check_sees_an_analyses_import(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import os\ndef f():\n    from analyses import runner\n"
                     "    import importlib\n    importlib.import_module('analyses.cli')\n")
    assert [m for _, m in _imported_modules(probe)] == ["os", "analyses", "importlib",
                                                        "analyses.cli"]
