"""`python -m sw.host` against broken peers on a real local socket: each ends with one error line and a
non-zero exit, never a hang, a prompt printed on the device's behalf, or a thread traceback.

Peers: silent (accepts and never writes), closing (accepts and closes), HTTP (answers a request line with
an HTTP status and closes, or keeps the connection open), and a working console for the end-of-input case.
"""
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sw.host.console import ANSWER_TIMEOUT

ROOT = Path(__file__).resolve().parents[3]
MODEL = ROOT / "artifacts" / "mnist-scnn5" / "model.ffs"


class Peer:
    """A TCP server thread; `behaviour(conn)` plays the peer for every connection."""
    def __init__(self, behaviour):
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(4)
        self.port = self.srv.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._serve, args=(behaviour,), daemon=True).start()

    def _serve(self, behaviour):
        while True:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=behaviour, args=(conn,), daemon=True).start()

    @property
    def url(self):
        return f"socket://127.0.0.1:{self.port}"

    def close(self):
        self.srv.close()
        for c in self.conns:
            c.close()


def silent(conn):
    while conn.recv(1024):
        pass


def closing(conn):
    time.sleep(0.3)         # after pyserial's open() (it flushes input)
    conn.close()


def http(keep_open):
    def behaviour(conn):
        conn.recv(1024)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        if keep_open:
            silent(conn)
        else:
            conn.close()
    return behaviour


def console_device(conn):
    """Answers like the firmware: echo, a reply (framed lines: sw.host.framing), the prompt."""
    from sw.host import framing
    for line in conn.makefile("rb"):
        sent = line.rstrip(b"\n").decode().split(framing.KILL)[-1]
        text, seq = framing.unframe(sent) or (None, None)
        body = "  help    list the commands\n" if text == "help" else ""
        reply = framing.done(seq, body) if seq is not None else body
        conn.sendall((sent + "\r\n" + reply + "ffs> ").encode())


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    """The parts of a SoC build that `run`/`upload` read before opening the port."""
    if shutil.which("riscv64-unknown-elf-as") is None:
        pytest.skip("riscv64-unknown-elf-as not on PATH")
    d = tmp_path_factory.mktemp("soc")
    (d / "firmware").mkdir()
    (d / "csr.json").write_text(json.dumps({"memories": {"main_ram": {"base": 0x40000000, "size": 0x400000}}}))
    (d / "firmware" / "firmware.bin").write_bytes(bytes(64))
    s = d / "end.s"
    s.write_text(".globl _end_of_image\n.set _end_of_image, 0x40020000\n")
    subprocess.run(["riscv64-unknown-elf-as", str(s), "-o", str(d / "firmware" / "firmware.elf")], check=True)
    return d


def host(url, *args, stdin="", timeout=60):
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "sw.host", "--port", url, *args], cwd=ROOT, input=stdin,
                       capture_output=True, text=True, timeout=timeout)
    return r, time.monotonic() - t0


def one_error_line(r):
    lines = [l for l in r.stderr.splitlines() if not l.startswith("[host]")]
    assert "Traceback" not in r.stderr and "Exception in thread" not in r.stderr, r.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    return lines[0]


def test_default_answer_timeout_is_short_and_documented():
    assert 0 < ANSWER_TIMEOUT <= 30
    r = subprocess.run([sys.executable, "-m", "sw.host", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert "--answer-timeout" in r.stdout and f"default {ANSWER_TIMEOUT:g} s" in r.stdout, r.stdout


def test_console_to_silent_peer_fails_without_a_prompt():
    peer = Peer(silent)
    try:
        r, dt = host(peer.url, "--answer-timeout", "1", "console", stdin="help\n")
    finally:
        peer.close()
    assert r.returncode == 1 and "ffs> " not in r.stdout, (r.returncode, r.stdout)
    assert "timed out after 1 s waiting for the console prompt" in one_error_line(r)
    assert dt < 15


def test_run_against_silent_peer_fails_after_the_default_answer_timeout(build_dir):
    if not MODEL.exists():
        pytest.skip(f"{MODEL} missing")
    peer = Peer(silent)
    try:
        r, dt = host(peer.url, "run", "--build-dir", str(build_dir), "--model", str(MODEL), "--limit", "1")
    finally:
        peer.close()
    assert r.returncode == 1
    line = one_error_line(r)
    assert f"timed out after {ANSWER_TIMEOUT:g} s waiting for the console prompt" in line, line
    assert "no output from the device" in line, line
    assert ANSWER_TIMEOUT <= dt < ANSWER_TIMEOUT + 15, dt


def test_upload_against_silent_peer_fails_after_the_answer_timeout(build_dir):
    if not MODEL.exists():
        pytest.skip(f"{MODEL} missing")
    peer = Peer(silent)
    try:
        r, dt = host(peer.url, "--answer-timeout", "1.5", "upload", "--build-dir", str(build_dir),
                     "--model", str(MODEL), "--limit", "1")
    finally:
        peer.close()
    assert r.returncode == 1
    assert "timed out after 1.5 s waiting for the BIOS serial boot request" in one_error_line(r)
    assert dt < 15


@pytest.mark.parametrize("cmd", ["console", "run"])
@pytest.mark.parametrize("name,behaviour,expect", [
    ("closing", closing, "link lost"),
    ("http-close", http(False), "HTTP/1.1 400 Bad Request"),
    ("http-open", http(True), "HTTP/1.1 400 Bad Request"),
])
def test_broken_peer_is_one_error_line(build_dir, cmd, name, behaviour, expect):
    if cmd == "run" and not MODEL.exists():
        pytest.skip(f"{MODEL} missing")
    peer = Peer(behaviour)
    args = ["console"] if cmd == "console" else ["run", "--build-dir", str(build_dir), "--model", str(MODEL),
                                                   "--limit", "1"]
    try:
        r, dt = host(peer.url, "--answer-timeout", "2", *args, stdin="help\n")
    finally:
        peer.close()
    assert r.returncode == 1 and "ffs> " not in r.stdout, (r.returncode, r.stdout, r.stderr)
    line = one_error_line(r)
    assert expect in line, line
    if name.startswith("http"):
        assert "the console prompt" in line, line
    assert dt < 15


def test_console_ends_at_end_of_input():
    peer = Peer(console_device)
    try:
        r, dt = host(peer.url, "console", stdin="help\n\nbogus\n")
    finally:
        peer.close()
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("ffs> ") == 4, r.stdout             # the first answer + one per line
    assert "  help    list the commands" in r.stdout
    assert "bogus\n" not in r.stdout                          # the device's echo is not printed again
    assert dt < 15
