"""The scan engine end to end: real Zarr stores, a real multi-process LocalCluster, real
Parquet shards; results against a direct computation and against scipy."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from linkscan.engine.plan import ScanSpec, Tile, make_plan, plan_tiles
from linkscan.engine.runner import open_client, run_scan
from linkscan.jobs import demo
from linkscan.storage.inputs.cohort_store import CohortStore
from linkscan.errors import JobError
from linkscan.storage.inputs.ingest import ingest
from linkscan.storage.results.store import ResultStore
from stores import proteome_store

COHORTS = ("BRCA", "COAD", "LUAD")


def _make_store(root: Path, n_features: int, seed: int = 3) -> Path:
    return proteome_store(root, n_features=n_features, cohorts=COHORTS, seed=seed, samples=(30, 60))


def _all_rows(results: Path) -> pd.DataFrame:
    import fastparquet

    shards = sorted((results / "shards").glob("*.parquet"))
    return pd.concat([fastparquet.ParquetFile(str(p)).to_pandas() for p in shards], ignore_index=True)


def _shard_bytes(results: Path) -> dict[str, bytes]:
    files = sorted((results / "shards").glob("*.parquet")) + [results / "features.parquet"]
    return {p.name: p.read_bytes() for p in files}


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return _make_store(tmp_path_factory.mktemp("cohorts"), n_features=150)


@pytest.fixture(scope="module")
def client2():
    """A real LocalCluster: 2 worker processes, one thread each."""
    with open_client(n_workers=2) as client:
        assert len(client.nthreads()) == 2
        yield client


@pytest.fixture(scope="module")
def scanned(store, client2, tmp_path_factory) -> Path:
    results = tmp_path_factory.mktemp("res") / "tile64"
    report = run_scan(ScanSpec(store=str(store), results=str(results), omics="proteome", tile_size=64),
                      client=client2, progress=False)
    assert report.tiles_skipped == 0 and len(report.tiles_run) == len(plan_tiles(150, 64)) == 6
    return results


def test_plan_tiles__upper_triangle_and_stable_keys():
    tiles = plan_tiles(10, 4)
    assert [(t.i, t.j) for t in tiles] == [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)]
    assert Tile(3, 12).key == "tile-00003-00012"


def test_make_plan__blocks_are_contiguous_rows_in_every_cohort(store):
    plan = make_plan(ScanSpec(store=str(store), results="unused", omics="proteome", tile_size=16))
    ctx = plan.context
    assert ctx.cohorts == COHORTS and plan.features.feature.is_monotonic_increasing
    for c, cohort in enumerate(COHORTS):
        ds = CohortStore(store).open(cohort, "proteome")
        local = ctx.x.local_index[c]
        present = local[local >= 0]
        np.testing.assert_array_equal(present, np.arange(ds.sizes["feature"]))  # sorted, all rows
        np.testing.assert_array_equal(plan.features.feature.to_numpy()[local >= 0], ds["feature"].to_numpy())
    # some cohort lacks some feature (the generator drops a few per cohort)
    assert any((index < 0).any() for index in ctx.x.local_index)


def test_make_plan__unknown_cohort_or_omics(store):
    with pytest.raises(JobError, match=r"cohorts OV have no 'proteome' data in the store"):
        make_plan(ScanSpec(store=str(store), results="x", omics="proteome", cohorts=("BRCA", "OV")))
    with pytest.raises(JobError, match=r"no cohort in the store .* has omics 'rna'; the store has proteome"):
        make_plan(ScanSpec(store=str(store), results="x", omics="rna"))
    with pytest.raises(JobError, match=r"has omics 'proteom' \(did you mean proteome\?\)"):
        make_plan(ScanSpec(store=str(store), results="x", omics="proteom"))


def test_run_scan__equals_direct_computation(store, scanned):
    """Every stored number equals the kernels run on whole cohorts in this process."""
    from linkscan.kernels.meta import stouffer
    from linkscan.kernels.pvalues import signed_log10p
    from linkscan.kernels.spearman import spearman_block

    rows = _all_rows(scanned)
    features = ResultStore(str(scanned)).features()
    ids = features.feature.to_numpy()
    n = len(ids)
    slogps = []
    for cohort in COHORTS:
        ds = CohortStore(store).open(cohort, "proteome")
        rho, nn, logp = spearman_block(ds["values"].to_numpy())
        pos = np.searchsorted(ids, ds["feature"].to_numpy())
        full_rho = np.full((n, n), np.nan)
        full_rho[np.ix_(pos, pos)] = rho
        full_slogp = np.full((n, n), np.nan)
        full_slogp[np.ix_(pos, pos)] = signed_log10p(rho, logp)
        got = rows[f"{cohort}_stat"].to_numpy()
        want = full_rho[rows.feature, rows.partner].astype(np.float32)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(rows[f"{cohort}_slogp"].to_numpy(),
                                      full_slogp[rows.feature, rows.partner].astype(np.float32))
        slogps.append(full_slogp)
    # the meta p of the cohort p-values as stored (float32)
    stored = np.stack([s[rows.feature, rows.partner] for s in slogps], axis=1).astype(np.float32)
    meta, k = stouffer(stored.astype(np.float64))
    np.testing.assert_array_equal(rows.meta_slogp.to_numpy(), meta.astype(np.float32))
    np.testing.assert_array_equal(rows.n_cohorts.to_numpy(), k)
    # every ordered pair a != b with a result anywhere is present exactly once
    assert not rows.duplicated(["feature", "partner"]).any() and (rows.feature != rows.partner).all()
    has_any = np.zeros((n, n), bool)
    for s in slogps:
        has_any |= ~np.isnan(s)
    np.fill_diagonal(has_any, False)
    assert len(rows) == has_any.sum()


def test_run_scan__spot_pairs_equal_scipy(store, scanned):
    rs = ResultStore(str(scanned))
    out = rs.lookup(demo.DEMO_GENE, cohort="COAD")
    ds = CohortStore(store).open("COAD", "proteome")
    values = pd.DataFrame(ds["values"].to_numpy(), index=ds["feature"].to_numpy()).astype(np.float64)
    x = values.loc[demo.DEMO_GENE]
    for _, row in out.head(5).iterrows():
        y = values.loc[row.partner]
        ok = x.notna() & y.notna()
        rho, p = scipy.stats.spearmanr(x[ok], y[ok])
        assert row.COAD_n == ok.sum()
        assert row.COAD_stat == pytest.approx(rho, abs=1e-6)
        assert row.COAD_slogp == pytest.approx(np.sign(rho) * -np.log10(p), rel=1e-5)
    # the demo gene's module mates come first
    module = next(m for m in demo.MODULES if demo.DEMO_GENE in m.genes)
    assert set(out.partner.head(3)) <= set(module.genes)


def test_run_scan__same_bytes_whatever_tile_size_and_workers(store, scanned, tmp_path):
    results = tmp_path / "tile1000"
    with open_client(n_workers=1) as client1:
        run_scan(ScanSpec(store=str(store), results=str(results), omics="proteome", tile_size=1000),
                 client=client1, progress=False)
    assert _shard_bytes(results) == _shard_bytes(scanned)


def test_run_scan__resubmitting_a_complete_job_runs_nothing(store, scanned, client2):
    report = run_scan(ScanSpec(store=str(store), results=str(scanned), omics="proteome", tile_size=64),
                      client=client2, progress=False)
    assert report.tiles_run == [] and report.tiles_skipped == 6 and report.rows == len(_all_rows(scanned))


def test_run_scan__refuses_results_of_another_scan(store, scanned, client2):
    from linkscan.errors import ResultsError

    with pytest.raises(ResultsError, match=r"different scan \(differs in: min_n \(10 -> 12\)\)"):
        run_scan(ScanSpec(store=str(store), results=str(scanned), omics="proteome", tile_size=64, min_n=12),
                 client=client2, progress=False)


def test_run_scan__real_coad_proteome(real_data, tmp_path, client2):
    """A few hundred real COAD proteins (natural missing values) ingest and scan; spot
    pairs equal scipy on their overlap."""
    table = pd.read_csv(real_data / "cptac_coad" / "proteome_tumor.tsv.gz", sep="\t", index_col=0)
    subset = table.iloc[:300]
    path = tmp_path / "coad_proteome.tsv"
    subset.to_csv(path, sep="\t", na_rep="NA")
    ingest(tmp_path / "store", "COAD", "proteome", path)
    results = tmp_path / "res"
    run_scan(ScanSpec(store=str(tmp_path / "store"), results=str(results), omics="proteome", tile_size=128),
             client=client2, progress=False)
    rows = _all_rows(results)
    features = ResultStore(str(results)).features().feature.to_numpy()
    assert subset.isna().to_numpy().any() and len(features) == 300
    rng = np.random.default_rng(0)
    for i in rng.choice(len(rows), 50, replace=False):
        row = rows.iloc[i]
        x, y = subset.loc[features[int(row.feature)]], subset.loc[features[int(row.partner)]]
        ok = x.notna() & y.notna()
        rho, p = scipy.stats.spearmanr(x[ok], y[ok])
        assert row.COAD_n == ok.sum() and row.COAD_stat == pytest.approx(rho, abs=1e-6)
        assert row.meta_slogp == pytest.approx(np.sign(rho) * -np.log10(p), rel=1e-5)  # k = 1


def test_run_scan__mode_r_floors_and_flags_p(store, client2, tmp_path):
    """p_mode r stores R's cor.test p-values, its 0 stored as 2.2e-16 and flagged per cohort."""
    from linkscan.kernels.pvalues import signed_log10p
    from linkscan.kernels.spearman import P_FLOOR, spearman_block

    results = tmp_path / "mode_r"
    run_scan(ScanSpec(store=str(store), results=str(results), omics="proteome", tile_size=64, p_mode="r"),
             client=client2, progress=False)
    rows = _all_rows(results)
    ids = ResultStore(str(results)).features().feature.to_numpy()
    floor = np.float32(-np.log10(P_FLOOR))
    for cohort in COHORTS:
        ds = CohortStore(store).open(cohort, "proteome")
        rho, _, logp = spearman_block(ds["values"].to_numpy(), p_mode="r")
        pos = np.full(len(ids), -1)
        pos[np.searchsorted(ids, ds["feature"].to_numpy())] = np.arange(ds.sizes["feature"])
        a, b = pos[rows.feature], pos[rows.partner]
        ok = (a >= 0) & (b >= 0)
        want = signed_log10p(rho, logp)[a[ok], b[ok]].astype(np.float32)
        np.testing.assert_array_equal(rows[f"{cohort}_slogp"].to_numpy()[ok], want)
        flagged = rows[f"{cohort}_floored"].to_numpy()
        assert flagged.any() and flagged.dtype == bool
        np.testing.assert_array_equal(flagged, np.abs(rows[f"{cohort}_slogp"].to_numpy()) == floor)
    out = ResultStore(str(results)).lookup(demo.DEMO_GENE, cohort="BRCA", top=3)
    assert "BRCA_floored" in out.columns
    np.testing.assert_array_equal(out.BRCA_floored.to_numpy(), np.abs(out.BRCA_slogp.to_numpy()) == floor)


@pytest.fixture(scope="module")
def two_omics(tmp_path_factory) -> Path:
    """Two cohorts with a proteome, an RNA matrix (other and extra samples, noisy copy
    of the proteins) and phosphosites (several per gene, mapped by a gene map)."""
    root = tmp_path_factory.mktemp("two_omics")
    rng = np.random.default_rng(7)
    tables = demo.make_pan_cancer(n_features=60, cohorts=("BRCA", "LUAD"), seed=11, samples=(40, 50))
    for cohort, proteome in tables.items():
        proteome.to_csv(root / f"{cohort}_proteome.tsv", sep="\t", na_rep="NA")
        rna = proteome.iloc[:50].fillna(0.0) + rng.normal(0, 0.7, (50, proteome.shape[1]))
        rna = rna.iloc[:, 5:]  # five proteome samples have no RNA ...
        rna["EXTRA-1"] = rng.normal(size=50)  # ... and one RNA sample has no proteome
        rna.to_csv(root / f"{cohort}_rna.tsv", sep="\t", na_rep="NA")
        genes = list(proteome.index[:20])
        sites = pd.DataFrame(
            np.repeat(proteome.loc[genes].to_numpy(), 2, axis=0) + rng.normal(0, 0.5, (40, proteome.shape[1])),
            index=[f"{g}-S{k}" for g in genes for k in (10, 20)], columns=proteome.columns)
        sites.to_csv(root / f"{cohort}_phospho.tsv", sep="\t", na_rep="NA")
        pd.DataFrame({"site": sites.index, "gene": np.repeat(genes, 2)}).to_csv(
            root / "site_to_gene.tsv", sep="\t", index=False)
        for omics in ("proteome", "rna", "phospho"):
            ingest(root / "store", cohort, omics, root / f"{cohort}_{omics}.tsv",
                   gene_map=root / "site_to_gene.tsv" if omics == "phospho" else None)
    return root


def _values(store, cohort, omics) -> pd.DataFrame:
    ds = CohortStore(store).open(cohort, omics)
    return pd.DataFrame(ds["values"].to_numpy().astype(np.float64), index=ds["feature"].to_numpy(),
                        columns=ds["sample"].to_numpy())


def test_run_scan__trans_of_two_omics_is_the_full_rectangle(two_omics, client2):
    results = two_omics / "res_trans_xy"
    run_scan(ScanSpec(store=str(two_omics / "store"), results=str(results), omics="rna",
                      omics_y="proteome", tile_size=16), client=client2, progress=False)
    rows = _all_rows(results)
    features = ResultStore(str(results)).features()
    assert list(features.omics.unique()) == ["rna", "proteome"]
    n_rna = int((features.omics == "rna").sum())
    primary = rows[rows.feature < rows.partner]
    assert (primary.feature < n_rna).all() and (primary.partner >= n_rna).all()
    assert len(rows) == 2 * len(primary)
    ids = features.feature.to_numpy()
    for cohort in ("BRCA", "LUAD"):
        rna, prot = _values(two_omics / "store", cohort, "rna"), _values(two_omics / "store", cohort, "proteome")
        shared = [s for s in rna.columns if s in prot.columns]
        assert len(shared) == prot.shape[1] - 5
        for _, row in primary.sample(40, random_state=1).iterrows():
            x = rna.loc[ids[int(row.feature)], shared]
            y = prot.loc[ids[int(row.partner)], shared]
            ok = x.notna() & y.notna()
            rho, _ = scipy.stats.spearmanr(x[ok], y[ok])
            assert row[f"{cohort}_n"] == ok.sum() and row[f"{cohort}_stat"] == pytest.approx(rho, abs=1e-6)
    out = ResultStore(str(results)).lookup(demo.DEMO_GENE)
    assert {"omics", "partner_omics"} <= set(out.columns) and set(out.omics) == {"rna", "proteome"}


def test_run_scan__cis_matches_features_by_gene(two_omics, client2):
    results = two_omics / "res_cis"
    run_scan(ScanSpec(store=str(two_omics / "store"), results=str(results), kind="cis", omics="phospho",
                      omics_y="proteome", tile_size=8), client=client2, progress=False)
    rows = _all_rows(results)
    features = ResultStore(str(results)).features()
    primary = rows[rows.feature < rows.partner]
    ids, genes = features.feature.to_numpy(), features.gene.to_numpy()
    assert len(primary) == 40  # two sites for each of 20 genes, each against its protein
    assert (genes[primary.feature] == genes[primary.partner]).all()
    for cohort in ("BRCA", "LUAD"):
        sites, prot = _values(two_omics / "store", cohort, "phospho"), _values(two_omics / "store", cohort, "proteome")
        for _, row in primary.iterrows():
            x, y = sites.loc[ids[int(row.feature)]], prot.loc[ids[int(row.partner)]]
            ok = x.notna() & y.notna()
            rho, p = scipy.stats.spearmanr(x[ok], y[ok])
            assert row[f"{cohort}_stat"] == pytest.approx(rho, abs=1e-6)
            assert row[f"{cohort}_slogp"] == pytest.approx(np.sign(rho) * -np.log10(p), rel=1e-5)
    out = ResultStore(str(results)).lookup(demo.DEMO_GENE)
    assert set(out.feature) == {"MKI67-S10", "MKI67-S20", "MKI67"} and len(out) == 4


def test_run_scan__bh_q_equals_one_whole_scan_computation(scanned):
    """q of every row equals R's p.adjust(method = "BH") over all pairs of the scan at
    once (each pair counted once), though the scan ran as separate tiles."""
    rows = _all_rows(scanned)
    once = rows[rows.feature < rows.partner]
    for prefix in [*COHORTS, "meta"]:
        x = once[f"{prefix}_slogp"].to_numpy(np.float64)
        tested = ~np.isnan(x)
        p = 10.0 ** -np.abs(x[tested])
        order = np.argsort(-p, kind="stable")
        q = np.minimum(np.minimum.accumulate(len(p) / np.arange(len(p), 0, -1) * p[order]), 1.0)
        q = q[np.argsort(order)]
        got = once[f"{prefix}_log10q"].to_numpy(np.float64)
        assert np.isnan(got[~tested]).all()
        np.testing.assert_allclose(got[tested], np.log10(q), rtol=1e-6, atol=1e-6)
    # the mirrored row of a pair carries the same q
    mirror = rows.set_index(["feature", "partner"]).BRCA_log10q
    swapped = once.set_index(["partner", "feature"]).BRCA_log10q
    swapped.index.names = ["feature", "partner"]
    np.testing.assert_array_equal(mirror.loc[swapped.index].to_numpy(), swapped.to_numpy())


def test_run_scan__resume_recomputes_damaged_parts_only(store, scanned, client2, tmp_path):
    """An interrupted store with a truncated part and a corrupted one (same size, other
    bytes): resubmitting recomputes exactly those two tiles; the result equals a clean run."""
    from linkscan.engine.status import job_status

    spec = ScanSpec(store=str(store), results=str(tmp_path / "res"), omics="proteome", tile_size=64)
    plan = make_plan(spec)
    rs = plan.context.results
    rs.create_or_resume(plan.manifest, plan.features)
    from linkscan.engine.tile import run_tile

    for tile in plan.tiles[:4]:  # an interrupted run: 4 of 6 tiles
        run_tile(plan.context, tile)
    status = job_status(spec)
    assert (status.state, status.tiles_done, status.tiles_total) == ("interrupted", 4, 6)
    assert status.pairs_done == sum(plan.pairs(t) for t in plan.tiles[:4]) and status.eta is None
    truncated = next((Path(rs.root) / "parts").glob(f"*/{plan.tiles[0].key}.parquet"))
    truncated.write_bytes(truncated.read_bytes()[:-7])
    corrupted = next((Path(rs.root) / "parts").glob(f"*/{plan.tiles[1].key}.parquet"))
    data = bytearray(corrupted.read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupted.write_bytes(bytes(data))

    report = run_scan(spec, client=client2, progress=False)
    assert sorted(report.tiles_run) == sorted(t.key for t in plan.tiles[:2] + plan.tiles[4:])
    assert _shard_bytes(tmp_path / "res") == _shard_bytes(scanned)
    assert job_status(spec).state == "complete" and rs.lock_holder() is None


def test_run_scan__a_failing_tile_is_named_recorded_and_shown_by_status(tmp_path, client2):
    from linkscan.engine.status import job_status
    from linkscan.errors import LinkscanError

    store = _make_store(tmp_path, n_features=80, seed=9)
    chunk = next((Path(CohortStore(str(store)).values_path("LUAD", "proteome")) / "c").rglob("*"))
    while chunk.is_dir():
        chunk = next(chunk.iterdir())
    chunk.write_bytes(b"not a zarr chunk")  # damaged input the plan cannot see
    spec = ScanSpec(store=str(store), results=str(tmp_path / "res"), omics="proteome", tile_size=32)
    with pytest.raises(LinkscanError, match=r"tile tile-\d{5}-\d{5} failed on the cluster: .*resubmit"):
        run_scan(spec, client=client2, progress=False)
    status = job_status(spec)
    assert status.state == "interrupted" and status.failures
    last = status.failures[-1]
    assert last["tile"].startswith("tile-") and "Zstd" in last["error"]
    assert f"failures: {len(status.failures)} (last: {last['tile']}" in str(status)
    assert ResultStore(str(tmp_path / "res")).lock_holder() is None  # released on failure


def test_open_client__unreachable_scheduler_is_named_without_credentials():
    from linkscan.engine.runner import redact
    from linkscan.errors import LinkscanError

    assert redact("tcp://user:s3cret@10.0.0.1:8786") == "tcp://***@10.0.0.1:8786"
    assert redact("tls://host:8786") == "tls://host:8786"
    with pytest.raises(LinkscanError) as info:
        with open_client("tcp://alice:s3cret@127.0.0.1:9"):
            pass
    assert "cannot reach the dask scheduler at tcp://***@127.0.0.1:9" in str(info.value)
    assert "s3cret" not in str(info.value)
