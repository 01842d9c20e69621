"""Type inference for clinical columns (`ingest --infer-types`): rules, the written types
file read back, ingesting with it, the command line, and real CPTAC tables."""

import numpy as np
import pytest

from linkscan.errors import InputError
from linkscan.jobs.cli import main
from linkscan.storage.inputs.clinical import ColumnSpec, read_clinical, read_types
from linkscan.storage.inputs.cohort_store import CohortStore
from linkscan.storage.inputs.infer import infer_types, looks_unknown, stage_key, write_types
from linkscan.storage.inputs.phenotype_ingest import ingest_phenotypes

#: column -> cells of 12 samples
COLUMNS = {
    "Age": ["61", "NA", "47.5", "", "70", "55", "Not Reported", "66", "58", "49", "72", "63"],
    "TP53.Status": ["0", "1", "1", "0", "0", "1", "0", "NA", "1", "0", "0", "1"],
    "Smoker": ["yes", "no", "no", "yes", "Unknown", "no", "yes", "no", "no", "yes", "no", "no"],
    "Stage": ["Stage IIB", "Stage I", "Stage IIIA", "Stage IIA", "Stage I", "Stage IIIC", "Stage IV", "Stage II",
              "[Not Available]", "Stage IIA", "Stage IIIA", "Stage I"],
    "pT": ["pT2", "pT1a", "pTX", "pT3", "pT1b", "pT2", "pT1a", "pT3", "pT2", "pT1b", "pTis", "pT2"],
    "Grade": ["G3", "G1", "G2", "GX", "G2", "G1", "G3", "G2", "G1", "G3", "G2", "G2"],
    "Subtype": ["LumA", "Basal", "LumB", "LumA", "Her2", "LumA", "Basal", "LumB", "LumA", "LumA", "Basal", "LumB"],
    "Site": ["Lung, left", "Colon", "Lung, left", "Colon", "Liver", "Colon", "Lung, left", "Liver", "Colon", "Colon",
             "Liver", "Colon"],
    "Aliquot": [f"CPT{k:07d}" for k in range(12)],
    "Note": ["a", "b", "c", "d", "e", "a", "b", "c", "f", "g", "h", "i"],
    "Gender": ["Female"] * 11 + ["unknown"],
}


def _write(tmp_path, columns=COLUMNS, name="clinical.tsv"):
    path = tmp_path / name
    lines = ["sample_id\t" + "\t".join(columns)]
    lines += [f"S{i:02d}\t" + "\t".join(cells[i] for cells in columns.values()) for i in range(12)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_looks_unknown_and_stage_key():
    assert all(looks_unknown(x) for x in ("Unknown", "Not Reported", "pTX", "NX", "unknown", "Not available",
                                          "[Not Available]", "cMX"))
    assert not any(looks_unknown(x) for x in ("None", "No", "pT2", "Stage I", "Normal"))
    labels = ["Stage IIIC1", "Stage IA", "Stage II", "Stage I", "Stage IVB", "Stage IIIC2", "Stage IIA", "Stage IB"]
    assert sorted(labels, key=stage_key) == ["Stage I", "Stage IA", "Stage IB", "Stage II", "Stage IIA",
                                             "Stage IIIC1", "Stage IIIC2", "Stage IVB"]
    assert sorted(["pT2", "pT1b", "T0", "pTis", "pT1a (FIGO IA)"], key=stage_key) == \
        ["T0", "pTis", "pT1a (FIGO IA)", "pT1b", "pT2"]
    assert sorted(["Grade 3", "Grade 1", "Grade 2"], key=stage_key) == ["Grade 1", "Grade 2", "Grade 3"]
    assert stage_key("Stage 2")[:2] == ("stage", 2) and stage_key("Lung") is None and stage_key("Io") is None


def test_infer_types__each_rule(tmp_path):
    got = {p.name: p for p in infer_types(read_clinical(_write(tmp_path)))}
    assert list(got) == list(COLUMNS)
    assert got["Age"].spec == ColumnSpec("CON", None, ("Not Reported",))
    assert got["TP53.Status"].spec == ColumnSpec("BIN", ("0", "1"))
    assert got["Smoker"].spec == ColumnSpec("BIN", ("no", "yes"), ("Unknown",))
    assert got["Stage"].spec == ColumnSpec("ORD", ("Stage I", "Stage II", "Stage IIA", "Stage IIB", "Stage IIIA",
                                                   "Stage IIIC", "Stage IV"), ("[Not Available]",))
    assert got["pT"].spec == ColumnSpec("ORD", ("pTis", "pT1a", "pT1b", "pT2", "pT3"), ("pTX",))
    assert got["Grade"].spec == ColumnSpec("ORD", ("G1", "G2", "G3"), ("GX",))
    assert got["Subtype"].spec == ColumnSpec("CAT", ("Basal", "Her2", "LumA", "LumB"))
    assert got["Site"].spec == ColumnSpec("CAT", ("Colon", "Liver", "Lung, left"))
    assert got["Aliquot"].spec == ColumnSpec("SKIP") and "every cell distinct" in got["Aliquot"].why
    assert got["Note"].spec == ColumnSpec("SKIP") and "too many for CAT" in got["Note"].why
    assert got["Gender"].spec == ColumnSpec("SKIP", None, ("unknown",)) and "single label" in got["Gender"].why
    assert "9 cells, 3 missing or unknown" in got["Age"].why and "stage order" in got["Stage"].why


def test_write_types__read_back_and_ingest(tmp_path):
    table = read_clinical(_write(tmp_path))
    proposals = infer_types(table)
    write_types(tmp_path / "types.tsv", proposals)
    assert "Lung\\, left" in (tmp_path / "types.tsv").read_text()
    assert read_types(tmp_path / "types.tsv") == {p.name: p.spec for p in proposals}
    with pytest.raises(InputError, match=r"types.tsv: the types file exists .* --write-types FILE"):
        write_types(tmp_path / "types.tsv", proposals)

    (summary,) = ingest_phenotypes(tmp_path / "store", "C", clinical=table.path, types_file=tmp_path / "types.tsv")
    got = CohortStore(tmp_path / "store").phenotypes("C")
    typed = {p.name: p.spec for p in proposals if p.spec.type != "SKIP"}
    assert {name: got[name].type for name in got} == {name: spec.type for name, spec in typed.items()}
    assert got["Stage"].levels == typed["Stage"].levels and got["Stage"].level_order == "declared"
    assert got["Stage"].codes.tolist()[:3] == [3, 0, 4] and got["Stage"].codes[8] == -1
    assert got["Site"].levels == ("Colon", "Liver", "Lung, left")
    assert np.isnan(got["Age"].values[[1, 3, 6]]).all() and got["Age"].values[2] == 47.5


def test_cli__infer_types_prints_writes_and_ingests_nothing(tmp_path, capsys):
    path, store = _write(tmp_path), tmp_path / "store"
    assert main(["ingest", str(store), "C", "--clinical", str(path), "--infer-types"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[3].startswith("Stage  ORD  levels: Stage I,Stage II,Stage IIA,") and "unknown: [Not Available]" in out[3]
    assert out[-1].startswith(f"11 column type(s) written to {tmp_path / 'clinical.types.tsv'}; ")
    assert "(nothing was ingested)" in out[-1] and not store.exists()
    assert read_types(tmp_path / "clinical.types.tsv")["Age"] == ColumnSpec("CON", None, ("Not Reported",))

    assert main(["ingest", str(store), "C", "--clinical", str(path), "--infer-types"]) == 2
    assert "the types file exists" in capsys.readouterr().err
    assert main(["ingest", str(store), "C", "--clinical", str(path), "--infer-types",
                 "--write-types", str(tmp_path / "mine.tsv")]) == 0
    assert (tmp_path / "mine.tsv").read_text() == (tmp_path / "clinical.types.tsv").read_text()
    capsys.readouterr()
    assert main(["ingest", str(store), "C", "--clinical", str(path), "--types", str(tmp_path / "mine.tsv")]) == 0
    assert "C/phenotypes <- clinical.tsv: 8 phenotype(s)" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--clinical", "c.tsv", "--write-types", "t.tsv"], "--write-types FILE names the file of --infer-types"),
    (["--clinical", "c.tsv", "--infer-types", "p=x.tsv", "--type", "A=CON"], "(not OMICS=TABLE, --type)"),
    (["--infer-types", "--survival", "s.tsv"], "(not --survival)"),
    (["--infer-types"], "reads one --clinical TABLE (exactly one)"),
    (["--infer-types", "--clinical", "a.tsv", "--clinical", "b.tsv"], "(exactly one)"),
    (["--infer-types", "--clinical", "s3://b/c.tsv"], "is not a local file, so its types file cannot go beside it"),
])
def test_cli__infer_types_refuses_other_tables(tmp_path, capsys, args, message):
    assert main(["ingest", str(tmp_path / "store"), "C", *args]) == 2
    assert message in capsys.readouterr().err


def test_infer_types__real_cptac_tables(real_data):
    brca = {p.name: p.spec for p in infer_types(read_clinical(real_data / "cptac_brca" / "clinical.tsv"))}
    assert brca["Tumor.Stage"] == ColumnSpec("ORD", ("Stage IA", "Stage IIA", "Stage IIB", "Stage III", "Stage IIIA",
                                                     "Stage IIIB", "Stage IIIC"), ("unknown",))
    assert brca["Sample.ID"].type == "SKIP" and brca["PAM50"].type == "CAT" and brca["Age.in.Month"].type == "CON"
    assert brca["TP53.Mutation.Status"] == ColumnSpec("BIN", ("0", "1"))
    ucec = {p.name: p.spec for p in infer_types(read_clinical(real_data / "cptac_ucec" / "clinical_tumor.tsv"))}
    assert ucec["FIGO_stage"].levels == ("IA", "IB", "II", "IIIA", "IIIB", "IIIC1", "IIIC2", "IVB")
    assert ucec["tumor_Stage-Pathological"].levels == ("Stage I", "Stage II", "Stage III", "Stage IV")
    assert ucec["Histologic_Grade_FIGO"] == ColumnSpec("ORD", ("FIGO grade 1", "FIGO grade 2", "FIGO grade 3"))
    assert ucec["Path_Stage_Reg_Lymph_Nodes-pN"].unknown == ("pNX",)
    assert ucec["Proteomics_Aliquot_ID"].type == "SKIP" and ucec["Diabetes"] == ColumnSpec("BIN", ("No", "Yes"), ("Unknown",))
