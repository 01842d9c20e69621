"""linkscan.storage.inputs.cohort_store and linkscan.storage.inputs.variables: layout, round trip, atomic replace."""

import json
import os
import pickle
import socket
import threading
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr

from linkscan.storage.inputs import cohort_store, variables
from linkscan.storage.inputs.cohort_store import CohortStore, check_name
from linkscan.errors import InputError, WriteError
from linkscan.storage.inputs.phenotypes import Phenotype


def _dataset(rng, n_features=11, n_samples=6, *, offset=0.0) -> xr.Dataset:
    values = rng.normal(size=(n_features, n_samples)) + offset
    values[rng.random(values.shape) < 0.3] = np.nan
    values[3] = np.nan  # a feature without any value
    features = sorted(f"F{i:03d}" for i in range(n_features))
    return xr.Dataset(
        {"values": (("feature", "sample"), values)},
        coords={
            "feature": features,  # a list: numpy makes it <U, which the store must convert
            "sample": [f"s{j}" for j in range(n_samples)],
            "gene": ("feature", [f"G{i // 2}" for i in range(n_features)]),
        },
        attrs={"source": "test"},
    )


@pytest.mark.parametrize("chunk_features", [1, 4, 11, 512])
def test_write__round_trip(tmp_path, rng, chunk_features):
    store = CohortStore(tmp_path / "store")
    ds = _dataset(rng)
    store.write("COAD", "proteome", ds, chunk_features=chunk_features)
    got = store.open("COAD", "proteome")

    want = ds["values"].values.astype(np.float32)
    np.testing.assert_array_equal(got["values"].values, want)  # values and NaN pattern
    assert got["values"].dtype == np.float32
    assert got["feature"].values.tolist() == ds["feature"].values.tolist()
    assert got["sample"].values.tolist() == ds["sample"].values.tolist()
    assert got["gene"].values.tolist() == ds["gene"].values.tolist()
    # feature blocks x one sample chunk, on disk and as xarray reports it
    block = (min(chunk_features, 11), 6)
    assert got["values"].encoding["chunks"] == block
    assert zarr.open_array(store.values_path("COAD", "proteome")).chunks == block
    assert got.attrs["cohort"] == "COAD" and got.attrs["omics"] == "proteome"
    assert got.attrs["source"] == "test" and got.attrs["n_inf_replaced"] == 0
    assert got.attrs["n_missing"] == int(np.isnan(want).sum())
    assert got.attrs["n_all_missing"] == 1
    assert "ingested_at" in got.attrs


def test_write__strings_use_variable_length_utf8(tmp_path, rng):
    # zarr 3.1 warns (UnstableSpecificationWarning) for fixed-width strings; pytest runs
    # with filterwarnings=error, so a write that produced them would fail here already.
    store = CohortStore(tmp_path)
    ds = _dataset(rng).assign_coords(gene=("feature", ["ÄBC"] * 11))
    store.write("C", "o", ds)
    group = zarr.open_group(f'{store.dataset_path("C", "o")}/{store.open("C", "o").attrs["version"]}', mode="r")
    for name in ("feature", "sample", "gene"):
        assert str(group[name].metadata.data_type) == "VariableLengthUTF8()"
    assert store.open("C", "o")["gene"].values.tolist() == ["ÄBC"] * 11


def test_values_path__row_slices(tmp_path, rng):
    store = CohortStore(tmp_path)
    ds = _dataset(rng)
    store.write("C", "o", ds, chunk_features=4)
    array = zarr.open_array(store.values_path("C", "o"), mode="r")
    np.testing.assert_array_equal(array[4:9], ds["values"].values[4:9].astype(np.float32))


def test_write__replaces(tmp_path, rng):
    store = CohortStore(tmp_path)
    store.write("C", "o", _dataset(rng))
    newer = _dataset(rng, n_features=5, n_samples=3, offset=100.0)
    store.write("C", "o", newer)
    got = store.open("C", "o")
    assert got.sizes == {"feature": 5, "sample": 3}
    np.testing.assert_array_equal(got["values"].values, newer["values"].values.astype(np.float32))
    assert sorted(os.listdir(tmp_path / "C")) == ["o.zarr"]  # nothing left over
    assert sorted(os.listdir(tmp_path / "C" / "o.zarr")) == [got.attrs["version"], "zarr.json"]


def test_write__failure_keeps_old_version(tmp_path, rng, monkeypatch):
    store = CohortStore(tmp_path)
    old = _dataset(rng)
    store.write("C", "o", old)

    def half_write(ds, path, encoding):
        real_write(ds, path, encoding)  # the data lands in the temporary directory...
        raise OSError("disk full")  # ...and then the write fails

    real_write = cohort_store._write_zarr
    monkeypatch.setattr(cohort_store, "_write_zarr", half_write)
    with pytest.raises(WriteError, match="disk full"):
        store.write("C", "o", _dataset(rng, offset=50.0))
    with pytest.raises(WriteError, match="disk full"):
        store.write("D", "o", _dataset(rng))  # a new cohort that never completes

    got = store.open("C", "o")
    np.testing.assert_array_equal(got["values"].values, old["values"].values.astype(np.float32))
    assert store.cohorts() == ["C"] and store.omics("C") == ["o"]
    assert sorted(os.listdir(tmp_path / "C")) == ["o.zarr"]
    assert sorted(os.listdir(tmp_path / "C" / "o.zarr")) == [got.attrs["version"], "zarr.json"]


def test_write__failed_switch_keeps_old_version(tmp_path, rng, monkeypatch):
    """The new version is written in full but naming it current fails: the old version
    stays current and the new one is removed."""
    from linkscan.storage.location import Location

    store = CohortStore(tmp_path)
    old = _dataset(rng)
    store.write("C", "o", old)
    before = store.open("C", "o").attrs["version"]
    real_write = Location.write_bytes

    def write_bytes(self, data):
        if self.url.endswith("zarr.json"):
            raise OSError(5, "Input/output error")
        real_write(self, data)

    monkeypatch.setattr(Location, "write_bytes", write_bytes)
    with pytest.raises(WriteError, match="the previous version is unchanged"):
        store.write("C", "o", _dataset(rng, offset=50.0))
    monkeypatch.undo()
    got = store.open("C", "o")
    assert got.attrs["version"] == before
    np.testing.assert_array_equal(got["values"].values, old["values"].values.astype(np.float32))
    assert sorted(os.listdir(tmp_path / "C" / "o.zarr")) == [before, "zarr.json"]


def test_pinned_values__read_the_planned_version_while_it_exists(tmp_path, rng):
    """A version made old by a newer write is still read as it was while it exists (a
    writer killed before removing it); once removed, a read is an error, never NaN."""
    store = CohortStore(tmp_path)
    old = _dataset(rng)
    store.write("C", "o", old, chunk_features=4)
    planned = store.open("C", "o").attrs["version"]
    pinned = store.pinned_values("C", "o", planned)
    want = old["values"].values.astype(np.float32)
    real_remove = cohort_store.Location.remove
    with pytest.MonkeyPatch.context() as killed:
        # the writer dies once its version is current: no old version is removed
        killed.setattr(cohort_store.Location, "remove_tree", lambda self: None)
        killed.setattr(cohort_store.Location, "remove",
                       lambda self: None if self.url.endswith("zarr.json") else real_remove(self))
        store.write("C", "o", _dataset(rng, offset=50.0))
    assert store.open("C", "o").attrs["version"] != planned
    np.testing.assert_array_equal(pinned.rows(4, 9), want[4:9])
    np.testing.assert_array_equal(store.pinned_values("C", "o", planned).take(np.array([0, 5, 10])), want[[0, 5, 10]])

    store.write("C", "o", _dataset(rng, offset=90.0))  # removes every old version
    gone = (r"cohort 'C', omics 'o' was re-ingested while this scan ran: its planned version "
            rf"{planned} is gone \(the store now holds v-\S+\); the scan stopped rather than read other data: "
            r"submit the job again into a new results directory")
    with pytest.raises(InputError, match=gone):
        pinned.rows(4, 9)
    with pytest.raises(InputError, match=gone):
        pinned.take(np.array([0]))
    with pytest.raises(InputError, match=gone):
        store.pinned_values("C", "o", planned)


def test_pinned_values__a_read_during_the_removal_is_an_error(tmp_path, rng):
    """The old version is removed while a read runs (the zarr array opened before,
    chunks gone under it): the read is refused after the fact, not returned as NaN."""
    store = CohortStore(tmp_path)
    store.write("C", "o", _dataset(rng), chunk_features=4)
    planned = store.open("C", "o").attrs["version"]
    pinned = store.pinned_values("C", "o", planned)

    class Racing:
        """The array, with a writer that replaces the Dataset while a read runs."""

        def __init__(self, array):
            self.array = array

        def __getitem__(self, selection):
            store.write("C", "o", _dataset(rng, offset=50.0))
            return self.array[selection]  # the removed chunks read as NaN

    pinned._array = Racing(pinned._array)
    with pytest.raises(InputError, match=rf"its planned version {planned} is gone"):
        pinned.rows(0, 11)


def test_open__a_version_removed_while_it_is_read_is_read_again(tmp_path, rng, monkeypatch):
    """A re-ingest removes the version open() is reading (after zarr opened it, before
    the coordinates are loaded): open() reads the new version instead of returning ids
    read from removed chunks."""
    store = CohortStore(tmp_path)
    store.write("C", "o", _dataset(rng))
    newer = _dataset(rng, n_features=5, n_samples=3, offset=100.0)
    real_open_zarr = xr.open_zarr
    calls = []

    def open_zarr(*args, **kwargs):
        ds = real_open_zarr(*args, **kwargs)
        if not calls:
            store.write("C", "o", newer)
        calls.append(args[0])
        return ds

    monkeypatch.setattr(cohort_store.xr, "open_zarr", open_zarr)
    got = store.open("C", "o")
    assert len(calls) == 2 and got.attrs["version"] in calls[1]
    assert got["feature"].values.tolist() == newer["feature"].values.tolist()
    assert got["sample"].values.tolist() == ["s0", "s1", "s2"]
    np.testing.assert_array_equal(got["values"].values, newer["values"].values.astype(np.float32))


def test_write__removes_an_old_version_marker_first(tmp_path, rng, monkeypatch):
    """The old version's zarr.json goes before any of its arrays, so that a reader that
    finds it after a read knows the read saw the whole version."""
    store = CohortStore(tmp_path)
    store.write("C", "o", _dataset(rng))
    old = tmp_path / "C" / "o.zarr" / store.open("C", "o").attrs["version"]
    seen = []
    real_remove_tree = cohort_store.Location.remove_tree

    def remove_tree(self):
        seen.append((self.url, (Path(self.url) / "zarr.json").exists()))
        real_remove_tree(self)

    monkeypatch.setattr(cohort_store.Location, "remove_tree", remove_tree)
    store.write("C", "o", _dataset(rng, offset=50.0))
    assert seen == [(str(old), False)] and not old.exists()


def test_open__dataset_written_before_versions_is_read_then_replaced(tmp_path, rng):
    """An unversioned Dataset (arrays beside zarr.json) opens as it is; the next write
    makes the versioned layout and leaves nothing of the old one."""
    store = CohortStore(tmp_path)
    store.write("X", "o", _dataset(rng))
    legacy = store.open("X", "o").load()
    del legacy.attrs["version"]
    folder = tmp_path / "C" / "o.zarr"
    legacy.to_zarr(folder, mode="w-", zarr_format=3, consolidated=False)
    got = store.open("C", "o")
    assert got.attrs["version"] == ""
    np.testing.assert_array_equal(got["values"].values, legacy["values"].values)
    assert store.values_path("C", "o") == str(folder / "values")
    pinned = store.pinned_values("C", "o", "")
    np.testing.assert_array_equal(pinned.rows(0, 11), legacy["values"].values)
    newer = _dataset(rng, n_features=5, n_samples=3, offset=100.0)
    store.write("C", "o", newer)
    got = store.open("C", "o")
    np.testing.assert_array_equal(got["values"].values, newer["values"].values.astype(np.float32))
    assert sorted(os.listdir(folder)) == [got.attrs["version"], "zarr.json"]
    with pytest.raises(InputError, match=r"its planned version \(unversioned\) is gone"):
        pinned.rows(0, 11)


def test_cohorts__ignores_leftovers(tmp_path, rng):
    store = CohortStore(tmp_path)
    assert store.cohorts() == []
    store.write("COAD", "proteome", _dataset(rng))
    (tmp_path / "COAD" / ".proteome.zarr.tmp-0123").mkdir()  # a killed write
    (tmp_path / "COAD" / "rna.zarr").mkdir()  # not a complete group (no zarr.json)
    (tmp_path / "COAD" / "notes.txt").write_text("x")
    (tmp_path / "UCEC").mkdir()  # no omics
    (tmp_path / ".hidden").mkdir()
    assert store.cohorts() == ["COAD"]
    assert store.omics("COAD") == ["proteome"]
    assert store.omics("UCEC") == []


def test_open__missing_names_what_exists(tmp_path, rng):
    store = CohortStore(tmp_path / "store")
    with pytest.raises(InputError, match=r"cohort 'COAD' is not in the store .* \(the store is empty\)"):
        store.open("COAD", "proteome")
    store.write("COAD", "proteome", _dataset(rng))
    store.write("UCEC", "rna", _dataset(rng))
    with pytest.raises(InputError, match=r"cohort 'BRCA' is not in the store .* \(cohorts there: COAD, UCEC\)"):
        store.open("BRCA", "proteome")
    with pytest.raises(InputError, match=r"omics 'rna' is not in cohort 'COAD' .* \(omics there: proteome\)"):
        store.values_path("COAD", "rna")


@pytest.mark.parametrize("name", ["", ".hidden", "a/b", "..", "a b", "x\\y", "tab\t", "é"])
def test_check_name__invalid(name):
    with pytest.raises(InputError, match=r"invalid cohort name .*use letters, digits"):
        check_name(name, "cohort")


def test_write__bad_names(tmp_path, rng):
    store = CohortStore(tmp_path)
    with pytest.raises(InputError, match=r"invalid omics name '../x'"):
        store.write("C", "../x", _dataset(rng))
    with pytest.raises(InputError, match=r"invalid cohort name '/etc'"):
        store.open("/etc", "o")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda ds: ds.sortby("feature", ascending=False), r"unique and sorted ascending, but 'F010' then 'F009'"),
        (lambda ds: ds.assign_coords(sample=["s"] * 6), r"sample id 's' occurs more than once"),
        (lambda ds: ds.transpose("sample", "feature"), r"'values' has dims \('sample', 'feature'\)"),
        (lambda ds: ds.drop_vars("gene"), r"missing variable\(s\) gene"),
        (lambda ds: ds.assign(extra=ds["values"]), r"unknown variable\(s\) extra; .*register them"),
        (lambda ds: ds.assign_coords(gene=("feature", np.arange(11))), r"'gene' has dtype int64, expected text"),
        (lambda ds: ds.assign(values=ds["values"].fillna(np.inf)), r"infinite value\(s\) .*replace infinities"),
        (lambda ds: ds.assign(values=ds["values"] * 1e300), r"infinite value"),
    ],
)
def test_write__invalid_dataset(tmp_path, rng, change, match):
    store = CohortStore(tmp_path)
    with pytest.raises(InputError, match=match):
        store.write("C", "o", change(_dataset(rng)))
    assert store.cohorts() == []


def test_write__bad_chunk_size(tmp_path, rng):
    with pytest.raises(InputError, match=r"chunk_features must be a positive integer, not 0"):
        CohortStore(tmp_path).write("C", "o", _dataset(rng), chunk_features=0)


def test_cohort_store__pickle(tmp_path, rng):
    store = CohortStore(tmp_path)
    store.write("C", "o", _dataset(rng))
    clone = pickle.loads(pickle.dumps(store))
    assert clone == store and clone.omics("C") == ["o"]


def test_validate__registry():
    assert set(variables.COHORT_VARIABLES) == {"values", "feature", "sample", "gene"}
    with pytest.raises(ValueError, match="kind must be"):
        variables.Variable("x", ("feature",), "i", "doc")


def test_open__text_coordinates_are_object_str(tmp_path, rng):
    # zarr returns numpy StringDType, which refuses .astype(str); open() hands out object arrays
    store = CohortStore(tmp_path)
    store.write("C", "o", _dataset(rng))
    ds = store.open("C", "o")
    for name in ("feature", "sample", "gene"):
        assert ds[name].dtype == object
        assert ds[name].values.astype(str).dtype.kind == "U"
    assert ds.indexes["feature"].get_loc("F004") == 4
    store.write("C", "copy", ds)  # an opened Dataset can be written back as it is
    np.testing.assert_array_equal(store.open("C", "copy")["values"].values, ds["values"].values)


# ------------------------------------------------------------------ tumor and normal


def test_write__normal_beside_tumor_same_ids(tmp_path, rng):
    store = CohortStore(tmp_path)
    tumor, normal = _dataset(rng), _dataset(rng, n_samples=4, offset=10.0)  # samples s0..s3 in both
    store.write("UCEC", "proteome", tumor)
    store.write("UCEC", "proteome", normal, tissue="normal")
    assert sorted(os.listdir(tmp_path / "UCEC")) == ["proteome.normal.zarr", "proteome.zarr"]
    assert store.omics("UCEC") == ["proteome"] and store.cohorts() == ["UCEC"]
    assert store.tissues("UCEC", "proteome") == ["tumor", "normal"]
    got = store.open("UCEC", "proteome", tissue="normal")
    assert got.attrs["tissue"] == "normal" and store.open("UCEC", "proteome").attrs["tissue"] == "tumor"
    assert got["sample"].values.tolist() == ["s0", "s1", "s2", "s3"]
    np.testing.assert_array_equal(got["values"].values, normal["values"].values.astype(np.float32))
    assert store.values_path("UCEC", "proteome", "normal") == str(
        tmp_path / "UCEC" / "proteome.normal.zarr" / got.attrs["version"] / "values")
    assert store.dataset_path("UCEC", "proteome", "normal") == str(tmp_path / "UCEC" / "proteome.normal.zarr")


def test_open__normal_missing_names_what_exists(tmp_path, rng):
    store = CohortStore(tmp_path)
    store.write("C", "proteome", _dataset(rng))
    with pytest.raises(InputError, match=r"omics 'proteome' of cohort 'C' has no normal Dataset .*\(tissues there: tumor\); "
                                          r"ingest the normal samples first \(linkscan ingest ... --normal proteome=TABLE\)"):
        store.open("C", "proteome", tissue="normal")
    with pytest.raises(InputError, match=r"invalid tissue 'adjacent': use one of 'tumor', 'normal'"):
        store.open("C", "proteome", tissue="adjacent")
    store.write("C", "rna", _dataset(rng), tissue="normal")  # a normal without a tumor Dataset
    assert store.omics("C") == ["proteome"] and store.tissues("C", "rna") == ["normal"]
    with pytest.raises(InputError, match=r"omics 'rna' of cohort 'C' has no tumor Dataset .*\(tissues there: normal\)"):
        store.open("C", "rna")


@pytest.mark.parametrize("name", ["phenotypes", "Phenotypes", "proteome.normal", "x.NORMAL"])
def test_check_name__reserved_omics(name):
    with pytest.raises(InputError, match=rf"invalid omics name '{name}': .*reserved"):
        check_name(name, "omics")
    assert check_name(name, "cohort") == name  # only omics names are reserved


def test_write__kind(tmp_path, rng):
    store = CohortStore(tmp_path)
    calls = _dataset(rng).assign(values=lambda d: (d["values"] > 0).where(d["values"].notnull()))
    calls.attrs["kind"] = "binary"
    store.write("C", "mutation", calls)
    assert store.open("C", "mutation").attrs["kind"] == "binary"
    store.write("C", "proteome", _dataset(rng))
    assert store.open("C", "proteome").attrs["kind"] == "continuous"
    bad = _dataset(rng)
    bad.attrs["kind"] = "binary"
    with pytest.raises(InputError, match=r"a binary Dataset holds \d+ value\(s\) other than 0, 1 or NaN \(first: "):
        store.write("C", "bad", bad)
    bad.attrs["kind"] = "counts"
    with pytest.raises(InputError, match=r"attribute kind='counts'; use one of 'continuous', 'binary'"):
        store.write("C", "bad", bad)


def test_open__old_dataset_without_tissue_and_kind(tmp_path, rng):
    store = CohortStore(tmp_path)
    store.write("C", "o", _dataset(rng))
    group = zarr.open_group(f'{store.dataset_path("C", "o")}/{store.open("C", "o").attrs["version"]}', mode="r+")
    for key in ("tissue", "kind"):
        del group.attrs[key]
    ds = store.open("C", "o")
    assert (ds.attrs["tissue"], ds.attrs["kind"]) == ("tumor", "continuous")


# ------------------------------------------------------------------------ phenotypes


def _phenotypes(samples, offset=0.0):
    n = len(samples)
    return [
        Phenotype("Age/years", "CON", samples, values=np.arange(n) + offset),
        Phenotype("Stage", "ORD", samples, codes=np.arange(n) % 3 - 1, levels=("I", "II")),
        Phenotype("OS", "SURV", samples, time=np.arange(n) * 10.0, event=np.arange(n) % 2, unit="days"),
    ]


def test_write_phenotypes__round_trip_and_not_an_omics(tmp_path, rng):
    store = CohortStore(tmp_path)
    store.write("C", "proteome", _dataset(rng))
    samples = ["s0", "s1", "s9"]
    store.write_phenotypes("C", _phenotypes(samples), attrs={"sources": ["x.tsv"]})
    assert store.omics("C") == ["proteome"] and store.has_phenotypes("C")
    got = store.phenotypes("C")
    assert list(got) == ["Age/years", "OS", "Stage"]
    assert got["Age/years"].variable == "Age_years" and got["Age/years"].values.tolist() == [0.0, 1.0, 2.0]
    assert got["Stage"].codes.tolist() == [-1, 0, 1] and got["Stage"].codes.dtype == np.int8
    assert got["OS"].time.tolist() == [0.0, 10.0, 20.0] and got["OS"].event.tolist() == [0, 1, 0]
    ds = store.open_phenotypes("C")
    assert ds.attrs["sources"] == ["x.tsv"] and ds.attrs["cohort"] == "C"
    assert ds["sample"].dtype == object and ds["surv_field"].values.tolist() == ["time", "event"]
    assert sorted(os.listdir(tmp_path / "C")) == ["phenotypes.zarr", "proteome.zarr"]


def test_write_phenotypes__atomic_replace(tmp_path, monkeypatch):
    store = CohortStore(tmp_path)
    store.write_phenotypes("C", _phenotypes(["a", "b"]))
    store.write_phenotypes("C", _phenotypes(["a", "b", "c"], offset=5.0)[:1])
    assert list(store.phenotypes("C")) == ["Age/years"]
    assert store.phenotypes("C")["Age/years"].values.tolist() == [5.0, 6.0, 7.0]

    def half_write(ds, path, encoding):
        real_write(ds, path, encoding)
        raise OSError("disk full")

    real_write = cohort_store._write_zarr
    monkeypatch.setattr(cohort_store, "_write_zarr", half_write)
    with pytest.raises(WriteError, match="disk full"):
        store.write_phenotypes("C", _phenotypes(["x"]))
    monkeypatch.undo()
    assert store.phenotypes("C")["Age/years"].values.tolist() == [5.0, 6.0, 7.0]
    assert sorted(os.listdir(tmp_path / "C")) == ["phenotypes.zarr"]


def test_open_phenotypes__missing(tmp_path, rng):
    store = CohortStore(tmp_path)
    store.write("C", "proteome", _dataset(rng))
    assert not store.has_phenotypes("C")
    with pytest.raises(InputError, match=r"cohort 'C' has no phenotypes in the store .*--clinical TABLE"):
        store.phenotypes("C")
    with pytest.raises(InputError, match=r"no phenotypes to store"):
        store.write_phenotypes("C", [])
    with pytest.raises(InputError, match=r"phenotype 'Stage' comes twice"):
        store.write_phenotypes("C", _phenotypes(["a"]) + _phenotypes(["b"])[1:2])


# ------------------------------------------------------------------------ writer lock


def _in_thread(target, *args) -> tuple[threading.Thread, list]:
    """Run ``target(*args)`` in a thread; the list gets its exception, if any."""
    errors: list = []

    def run():
        try:
            target(*args)
        except Exception as exc:  # reported by the test
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def test_writing__a_second_writer_waits_for_the_first(tmp_path, rng, monkeypatch):
    """write() takes the cohort's writer lock: while another writer holds it, write()
    waits (it met the lock: an exclusive create refused) and writes once it is free.
    The holder's own writes in the block do not wait (the lock is reentrant)."""
    store = CohortStore(tmp_path)
    first, second = _dataset(rng), _dataset(rng, offset=50.0)
    refused = threading.Event()
    real_create = cohort_store.Location.create

    def create(self, data):
        try:
            return real_create(self, data)
        except FileExistsError:
            refused.set()
            raise

    monkeypatch.setattr(cohort_store.Location, "create", create)
    with store.writing("C"):
        assert os.listdir(tmp_path) == [".C.lock"]
        store.write("C", "o", first)
        thread, errors = _in_thread(store.write, "C", "o", second)
        assert refused.wait(60)
        np.testing.assert_array_equal(store.open("C", "o")["values"].values, first["values"].values.astype(np.float32))
    thread.join(60)
    assert not thread.is_alive() and errors == []
    np.testing.assert_array_equal(store.open("C", "o")["values"].values, second["values"].values.astype(np.float32))
    assert sorted(os.listdir(tmp_path)) == ["C"]  # the lock is given back


def test_writing__refused_after_waiting_names_the_holder_and_the_fix(tmp_path, rng):
    store = CohortStore(tmp_path)
    store.write("C", "o", _dataset(rng))
    lock = tmp_path / ".C.lock"
    lock.write_text(json.dumps({"host": socket.gethostname(), "pid": os.getppid(), "since": "2026-11-25 10:00:00"}))
    with pytest.raises(WriteError) as info:
        with store.writing("C", wait=0.1):
            pass
    assert str(info.value) == (
        f"cohort 'C' of the store {tmp_path} is being written by process {os.getppid()} on {socket.gethostname()} "
        f"since 2026-11-25 10:00:00 (waited 0 s for it); run this command again once that one has finished, or, if "
        f"no such process runs any more, delete {lock} first"
    )
    assert lock.exists()  # not ours: kept


def test_writing__lock_of_a_killed_writer_is_taken_over(tmp_path, rng):
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store = CohortStore(tmp_path)
    (tmp_path / ".C.lock").write_text(json.dumps({"host": socket.gethostname(), "pid": dead.pid, "since": "x"}))
    store.write("C", "o", _dataset(rng))
    assert store.omics("C") == ["o"] and sorted(os.listdir(tmp_path)) == ["C"]


def test_check_name__too_long():
    assert check_name("C" * 100, "cohort") == "C" * 100
    with pytest.raises(InputError, match=r"invalid omics name 'o{20}\.\.\.' \(101 characters\): at most 100 "):
        check_name("o" * 101, "omics")
