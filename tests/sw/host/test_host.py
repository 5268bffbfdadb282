"""sw.host against fake devices on a local socket (the same socket:// path as litex_sim's serial2tcp):
the console protocol (echo, prompt, error lines, bounded waits) and the SFL serial-boot upload."""
import socket
import threading
import time

import numpy as np
import pytest

from litex.tools.litex_term import crc16, sfl_magic_ack, sfl_magic_req
from sw.host import framing, session
from sw.host.console import Console, ConsoleError, HostError
from sw.host.frames import frame_bytes, pack
from sw.host.upload import serial_boot


class FakeDevice:
    """A TCP peer; `handler(conn)` plays the device."""
    def __init__(self, handler):
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(1)
        self.port = self.srv.getsockname()[1]
        self.t = threading.Thread(target=self._serve, args=(handler,), daemon=True)
        self.t.start()

    def _serve(self, handler):
        conn, _ = self.srv.accept()
        time.sleep(0.3)        # pyserial's socket:// open() flushes what arrived before it returned
        with conn:
            handler(conn)

    @property
    def url(self):
        return f"socket://127.0.0.1:{self.port}"


def fake_console(conn):
    """Echoes each line, answers a few commands like the firmware (framed lines: sw.host.framing), then
    prints the prompt."""
    replies = {"help": "  help                     list the commands\n  run <addr> <n>           n frames\n",
               "run 0x00001000 3": "pred 1 2 3\ncycles 300 per_frame 100\n",
               "bad": "error: unknown command 'bad' (type help)\n"}
    conn.sendall(b"BIOS noise\nFireFly-S console (11 commands, type help)\nffs> ")
    buf = b""
    while True:
        data = conn.recv(1024)
        if not data:
            return
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            sent = line.decode().split(framing.KILL)[-1]      # Ctrl-U drops what came before
            text, seq = framing.unframe(sent) or (None, None)
            if text == "hang":                                  # echoes, then never answers
                conn.sendall((sent + "\r\n").encode())
                continue
            body = replies.get(text, "")
            reply = framing.done(seq, body, not body.startswith("error")) if seq is not None else body
            conn.sendall((sent + "\r\n" + reply + "ffs> ").encode())


def test_console_protocol():
    dev = FakeDevice(fake_console)
    with Console(dev.url, connect_timeout=5) as con:
        con.wait_prompt(timeout=5, boot=True)
        assert session.help_commands(con) == ["help", "run"]
        assert session.run(con, 0x1000, 3) == ([1, 2, 3], 300, 100)
        with pytest.raises(ConsoleError, match="unknown command 'bad'"):
            con.command("bad", timeout=5)
        assert con.command("bad", check=False, timeout=5) == ["error: unknown command 'bad' (type help)"]
        t0 = time.monotonic()
        with pytest.raises(HostError, match="waiting for the reply to 'hang'"):
            con.command("hang", timeout=1)
        assert time.monotonic() - t0 < 5


def test_unreachable_port_is_one_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(HostError, match="cannot open"):
        Console(f"socket://127.0.0.1:{port}")


def fake_bios(received):
    """Sends the SFL magic, checks every frame's CRC, acks, records (address, payload), ends on jump."""
    def handler(conn):
        conn.sendall(b"Booting from serial...\n" + sfl_magic_req)
        buf = b""
        while not buf.endswith(sfl_magic_ack):
            buf += conn.recv(64)
        buf = b""
        corrupt_once = True
        while True:
            while len(buf) < 4:
                buf += conn.recv(4096)
            n = buf[0]
            while len(buf) < 4 + n:
                buf += conn.recv(4096)
            frame, buf = buf[:4 + n], buf[4 + n:]
            crc, cmd, payload = int.from_bytes(frame[1:3], "big"), frame[3:4], frame[4:]
            if corrupt_once or crc != crc16(cmd + payload):
                corrupt_once = False
                conn.sendall(b"C")                  # ask for a resend once
                continue
            received.append((cmd, int.from_bytes(payload[:4], "big"), payload[4:]))
            conn.sendall(b"K")
            if cmd == b"\x02":
                conn.sendall(b"\nFireFly-S console\nffs> ")
                time.sleep(1)
                return
    return handler


def test_serial_boot_upload():
    received = []
    dev = FakeDevice(fake_bios(received))
    data = bytes(np.random.default_rng(0).integers(0, 256, 1000, dtype=np.uint8))
    with Console(dev.url, connect_timeout=5) as con:
        serial_boot(con, [(0x40000000, data), (0x40100000, b"\x01\x02\x03\x04")], 0x40000000, wait=5,
                    timeout=5, log=lambda s: None)
        con.wait_prompt(timeout=5, boot=True)
    loads = [(a, p) for c, a, p in received if c == b"\x01"]
    got = bytearray()
    for a, p in loads:
        if a >= 0x40100000:
            assert (a, p) == (0x40100000, b"\x01\x02\x03\x04")
        else:
            assert a == 0x40000000 + len(got)
            got += p
    assert bytes(got) == data
    assert received[-1][:2] == (b"\x02", 0x40000000)


def test_frame_packing_matches_accelerator_format():
    from sw.random_model import make
    from sw import spec
    m = make("1x4x3-2c3p1-3fc", 0.5, seed=0, timesteps=2, in_bits=8)
    img = np.arange(12, dtype=np.uint8).reshape(1, 1, 4, 3)
    b = pack(m, img)
    assert frame_bytes(m) == 12 and b == bytes(range(12))
    t = make("2x2x2-2c1-3fc", 0.5, seed=0, timesteps=3, in_bits=1, in_kind=spec.IN_TEMPORAL)
    spikes = np.zeros((1, 3, 2, 2, 2), np.uint8)
    spikes[0, 1, 1, 0, 1] = 1          # t=1, c=1, h=0, w=1 -> bit ((h*2+w)*3+t)*2+c = 9
    w = int.from_bytes(pack(t, spikes), "little")
    assert frame_bytes(t) == 4 and w == 1 << 9
