"""storage.inputs: the Phenotype model (phenotypes), clinical layouts and types (clinical), levels, survival tables (survival), Datasets."""

import dataclasses

import numpy as np
import pytest

from linkscan.errors import InputError
from linkscan.storage.inputs.clinical import ColumnSpec, clinical_phenotypes, read_clinical, read_types, split_list
from linkscan.storage.inputs.phenotypes import (
    Phenotype,
    from_dataset,
    sort_levels,
    to_dataset,
    validate_dataset,
    variable_names,
)
from linkscan.storage.inputs.survival import survival_phenotypes


def _clinical(tmp_path, text, name="clinical.tsv"):
    path = tmp_path / name
    path.write_text(text)
    return read_clinical(path)


def _encode(tmp_path, text, specs, unknown=None, name="clinical.tsv"):
    found, skipped = clinical_phenotypes(_clinical(tmp_path, text, name), specs, unknown)
    return {p.name: p for p in found}, skipped


# ----------------------------------------------------------------------------- model


def test_phenotype__frozen_read_only_and_checked():
    p = Phenotype("Stage", "ORD", ["a", "b", "c"], codes=[0, -1, 1], levels=("I", "II"))
    assert p.codes.dtype == np.int8 and p.n == 2 and p.counts() == {"I": 1, "II": 1}
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.type = "CAT"
    with pytest.raises(ValueError, match="read-only"):
        p.codes[0] = 1
    with pytest.raises(ValueError, match=r"codes must lie in -1 .. 1"):
        Phenotype("x", "CAT", ["a"], codes=[2], levels=("u", "v"))
    with pytest.raises(ValueError, match=r"a CON phenotype has values, got codes"):
        Phenotype("x", "CON", ["a"], codes=[0])
    with pytest.raises(ValueError, match=r"type must be one of CON, BIN, ORD, CAT, SURV, not 'NUM'"):
        Phenotype("x", "NUM", ["a"], values=[1.0])
    with pytest.raises(ValueError, match=r"event must hold 1 \(event\), 0 \(censored\) or -1"):
        Phenotype("OS", "SURV", ["a"], time=[1.0], event=[0.5])
    with pytest.raises(ValueError, match=r"times must be finite and >= 0"):
        Phenotype("OS", "SURV", ["a"], time=[-1.0], event=[1])
    assert Phenotype("x", "CAT", ["a"] * 0, codes=np.array([], int), levels=tuple(map(str, range(200)))).codes.dtype == np.int16


def test_phenotype__survival_missing_together():
    p = Phenotype("OS", "SURV", ["a", "b", "c"], time=[1.0, np.nan, 3.0], event=[1, 0, -1])
    assert p.event.tolist() == [1, -1, -1] and np.isnan(p.time[1:]).all()
    assert p.observed.tolist() == [True, False, False] and p.counts() == {"event": 1, "censored": 0}


def test_phenotype__align_by_id():
    p = Phenotype("Stage", "ORD", ["a", "b", "c"], codes=[0, 1, 2], levels=("I", "II", "III"), level_order="declared")
    q = p.align(["c", "x", "a"])
    assert q.samples.tolist() == ["c", "x", "a"] and q.codes.tolist() == [2, -1, 0]
    assert (q.levels, q.level_order) == (p.levels, "declared")
    s = Phenotype("OS", "SURV", ["a"], time=[5.0], event=[1]).align(["z", "a"])
    assert s.event.tolist() == [-1, 1] and np.isnan(s.time[0])
    assert Phenotype("x", "CON", [], values=[]).align(["a"]).values.tolist() != [0.0]


def test_sort_levels__numbers_then_text():
    assert sort_levels(["10", "2", "1.5"]) == ["1.5", "2", "10"]
    assert sort_levels(["Stage IV", "Stage I", "Stage III", "Stage II"]) == ["Stage I", "Stage II", "Stage III", "Stage IV"]
    assert sort_levels(["b", "B", "a"]) == ["B", "a", "b"]
    assert sort_levels(["1", "inf"]) == ["1", "inf"]


def test_split_list__escaped_commas():
    assert split_list(" Stage I,Stage II , ") == ["Stage I", "Stage II"]
    assert split_list(r"Current smoker\, daily,None") == ["Current smoker, daily", "None"]


def test_variable_names__safe_unique_and_stable():
    names = ["Tumor.Stage", "a/b", "a_b", ".hidden", "_x", "sample", "Age", "age", "é", "x" * 300]
    got = variable_names(names)
    assert got[:8] == ["Tumor.Stage", "a_b_2", "a_b", "p.hidden", "p_x", "sample_", "Age", "age_2"]
    assert got[8] == "p_" and len(got[9]) == 100
    assert len({g.lower() for g in got}) == len(got)


# ------------------------------------------------------------------ clinical layouts


def test_read_clinical__tsi_type_row(tmp_path):
    table = _clinical(tmp_path, "case_id\tage\tStage\nCAT\tCON\tord\nC1\t56\tStage I\nC2\tNA\tStage II\n", "HS_CLI.tsi")
    assert table.samples == ("C1", "C2") and table.columns == ("age", "Stage")
    assert table.file_types == {"age": "CON", "Stage": "ORD"} and table.id_name == "case_id"
    assert table.where(1, 1) == "line 4, column 3 ('Stage')"


def test_read_clinical__tsi_bad_type_names_the_column(tmp_path):
    with pytest.raises(
        InputError,
        match=r"HS_CLI.tsi: line 2, column 3 \('Stage'\): 'ORDINAL' is not a type; the first data row of a "
        r"LinkedOmics .tsi gives each column's type: CON \(continuous\), BIN \(binary\), ORD \(ordinal\), CAT",
    ):
        _clinical(tmp_path, "case_id\tage\tStage\nCAT\tCON\tORDINAL\nC1\t56\tStage I\n", "HS_CLI.tsi")
    with pytest.raises(InputError, match=r"line 2, column 2 \('age'\): '56' is not a type.* name it .tsv"):
        _clinical(tmp_path, "case_id\tage\nC1\t56\n", "noheader.tsi")


def test_read_clinical__type_row_recognised_in_tsv_only_when_complete(tmp_path):
    typed = _clinical(tmp_path, "id\tage\tsex\nCAT\tCON\tBIN\ns1\t3\tM\n")
    assert typed.file_types == {"age": "CON", "sex": "BIN"} and typed.samples == ("s1",)
    plain = _clinical(tmp_path, "id\tgrade\tsex\ns1\tCAT\tM\n")
    assert plain.file_types is None and plain.samples == ("s1",)


def test_read_clinical__linkedomics_attributes_x_samples(tmp_path):
    table = _clinical(tmp_path, "attrib_name\t01CO005\t01CO006\nAge\t838\t904\nStage\tStage II\tNA\n", "COAD.tsi")
    assert table.layout == "attributes x samples" and table.file_types is None
    assert table.samples == ("01CO005", "01CO006") and table.columns == ("Age", "Stage")
    assert table.cells[1] == ["Stage II", "NA"]
    found, _ = clinical_phenotypes(table, {"Age": ColumnSpec("CON"), "Stage": ColumnSpec("ORD")})
    assert found[0].values.tolist() == [838.0, 904.0] and found[1].codes.tolist() == [0, -1]
    with pytest.raises(InputError, match=r"c.tsi: line 2 \('Age'\), column 3, sample 'b': cannot read 'x'"):
        clinical_phenotypes(_clinical(tmp_path, "attrib_name\ta\tb\nAge\t1\tx\n", "c.tsi"), {"Age": ColumnSpec("CON")})


def test_read_clinical__sample_ids(tmp_path):
    with pytest.raises(InputError, match=r"sample id \(first column\) 's1' appears on line 2 and line 4; it must be unique"):
        _clinical(tmp_path, "id\tage\ns1\t1\ns2\t2\ns1\t3\n")
    with pytest.raises(InputError, match=r"line 3: the sample id \(first column\) is 'NA'"):
        _clinical(tmp_path, "id\tage\ns1\t1\nNA\t2\n")
    with pytest.raises(InputError, match=r"attribute name \(first column\) 'Age' appears on line 2 and line 3"):
        _clinical(tmp_path, "attrib_name\ts1\nAge\t1\nAge\t2\n")


# --------------------------------------------------------------------------- types


def test_read_types__linkedomics_types_table(tmp_path):
    path = tmp_path / "types.tsv"
    path.write_text("variable\tlinkedomics_type\nage\tCON\ngender\tBIN\ntumor_stage\tORD\n")
    assert read_types(path) == {"age": ColumnSpec("CON"), "gender": ColumnSpec("BIN"), "tumor_stage": ColumnSpec("ORD")}
    path.write_text("age\tcon\nx\tskip\n")  # no header row
    assert read_types(path) == {"age": ColumnSpec("CON"), "x": ColumnSpec("SKIP")}


def test_read_types__levels_and_unknown_columns(tmp_path):
    path = tmp_path / "types.csv"
    path.write_text('name,type,levels,unknown\nStage,ORD,"Stage I,Stage II,Stage III",unknown\nAge,CON,NA,"unknown,-9"\n')
    got = read_types(path)
    assert got["Stage"] == ColumnSpec("ORD", ("Stage I", "Stage II", "Stage III"), ("unknown",))
    assert got["Age"] == ColumnSpec("CON", None, ("unknown", "-9"))


def test_read_types__errors(tmp_path):
    path = tmp_path / "types.tsv"
    path.write_text("variable\ttype\nage\tCON\nstage\tordinal\n")
    with pytest.raises(InputError, match=r"types.tsv: line 3, column 2: 'ordinal' \(the type of 'stage'\) is not a type"):
        read_types(path)
    path.write_text("variable\ttype\nage\tCON\nage\tCAT\n")
    with pytest.raises(InputError, match=r"column 'age' is typed on line 2 and line 3; keep one"):
        read_types(path)
    with pytest.raises(InputError, match=r"type 'NUM' is not one of CON \(continuous\)"):
        ColumnSpec("NUM")


# ------------------------------------------------------------------ clinical columns


def test_clinical_phenotypes__types_codes_and_skipped(tmp_path):
    text = "id\tAge\tPAM50\tTP53\tNote\ns1\t60.5\tLumA\t1\tx\ns2\tNA\tBasal\t0\ty\ns3\t\tNone\tNA\tz\n"
    got, skipped = _encode(tmp_path, text, {"Age": ColumnSpec("CON"), "PAM50": ColumnSpec("CAT"), "TP53": ColumnSpec("BIN")})
    assert skipped == ["Note"]
    assert got["Age"].values[0] == 60.5 and np.isnan(got["Age"].values[1:]).all()
    assert got["PAM50"].levels == ("Basal", "LumA", "None")  # 'None' is a label, not missing
    assert got["PAM50"].codes.tolist() == [1, 0, 2] and got["PAM50"].level_order == "sorted"
    assert got["TP53"].levels == ("0", "1") and got["TP53"].codes.tolist() == [1, 0, -1]
    assert got["TP53"].source == str(tmp_path / "clinical.tsv") and got["TP53"].columns == ("TP53",)


def test_clinical_phenotypes__ordinal_declared_order(tmp_path):
    text = "id\tStage\ns1\tStage IV\ns2\tStage II\ns3\tStage I\ns4\tpTX\n"
    declared = ColumnSpec("ORD", ("Stage I", "Stage II", "Stage III", "Stage IV"), ("pTX",))
    got, _ = _encode(tmp_path, text, {"Stage": declared})
    stage = got["Stage"]
    assert stage.levels == ("Stage I", "Stage II", "Stage III", "Stage IV")  # Stage III never occurs: fine
    assert stage.codes.tolist() == [3, 1, 0, -1] and stage.level_order == "declared" and stage.unknown == ("pTX",)
    assert stage.counts() == {"Stage I": 1, "Stage II": 1, "Stage III": 0, "Stage IV": 1}


def test_clinical_phenotypes__ordinal_sorted_default(tmp_path):
    got, _ = _encode(tmp_path, "id\tGrade\tStage\ns1\t10\tStage II\ns2\t2\tStage I\ns3\t1\tStage IV\n",
                     {"Grade": ColumnSpec("ORD"), "Stage": ColumnSpec("ORD")})
    assert got["Grade"].levels == ("1", "2", "10") and got["Grade"].codes.tolist() == [2, 1, 0]
    assert got["Stage"].levels == ("Stage I", "Stage II", "Stage IV")


def test_clinical_phenotypes__unknown_labels_are_missing(tmp_path):
    text = "id\tpT\tAge\ns1\tpT1\t700\ns2\tpTX\tunknown\ns3\tpT2\t710\ns4\tpNX\tunknown\n"
    got, _ = _encode(tmp_path, text, {"pT": ColumnSpec("ORD", unknown=("pTX",)), "Age": ColumnSpec("CON")},
                     unknown={"*": ["unknown", "pNX"]})
    assert got["pT"].levels == ("pT1", "pT2") and got["pT"].codes.tolist() == [0, -1, 1, -1]
    assert got["Age"].values[[0, 2]].tolist() == [700.0, 710.0] and got["Age"].n == 2
    assert got["pT"].unknown == ("pNX", "pTX", "unknown")


def test_clinical_phenotypes__label_not_among_declared_levels(tmp_path):
    text = "id\tStage\ns1\tStage I\ns2\tStage V\ns3\tStage X\n"
    with pytest.raises(
        InputError,
        match=r"clinical.tsv: line 3, column 2 \('Stage'\), sample 's2': label 'Stage V' is not among the levels "
        r"declared for 'Stage' \('Stage I', 'Stage II'\) \(2 cells in all are not among them\); add it to the levels "
        r"\(--levels 'Stage=...'\) or declare it missing \(--unknown 'Stage=Stage V'\)",
    ):
        _encode(tmp_path, text, {"Stage": ColumnSpec("ORD", ("Stage I", "Stage II"))})


def test_clinical_phenotypes__con_not_a_number(tmp_path):
    with pytest.raises(
        InputError,
        match=r"line 3, column 2 \('Age.in.Month'\), sample 's2': cannot read 'unknown' as a number, and "
        r"'Age.in.Month' is CON \(continuous\); .*--unknown 'Age.in.Month=unknown'",
    ):
        _encode(tmp_path, "id\tAge.in.Month\ns1\t600\ns2\tunknown\n", {"Age.in.Month": ColumnSpec("CON")})
    got, _ = _encode(tmp_path, "id\tx\ns1\tinf\ns2\tNaN\ns3\t-2e3\n", {"x": ColumnSpec("CON")})
    assert np.isnan(got["x"].values[:2]).all() and got["x"].values[2] == -2000.0


def test_clinical_phenotypes__declared_level_errors(tmp_path):
    text = "id\tx\ns1\ta\ns2\tb\n"
    with pytest.raises(InputError, match=r"the levels declared for 'x' repeat 'a'"):
        _encode(tmp_path, text, {"x": ColumnSpec("ORD", ("a", "b", "a"))})
    with pytest.raises(InputError, match=r"3 levels are declared for the BIN column 'x'; a binary column has exactly 2"):
        _encode(tmp_path, text, {"x": ColumnSpec("BIN", ("a", "b", "c"))})
    with pytest.raises(InputError, match=r"'b' is declared both a level and unknown for 'x'"):
        _encode(tmp_path, text, {"x": ColumnSpec("ORD", ("a", "b"), ("b",))})
    with pytest.raises(InputError, match=r"levels are given for column 'x', which is CON"):
        _encode(tmp_path, text, {"x": ColumnSpec("CON", ("a", "b"))})


def test_clinical_phenotypes__type_row_overridden_and_skipped(tmp_path):
    text = "case_id\tage\tgrade\tnote\nCAT\tCON\tORD\tCAT\nC1\t50\tG2\tx\nC2\t60\tG1\ty\n"
    got, skipped = _encode(tmp_path, text, {"grade": ColumnSpec("CAT"), "note": ColumnSpec("SKIP")}, name="c.tsi")
    assert {n: p.type for n, p in got.items()} == {"age": "CON", "grade": "CAT"} and skipped == ["note"]


def test_clinical_phenotypes__bin_with_other_than_two_labels_is_kept(tmp_path):
    got, _ = _encode(tmp_path, "id\tx\ns1\ta\ns2\tb\ns3\tc\n", {"x": ColumnSpec("BIN")})
    assert got["x"].levels == ("a", "b", "c")  # stored; its tests give no result (STATS.md)


# ------------------------------------------------------------------------ survival


def test_survival_phenotypes__endpoints_any_case(tmp_path):
    table = _clinical(tmp_path, "patient_id\tos_days\tOS_event\tPFS_DAYS\tpfs_event\tgrade\n"
                                "a\t100\t1\t50\t1\tG1\nb\t200.5\t0\tNA\t0\tG2\nc\tNA\t1\t10\t0\tG3\n")
    found, ignored = survival_phenotypes(table)
    got = {p.name: p for p in found}
    assert set(got) == {"OS", "PFS"} and ignored == ["grade"]
    assert got["OS"].time[:2].tolist() == [100.0, 200.5] and got["OS"].event.tolist() == [1, 0, -1]
    assert got["PFS"].event.tolist() == [1, -1, 0] and got["PFS"].unit == "days"
    assert got["OS"].columns == ("os_days", "OS_event")


def test_survival_phenotypes__named_columns_and_unknown_codes(tmp_path):
    table = _clinical(tmp_path, "case_id\toverall_survival\toverall_free_status\na\t772\t0\nb\t-9\tNA\nc\t133\t1\n")
    with pytest.raises(InputError, match=r"line 3, column 2 \('overall_survival'\), sample 'b': survival time '-9': a time "
                                         r"cannot be negative; .*--unknown 'overall_survival=-9'"):
        survival_phenotypes(table, {"OS": ("overall_survival", "overall_free_status")})
    found, ignored = survival_phenotypes(table, {"OS": ("overall_survival", "overall_free_status")},
                                         {"overall_survival": ["-9"]})
    assert found[0].event.tolist() == [0, -1, 1] and found[0].unit == "" and ignored == []
    with pytest.raises(InputError, match=r"endpoint 'OS' names column 'overall_surv', which the table lacks \(did you mean "
                                         r"'overall_survival'\?\)"):
        survival_phenotypes(table, {"OS": ("overall_surv", "overall_free_status")})


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("id\tOS_days\tOS_event\na\t-1\t1\n", r"line 2, column 2 \('OS_days'\), sample 'a': survival time '-1': a time cannot be negative"),
        ("id\tOS_days\tOS_event\na\tsoon\t1\n", r"survival time 'soon': cannot read it as a number"),
        ("id\tOS_days\tOS_event\na\tinf\t1\n", r"survival time 'inf': a time is finite"),
        ("id\tOS_days\tOS_event\na\t5\t2\n", r"line 2, column 3 \('OS_event'\), sample 'a': event '2' is not an event code; an event is 1"),
        ("id\tOS_days\tOS_event\na\t5\tDied\n", r"event 'Died' is not an event code"),
        ("id\tOS_days\tstatus\na\t5\t1\n", r"column 'OS_days' has no event column 'OS_event' beside it"),
        ("id\tos_event\na\t1\n", r"column 'os_event' has no days column 'os_days' beside it"),
        ("id\ttime\tstatus\na\t5\t1\n", r"no survival columns found; .*OS_days, OS_event, PFS_days, PFS_event; any case"),
        ("id\tOS_days\tos_DAYS\tOS_event\na\t1\t1\t1\n", r"columns 'OS_days' and 'os_DAYS' are both the days of endpoint 'OS'"),
    ],
)
def test_survival_phenotypes__validation(tmp_path, text, match):
    with pytest.raises(InputError, match=match):
        survival_phenotypes(_clinical(tmp_path, text, "survival.tsv"))


# ------------------------------------------------------------------------ Datasets


def test_to_dataset__round_trip_with_odd_names(tmp_path):
    phenotypes = [
        Phenotype("ER/PR status", "BIN", ["a", "b"], codes=[1, 0], levels=("neg", "pos")),
        Phenotype(".hidden", "CON", ["b", "c"], values=[1.5, np.nan]),
        Phenotype("OS", "SURV", ["c"], time=[10.0], event=[1], unit="days"),
    ]
    ds = to_dataset(phenotypes, {"sources": ["x"]})
    assert ds["sample"].values.tolist() == ["a", "b", "c"]
    assert sorted(ds.data_vars) == ["ER_PR_status", "OS", "p.hidden"]
    validate_dataset(ds, "test")
    got = from_dataset(ds)
    assert list(got) == [".hidden", "ER/PR status", "OS"]
    assert got["ER/PR status"].codes.tolist() == [1, 0, -1] and got["ER/PR status"].levels == ("neg", "pos")
    assert np.isnan(got[".hidden"].values[[0, 2]]).all() and got[".hidden"].values[1] == 1.5
    assert got["OS"].event.tolist() == [-1, -1, 1] and got["OS"].unit == "days"


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda ds: ds.assign_coords(sample=["a", "a"]), r"sample id 'a' occurs more than once"),
        (lambda ds: ds.rename({"x": "y/z"}), r"variable name 'y/z' is not a safe, unique name"),
        (lambda ds: ds.assign(x=ds["x"].astype("int16")), r"'x' \(CAT\) has dtype int16, expected int8 codes"),
        (lambda ds: ds.assign(x=(ds["x"] * 0 + 5).astype("int8")), r"codes must lie in -1 .. 1"),
        (lambda ds: ds.assign(y=ds["x"].assign_attrs(name="x")), r"variables 'x' and 'y' both hold phenotype 'x'"),
        (lambda ds: ds.assign(y=ds["x"].assign_attrs(type="NUM")), r"variable 'y' needs attributes 'name'"),
    ],
)
def test_validate_dataset__errors(change, match):
    ds = to_dataset([Phenotype("x", "CAT", ["a", "b"], codes=[0, 1], levels=("u", "v"))])
    with pytest.raises(InputError, match=match):
        validate_dataset(change(ds), "test")
