"""What a scan keeps of its result rows: the job's ``keep``.

Every test of a scan counts in its q-values (Benjamini-Hochberg over the whole scan,
computed from every p before any row is dropped), and the finished store records every
column's number of tests and the distribution of its p-values (``complete.json``:
``tests``, ``p_histograms``); ``keep`` decides only which rows are written:

``"all"`` (default)
    every pair with a result in some cohort;
``{min_slogp = 6}``
    rows whose meta p or some cohort's p is at most 10^-6 (the reference's threshold);
``{max_log10q = -2}``
    rows whose meta q or some cohort's q is at most 0.01;
``{top = 100}``
    each feature's 100 strongest rows by the meta p (DepMap-style), ties in partner
    order.

Examples
--------
>>> import pandas as pd
>>> rows = pd.DataFrame({"feature": [0, 0, 0, 1], "partner": [1, 2, 3, 0],
...                      "BRCA_slogp": [7.0, None, -2.0, 7.0], "BRCA_log10q": [-5.0, None, -0.5, -5.0],
...                      "meta_slogp": [7.0, 1.0, -6.5, 7.0], "meta_log10q": [-5.0, -0.1, -4.0, -5.0]})
>>> Keep.parse({"min_slogp": 6}).mask(rows).tolist()
[True, False, True, True]
>>> Keep.parse({"top": 1}).mask(rows).tolist()
[True, False, False, True]
>>> Keep.parse({"max_log10q": -4.5}).text
{'max_log10q': -4.5}
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from linkscan.errors import JobError
from linkscan.storage.results.lookup import rank_within

#: The policies besides "all", and what each takes.
POLICIES = {"min_slogp": "a number >= 0 (6 keeps p < 1e-6)", "max_log10q": "a number <= 0 (-2 keeps q <= 0.01)",
            "top": "a whole number >= 1"}


@dataclass(frozen=True)
class Keep:
    """A keep policy: ``policy`` ("all" or a key of :data:`POLICIES`) and its ``value``."""

    policy: str = "all"
    value: float | int | None = None

    @classmethod
    def parse(cls, value) -> Keep:
        """A policy from a job's ``keep`` ("all", or a table of one policy), or JobError
        naming what is wrong and the valid forms."""
        if isinstance(value, Keep):
            return value
        forms = 'keep = "all", {min_slogp = 6}, {max_log10q = -2} or {top = 100}'
        if value == "all":
            return cls()
        if not isinstance(value, dict) or len(value) != 1:
            raise JobError(f"keep = {value!r}: write {forms}")
        (policy, number), = value.items()
        if policy not in POLICIES:
            raise JobError(f"keep = {value!r}: {policy!r} is not a policy; write {forms}")
        ok = {"min_slogp": lambda v: v >= 0, "max_log10q": lambda v: v <= 0, "top": lambda v: v >= 1}[policy]
        whole = isinstance(number, int) and not isinstance(number, bool)
        numeric = whole or (isinstance(number, float) and math.isfinite(number))
        if not numeric or (policy == "top" and not whole) or not ok(number):
            raise JobError(f"keep = {value!r}: {policy} takes {POLICIES[policy]}")
        return cls(policy, number)

    @property
    def text(self):
        """As the job file writes it (and the manifest records it)."""
        return "all" if self.policy == "all" else {self.policy: self.value}

    def mask(self, rows: pd.DataFrame) -> np.ndarray:
        """Which of ``rows`` (result rows with their q columns) the policy keeps."""
        if self.policy == "all":
            return np.ones(len(rows), dtype=bool)
        if self.policy == "top":
            strength = np.nan_to_num(np.abs(rows["meta_slogp"].to_numpy(np.float64)), nan=-1.0)
            order = np.lexsort((rows["partner"].to_numpy(), -strength, rows["feature"].to_numpy()))
            keep = np.zeros(len(rows), dtype=bool)
            keep[order[rank_within(rows["feature"].to_numpy()[order]) < self.value]] = True
            return keep
        suffix = "_slogp" if self.policy == "min_slogp" else "_log10q"
        keep = np.zeros(len(rows), dtype=bool)
        for column in (c for c in rows.columns if c.endswith(suffix)):
            values = rows[column].to_numpy(np.float64, na_value=np.nan)
            with np.errstate(invalid="ignore"):
                keep |= np.abs(values) >= self.value if suffix == "_slogp" else values <= self.value
        return keep
