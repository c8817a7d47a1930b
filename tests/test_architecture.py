"""What import-linter's layer contract (pyproject.toml, run by scripts/test.sh) cannot say about the wiring.

* no module imports a private name (``_x``) from another module, or reaches for ``module._x``;
* no string imports between modules (``importlib.import_module``) and no ``setattr`` on another module: a
  renamed function must fail when PaperAtlas starts, not silently run something else;
* no catch-all ``call_optional``-style fallback helper.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "paperatlas"
FILES = sorted(SRC.rglob("*.py"))


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(SRC.parent)
    found: list[str] = []
    imported: set[str] = set()
    for node in ast.walk(tree):
        ours = isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or "").startswith("paperatlas"))
        if ours:
            for alias in node.names:
                imported.add(alias.asname or alias.name)
                if _private(alias.name):
                    found.append(f"{where}:{node.lineno}: imports private {alias.name} from {node.module}")
        elif isinstance(node, ast.Import):
            imported.update((a.asname or a.name).split(".")[0] for a in node.names if a.name.startswith("paperatlas"))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__", "call_optional", "setattr"):
                found.append(f"{where}:{node.lineno}: calls {name}")
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name)
                and node.value.id in imported):
            found.append(f"{where}:{node.lineno}: reaches for {node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_module_keeps_to_public_interfaces(path: Path):
    assert _violations(path) == []


def test_the_checker_catches_what_it_looks_for():
    """The checks above could fail: each forbidden form, written into a file, is reported."""
    bad = SRC / "_architecture_probe.py"
    bad.write_text("import importlib\nfrom .metrics.authors import _PAPERS_SQL\nfrom .metrics import authors\n"
                   "x = authors._row_to_paper\nimportlib.import_module('paperatlas.search')\n"
                   "setattr(authors, 'a', 1)\n")
    try:
        found = _violations(bad)
    finally:
        bad.unlink()
    assert len(found) == 4, found


def test_unknown_engine_is_refused_before_any_stage_runs(store):
    from paperatlas.pipeline.build import BuildOptions, run_build

    with pytest.raises(ValueError, match="unknown engine 'dask'"):
        run_build(store, BuildOptions(engine="dask", show_progress=False))
    assert store.db.scalar("SELECT COUNT(*) FROM stage_state") == 0  # refused before anything was written


def test_every_step_a_build_reports_as_mapped_exists():
    """The build report names the steps that run on the engine; each name is a real function, so a renamed step
    fails here instead of being reported for code that no longer exists."""
    import importlib

    from paperatlas.metrics.stage import ENGINE_STEPS

    for dotted in [*ENGINE_STEPS, "disambiguation.distributed.cluster_mentions_on"]:
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            try:
                target = importlib.import_module("paperatlas." + ".".join(parts[:cut]))
            except ModuleNotFoundError:
                continue
            for attribute in parts[cut:]:
                target = getattr(target, attribute)
            assert callable(target), dotted
            break
        else:
            pytest.fail(f"{dotted} names no module")
