"""Framed console lines: the host side of firmware/console.h's protocol (docs/firmware.md "Framed lines").

    line = frame("infer 0x40100000", seq)            # 'infer 0x40100000|7|3fa2'
    body = check_reply(reply_text, line, seq)        # the command's output, or Damaged(why)

A host sends TEXT|SEQ|CRC (CRC-16 of LiteX's serial boot, litex_term.crc16, of "TEXT|SEQ", 4 hex
digits). The firmware refuses a damaged frame without running it, and ends the reply to an intact one
with "done SEQ RC CRC", RC 0 (ok) or 1 (error), CRC over every character it wrote after the echo's
newline (carriage returns excluded). So a reply belongs to its command (SEQ) and arrived intact (CRC);
anything else is Damaged and the caller resynchronises (KILL, then an empty framed line) and retries.
"""
from __future__ import annotations

import re

from litex.tools.litex_term import crc16

KILL = "\x15"                   # Ctrl-U: the firmware drops its partial line
LINE_MAX = 127                  # the firmware's longest line (CONSOLE_LINE_MAX - 1), frame included
SUFFIX_MAX = len("|65535|ffff")
DONE = re.compile(r"done (\d+) ([01]) ([0-9a-f]{4})\n\Z")
# The end of a reply: an intact prompt, or a done line and the 5 characters of a (maybe damaged) prompt
END = re.compile(r"done \d+ [01] [0-9a-f]{4}\n.{5}|ffs> ", re.S)


class Damaged(Exception):
    """A reply that is not the intact answer to the command sent (the message says how)."""


def encode(text: str) -> bytes:
    """Console text <-> bytes one to one (latin-1): a damaged byte stays one character."""
    return text.encode("latin-1", "replace")


def frame(text: str, seq: int) -> str:
    head = f"{text}|{seq & 0xffff}"
    return f"{head}|{crc16(encode(head)):04x}"


def check_text(text: str) -> str | None:
    """Why `text` cannot be sent as one command (None if it can): the firmware's line limit, frame
    included, and printable ASCII only (no '|', which frames use)."""
    if len(text) + SUFFIX_MAX > LINE_MAX:
        return f"line of {len(text)} characters: the console takes at most {LINE_MAX - SUFFIX_MAX}"
    bad = next((c for c in text if not " " <= c <= "~" or c == "|"), None)
    if bad is not None:
        return f"line holds {bad!r}: the console takes printable ASCII without '|'"
    return None


def unframe(line: str) -> tuple[str, int | None] | None:
    """The device side (firmware/console.c console_unframe, for fake devices and tests): (text, seq) of
    an intact framed line, (line, None) of an unframed one, None of a damaged frame."""
    if "|" not in line:
        return line, None
    head, _, crc = line.rpartition("|")
    text, bar, seq = head.rpartition("|")
    if (not bar or not re.fullmatch(r"[0-9a-fA-F]{4}", crc) or not re.fullmatch(r"\d{1,5}", seq)
            or int(seq) > 0xffff or crc16(encode(head)) != int(crc, 16)):
        return None
    return text, int(seq)


def done(seq: int, body: str, ok: bool = True) -> str:
    """The device side: body and its done line."""
    return f"{body}done {seq} {0 if ok else 1} {crc16(encode(body)):04x}\n"


def check_reply(reply: str, sent: str, seq: int) -> tuple[str, bool]:
    """(body, ok) of the reply to framed line `sent` with number `seq`: `reply` is everything the device
    wrote after the line was sent, up to (not including) the prompt. Raises Damaged."""
    echo, nl, rest = reply.partition("\n")
    if not nl:
        raise Damaged("no echo")
    m = DONE.search(rest)
    if m is None:
        raise Damaged(f"no done line (echo {echo[-40:]!r}, reply {rest[-80:]!r})")
    if int(m.group(1)) != seq & 0xffff:
        raise Damaged(f"reply to command #{m.group(1)}, not #{seq & 0xffff}")
    body = rest[:m.start()]
    if crc16(encode(body)) != int(m.group(3), 16):
        raise Damaged(f"reply CRC {crc16(encode(body)):04x} != {m.group(3)}")
    return body, m.group(2) == "0"
