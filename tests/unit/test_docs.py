"""The examples in the docs run: every module's docstring examples, and the README's
Python session (in a fresh folder, as a new user would paste it)."""

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import linkscan

README = Path(linkscan.__file__).resolve().parent / "README.md"
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
MODULES = sorted(m.name for m in pkgutil.walk_packages(linkscan.__path__, "linkscan."))


@pytest.mark.parametrize("name", ["linkscan", *MODULES])
def test_docstring_examples__run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=FLAGS, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed (output above)"


def test_docstring_examples__exist_where_the_api_is():
    finder = doctest.DocTestFinder()
    for name in ("linkscan.defaults", "linkscan.jobs.spec", "linkscan.storage.write_errors"):
        tests = finder.find(importlib.import_module(name))
        assert sum(len(t.examples) for t in tests) > 0, name


@pytest.mark.slow
def test_readme__python_session_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = doctest.testfile(str(README), module_relative=False, optionflags=FLAGS, verbose=False)
    assert result.attempted > 0, "the README has no Python session"
    assert result.failed == 0, f"{result.failed} README example(s) failed (output above)"


def test_readme__job_file_reference_is_the_defaults_table():
    from linkscan.jobs.spec import job_text

    text = README.read_text()
    block = "```toml\n" + job_text(store="store", results="results", omics="proteome") + "```"
    assert block in text, "README's job file block differs from linkscan.defaults; paste job_text()'s output"


def test_readme__python_snippets_import_what_exists():
    import re

    text = README.read_text()
    found = re.findall(r"^from (linkscan[\w.]*) import ([\w, ]+)$", text, flags=re.M)
    assert found, "no `from linkscan... import` line in the README"
    for module, names in found:
        loaded = importlib.import_module(module)
        for name in (n.strip() for n in names.split(",")):
            assert hasattr(loaded, name), f"README: from {module} import {name}"
