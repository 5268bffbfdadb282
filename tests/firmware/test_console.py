"""The firmware's console parsing (firmware/console.c, host-compiled): numbers, argument counts,
unknown commands, long input; every error is one line and nothing crashes."""
import pytest


@pytest.mark.parametrize("text,value", [("0", 0), ("42", 42), ("0x40000000", 0x40000000), ("0XfF", 255),
                                        ("4294967295", 4294967295), ("0xffffffff", 0xFFFFFFFF)])
def test_parse_numbers(ffs_host, text, value):
    assert ffs_host("parse", text).strip() == f"value {value}"


@pytest.mark.parametrize("text", ["", "0x", "-1", "+3", "12a", "0x1g", "4294967296", "0x100000000", " 1", "1.5"])
def test_parse_rejects_junk(ffs_host, text):
    assert ffs_host("parse", text).strip() == "invalid"


@pytest.mark.parametrize("line,want", [
    ("zero", "ran zero argc 1"),
    ("two a b", "ran two argc 3"),
    ("opt a", "ran opt argc 2"),
    ("opt a b", "ran opt argc 3"),
    ("  two\ta   b  ", "ran two argc 3"),
    ("zero x", "error: usage: zero "),
    ("two a", "error: usage: two <a> <b>"),
    ("opt", "error: usage: opt <a> [b]"),
    ("nope", "error: unknown command 'nope' (type help)"),
    ("a b c d e f g h i j", "error: too many arguments"),
    ("", ""),
])
def test_dispatch(ffs_host, line, want):
    out = ffs_host("dispatch", line).splitlines()
    body = [l for l in out if not l.startswith("rc ")]
    assert (body[0] if body else "") .startswith(want), out
    assert len(body) <= 1


def test_help_prints_every_table_entry(ffs_host):
    lines = ffs_host("help").splitlines()
    assert [l.split()[0] for l in lines] == ["zero", "two", "opt"]
    assert all(len(l.split()) >= 2 for l in lines)
