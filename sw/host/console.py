"""A client for the firmware's serial console over any pyserial URL.

    with Console("socket://127.0.0.1:5555") as con:     # litex_sim serial2tcp
        con.wait_prompt(boot=True)
        lines = con.command("info")
    Console("/dev/ttyUSB1", baudrate=115200)            # the Arty board

Every wait is bounded and a timeout names what was awaited. A command's reply is its output lines,
without the echoed command and the prompt; a line starting with "error: " raises ConsoleError unless
the caller asks for the raw reply.
"""
from __future__ import annotations

import time

PROMPT = "ffs> "
BANNER = "FireFly-S console"


class HostError(RuntimeError):
    """The link or the device did not answer as expected (the message says what was awaited)."""


class ConsoleError(HostError):
    """The firmware answered a command with an error line."""


def open_port(url: str, baudrate: int = 115200, timeout: float = 0.05):
    import serial
    try:
        return serial.serial_for_url(url, baudrate=baudrate, timeout=timeout)
    except (serial.SerialException, ValueError, OSError) as e:
        raise HostError(f"cannot open {url}: {e}") from None


class Console:
    def __init__(self, url: str, baudrate: int = 115200, connect_timeout: float = 0.0, log=None):
        """connect_timeout > 0 retries the connection (the sim's socket appears after it starts)."""
        deadline = time.monotonic() + connect_timeout
        while True:
            try:
                self.port = open_port(url, baudrate)
                break
            except HostError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.url = url
        self.log = log          # optional callable(str) receiving everything the device prints
        self.buf = ""

    def close(self):
        self.port.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ raw I/O
    def _read(self) -> str:
        import serial
        try:
            data = self.port.read(4096)
        except serial.SerialException as e:
            raise HostError(f"{self.url}: link lost ({e})") from None
        text = data.decode("utf-8", "replace").replace("\r", "")
        if text and self.log:
            self.log(text)
        return text

    def read_until(self, marker: str, timeout: float, what: str, alive=None) -> str:
        """Read until `marker`; returns everything before it (the marker is consumed).
        alive: optional callable raising if the other end died (e.g. the sim process)."""
        deadline = time.monotonic() + timeout
        while marker not in self.buf:
            if time.monotonic() > deadline:
                tail = self.buf[-300:].strip().replace("\n", " | ")
                raise HostError(f"timed out after {timeout:.0f} s waiting for {what} on {self.url} "
                                f"(last output: {tail!r})")
            if alive:
                alive()
            self.buf += self._read()
        head, _, self.buf = self.buf.partition(marker)
        return head

    def write_line(self, line: str, chunk: int = 64):
        """Send a line in small chunks (litex_sim's serial2tcp buffers at most 2 KiB)."""
        data = (line + "\n").encode()
        for i in range(0, len(data), chunk):
            self.port.write(data[i:i + chunk])
            self.port.flush()

    # ------------------------------------------------------------------ console protocol
    def wait_prompt(self, timeout: float = 30.0, boot: bool = False, alive=None):
        """Wait for the prompt; with boot=True first for the firmware's banner (after the BIOS)."""
        if boot:
            self.read_until(BANNER, timeout, "the firmware banner", alive)
        self.read_until(PROMPT, timeout, "the console prompt", alive)

    def command(self, line: str, timeout: float = 60.0, check: bool = True, alive=None) -> list[str]:
        self.write_line(line)
        reply = self.read_until("\n" + PROMPT, timeout, f"the reply to '{line}'", alive)
        lines = reply.split("\n")
        sent = line.strip()
        if lines and (lines[0].strip() == sent or (lines[0].strip() and sent.startswith(lines[0].strip()))):
            lines = lines[1:]                         # the echo (truncated by the firmware for long lines)
        lines = [l for l in lines if l.strip()]
        if check:
            for l in lines:
                if l.startswith("error: "):
                    raise ConsoleError(f"'{line}': {l[len('error: '):]}")
        return lines

    def interact(self):
        """Hand the console to the user (stdin/stdout) until Ctrl-C / EOF."""
        import sys
        import threading
        stop = threading.Event()

        def pump():
            while not stop.is_set():
                text = self._read()
                if text:
                    sys.stdout.write(text)
                    sys.stdout.flush()
        t = threading.Thread(target=pump, daemon=True)
        if self.buf:
            sys.stdout.write(self.buf)
            self.buf = ""
        sys.stdout.write(PROMPT)
        sys.stdout.flush()
        t.start()
        try:
            for line in sys.stdin:
                self.write_line(line.rstrip("\n"))
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            t.join(timeout=1)
