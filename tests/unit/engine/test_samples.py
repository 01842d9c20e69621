"""engine.samples: the ``where`` filter language and ``exclude_samples``."""

import json

import numpy as np
import pytest

from linkscan.engine.samples import Column, check_columns, describe, parse_where, read_names
from linkscan.errors import JobError

NAN = np.nan


def mask(text: str, table: dict, cohort: str = "BRCA") -> list[bool]:
    return parse_where(text).mask(table, cohort).tolist()


def num(*values) -> Column:
    return Column(values=np.array(values, dtype=float))


def lab(*labels) -> Column:
    return Column(labels=np.array(labels, dtype=object))


def error(text: str) -> str:
    with pytest.raises(JobError) as e:
        parse_where(text)
    return str(e.value)


# --- parsing ------------------------------------------------------------------------------

def test_parse__and_binds_tighter_than_or():
    w = parse_where("a == 1 or b == 2 and c == 3")
    assert w.tree == ("or", (("cmp", "a", "==", 1.0), ("and", (("cmp", "b", "==", 2.0), ("cmp", "c", "==", 3.0)))))
    table = {"a": num(1, 0, 0, 1), "b": num(0, 2, 2, 0), "c": num(0, 3, 0, 0)}
    assert mask("a == 1 or b == 2 and c == 3", table) == [True, True, False, True]
    assert mask("(a == 1 or b == 2) and c == 3", table) == [False, True, False, False]


def test_parse__not_binds_tighter_than_and():
    w = parse_where("not a == 1 and b == 2")
    assert w.tree == ("and", (("not", ("cmp", "a", "==", 1.0)), ("cmp", "b", "==", 2.0)))
    assert describe(parse_where("not (a == 1 and b == 2)")) == "not (a == 1 and b == 2)"


def test_parse__same_operators_flatten():
    w = parse_where("(a == 1 and (b == 2 and c == 3)) and d == 4")
    assert w.tree[0] == "and" and len(w.tree[1]) == 4


def test_parse__keywords_in_any_case():
    a = parse_where("x IS NOT MISSING AND y NOT IN [1] OR Not z In ['a'] or w Is Missing")
    b = parse_where("x is not missing and y not in [1] or not z in ['a'] or w is missing")
    assert a.tree == b.tree


def test_parse__names():
    w = parse_where("`tumor site` == 'lung' and CPTAC.purity_2-x >= 0.5 and `and` is missing and `a\\`b` == 1")
    assert w.columns == ("tumor site", "CPTAC.purity_2-x", "and", "a`b")


def test_parse__values():
    w = parse_where("a == -1.5e-1 and b == \"it's\" and c == 'say \\'hi\\'' and d == .5 and e == +3 and f == 'x\\\\y'")
    values = [n[3] for n in w.tree[1]]
    assert values == [-0.15, "it's", "say 'hi'", 0.5, 3.0, "x\\y"]


def test_parse__newlines_and_tabs_are_spaces():
    assert describe(parse_where("a == 1\n\tand\n b == 2")) == "a == 1 and b == 2"


def test_columns__in_order_of_first_use_once():
    assert parse_where("b == 1 or (a is missing and not b in [2]) or c != 'x'").columns == ("b", "a", "c")


# --- describe -----------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", [
    "Case_excluded != 'Yes' and (purity >= 0.3 or Stage in ['I', 'II'])",
    'Case_excluded!="Yes" AND (purity>=.30 OR Stage IN ["II","I"])',
    "  (Case_excluded != 'Yes') and ((purity >= 3e-1) or (Stage in ['I', 'II', 'I',]))  ",
    "`Case_excluded` != 'Yes' And (`purity` >= 0.300 Or `Stage` In ['II', \"I\"])",
])
def test_describe__equivalent_spellings_give_one_text(spelling):
    assert describe(parse_where(spelling)) == "Case_excluded != 'Yes' and (purity >= 0.3 or Stage in ['I', 'II'])"


@pytest.mark.parametrize("text", [
    "a == 1 or b == 2 and c == 3", "not (a == 1 or b is missing)", "not not a == 1",
    "`tumor site` == 'it\\'s' and `1` in [2, 'x'] and `or` is not missing", "x not in [-0.5, 1e+20, 'b', 'a']",
    "a-b == 1 and 1.5.2x == 2", "`a\\\\b\\`c` >= 2",
])
def test_describe__reparses_to_the_same_filter(text):
    canonical = describe(parse_where(text))
    assert parse_where(canonical).tree == parse_where(text).tree
    assert describe(parse_where(canonical)) == canonical


def test_describe__numbers_and_lists():
    assert describe(parse_where("a == 2.0 and b in [2, 1.0, 'z', 'a', 2]")) == "a == 2 and b in [1, 2, 'a', 'z']"
    assert describe(parse_where("a < 1e20 and b > 0.1")) == "a < 1e+20 and b > 0.1"


def test_describe__different_filters_differ():
    assert describe(parse_where("a == 1")) != describe(parse_where("a == '1'"))
    assert describe(parse_where("a == 1 or b == 2 and c == 3")) != describe(parse_where("(a == 1 or b == 2) and c == 3"))


# --- mask: numeric columns ----------------------------------------------------------------

@pytest.mark.parametrize("op,expected", [
    ("==", [False, True, False, False]), ("!=", [True, False, True, False]),
    ("<", [True, False, False, False]), ("<=", [True, True, False, False]),
    (">", [False, False, True, False]), (">=", [False, True, True, False]),
])
def test_mask__numeric_operators_with_missing_false(op, expected):
    table = {"purity": num(0.1, 0.3, 0.9, NAN)}
    assert mask(f"purity {op} 0.3", table) == expected


def test_mask__numeric_in_and_not_in():
    table = {"grade": num(1, 2, 3, NAN)}
    assert mask("grade in [1, 3]", table) == [True, False, True, False]
    assert mask("grade not in [1, 3]", table) == [False, True, False, False]


def test_mask__is_missing_numeric():
    table = {"purity": num(0.1, NAN)}
    assert mask("purity is missing", table) == [False, True]
    assert mask("purity is not missing", table) == [True, False]


# --- mask: label columns ------------------------------------------------------------------

def test_mask__label_equality_with_missing_false():
    table = {"Case_excluded": lab("No", "Yes", "", None, NAN)}
    assert mask("Case_excluded == 'Yes'", table) == [False, True, False, False, False]
    assert mask("Case_excluded != 'Yes'", table) == [True, False, False, False, False]
    assert mask("Case_excluded is missing", table) == [False, False, True, True, True]
    assert mask("Case_excluded is not missing", table) == [True, True, False, False, False]


def test_mask__missing_idiom_keeps_the_unrecorded():
    table = {"Case_excluded": lab("No", "Yes", "")}
    assert mask("Case_excluded is missing or Case_excluded != 'Yes'", table) == [True, False, True]


def test_mask__label_in_and_not_in():
    table = {"Stage": lab("I", "II", "III", "")}
    assert mask("Stage in ['I', 'II']", table) == [True, True, False, False]
    assert mask("Stage not in ['I', 'II']", table) == [False, False, True, False]


def test_mask__labels_match_exactly():
    table = {"Stage": lab("I", "i", "I ")}
    assert mask("Stage == 'I'", table) == [True, False, False]


def test_mask__number_against_labels_matches_its_spelling():
    table = {"grade": lab("2", "2.0", "3", "two", "")}
    assert mask("grade == 2", table) == [True, True, False, False, False]
    assert mask("grade != 2", table) == [False, False, True, True, False]
    assert mask("grade in [3, 'two']", table) == [False, False, True, True, False]


def test_mask__labels_from_numbers_and_str_arrays():
    assert mask("g == '1'", {"g": Column(labels=np.array(["1", ""]))}) == [True, False]
    assert mask("g == 1", {"g": Column(labels=[1, None])}) == [True, False]


# --- mask: three-valued logic -------------------------------------------------------------

def test_mask__not_of_unknown_stays_unknown():
    table = {"x": lab("Yes", "No", "")}
    assert mask("not x == 'Yes'", table) == mask("x != 'Yes'", table) == [False, True, False]
    assert mask("not x in ['Yes']", table) == mask("x not in ['Yes']", table)
    assert mask("not not x == 'Yes'", table) == [True, False, False]


def test_mask__kleene_and_or():
    table = {"a": num(1, 1, NAN, NAN, 0), "b": num(NAN, 0, 1, 0, NAN)}
    assert mask("a == 1 or b == 1", table) == [True, True, True, False, False]   # T or U = T
    assert mask("a == 1 and b != 1", table) == [False, True, False, False, False]  # T and U = U
    assert mask("not (a == 1 and b == 1)", table) == [False, True, False, True, True]  # not (F and U) = T


def test_mask__returns_bool_array():
    out = parse_where("a > 0").mask({"a": num(1, -1), "other": lab("x", "y")})
    assert out.dtype == bool and out.shape == (2,)


# --- errors -------------------------------------------------------------------------------

def test_error__incomplete_expression():
    msg = error("Case_excluded != 'Yes' and")
    assert msg == ('where = "Case_excluded != \'Yes\' and": expected a column name at character 27 '
                   "(end of the expression)")


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_error__empty(text):
    assert "the filter is empty" in error(text)


def test_error__not_a_string():
    with pytest.raises(JobError, match="where must be a string"):
        parse_where(3)


@pytest.mark.parametrize("text,fragments", [
    ("a = 1", ["unexpected '='", "character 3", "write == to compare"]),
    ("a == 1 && b == 2", ["unexpected '&'", "character 8", "write and"]),
    ("a == 1 | b == 2", ["unexpected '|'", "character 8", "write or"]),
    ("!a", ["unexpected '!'", "character 1"]),
    ("a == 1 ; b", ["unexpected ';'", "character 8"]),
    ("a == 'Yes", ["unterminated string starting at character 6"]),
    ('a == "Yes', ["unterminated string starting at character 6"]),
    ("a == 'Yes\\", ["unterminated string starting at character 6"]),
    ("`tumor site == 1", ["unterminated column name starting at character 1"]),
    ("`` == 1", ["empty column name at character 1"]),
    ("a == 1e999", ["1e999", "character 6", "too large"]),
    ("a == b", ["expected a number or a quoted string at character 6 (found 'b')", "quote text"]),
    ("Stage == I", ["character 10 (found 'I')", "quote text values"]),
    ("a ==", ["expected a number or a quoted string at character 5 (end of the expression)"]),
    ("Stage II", ["expected a comparison (==, !=, <, <=, >, >=, in, not in, is missing, is not missing) "
                  "at character 7 (found 'II')"]),
    ("a", ["expected a comparison", "character 2 (end of the expression)"]),
    ("a is", ["expected missing or not missing at character 5 (end of the expression)"]),
    ("a is not nothing", ["expected missing at character 10 (found 'nothing')"]),
    ("a not == 1", ["expected in at character 7 (found '==')"]),
    ("a in 1", ["expected '[' at character 6 (found '1')", "list such as"]),
    ("a in []", ["expected a number or a quoted string at character 7 (found ']')"]),
    ("a in [1 2]", ["expected ',' or ']' at character 9 (found '2')"]),
    ("a in [1,", ["expected a number or a quoted string at character 9 (end of the expression)"]),
    ("(a == 1", ["expected ')' at character 8 (end of the expression)", "'(' at character 1 is not closed"]),
    ("a == 1)", ["expected and, or, or the end of the expression at character 7 (found ')')", "has no '('"]),
    ("a == 1 b == 2", ["expected and, or, or the end of the expression at character 8 (found 'b')"]),
    (")", ["expected a column name at character 1 (found ')')"]),
    ("'Yes' == a", ["expected a column name at character 1 (found \"'Yes'\")"]),
    ("and == 1", ["expected a column name at character 1 (found 'and')", "back-quote"]),
    ("a == 1 or not", ["expected a column name at character 14 (end of the expression)"]),
    ("missing is missing", ["expected a column name at character 1 (found 'missing')"]),
])
def test_error__syntax(text, fragments):
    msg = error(text)
    assert msg.startswith(f"where = {json.dumps(text)}: "), msg
    for fragment in fragments:
        assert fragment in msg, (fragment, msg)


def test_error__quotes_the_expression_with_double_quotes_escaped():
    msg = error('a == "x" and')
    assert msg.startswith('where = "a == \\"x\\" and": ')


def test_error__offsets_count_characters_across_lines():
    assert "character 11 (end of the expression)" in error("a == 1\nand")


def test_error__text_compared_with_numeric_column():
    with pytest.raises(JobError) as e:
        parse_where("purity >= 'high'").mask({"purity": num(0.5)}, "BRCA")
    assert "'purity' is numeric" in str(e.value) and "'high'" in str(e.value)
    with pytest.raises(JobError, match="'purity' is numeric"):
        parse_where("purity in [1, 'x']").mask({"purity": num(0.5)})


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
def test_error__ordering_a_label_column(op):
    with pytest.raises(JobError) as e:
        parse_where(f"Stage {op} 'II'").mask({"Stage": lab("I", "II", "")}, "OV")
    msg = str(e.value)
    assert "'Stage' has labels ('I', 'II')" in msg and f"{op} compares numbers" in msg


def test_error__column_absent_from_cohort():
    with pytest.raises(JobError) as e:
        parse_where("purty > 0.3").mask({"purity": num(0.5)}, "LUAD")
    assert "cohort LUAD has no phenotype column 'purty'" in str(e.value)
    assert "did you mean purity" in str(e.value)
    with pytest.raises(JobError, match="the cohort has no phenotype column 'x'"):
        parse_where("x > 0").mask({"purity": num(0.5)})


def test_error__raised_even_where_unknown_side_of_or():
    # type errors do not depend on the data: every comparison is checked
    with pytest.raises(JobError, match="has labels"):
        parse_where("a == 1 or Stage > 'I'").mask({"a": num(1), "Stage": lab("I")})


# --- check_columns ------------------------------------------------------------------------

def test_check_columns__known_names_pass():
    w = parse_where("purity > 0.3 and Stage in ['I']")
    check_columns(w, {"purity", "Stage", "age"}, "BRCA")
    check_columns(w, {"purity": "CON", "Stage": "ORD"}, "BRCA")


def test_check_columns__lists_unknown_with_close_matches():
    w = parse_where("purty > 0.3 and Stage in ['I'] and stge is missing and zzz == 1")
    with pytest.raises(JobError) as e:
        check_columns(w, {"purity": "CON", "Stage": "ORD", "age": "CON"}, "CCRCC")
    msg = str(e.value)
    assert "cohort CCRCC has no phenotype columns" in msg
    assert "'purty' (did you mean purity?)" in msg and "'stge' (did you mean Stage?)" in msg and "'zzz'" in msg
    assert "its phenotypes: Stage, age, purity" in msg
    assert msg.startswith('where = "purty > 0.3')


def test_check_columns__one_unknown_and_none_known():
    with pytest.raises(JobError, match="cohort OV has no phenotype column 'x'; its phenotypes: none"):
        check_columns(parse_where("x == 1"), set(), "OV")


# --- read_names ---------------------------------------------------------------------

def test_sample_list__list(tmp_path):
    assert read_names(["C3L-00001", " C3N-00002 ", "C3L-00001"], tmp_path) == ("C3L-00001", "C3N-00002")
    assert read_names([], tmp_path) == ()
    assert read_names(("a",), tmp_path) == ("a",)


@pytest.mark.parametrize("item,fragment", [(5, "exclude_samples[1] is 5 (a int)"), ("  ", "exclude_samples[1] is empty"),
                                           (None, "exclude_samples[1] is None")])
def test_sample_list__bad_item_named_by_index(tmp_path, item, fragment):
    with pytest.raises(JobError) as e:
        read_names(["a", item], tmp_path)
    assert fragment in str(e.value) and "quoted strings" in str(e.value)


@pytest.mark.parametrize("value", [5, {"a": 1}, None])
def test_sample_list__wrong_type(tmp_path, value):
    with pytest.raises(JobError, match="exclude_samples must be a list of names or the path"):
        read_names(value, tmp_path)


def test_sample_list__file_relative_to_job_folder(tmp_path):
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "out.txt").write_text(
        "# excluded after QC\n\nC3L-00001\n  C3N-00002  \r\nC3L-00001  # again\n\t\n", encoding="utf-8")
    assert read_names("lists/out.txt", tmp_path) == ("C3L-00001", "C3N-00002")


def test_sample_list__absolute_path_and_bom(tmp_path):
    path = tmp_path / "out.txt"
    path.write_bytes("\ufeffC3L-00001\nC3N-00002\n".encode("utf-8"))
    assert read_names(str(path), tmp_path / "elsewhere") == ("C3L-00001", "C3N-00002")


def test_sample_list__empty_file(tmp_path):
    (tmp_path / "out.txt").write_text("# nothing\n")
    assert read_names("out.txt", tmp_path) == ()


def test_sample_list__missing_file(tmp_path):
    with pytest.raises(JobError) as e:
        read_names("nope.txt", tmp_path)
    msg = str(e.value)
    assert str(tmp_path / "nope.txt") in msg and "job file's folder" in msg and "exclude_samples = [" in msg


def test_sample_list__folder_is_not_a_file(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(JobError, match="no file"):
        read_names("d", tmp_path)


def test_sample_list__empty_path(tmp_path):
    with pytest.raises(JobError, match="empty path"):
        read_names(" ", tmp_path)


def test_sample_list__not_utf8(tmp_path):
    (tmp_path / "out.txt").write_bytes(b"C3L-00001\n\xff\xfeabc\n")
    with pytest.raises(JobError, match="is not UTF-8 text"):
        read_names("out.txt", tmp_path)


@pytest.mark.parametrize("line", ["C3L-00001\tTumor", "C3L-00001,C3N-00002"])
def test_sample_list__table_rows_rejected(tmp_path, line):
    (tmp_path / "out.txt").write_text(f"a\n{line}\n")
    with pytest.raises(JobError, match="line 2 of .* holds more than one field"):
        read_names("out.txt", tmp_path)
