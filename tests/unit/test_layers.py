"""Imports point one way (README, Layout): jobs -> engine -> (storage, kernels); kernels
import nothing of ours; storage computes nothing (no kernels) and never imports engine
or jobs; the root modules (errors, defaults) import none of the layers."""

import ast
from pathlib import Path

import pytest

import linkscan

ROOT = Path(linkscan.__file__).resolve().parent
#: layer -> the layers it may import (besides itself and the root modules)
ALLOWED = {
    "kernels": set(),
    "storage": set(),
    "engine": {"storage", "kernels"},
    "jobs": {"engine", "storage", "kernels"},
}
ROOT_MODULES = {"errors", "defaults"}


def _imports(path: Path) -> set[str]:
    """The ``linkscan.*`` modules a file imports (at any depth in the file)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n for n in names if n == "linkscan" or n.startswith("linkscan.")}


def _files(layer: str) -> list[Path]:
    return sorted((ROOT / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer__imports_only_what_it_may(layer):
    bad = []
    for path in _files(layer):
        for name in _imports(path):
            parts = name.split(".")
            target = parts[1] if len(parts) > 1 else "linkscan"
            if target in ROOT_MODULES or target == layer:
                continue
            if target == "linkscan" or target not in ALLOWED[layer]:
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "\n".join(bad)


def test_root_modules__import_no_layer():
    for name in ROOT_MODULES:
        imported = {n.split(".")[1] for n in _imports(ROOT / f"{name}.py") if n.count(".")}
        assert imported <= ROOT_MODULES, (name, imported)


def test_layers__the_check_sees_imports():
    """The checker itself: it finds the engine's imports of storage and kernels."""
    found = {n.split(".")[1] for path in _files("engine") for n in _imports(path)}
    assert {"storage", "kernels", "errors", "defaults"} <= found
