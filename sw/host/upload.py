"""Upload through the LiteX BIOS's CRC-checked serial boot protocol (SFL, as litex_term does).

    serial_boot(con, [(addr, bytes), ...], boot_addr)   # answers the BIOS's request, loads, jumps
    put(con, addr, data)                                 # at run time, through the firmware's `put`

The frames, CRC16 and magic strings are LiteX's own (litex.tools.litex_term); this module only drives
them over a sw.host Console, with bounded waits, so that it works on pyserial URLs (sim and board).
"""
from __future__ import annotations

import re
import time
import zlib

from litex.tools.litex_term import (SFLFrame, sfl_ack_crcerror, sfl_ack_success, sfl_cmd_abort, sfl_cmd_jump,
                                    sfl_cmd_load, sfl_magic_ack, sfl_magic_req, sfl_payload_length)

from .console import Console, ConsoleError, HostError

RETRIES = 5


def _send(con: Console, frame: SFLFrame, timeout: float, what: str):
    data = frame.encode()
    for _ in range(RETRIES):
        con.port.write(data)
        con.port.flush()
        deadline = time.monotonic() + timeout
        reply = b""
        while not reply:
            if time.monotonic() > deadline:
                raise HostError(f"serial boot: no acknowledge for {what} within {timeout:.0f} s")
            reply = con.port.read(1)
        if reply == sfl_ack_success:
            return
        if reply != sfl_ack_crcerror:
            raise HostError(f"serial boot: unexpected reply {reply!r} to {what}")
    raise HostError(f"serial boot: {what} failed its CRC check {RETRIES} times")


def serial_boot(con: Console, regions, boot_addr: int, wait: float = 120.0, timeout: float = 30.0, log=print):
    """Wait for the BIOS's serial boot request, write each (address, bytes) region, jump to boot_addr."""
    con.read_until(sfl_magic_req.decode().strip(), wait, "the BIOS serial boot request (reset the board?)")
    con.port.write(sfl_magic_ack)
    con.port.flush()
    time.sleep(0.05)
    con.port.reset_input_buffer()
    con.buf = ""
    chunk = sfl_payload_length - 4
    t0 = time.monotonic()
    total = 0
    for addr, data in regions:
        for off in range(0, len(data), chunk):
            f = SFLFrame()
            f.cmd = sfl_cmd_load
            f.payload = (addr + off).to_bytes(4, "big") + data[off:off + chunk]
            _send(con, f, timeout, f"the frame at 0x{addr + off:08x}")
        total += len(data)
        log(f"[host] uploaded {len(data)} bytes to 0x{addr:08x}")
    f = SFLFrame()
    f.cmd = sfl_cmd_jump
    f.payload = boot_addr.to_bytes(4, "big")
    _send(con, f, timeout, "the jump")
    dt = time.monotonic() - t0
    log(f"[host] serial boot: {total} bytes in {dt:.1f} s, jumped to 0x{boot_addr:08x}")


# ---------------------------------------------------------------- run-time uploads (firmware `put`)

PUT_DONE = re.compile(r"put: (\d+) bytes at 0x([0-9a-f]{8}) crc32 0x([0-9a-f]{8})")
READY = re.compile(r"put: ready[^\n]*\n")


def _frame(cmd: bytes, payload: bytes) -> bytes:
    f = SFLFrame()
    f.cmd, f.payload = cmd, payload
    return f.encode()


def _send_acked(con: Console, data: bytes, ack_timeout: float, resends: int, what: str) -> int:
    """Send one SFL frame until the device acks it 'K'; returns the number of resends. A lost, damaged or
    negative ack is a resend: a load frame writes the same bytes to the same place again."""
    for n in range(resends + 1):
        con.port.reset_input_buffer()
        con.port.write(data)
        con.port.flush()
        deadline = time.monotonic() + ack_timeout
        reply = b""
        while not reply and time.monotonic() < deadline:
            reply = con.port.read(1)
        if reply == sfl_ack_success:
            return n
    raise HostError(f"put: no acknowledge for {what} after {resends + 1} tries")


def put(con: Console, addr: int, data: bytes, tries: int = 3, ack_timeout: float = 5.0, resends: int = 8,
        timeout: float = 60.0) -> dict:
    """Write `data` at `addr` through the running firmware (`put`, SFL frames with CRC-16 and resends),
    then check the firmware's CRC-32 of the RAM against the data. A failed attempt resynchronises
    the console (which also ends the device's receive mode) and starts again, at most `tries` times.
    Returns {"attempts", "resends"}; HostError if every attempt failed."""
    from .framing import Damaged
    stats = {"attempts": 0, "resends": 0}
    last = None
    for attempt in range(tries):
        stats["attempts"] += 1
        try:
            stats["resends"] += _put_once(con, addr, data, ack_timeout, resends, timeout)
            return stats
        except (HostError, Damaged) as e:
            if isinstance(e, ConsoleError):
                raise                                  # the firmware refused the command itself
            last = e
            con.resync()                               # also ends the device's receive mode
    raise HostError(f"put of {len(data)} bytes at 0x{addr:08x} failed {tries} times (last: {last})")


def _put_once(con: Console, addr: int, data: bytes, ack_timeout: float, resends: int, timeout: float) -> int:
    from .framing import END, check_reply, frame
    con.seq = (con.seq + 1) & 0xffff
    line = f"put 0x{addr:08x} {len(data)}"
    sent = frame(line, con.seq)
    con.write_line(sent)
    m = con.wait(lambda buf: READY.search(buf) or END.search(buf), con.answer_timeout, f"the answer to '{line}'")
    if not m.group().startswith("put: ready"):
        body, ok = check_reply(con.read_reply(timeout, f"the reply to '{line}'"), sent, con.seq)
        raise ConsoleError(f"'{line}': {body.strip()}")
    prefix, con.buf = con.buf[:m.end()], con.buf[m.end():]
    n = 0
    chunk = sfl_payload_length - 4
    for off in range(0, len(data), chunk):
        n += _send_acked(con, _frame(sfl_cmd_load, (addr + off).to_bytes(4, "big") + data[off:off + chunk]),
                         ack_timeout, resends, f"the frame at 0x{addr + off:08x}")
    # the end frame: its ack and any late acks of resent frames come before the report; they are not part
    # of the reply (the firmware leaves them out of its CRC)
    for k in range(resends + 1):
        con.port.write(_frame(sfl_cmd_abort, b""))
        con.port.flush()
        try:
            report = con.read_reply(ack_timeout if k < resends else timeout, "the put report")
            break
        except HostError as e:
            if "timed out" not in str(e):
                raise
            n += 1
    else:
        raise HostError(f"put: no report after the end frame ({resends + 1} tries)")
    body, ok = check_reply(prefix + report.lstrip("KCEU"), sent, con.seq)
    got = PUT_DONE.search(body)
    if not ok or not got:
        raise HostError(f"put: {body.strip()[-200:]}")
    if (int(got.group(1)), int(got.group(2), 16)) != (len(data), addr) or int(got.group(3), 16) != zlib.crc32(data):
        raise HostError(f"put: the device holds other data (crc32 0x{got.group(3)}, sent 0x{zlib.crc32(data):08x})")
    return n
