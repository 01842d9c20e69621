"""GMT gene set files (storage/inputs/gmt.py): what is read, and each error."""

import re

import pytest

from linkscan.errors import InputError
from linkscan.storage.inputs.gmt import GeneSet, read_gmt, write_gmt


def _gmt(tmp_path, data: bytes):
    path = tmp_path / "sets.gmt"
    path.write_bytes(data)
    return path


def test_read_gmt__sets_in_file_order_with_the_format_s_liberties(tmp_path):
    path = _gmt(tmp_path, b"\xef\xbb\xbf"  # a byte-order mark
                          b"HALLMARK_G2M\thttp://example.org/g2m\tMKI67\tTOP2A\tMKI67\t\r\n"  # repeat, trailing tab
                          b"\n   \n"  # blank lines
                          b"EMPTY_DESC\t\t CDK1 \tBUB1\n"
                          b"ONE\tx\tPLK1")  # no final line break
    assert read_gmt(path) == {
        "HALLMARK_G2M": GeneSet("http://example.org/g2m", ("MKI67", "TOP2A")),
        "EMPTY_DESC": GeneSet("", ("CDK1", "BUB1")),
        "ONE": GeneSet("x", ("PLK1",)),
    }
    assert list(read_gmt(path)) == ["HALLMARK_G2M", "EMPTY_DESC", "ONE"]


def test_write_gmt__reads_back_as_written(tmp_path):
    sets = {"A": GeneSet("first set", ("g1", "G2", "ß3")), "B": ["x"]}
    path = write_gmt(tmp_path / "out.gmt", sets)
    assert path.read_text() == "A\tfirst set\tg1\tG2\tß3\nB\t\tx\n"
    assert read_gmt(path) == {"A": sets["A"], "B": GeneSet("", ("x",))}


@pytest.mark.parametrize("sets", [{"A": ["g\t1"]}, {"": ["g"]}, {"A": []}, {"A": ["g", ""]},
                                  {"A": GeneSet("two\nlines", ("g",))}])
def test_write_gmt__refuses_what_would_not_read_back(tmp_path, sets):
    with pytest.raises(InputError, match="a GMT line needs a name and at least one gene"):
        write_gmt(tmp_path / "out.gmt", sets)


@pytest.mark.parametrize("data, message", [
    (b"A\tdesc\tg1\nB\tonly two fields\n", "line 2 has 2 tab-separated field(s); a GMT line is NAME<TAB>DESCRIPTION"),
    (b"A desc g1 g2\n", "line 1 has 1 tab-separated field(s)"),
    (b"A\tdesc\tg1\n\n\tdesc\tg2\n", "line 3 has an empty set name (its first field); name the set"),
    (b"A\tdesc\t\t\n", "line 1 (set 'A') lists no gene; add its genes"),
    (b"A\tdesc\tg1\nB\tdesc\tg2\nA\tagain\tg3\n", "line 3: set name 'A' is used on line 1 too; give each set its own name"),
    (b"A\tdesc\tg1\nB\tdesc\tCAF\xe9\n", "line 2, byte 11 of the line (0xe9) is not UTF-8; save the file as UTF-8"),
    (b"\n\n", "the file holds no gene set"),
])
def test_read_gmt__each_bad_file_is_one_clear_error(tmp_path, data, message):
    path = _gmt(tmp_path, data)
    with pytest.raises(InputError, match=re.escape(f"{path}: {message}")):
        read_gmt(path)


def test_read_gmt__missing_file(tmp_path):
    with pytest.raises(InputError, match=re.escape(f"{tmp_path / 'nope.gmt'}: no such gene set file")):
        read_gmt(tmp_path / "nope.gmt")
