"""Upload through the LiteX BIOS's CRC-checked serial boot protocol (SFL, as litex_term does).

    serial_boot(con, [(addr, bytes), ...], boot_addr)   # answers the BIOS's request, loads, jumps

The frames, CRC16 and magic strings are LiteX's own (litex.tools.litex_term); this module only drives
them over a sw.host Console, with bounded waits, so that it works on pyserial URLs (sim and board).
"""
from __future__ import annotations

import time

from litex.tools.litex_term import (SFLFrame, sfl_ack_crcerror, sfl_ack_success, sfl_cmd_jump, sfl_cmd_load,
                                    sfl_magic_ack, sfl_magic_req, sfl_payload_length)

from .console import Console, HostError

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
