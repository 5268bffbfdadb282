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
    assert [l.split()[0] for l in lines] == ["zero", "two", "opt", "fail"]
    assert all(len(l.split()) >= 2 for l in lines)


# ---------------------------------------------------------------- framed lines (console_feed)

def feed(ffs_host, data: bytes) -> str:
    """The firmware's line editor on `data`; what it wrote, with the carriage returns removed."""
    import os
    import subprocess
    r = subprocess.run([str(ffs_host.exe), "console"], input=data, capture_output=True, timeout=60,
                       env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout.decode("latin-1").replace("\r", "")


def replies(out: str) -> list[str]:
    """The text after each prompt (the first item is what came before the first one)."""
    return out.split("ffs> ")


def test_framed_line_runs_and_ends_with_a_checked_done_line(ffs_host):
    from sw.host.framing import check_reply, frame
    lines = [frame("two a b", 1), frame("fail", 2), frame("", 3), frame("nope", 65535)]
    out = feed(ffs_host, "".join(l + "\n" for l in lines).encode())
    got = replies(out)[:-1]
    assert [check_reply(r, l, s) for r, l, s in zip(got, lines, (1, 2, 3, 65535))] == [
        ("ran two argc 3\n", True), ("error: fail failed (argc 1)\n", False), ("", True),
        ("error: unknown command 'nope' (type help)\n", False)]


@pytest.mark.parametrize("damage", ["flip", "drop_suffix_char", "bad_hex", "big_seq", "no_seq"])
def test_damaged_frame_runs_nothing(ffs_host, damage):
    from sw.host.framing import Damaged, check_reply, frame
    line = frame("two a b", 9)
    bad = {"flip": line.replace("two", "twp"), "drop_suffix_char": line[:-1], "bad_hex": line[:-4] + "zzzz",
           "big_seq": "two a b|70000|" + line[-4:], "no_seq": "two a b|" + line[-4:]}[damage]
    out = feed(ffs_host, (bad + "\n").encode())
    r = replies(out)[0]
    assert "ran two" not in out and "error: damaged framed line" in r, out
    with pytest.raises(Damaged):
        check_reply(r, line, 9)


def test_framed_mode_refuses_unframed_lines_until_plain(ffs_host):
    from sw.host.framing import frame
    data = frame("zero", 1) + "\ntwo a b\n" + "plain\n" + "two a b\n"
    r = replies(feed(ffs_host, data.encode()))
    assert r[0].startswith(frame("zero", 1) + "\nran zero argc 1\ndone 1 0 ")
    assert "error: unframed line refused" in r[1] and "ran two" not in r[1]
    assert "plain: framed mode off" in r[2]
    assert "ran two argc 3" in r[3]


def test_kill_drops_a_partial_line_and_a_reply_cannot_pair_with_another_command(ffs_host):
    from sw.host.framing import Damaged, check_reply, frame
    out = feed(ffs_host, ("two a" + "\x15" + frame("zero", 5) + "\n").encode())
    r = replies(out)
    assert check_reply(r[0], frame("zero", 5), 5) == ("ran zero argc 1\n", True)
    with pytest.raises(Damaged, match="not #6"):
        check_reply(r[0], frame("zero", 6), 6)


def test_overlong_and_binary_lines_are_refused_and_the_console_answers(ffs_host):
    from sw.host.framing import check_reply, frame
    data = b"x" * 5000 + b"\n" + bytes(range(256)) * 8 + b"\n" + b"\x15" + frame("zero", 7).encode() + b"\n"
    r = replies(feed(ffs_host, data))
    assert r[0] == "x" * 127 + "\nerror: line longer than 127 characters: ignored\n"
    for reply in r[1:-2]:                  # the binary block: its CR/LF bytes end lines; nothing runs
        assert "ran " not in reply and all(l.startswith("error: ") for l in reply.split("\n")[1:] if l), reply
    assert check_reply(r[-2], frame("zero", 7), 7) == ("ran zero argc 1\n", True)
