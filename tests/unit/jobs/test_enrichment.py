"""A gene's enrichment (jobs/enrichment.py, `linkscan gsea`): the ranking read from a
result store, the .rnk file, preranked GSEA over gene sets, and the demo's gene sets."""

import json
import re

import numpy as np
import pandas as pd
import pytest

import linkscan
from linkscan.errors import JobError, ResultsError
from linkscan.jobs import demo
from linkscan.jobs.cli import main
from linkscan.jobs.enrichment import COLUMNS, gsea, preranked, ranking, write_rnk
from linkscan.kernels.gsea import enrichment_scores, preranked_gsea
from linkscan.storage.inputs.gmt import GeneSet, write_gmt

#: Three filler proteins of one gene, as a gene's phosphosites are.
SITES = {"LSP00001": "PHOSX", "LSP00002": "PHOSX", "LSP00003": "PHOSX"}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A finished trans scan of the demo proteome (200 proteins; CCRCC and GBM, two cohorts
    where the proliferation module is active), with three fillers mapped to one gene; and
    the demo's gene sets for it."""
    root = tmp_path_factory.mktemp("gsea")
    tables = demo.make_pan_cancer(n_features=200, cohorts=("CCRCC", "GBM"), samples=(40, 60))
    sites = pd.DataFrame({"feature": list(SITES), "gene": list(SITES.values())})
    for cohort, table in demo.write_tables(tables, root / "tables").items():
        linkscan.ingest(root / "store", cohort, {"proteome": table}, gene_maps={"proteome": sites})
    job = linkscan.write_job(root / "trans.toml", store="store", results="results/trans", omics="proteome",
                             tile_size=100, n_workers=1)
    linkscan.submit(job, progress=False)
    return root / "results", demo.write_demo_gmt(root, n_features=200)


# ------------------------------------------------------------------ the ranking


def test_ranking__every_partner_gene_once_by_its_strongest_score(results):
    folder, _ = results
    rows = linkscan.ResultStore(folder / "trans").lookup("MKI67")
    ranked = ranking("mki67", folder)
    assert ranked.name == "meta_slogp" and ranked.index.name == "gene" and ranked.dtype == np.float32
    expected = {}
    for gene, score in zip(rows["partner_gene"], rows["meta_slogp"]):
        if not np.isnan(score) and (gene not in expected or abs(score) > abs(expected[gene])):
            expected[gene] = score
    assert ranked.to_dict() == expected
    sites = rows[rows["partner_gene"] == "PHOSX"]
    assert len(sites) == 3 and ranked["PHOSX"] == sites["meta_slogp"].iloc[sites["meta_slogp"].abs().argmax()]
    assert "MKI67" not in ranked.index and ranked.index.is_unique
    assert (np.diff(ranked.to_numpy()) <= 0).all()


def test_ranking__by_one_cohort(results):
    folder, _ = results
    ranked = ranking("MKI67", folder, cohort="gbm")
    rows = linkscan.ResultStore(folder / "trans").lookup("MKI67", cohort="GBM")
    assert ranked.name == "GBM_slogp"
    pick = rows[rows["partner_gene"] == "TOP2A"]["GBM_slogp"]
    assert len(pick) == 1 and ranked["TOP2A"] == pick.iloc[0]
    assert len(ranked) == rows["partner_gene"].nunique()


def test_ranking__refuses_what_is_not_a_gene_s_partner_list(results):
    folder, _ = results
    with pytest.raises(ResultsError, match="the partners of a tumor_normal scan are not genes"):
        ranking("MKI67", folder, kind="tumor_normal")
    with pytest.raises(ResultsError, match="holds no 'cis' scan"):
        ranking("MKI67", folder, kind="cis")
    with pytest.raises(ResultsError, match="close matches: MKI67"):
        ranking("MKI76", folder)


def test_write_rnk__gene_tab_score_in_decreasing_score_without_header(results, tmp_path):
    ranked = ranking("MKI67", results[0])
    write_rnk(ranked.iloc[::-1], tmp_path / "out.rnk")  # any order in, ranked order out
    lines = (tmp_path / "out.rnk").read_text().splitlines()
    assert len(lines) == len(ranked) and lines[0].split("\t")[0] == ranked.index[0]
    back = pd.read_csv(tmp_path / "out.rnk", sep="\t", header=None, names=["gene", "score"])
    assert back["gene"].tolist() == ranked.index.tolist()
    np.testing.assert_array_equal(back["score"].to_numpy(np.float32), ranked.to_numpy())


# ------------------------------------------------------------------ preranked GSEA


def test_preranked__ties_are_ordered_by_gene_name_whatever_the_input_order(tmp_path):
    genes = [f"G{i:02d}" for i in range(30)]
    scores = np.repeat(np.arange(10, 0, -1.0) - 5.5, 3)  # three genes per score
    ranked = pd.Series(scores, index=genes)
    sets = {"EARLY": ["G00", "G03", "G06", "G09", "G12"], "LATE": ["G02", "G05", "G29", "G28"]}
    table = preranked(ranked, sets, permutations=50, min_size=4).set_index("set")
    shuffled = ranked.sample(frac=1.0, random_state=1)
    pd.testing.assert_frame_equal(preranked(shuffled, sets, permutations=50, min_size=4).set_index("set"), table)
    position = {g: i for i, g in enumerate(genes)}  # by score, then by name: the names' order here
    es, _ = enrichment_scores(scores, *_csr([sorted(position[g] for g in s) for s in sets.values()]))
    np.testing.assert_array_equal(table.loc[list(sets), "es"].to_numpy(), es)
    assert table.loc["LATE", "es"] < 0 and table.loc["LATE", "leading_edge"] == "G29;G28"
    write_rnk(shuffled, tmp_path / "ties.rnk")
    assert [line.split("\t")[0] for line in (tmp_path / "ties.rnk").read_text().splitlines()] == genes


def _csr(members):
    return np.concatenate(members), np.cumsum([0] + [len(m) for m in members])


def test_preranked__sets_are_sized_in_the_ranking_and_equal_the_kernel(rng):
    genes = [f"G{i:03d}" for i in range(200)]
    ranked = pd.Series(rng.normal(size=200), index=genes).sort_values(ascending=False)
    sets = {
        "SMALL": genes[:14] + ["NOT_RANKED"] * 5,  # 14 ranked genes: below min_size
        "EXACT_MIN": genes[20:35] + ["NOT_RANKED", genes[20]],  # 15, a repeat counted once
        "EXACT_MAX": genes[::4],  # 50
        "TOO_BIG": genes[::3],  # 67
        "ALL": genes,  # every ranked gene: no gene outside it, never tested
    }
    table = preranked(ranked, sets, permutations=300, seed=4, min_size=15, max_size=50)
    assert list(table.columns) == list(COLUMNS)
    assert sorted(table["set"]) == ["EXACT_MAX", "EXACT_MIN"]
    assert dict(zip(table["set"], table["size"])) == {"EXACT_MIN": 15, "EXACT_MAX": 50}
    order = {g: i for i, g in enumerate(ranked.index)}
    members = [sorted(order[g] for g in set(sets[name]) & set(order)) for name in table["set"]]
    res = preranked_gsea(ranked.to_numpy(), *_csr(members), permutations=300, seed=4)
    for column in ("es", "nes", "pvalue", "qvalue"):
        np.testing.assert_array_equal(table[column].to_numpy(), getattr(res, column))
    assert (table["lead_size"] == table["leading_edge"].str.count(";") + 1).all()


def test_preranked__a_gmt_file_and_a_mapping_give_the_same_table(tmp_path, rng):
    genes = [f"G{i:03d}" for i in range(100)]
    ranked = pd.Series(rng.normal(size=100), index=genes)
    sets = {"A": GeneSet("set a", tuple(genes[:30])), "B": GeneSet("", tuple(genes[50::2]))}
    from_file = preranked(ranked, write_gmt(tmp_path / "s.gmt", sets), permutations=100)
    from_mapping = preranked(ranked, {name: list(s.genes) for name, s in sets.items()}, permutations=100)
    pd.testing.assert_frame_equal(from_file.drop(columns="description"), from_mapping.drop(columns="description"))
    assert dict(zip(from_file["set"], from_file["description"])) == {"A": "set a", "B": ""}
    assert from_mapping["pvalue"].iloc[0] <= from_mapping["pvalue"].iloc[1]  # sorted by p


@pytest.mark.parametrize("ranked, options, message", [
    (pd.Series([1.0], index=["A"]), {}, "the ranking holds 1 gene(s); enrichment needs at least 2"),
    (pd.Series([1.0, 2.0, 3.0], index=["A", "B", "A"]), {}, "the ranking lists gene 'A' twice"),
    (pd.Series([1.0, np.nan, 3.0], index=["A", "B", "C"]), {}, "missing or infinite scores"),
    (pd.Series([1.0, np.inf, 3.0], index=["A", "B", "C"]), {}, "missing or infinite scores"),
    (pd.Series([1.0, 2.0, 3.0], index=["A", "B", "C"]), {"permutations": 0}, "permutations = 0: give a whole number >= 1"),
    (pd.Series([1.0, 2.0, 3.0], index=["A", "B", "C"]), {"seed": 1.5}, "seed = 1.5"),
    (pd.Series([1.0, 2.0, 3.0], index=["A", "B", "C"]), {"max_size": 10}, "max_size = 10: give a whole number >= 15"),
    (pd.Series([1.0, 2.0, 3.0], index=["A", "B", "C"]), {},
     "no gene set has 15 to 500 of the 3 ranked genes (the most any set has: 2)"),
])
def test_preranked__bad_input_is_one_clear_error(ranked, options, message):
    with pytest.raises(JobError, match=re.escape(message)):
        preranked(ranked, {"S": ["A", "B", "Z"]}, **options)


# ------------------------------------------------------------------ the demo


def test_demo_gene_sets__the_modules_and_decoys_of_fillers():
    sets = demo.demo_gene_sets(200)
    for module in demo.MODULES:
        assert sets[f"DEMO_{module.name.upper()}"].genes == module.genes
    features = set(demo.make_pan_cancer(n_features=200, cohorts=("BRCA",), samples=(20, 20),
                                        absent_fraction=0.0)["BRCA"].index)
    decoys = [s.genes for name, s in sets.items() if name.startswith("DEMO_DECOY_")]
    fillers = [g for genes in decoys for g in genes]
    assert len(decoys) == demo.DECOY_SETS and all(len(g) == 22 for g in decoys)  # 88 fillers at 200 features
    assert len(set(fillers)) == len(fillers) and all(g.startswith(demo.FILLER_PREFIX) for g in fillers)
    assert set(fillers) <= features
    assert len(demo.demo_gene_sets(112)) == len(demo.MODULES)  # no filler, no decoy


def test_gsea__the_planted_module_leads_mki67_s_enrichment(results):
    folder, gmt = results
    table = gsea(demo.DEMO_GENE, folder, gmt, permutations=1000, seed=0)
    top = table.iloc[0]
    assert top["set"] == "DEMO_PROLIFERATION" and top["size"] == len(demo.MODULES[0].genes) - 1  # less MKI67
    # its 23 other members are MKI67's 23 strongest partners: ES 1, the whole set leads
    assert top["es"] == pytest.approx(1.0, abs=1e-12) and top["pvalue"] == 0 and top["qvalue"] == 0
    assert set(top["leading_edge"].split(";")) == set(demo.MODULES[0].genes) - {"MKI67"}
    assert top["lead_size"] == top["size"]
    # nothing else was planted for MKI67: no other set passes q < 0.05
    assert (table["qvalue"].iloc[1:] > 0.05).all()


# ------------------------------------------------------------------ the command


def test_gsea_command__table_tsv_json_and_rnk(results, capsys, tmp_path):
    folder, gmt = results
    args = ["gsea", "MKI67", "--results", str(folder), "--gmt", str(gmt), "--permutations", "1000"]
    assert main(args + ["--rnk", str(tmp_path / "mki67.rnk")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert re.match(r"MKI67: 19\d partner genes ranked by meta_slogp \(trans scan\); 9 of 9 gene sets with "
                    r"15-500 of them; 1000 permutations, seed 0$", out[0])
    assert out[1].split() == ["set", "size", "es", "nes", "pvalue", "qvalue", "lead_size", "leading_edge"]
    assert out[2].split()[0] == "DEMO_PROLIFERATION" and out[2].endswith(";...")
    assert len(out) == 2 + 9
    assert len((tmp_path / "mki67.rnk").read_text().splitlines()) == len(ranking("MKI67", folder))

    assert main(args + ["--format", "tsv"]) == 0
    tsv = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out), sep="\t", keep_default_na=False)
    expected = gsea("MKI67", folder, gmt)
    assert list(tsv.columns) == list(COLUMNS) and tsv["set"].tolist() == expected["set"].tolist()
    assert tsv["leading_edge"].tolist() == expected["leading_edge"].tolist()
    np.testing.assert_allclose(tsv["nes"], expected["nes"], rtol=1e-5)

    assert main(args + ["--format", "json", "--cohort", "CCRCC", "--seed", "3"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert set(records[0]) == set(COLUMNS) and len(records) == 9


@pytest.mark.parametrize("extra, message", [
    (["--kind", "tumor_normal"], "the partners of a tumor_normal scan are not genes"),
    (["--min-size", "30", "--max-size", "20"], "--max-size 20 is below --min-size 30"),
    (["--min-size", "300"], "no gene set has 300 to 500 of the"),
    (["--cohort", "OV"], "'OV'"),
    (["--permutations", "0"], "argument --permutations: 0: give a whole number >= 1"),
])
def test_gsea_command__errors_are_one_line(results, capsys, extra, message):
    folder, gmt = results
    assert _exit_code(["gsea", "MKI67", "--results", str(folder), "--gmt", str(gmt), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("linkscan: error: ") and err.count("\n") == 1 and message in err


def test_gsea_command__a_bad_gmt_file_names_its_line(results, capsys, tmp_path):
    bad = tmp_path / "bad.gmt"
    bad.write_text("OK\tdesc\tTOP2A\nBROKEN TOP2A CDK1\n")
    assert main(["gsea", "MKI67", "--results", str(results[0]), "--gmt", str(bad)]) == 2
    assert capsys.readouterr().err == (f"linkscan: error: {bad}: line 2 has 1 tab-separated field(s); a GMT line "
                                      "is NAME<TAB>DESCRIPTION<TAB>GENE1<TAB>GENE2..., with tabs between the fields\n")


def _exit_code(argv):
    """main's status, also where argparse exits (a bad option value)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code
