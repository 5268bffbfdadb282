"""A client for the firmware's serial console over any pyserial URL.

    with Console("socket://127.0.0.1:5555") as con:     # litex_sim serial2tcp
        con.wait_prompt(boot=True)
        lines = con.command("info")
    Console("/dev/ttyUSB1", baudrate=115200)            # the Arty board

Every wait is bounded and a timeout names what was awaited; a peer that closes the link raises HostError
naming what was awaited and the last output (an HTTP server's status line, say). A command's reply is its
output lines, without the echoed command and the prompt; a line starting with "error: " raises
ConsoleError unless the caller asks for the raw reply.

Commands travel as framed lines (sw.host.framing, docs/firmware.md "Framed lines"): each reply is checked
to be the intact answer to its own command. A damaged or lost exchange (bytes dropped or changed on the
link, a stale reply) is never taken for an answer: the console is resynchronised and the command sent
again, up to `retries` times, then HostError. Lines the firmware cannot take (too long, not printable)
are refused here before anything is sent (litex_sim's serial2tcp also replays old bytes when more than
its 2 KiB ring arrives at once, docs/soc.md).
"""
from __future__ import annotations

import sys
import time

from .framing import END, KILL, Damaged, check_reply, check_text, frame

PROMPT = "ffs> "
BANNER = "FireFly-S console"
ANSWER_TIMEOUT = 10.0      # default wait for a device's first answer (sw.host --answer-timeout)
PROGRESS_EVERY = 30.0      # seconds between "still waiting" lines of a long wait (Console(progress=...))
RETRIES = 3                # resends of a command whose exchange was damaged
SFL_ABORT = bytes(4)       # LiteX serial boot abort frame (length 0, CRC 0, command 0): ends a `put`


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
        self.seq = 0
        self.answer_timeout = ANSWER_TIMEOUT
        self.retried = 0           # exchanges resent after damage (for fault-injection counts)

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
            text = data.decode("latin-1").replace("\r", "")
            if text and self.log:
                self.log(text)
            self.buf += text

    def wait(self, found, timeout: float, what: str, alive=None):
        """Read until found(self.buf) returns something other than None, and return that. Bounded by
        `timeout` (HostError naming `what` and the last output), with a progress line every
        PROGRESS_EVERY s. alive: optional callable raising if the other end died (the sim process)."""
        t0 = time.monotonic()
        deadline, next_note = t0 + timeout, t0 + PROGRESS_EVERY
        while (got := found(self.buf)) is None:
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
        return got

    def read_until(self, marker: str, timeout: float, what: str, alive=None, keep: bool = False) -> str:
        """Read until `marker`; returns everything before it (the marker is consumed, unless `keep`)."""
        i = self.wait(lambda buf: i if (i := buf.find(marker)) >= 0 else None, timeout, what, alive)
        head = self.buf[:i]
        if not keep:
            self.buf = self.buf[i + len(marker):]
        return head

    def read_reply(self, timeout: float, what: str, alive=None) -> str:
        """Read to the end of a reply (framing.END: the prompt, or a done line and the 5 characters of a
        damaged prompt); returns the reply with its done line, without the prompt."""
        m = self.wait(END.search, timeout, what, alive)
        end = m.end() - 5 if m.group().startswith("done ") else m.start()
        reply, self.buf = self.buf[:end], self.buf[m.end():]
        return reply

    def _last_output(self) -> str:
        tail = self.buf[-300:].strip().replace("\n", " | ")
        return f"last output: {tail!r}" if tail else "no output from the device"

    def write_line(self, line: str, chunk: int = 64):
        """Send a line in small chunks (litex_sim's serial2tcp buffers at most 2 KiB)."""
        import serial
        data = (line + "\n").encode("latin-1", "replace")
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

    def exchange(self, line: str, timeout: float = 60.0, alive=None, ok: list | None = None) -> str:
        """Send one command as a framed line and return the device's reply up to the next prompt, without
        the echo and the done line. A damaged exchange is resynchronised and resent (at most RETRIES
        times); `ok`, if given, receives whether the command succeeded."""
        why = check_text(line)
        if why:
            raise HostError(why)
        problems = []
        for attempt in range(RETRIES + 1):
            if attempt:
                self.retried += 1
                self.resync(alive)
            self.seq = (self.seq + 1) & 0xffff
            sent = frame(line, self.seq)
            self.write_line(sent)
            try:
                self.read_until("\n", self.answer_timeout, f"the echo of '{line}'", alive, keep=True)
            except HostError as e:
                if "timed out" not in str(e):
                    raise                                   # the link is gone: no retry helps
                problems.append(str(e))                     # the line was lost on the way: resend
                continue
            # a reply slower than `timeout` is an error, not a retry: the command may still be running
            reply = self.read_reply(timeout, f"the reply to '{line}'", alive)
            try:
                body, good = check_reply(reply, sent, self.seq)
            except Damaged as e:
                problems.append(str(e))
                continue
            if ok is not None:
                ok.append(good)
            return body
        raise HostError(f"'{line}': no intact reply in {RETRIES + 1} tries (last: {problems[-1]})")

    def interrupt(self) -> None:
        """Ctrl-C: the firmware ends a running batch (its reply is an error line; the model is unloaded)."""
        self.port.write(b"\x03")
        self.port.flush()

    def resync(self, alive=None, tries: int = 5) -> None:
        """Bring the console back to a known state: drop what is in flight, end an upload the firmware may
        still be receiving (an SFL abort frame, four zero bytes the line editor ignores), kill any partial
        line, then the answer to an empty framed line must come back intact."""
        for _ in range(tries):
            self._drain(alive)
            self.seq = (self.seq + 1) & 0xffff
            sent = frame("", self.seq)
            self.port.write(SFL_ABORT)
            self.write_line(KILL + sent)
            try:
                self.read_until(f"\ndone {self.seq} 0 0000\n", self.answer_timeout, "the resynchronisation", alive)
            except HostError as e:
                if "timed out" not in str(e):
                    raise
                continue
            try:
                self.read_until(PROMPT, self.answer_timeout, "the prompt", alive)
            except HostError:
                pass                      # a damaged prompt: the next exchange notices and resynchronises
            return
        raise HostError(f"cannot resynchronise the console on {self.url} after {tries} tries "
                        f"({self._last_output()})")

    def _drain(self, alive=None, quiet: float = 0.3) -> None:
        """Read and drop input until nothing arrives for `quiet` seconds (at most answer_timeout)."""
        deadline = time.monotonic() + self.answer_timeout
        last = time.monotonic()
        while time.monotonic() - last < quiet and time.monotonic() < deadline:
            if alive:
                alive()
            n = len(self.buf)
            self._read()
            if len(self.buf) != n:
                last = time.monotonic()
        self.buf = ""

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
        printed without the echo, followed by the device's prompt; a reply has `timeout` seconds. Lines
        travel framed (exchange()); one the firmware cannot take is refused here with an error line."""
        inp = sys.stdin if inp is None else inp
        out = sys.stdout if out is None else out
        self.answer_timeout = answer_timeout
        if not prompted:
            self.write_line("")
            self.wait_prompt(answer_timeout)
        out.write(self.buf + PROMPT)
        self.buf = ""
        out.flush()
        for line in inp:
            text = line.rstrip("\r\n")
            why = check_text(text)
            reply = f"error: {why} (not sent)\n" if why else self.exchange(text, timeout)
            out.write(reply + PROMPT)
            out.flush()
        out.write("\n")
        out.flush()
