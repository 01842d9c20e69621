"""Per-sample values behind one association, from the cohort store a scan was made of.

A plot of an association shows the samples its test saw. :func:`association_values`
reads them for one row of a scan (its ``feature`` and ``partner``), per cohort, in one
of three shapes, named by ``plot``:

``scatter``
    ``x`` and ``y`` per sample: a trans or cis pair (x the feature, y the partner, the
    samples both omics have, matched by id as the scan matches them), or a feature
    against a continuous phenotype (x the phenotype, y the feature).
``groups``
    the feature's values per group, ``groups`` of ``label``, ``samples`` and ``values``:
    tumor and normal samples (tumor vs normal), the levels of a binary, ordinal or
    categorical phenotype, or wild type and mutated (a mutation).
``survival``
    ``x`` the survival time, ``y`` the feature and ``event`` (1 event, 0 censored) per
    sample.

Only samples with a value on both sides are returned; values are rounded to 6
significant digits (plots need no more, and a gene page carries thousands of them).
Feature, partner and cohort names are matched against the scan's tables as data, never
used as paths.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from linkscan.errors import InputError, LinkscanError
from linkscan.jobs.web.catalog import Scan
from linkscan.jobs.web.params import Params, WebError, short
from linkscan.storage.inputs.cohort_store import CohortStore

#: The parameters of :func:`association_values` (the endpoint ``/api/values``).
VALUE_PARAMS = ("kind", "feature", "partner", "omics", "partner_omics", "cohort")
#: The features table's ``omics`` of the tumor-vs-normal partner and of phenotypes
#: (linkscan.engine.plan names them so; a mutation partner has its binary omics).
TISSUE, PHENOTYPE = "tissue", "phenotype"
#: Group labels of a mutation (its 0/1 calls).
MUTATION_LABELS = ("wild type", "mutated")


def association_values(scan: Scan, params: Params) -> dict:
    """What ``/api/values`` answers: the per-sample values of one association of ``scan``.

    Parameters
    ----------
    scan
        The scan the association is a row of.
    params
        ``feature`` and ``partner`` (ids as a row of ``/api/associations`` gives them),
        ``omics`` and ``partner_omics`` (needed only when an id is in two omics of the
        scan, as a gene is in a cis scan), ``cohort`` (one cohort; default all of the
        scan's).

    Returns
    -------
    ``kind``, ``feature``, ``partner``, ``omics``, ``partner_omics``, ``plot`` (the
    shape, see the module docstring), ``x_label`` and ``y_label`` (``labels`` for
    groups), and ``cohorts``: one entry per cohort where the feature has values, in the
    scan's order, each with ``cohort`` and ``n`` (samples shown) and the shape's arrays.

    Raises
    ------
    WebError
        An unknown feature, partner or cohort (404), an id that needs its omics (400),
        or a cohort store that cannot be read (503).
    """
    names = scan.names()
    feature = _entity(names.features, params, "feature", "omics")
    partner = _entity(names.features, params, "partner", "partner_omics")
    cohort = params.text("cohort")
    cohorts = scan.cohorts if cohort is None else [params.choice("cohort", scan.cohorts, "", status=404)]
    mutations = scan.manifest["scan"].get("mutations", "")
    if feature["omics"] in (TISSUE, PHENOTYPE, mutations):  # a row of a phenotype's page: the pair mirrored
        feature, partner = partner, feature
    answer = {"kind": scan.kind, "feature": feature["feature"], "partner": partner["feature"],
              "omics": feature["omics"], "partner_omics": partner["omics"]}
    if not scan.cohort_store.cohorts():
        raise WebError(f"the cohort store of the {scan.kind} scan, {scan.cohort_store.root}, holds no cohort (moved, "
                       "or on another machine); start linkscan serve (or report) with --store to name where it is",
                       None, 503)
    try:
        if partner["omics"] == TISSUE:
            answer |= _groups(scan, feature, cohorts, _tissues, ("tumor", "normal"))
        elif partner["omics"] == PHENOTYPE:
            answer |= _phenotype(scan, feature, partner["feature"], cohorts)
        elif mutations and partner["omics"] == mutations:
            answer |= _groups(scan, feature, cohorts, _mutation(partner["feature"], mutations), MUTATION_LABELS)
        else:
            answer |= _pair(scan, feature, partner, cohorts)
    except WebError:
        raise
    except LinkscanError as exc:
        raise WebError(f"the values of the {scan.kind} scan could not be read from the cohort store "
                       f"{scan.cohort_store.root}: {exc}; start linkscan serve with --store to name where it is",
                       None, 503) from None
    return answer


def _entity(features: pd.DataFrame, params: Params, name: str, omics_name: str) -> dict:
    """The one entity of the scan with id ``params[name]`` (and omics
    ``params[omics_name]`` when given): its feature id, gene and omics."""
    wanted = params.required(name)
    omics = params.text(omics_name)
    hit = features[features["feature"] == wanted]
    if omics is not None:
        hit = hit[hit["omics"] == omics]
    if hit.empty:
        where = f" in omics {short(omics)!r}" if omics is not None else ""
        raise WebError(f"{name} = {short(wanted)!r}: no entity of that id{where} in this scan (ids as "
                       "/api/associations gives them, any case of a gene works there)", name, 404)
    if len(hit) > 1:
        raise WebError(f"{name} = {short(wanted)!r} is in omics {', '.join(hit['omics'])} of this scan; give "
                       f"{omics_name} too", omics_name)
    return hit.iloc[0].to_dict()


def _row(scan: Scan, cohort: str, omics: str, feature: str, tissue: str = "tumor") -> pd.Series | None:
    """``feature``'s values in ``cohort``'s ``omics`` (``tissue``) by sample id, missing
    values dropped; None when the cohort has no such Dataset or feature."""
    store = scan.cohort_store
    if tissue not in store.tissues(cohort, omics):
        return None
    try:
        return _opened(store.root, cohort, omics, tissue).row(feature)
    except InputError:
        # re-ingested since it was opened: the version read is gone; open the current one
        _opened.cache_clear()
        return _opened(store.root, cohort, omics, tissue).row(feature)


class _Dataset:
    """One omics Dataset of the cohort store as plots read it: its ids, and its values
    read a row at a time from the version opened, each read confirmed to be of that
    whole version (:meth:`linkscan.CohortStore.pinned_values`)."""

    def __init__(self, root: str, cohort: str, omics: str, tissue: str) -> None:
        store = CohortStore(root)
        ds = store.open(cohort, omics, tissue)
        self.features = ds.indexes["feature"]
        self.samples = ds["sample"].to_numpy().astype(str)
        self.values = store.pinned_values(cohort, omics, ds.attrs["version"], tissue)

    def row(self, feature: str) -> pd.Series | None:
        at = self.features.get_indexer([feature])[0]
        if at < 0:
            return None
        row = pd.Series(self.values.take(np.array([at]))[0].astype(np.float64), index=self.samples)
        return row[np.isfinite(row.to_numpy())]


#: Opened Datasets, by cohort store, cohort, omics and tissue: opening one costs ~15 ms
#: and a page's plots read the same few many times.
_opened = functools.lru_cache(maxsize=256)(_Dataset)


def _numbers(values) -> list[float]:
    """Finite ``values`` as floats of 6 significant digits."""
    return [float(f"{v:.6g}") for v in np.asarray(values, dtype=np.float64).tolist()]


def _label(entity: dict) -> str:
    return f"{entity['feature']} ({entity['omics']})"


def _pair(scan: Scan, feature: dict, partner: dict, cohorts: list[str]) -> dict:
    """A trans or cis pair: x the feature, y the partner, on the samples with both."""
    entries = []
    for cohort in cohorts:
        x = _row(scan, cohort, feature["omics"], feature["feature"])
        y = _row(scan, cohort, partner["omics"], partner["feature"])
        if x is None or y is None:
            continue
        both = x.index.intersection(y.index, sort=False)
        entries.append({"cohort": cohort, "n": len(both), "samples": both.tolist(),
                        "x": _numbers(x[both]), "y": _numbers(y[both])})
    return {"plot": "scatter", "x_label": _label(feature), "y_label": _label(partner), "cohorts": entries}


def _tissues(scan: Scan, cohort: str, feature: dict) -> list[pd.Series] | None:
    """The feature's tumor and normal values in ``cohort``."""
    rows = [_row(scan, cohort, feature["omics"], feature["feature"], tissue) for tissue in ("tumor", "normal")]
    return None if any(r is None for r in rows) else rows


def _mutation(name: str, mutations: str):
    """A group reader: the feature's values of wild-type and mutated samples."""
    def groups(scan: Scan, cohort: str, feature: dict) -> list[pd.Series] | None:
        values = _row(scan, cohort, feature["omics"], feature["feature"])
        calls = _row(scan, cohort, mutations, name)
        if values is None or calls is None:
            return None
        calls = calls.reindex(values.index)
        return [values[(calls == code).to_numpy()] for code in (0, 1)]
    return groups


def _groups(scan: Scan, feature: dict, cohorts: list[str], read, labels) -> dict:
    """A feature's values per group in each cohort, groups by ``read(scan, cohort,
    feature)`` (None: the cohort has no such groups)."""
    entries = []
    for cohort in cohorts:
        groups = read(scan, cohort, feature)
        if groups is None:
            continue
        entries.append({"cohort": cohort, "n": sum(len(g) for g in groups),
                        "groups": [{"label": label, "samples": g.index.tolist(), "values": _numbers(g)}
                                   for label, g in zip(labels, groups)]})
    return {"plot": "groups", "labels": list(labels), "y_label": _label(feature), "cohorts": entries}


def _phenotype(scan: Scan, feature: dict, name: str, cohorts: list[str]) -> dict:
    """A feature against a phenotype: by level, against a continuous value, or against
    survival time (a phenotype has one type in every cohort of a scan)."""
    store = scan.cohort_store
    entries, kind, labels, unit = [], "CAT", (), ""
    for cohort in cohorts:
        values = _row(scan, cohort, feature["omics"], feature["feature"])
        phenotype = store.phenotypes(cohort).get(name) if store.has_phenotypes(cohort) else None
        if values is None or phenotype is None:
            continue
        kind, labels, unit = phenotype.type, phenotype.levels, phenotype.unit
        aligned = phenotype.align(values.index)
        if kind in ("CON", "SURV"):
            x = aligned.values if kind == "CON" else aligned.time
            keep = np.isfinite(x)
            entry = {"n": int(keep.sum()), "samples": values.index[keep].tolist(), "x": _numbers(x[keep]),
                     "y": _numbers(values[keep])}
            if kind == "SURV":
                entry["event"] = aligned.event[keep].astype(int).tolist()
        else:
            groups = [values[aligned.codes == code] for code in range(len(labels))]
            entry = {"n": sum(len(g) for g in groups),
                     "groups": [{"label": label, "samples": g.index.tolist(), "values": _numbers(g)}
                                for label, g in zip(labels, groups)]}
        entries.append({"cohort": cohort, **entry})
    if kind == "CON":
        return {"plot": "scatter", "x_label": name, "y_label": _label(feature), "cohorts": entries}
    if kind == "SURV":
        return {"plot": "survival", "x_label": f"{name} time" + (f" ({unit})" if unit else ""),
                "y_label": _label(feature), "cohorts": entries}
    return {"plot": "groups", "labels": list(labels), "y_label": _label(feature), "cohorts": entries}
