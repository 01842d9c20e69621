"""Harmonised phenotype names at ingest: ``rename`` / ``--rename OLD=NEW`` and a types
file's ``name`` column make one phenotype of columns named differently across cohorts."""

import numpy as np
import pytest

import linkscan
from linkscan.engine.plan import ScanSpec, make_plan
from linkscan.errors import InputError
from linkscan.jobs.cli import main
from linkscan.storage.inputs.cohort_store import CohortStore
from linkscan.storage.inputs.phenotype_ingest import ingest_phenotypes

STAGES = ("Stage I", "Stage II", "Stage III", "Stage IV")
N = 24


def _samples(cohort):
    return [f"{cohort}-{k:02d}" for k in range(N)]


def _omics(tmp_path, cohort, seed):
    rng = np.random.default_rng(seed)
    rows = ["id\t" + "\t".join(_samples(cohort))]
    rows += [f"G{g}\t" + "\t".join(f"{x:.4f}" for x in rng.normal(size=N)) for g in range(8)]
    path = tmp_path / f"{cohort}_proteome.tsv"
    path.write_text("\n".join(rows) + "\n")
    return path


def _clinical(tmp_path, cohort, columns):
    """columns: name -> one cell per sample."""
    rows = ["case_id\t" + "\t".join(columns)]
    rows += [s + "\t" + "\t".join(cells[k] for cells in columns.values()) for k, s in enumerate(_samples(cohort))]
    path = tmp_path / f"{cohort}_clinical.tsv"
    path.write_text("\n".join(rows) + "\n")
    return path


def _stage_cells(seed):
    rng = np.random.default_rng(seed)
    cells = [STAGES[k] for k in rng.integers(0, 4, N)]
    cells[:4] = list(STAGES)  # every stage occurs
    cells[4] = "pTX"
    return cells


@pytest.fixture
def two_cohorts(tmp_path):
    """COAD names stage 'tumor_Stage-Pathological' and MSI 'MSI_status'; UCEC 'Stage' and
    'Mutation_Phenotype'. Both have omics tables of the same sample ids."""
    store = tmp_path / "store"
    coad = _clinical(tmp_path, "COAD", {
        "tumor_Stage-Pathological": _stage_cells(1),
        "MSI_status": ["MSI-H" if k % 3 == 0 else "MSS" for k in range(N)],
    })
    ucec = _clinical(tmp_path, "UCEC", {
        "Stage": _stage_cells(2),
        "Mutation_Phenotype": ["MSI-H" if k % 4 == 0 else "MSS" for k in range(N)],
    })
    linkscan.ingest(store, "COAD", {"proteome": _omics(tmp_path, "COAD", 1)})
    linkscan.ingest(store, "UCEC", {"proteome": _omics(tmp_path, "UCEC", 2)})
    return tmp_path, store, coad, ucec


def _partners(tmp_path, store):
    plan = make_plan(ScanSpec(store=str(store), results=str(tmp_path / "results"), kind="phenotype",
                              omics="proteome"))
    return plan.context.cohorts, {p.name: p for p in plan.context.partners}


def test_rename__one_phenotype_with_data_in_both_cohorts(two_cohorts):
    tmp_path, store, coad, ucec = two_cohorts
    # COAD's column renamed; its levels and unknown labels given under the NEW name, its type under the OLD
    ingest_phenotypes(store, "COAD", clinical=coad, types={"tumor_Stage-Pathological": "ORD", "MSI_status": "BIN"},
                      levels={"Stage": STAGES}, unknown={"Stage": "pTX"},
                      rename={"tumor_Stage-Pathological": "Stage", "MSI_status": "MSI"})
    ingest_phenotypes(store, "UCEC", clinical=ucec, types={"Stage": "ORD", "Mutation_Phenotype": "BIN"},
                      levels={"Stage": ",".join(STAGES)}, unknown={"Stage": "pTX"},
                      rename={"Mutation_Phenotype": "MSI"})

    coad_phen = CohortStore(store).phenotypes("COAD")
    assert sorted(coad_phen) == ["MSI", "Stage"]
    stage = coad_phen["Stage"]
    assert stage.type == "ORD" and stage.levels == STAGES and stage.level_order == "declared"
    assert stage.columns == ("tumor_Stage-Pathological",)  # the source column is recorded
    assert stage.unknown == ("pTX",) and stage.n == N - 1
    assert coad_phen["MSI"].columns == ("MSI_status",) and coad_phen["MSI"].levels == ("MSI-H", "MSS")
    attrs = CohortStore(store).open_phenotypes("COAD")[stage.variable].attrs
    assert attrs["name"] == "Stage" and list(attrs["columns"]) == ["tumor_Stage-Pathological"]

    cohorts, partners = _partners(tmp_path, store)
    assert cohorts == ("COAD", "UCEC")
    assert sorted(partners) == ["MSI", "Stage"]
    for name in ("MSI", "Stage"):
        assert all(d is not None for d in partners[name].data), name  # data in both cohorts: a meta p over 2
    codes = partners["Stage"].data[0]["codes"]
    assert (codes >= 0).sum() == N - 1 and set(codes[codes >= 0]) == {0, 1, 2, 3}


def test_without_rename__each_name_is_its_own_phenotype_in_one_cohort(two_cohorts):
    tmp_path, store, coad, ucec = two_cohorts
    ingest_phenotypes(store, "COAD", clinical=coad, types={"tumor_Stage-Pathological": "ORD"})
    ingest_phenotypes(store, "UCEC", clinical=ucec, types={"Stage": "ORD"})
    _, partners = _partners(tmp_path, store)
    assert sorted(partners) == ["Stage", "tumor_Stage-Pathological"]
    assert [d is not None for d in partners["Stage"].data] == [False, True]


def test_rename__survival_endpoint(tmp_path):
    rows = ["case_id\tOS_days\tOS_event"] + [f"S{k}\t{100 + k}\t{k % 2}" for k in range(N)]
    (tmp_path / "surv.tsv").write_text("\n".join(rows) + "\n")
    ingest_phenotypes(tmp_path / "store", "OV", survival=tmp_path / "surv.tsv", rename={"OS": "overall"})
    phen = CohortStore(tmp_path / "store").phenotypes("OV")
    assert list(phen) == ["overall"]
    assert phen["overall"].type == "SURV" and phen["overall"].columns == ("OS_days", "OS_event")


def test_rename__types_file_name_column(two_cohorts):
    tmp_path, store, coad, ucec = two_cohorts
    types = tmp_path / "types.tsv"
    # one types file for both cohorts: COAD's columns map to UCEC's names; the name of a row
    # whose column no table has is ignored
    types.write_text(
        "column\ttype\tlevels\tunknown\tname\n"
        f"tumor_Stage-Pathological\tORD\t{','.join(STAGES)}\tpTX\tStage\n"
        f"Stage\tORD\t{','.join(STAGES)}\tpTX\tNA\n"
        "MSI_status\tBIN\t\t\tMutation_Phenotype\n"
        "Mutation_Phenotype\tBIN\t\t\t\n"
        "absent_column\tCAT\t\t\tStage\n"
    )
    ingest_phenotypes(store, "COAD", clinical=coad, types_file=types)
    ingest_phenotypes(store, "UCEC", clinical=ucec, types_file=types)
    coad_phen = CohortStore(store).phenotypes("COAD")
    assert sorted(coad_phen) == ["Mutation_Phenotype", "Stage"]
    assert coad_phen["Stage"].levels == STAGES and coad_phen["Stage"].unknown == ("pTX",)
    assert coad_phen["Stage"].columns == ("tumor_Stage-Pathological",)
    _, partners = _partners(tmp_path, store)
    assert sorted(partners) == ["Mutation_Phenotype", "Stage"]
    assert all(d is not None for p in partners.values() for d in p.data)
    # rename= wins over the types file's name
    ingest_phenotypes(store, "COAD", clinical=coad, types_file=types, rename={"MSI_status": "MSI"}, replace=True)
    assert sorted(CohortStore(store).phenotypes("COAD")) == ["MSI", "Stage"]
    # a types file describing only the new name describes the column renamed to it
    ucec_types = tmp_path / "ucec_types.tsv"
    ucec_types.write_text(f"column\ttype\tlevels\tunknown\nStage\tORD\t{','.join(STAGES)}\tpTX\n")
    ingest_phenotypes(store, "COAD", clinical=coad, types_file=ucec_types,
                      rename={"tumor_Stage-Pathological": "Stage"}, replace=True)
    stage = CohortStore(store).phenotypes("COAD")["Stage"]
    assert stage.levels == STAGES and stage.unknown == ("pTX",) and stage.columns == ("tumor_Stage-Pathological",)


@pytest.mark.parametrize("kwargs, message", [
    ({"rename": {"tumor_Stage-Pathologic": "Stage"}},
     r"rename of 'tumor_Stage-Pathologic': .* is no column of a clinical table nor a survival endpoint "
     r"\(did you mean 'tumor_Stage-Pathological'\?\); check the spelling"),
    ({"rename": {"case_id": "id"}}, r"'case_id' is the sample id column of a clinical table"),
    ({"rename": {"tumor_Stage-Pathological": "Stage", "MSI_status": "Stage"}},
     r"columns 'MSI_status' and 'tumor_Stage-Pathological' are both renamed to 'Stage'"),
    ({"rename": {"MSI_status": "tumor_Stage-Pathological"}},
     r"'MSI_status' is renamed to 'tumor_Stage-Pathological', which is the name of another column"),
    ({"rename": {"MSI_status": " "}}, r"rename 'MSI_status' -> '': a side is empty; write OLD=NEW"),
    ({"rename": {"": "MSI"}}, r"rename '' -> 'MSI': a side is empty"),
    ({"rename": {"MSI_status": "MSI"}, "types": {"MSI_status": "BIN", "MSI": "CAT"}},
     r"a type given for column 'MSI_status' under both its name and its new name 'MSI'; keep one"),
])
def test_rename__errors_write_nothing(two_cohorts, kwargs, message):
    _, store, coad, _ = two_cohorts
    kwargs.setdefault("types", {"tumor_Stage-Pathological": "ORD", "MSI_status": "BIN"})
    with pytest.raises(InputError, match=message):
        ingest_phenotypes(store, "COAD", clinical=coad, **kwargs)
    assert not CohortStore(store).has_phenotypes("COAD")


def test_cli__rename_end_to_end(two_cohorts, capsys):
    tmp_path, store, coad, ucec = two_cohorts
    code = main(["ingest", str(store), "COAD", "--clinical", str(coad),
                 "--rename", "tumor_Stage-Pathological=Stage", "--rename", "MSI_status=MSI",
                 "--type", "Stage=ORD", "--type", "MSI=BIN", "--unknown", "Stage=pTX",
                 "--levels", "Stage=Stage I,Stage II,Stage III,Stage IV"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "2 phenotype(s) (1 ORD, 1 BIN)" in out.out
    assert main(["ingest", str(store), "UCEC", "--clinical", str(ucec), "--rename", "Mutation_Phenotype=MSI",
                 "--type", "Stage=ORD", "--type", "Mutation_Phenotype=BIN", "--unknown", "Stage=pTX",
                 "--levels", "Stage=Stage I,Stage II,Stage III,Stage IV"]) == 0
    assert CohortStore(store).phenotypes("COAD")["Stage"].columns == ("tumor_Stage-Pathological",)
    _, partners = _partners(tmp_path, store)
    assert sorted(partners) == ["MSI", "Stage"]
    assert all(d is not None for p in partners.values() for d in p.data)

    capsys.readouterr()
    for argv, err in (
        (["--rename", "=Stage"], "--rename '=Stage': write NAME=VALUE"),
        (["--rename", "MSI_status=A", "--rename", "MSI_status=B"], "--rename 'MSI_status' is given twice"),
        (["--rename", "MSI_statu=MSI"], "did you mean 'MSI_status'?"),
    ):
        assert main(["ingest", str(store), "COAD", "--clinical", str(coad), "--type", "MSI_status=BIN", *argv]) == 2
        assert err in capsys.readouterr().err
    assert main(["ingest", str(store), "COAD", "proteome=p.tsv", "--rename", "a=b"]) == 2
    assert "--rename describe(s) phenotype tables" in capsys.readouterr().err
