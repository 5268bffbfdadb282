"""A client for the firmware's serial console over any pyserial URL.

    with Console("socket://127.0.0.1:5555") as con:     # litex_sim serial2tcp
        con.wait_prompt(boot=True)
        lines = con.command("info")
    Console("/dev/ttyUSB1", baudrate=115200)            # the Arty board

Every wait is bounded and a timeout names what was awaited; a peer that closes the link raises HostError
naming what was awaited and the last output (an HTTP server's status line, say). A command's reply is its
output lines, without the echoed command and the prompt; a line starting with "error: " raises
ConsoleError unless the caller asks for the raw reply.
"""
from __future__ import annotations

import sys
import time

PROMPT = "ffs> "
BANNER = "FireFly-S console"
ANSWER_TIMEOUT = 10.0      # default wait for a device's first answer (sw.host --answer-timeout)
PROGRESS_EVERY = 30.0      # seconds between "still waiting" lines of a long wait (Console(progress=...))


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
    def __init__(self, url: str, baudrate: int = 115200, connect_timeout: float = 0.0, log=None, progress=None):
        """connect_timeout > 0 retries the connection (the sim's socket appears after it starts).
        progress: optional callable(str), told every PROGRESS_EVERY s of a wait what is still awaited."""
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
        self.progress = progress
        self.buf = ""

    def close(self):
        self.port.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ raw I/O
    def _read(self) -> None:
        """Append what the device sent (waiting at most the port's timeout) to self.buf. Bytes that
        arrived before the peer closed the link are kept (pyserial's socket:// read(n) drops them when
        the close comes within the same call, so this reads what is waiting, a byte at a time there)."""
        import serial
        data = bytearray()
        try:
            data += self.port.read(1)
            while data and len(data) < 65536 and self.port.in_waiting:
                data += self.port.read(self.port.in_waiting)
        except (serial.SerialException, OSError) as e:
            raise HostError(f"{self.url}: link lost ({e})") from None
        finally:
            text = data.decode("utf-8", "replace").replace("\r", "")
            if text and self.log:
                self.log(text)
            self.buf += text

    def read_until(self, marker: str, timeout: float, what: str, alive=None) -> str:
        """Read until `marker`; returns everything before it (the marker is consumed).
        alive: optional callable raising if the other end died (e.g. the sim process)."""
        t0 = time.monotonic()
        deadline, next_note = t0 + timeout, t0 + PROGRESS_EVERY
        while marker not in self.buf:
            now = time.monotonic()
            if now > deadline:
                raise HostError(f"timed out after {timeout:g} s waiting for {what} on {self.url} "
                                f"({self._last_output()})")
            if self.progress and now > next_note:
                self.progress(f"[host] still waiting for {what} ({now - t0:.0f} s of at most {timeout:g} s)")
                next_note = now + PROGRESS_EVERY
            if alive:
                alive()
            try:
                self._read()
            except HostError as e:
                raise HostError(f"{e} while waiting for {what} ({self._last_output()})") from None
        head, _, self.buf = self.buf.partition(marker)
        return head

    def _last_output(self) -> str:
        tail = self.buf[-300:].strip().replace("\n", " | ")
        return f"last output: {tail!r}" if tail else "no output from the device"

    def write_line(self, line: str, chunk: int = 64):
        """Send a line in small chunks (litex_sim's serial2tcp buffers at most 2 KiB)."""
        import serial
        data = (line + "\n").encode()
        try:
            for i in range(0, len(data), chunk):
                self.port.write(data[i:i + chunk])
                self.port.flush()
        except (serial.SerialException, OSError) as e:
            raise HostError(f"{self.url}: link lost while sending {line[:40]!r} ({e})") from None

    # ------------------------------------------------------------------ console protocol
    def wait_prompt(self, timeout: float = 30.0, boot: bool = False, alive=None):
        """Wait for the prompt; with boot=True first for the firmware's banner (after the BIOS)."""
        if boot:
            self.read_until(BANNER, timeout, "the firmware banner", alive)
        self.read_until(PROMPT, timeout, "the console prompt", alive)

    def exchange(self, line: str, timeout: float = 60.0, alive=None) -> str:
        """Send one line and return the device's reply up to the next prompt, without the echoed line."""
        self.write_line(line)
        reply = self.read_until("\n" + PROMPT, timeout, f"the reply to '{line}'", alive)
        first, nl, rest = reply.partition("\n")
        sent = line.strip()
        if first.strip() == sent or (first.strip() and sent.startswith(first.strip())):
            return rest                               # the echo (truncated by the firmware for long lines)
        return reply

    def command(self, line: str, timeout: float = 60.0, check: bool = True, alive=None) -> list[str]:
        lines = [l for l in self.exchange(line, timeout, alive).split("\n") if l.strip()]
        if check:
            for l in lines:
                if l.startswith("error: "):
                    raise ConsoleError(f"'{line}': {l[len('error: '):]}")
        return lines

    def interact(self, timeout: float = 600.0, answer_timeout: float = ANSWER_TIMEOUT, prompted: bool = False,
                 inp=None, out=None):
        """Hand the console to the user until the end of input (Ctrl-D; Ctrl-C raises KeyboardInterrupt).

        Unless `prompted` (the caller has just seen the prompt), an empty line is sent first and the
        device must answer with its prompt within `answer_timeout`, so a silent or foreign peer is a
        HostError, not a prompt printed on its behalf. Each input line is sent once the previous reply
        has ended at the prompt (nothing queues up in the device's small UART buffer) and its reply is
        printed without the echo, followed by the device's prompt; a reply has `timeout` seconds."""
        inp = sys.stdin if inp is None else inp
        out = sys.stdout if out is None else out
        if not prompted:
            self.write_line("")
            self.wait_prompt(answer_timeout)
        out.write(self.buf + PROMPT)
        self.buf = ""
        out.flush()
        for line in inp:
            reply = self.exchange(line.rstrip("\r\n"), timeout)
            out.write(reply + ("\n" if reply else "") + PROMPT)
            out.flush()
        out.write("\n")
        out.flush()
