"""Shared fixtures: where the real CPTAC/TCGA data lives, and seeded generators."""

from pathlib import Path
import shutil

import numpy as np
import pytest

REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"


@pytest.fixture
def real_data() -> Path:
    """../shared/data/real, or a skip that says why (a fresh clone does not have it)."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"real CPTAC/TCGA data not found at {REAL_DATA} (it ships beside the repository, not in it)")
    return REAL_DATA


@pytest.fixture
def rscript() -> str:
    """Path of Rscript, or a skip (`.ci/run` installs r-base-core so that CI runs these)."""
    path = shutil.which("Rscript")
    if path is None:
        pytest.skip("Rscript is not on PATH (apt-get install r-base-core r-cran-survival)")
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261125)
