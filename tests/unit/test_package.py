"""The package as users install it: one import package, ``linkscan``, importable from any
folder, editable and as a wheel, with nothing installed under a generic top-level name."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import linkscan

REPO = Path(linkscan.__file__).resolve().parent
GENERIC = ("engine", "kernels", "storage", "jobs", "errors", "defaults")

#: Run in a fresh interpreter from a folder of the user's: imports the whole package,
#: then prints where linkscan came from and which generic names resolve to what.
PROBE = """
import importlib, importlib.util, json, pkgutil, sys
import linkscan
names = [m.name for m in pkgutil.walk_packages(linkscan.__path__, "linkscan.")]
for name in names:
    importlib.import_module(name)
import jobs  # the user's folder of job files
print(json.dumps({
    "file": linkscan.__file__, "version": linkscan.__version__, "modules": names,
    "api": sorted(n for n in linkscan.__all__ if getattr(linkscan, n) is not None),
    "jobs": list(jobs.__path__), "cli": importlib.import_module("linkscan.jobs.cli").__file__,
    "generic": {g: importlib.util.find_spec(g) is not None for g in ("engine", "kernels", "errors", "defaults")},
}))
"""


@pytest.fixture
def user_folder(tmp_path) -> Path:
    """A working folder with the user's own ``jobs/`` (TOML job files) and ``storage/``."""
    folder = tmp_path / "work"
    (folder / "jobs").mkdir(parents=True)
    (folder / "jobs" / "trans.toml").write_text('store = "s"\n')
    (folder / "storage").mkdir()
    (folder / "storage" / "__init__.py").write_text("raise ImportError('the user storage package')\n")
    return folder


def _probe(folder: Path, env_path: str | None = None) -> dict:
    import json
    import os

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if env_path:
        env["PYTHONPATH"] = env_path
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=folder, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _check(found: dict, folder: Path, root: Path) -> None:
    assert Path(found["file"]).resolve() == root / "__init__.py"
    assert Path(found["cli"]).resolve() == root / "jobs" / "cli.py"
    assert found["version"] == linkscan.__version__
    assert found["jobs"] == [str(folder / "jobs")]  # the user's folder stays theirs
    assert not any(found["generic"].values()), found["generic"]
    assert {"linkscan.engine.runner", "linkscan.kernels.spearman", "linkscan.storage.inputs.cohort_store",
            "linkscan.jobs.api", "linkscan.jobs.demo"} <= set(found["modules"])
    assert {"ingest", "submit", "query", "ResultStore", "CohortStore", "read_job", "LinkscanError"} <= set(found["api"])
    assert not any(m.split(".")[1] in ("tests", "benchmarks") for m in found["modules"])


def test_editable_install__imports_from_a_folder_with_jobs_and_storage(user_folder):
    _check(_probe(user_folder), user_folder, REPO)


@pytest.mark.slow
def test_wheel__holds_only_linkscan_and_imports_from_a_folder_with_jobs_and_storage(tmp_path, user_folder):
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs the git checkout to copy its tracked files")
    source = tmp_path / "src"
    # tracked files and new ones not ignored: the tree as it would be committed
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(wheels), str(source)], check=True, capture_output=True, timeout=600)
    (wheel,) = wheels.glob("linkscan-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"linkscan", f"linkscan-{linkscan.__version__}.dist-info"}, tops
    assert "linkscan/engine/runner.py" in names and "linkscan/__init__.py" in names
    assert not any(n.startswith(("linkscan/tests/", "linkscan/benchmarks/")) for n in names)
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=600)
    # the package and its `linkscan` command, nothing else
    assert sorted(p.name for p in site.iterdir() if not p.name.endswith(".dist-info")) == ["bin", "linkscan"]
    assert [p.name for p in (site / "bin").iterdir()] == ["linkscan"]
    _check(_probe(user_folder, str(site)), user_folder, site / "linkscan")


def test_editable_install__imports_from_the_repository_itself():
    """From the checkout's root, where engine/ and jobs/ are plain folders."""
    out = subprocess.run([sys.executable, "-c", "import linkscan.jobs.cli, linkscan.engine.runner; "
                          "print(linkscan.__file__, linkscan.engine.runner.__name__)"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(REPO / "__init__.py"), "linkscan.engine.runner"]
