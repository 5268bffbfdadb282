"""Typed wrappers of the firmware's console commands, and a data-set batch with golden agreement.

One code path for the sim (socket://) and the board (/dev/ttyUSB*): everything goes through a
sw.host.console.Console.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .console import Console, HostError

COMMANDS = ("help", "info", "load", "infer", "run", "stats", "selftest", "bench", "put", "watchdog", "reset")
# test SoCs (soc/sim_soc.py: the accelerator's `inject` CSR) have these too, before `reset`
TEST_COMMANDS = ("inject",)


@dataclass
class BatchResult:
    predictions: list
    cycles_per_frame: int
    cycles: int
    selftest: str | None = None
    bench: dict = field(default_factory=dict)
    stats: list = field(default_factory=list)


def _kv(line: str) -> dict:
    toks = line.split()
    return {toks[i]: toks[i + 1] for i in range(0, len(toks) - 1, 2)}


def help_commands(con: Console) -> list[str]:
    return [l.split()[0] for l in con.command("help") if l.startswith("  ")]


def load(con: Console, addr: int, timeout=600.0) -> str:
    return con.command(f"load 0x{addr:08x}", timeout=timeout)[-1]


def run(con: Console, addr: int, n: int, timeout=600.0):
    lines = con.command(f"run 0x{addr:08x} {n}", timeout=timeout)
    pred = next(l for l in lines if l.startswith("pred"))
    cyc = next(l for l in lines if l.startswith("cycles"))
    preds = [int(v) for v in pred.split()[1:]]
    if len(preds) != n:
        raise HostError(f"run returned {len(preds)} predictions for {n} frames")
    m = re.match(r"cycles (\d+) per_frame (\d+)", cyc)
    return preds, int(m.group(1)), int(m.group(2))


def infer(con: Console, addr: int, timeout=120.0) -> dict:
    lines = con.command(f"infer 0x{addr:08x}", timeout=timeout)
    out = {}
    for l in lines:
        key, _, rest = l.partition(" ")
        out[key] = [int(v) for v in rest.split()] if key == "readout" else int(rest)
    return out


def selftest(con: Console, addr: int, n: int, timeout=1800.0) -> str:
    lines = con.command(f"selftest 0x{addr:08x} {n}", timeout=timeout, check=False)
    return next((l for l in lines if l.startswith(("selftest:", "error:"))), " ".join(lines))


def bench(con: Console, addr: int, n: int = 1, timeout=1800.0) -> dict:
    line = next(l for l in con.command(f"bench 0x{addr:08x} {n}", timeout=timeout) if l.startswith("bench:"))
    return {k: int(v) for k, v in _kv(line[len("bench:"):]).items()}


def watchdog(con: Console, cycles: int | None = None) -> int:
    """The accelerator's stall watchdog in sys cycles (0: off); sets it first if `cycles` is given."""
    line = con.command("watchdog" if cycles is None else f"watchdog {cycles}")[-1]
    return int(line.split()[1])


def inject(con: Console, *dmas: str) -> str:
    """Test SoCs: make the named DMAs' beats (load, frames, results) end in bus errors; none: stop."""
    return con.command("inject " + (" ".join(dmas) or "off"))[-1]


def stats(con: Console) -> list[dict]:
    out = []
    for l in con.command("stats"):
        if l.startswith("layer "):
            kv = _kv(l)
            out.append({k: int(v) for k, v in kv.items()})
    return out


def batch(con: Console, model_addr: int, frames_addr: int, n: int, selftest_frames: int = 1,
          bench_frames: int = 1, timeout: float = 1800.0, log=print) -> BatchResult:
    """load, [selftest], [bench], run, stats — the sequence behind sim.py --images and sw.host run."""
    log(f"[host] {load(con, model_addr, timeout)}")
    st = None
    if selftest_frames:
        st = selftest(con, frames_addr, min(selftest_frames, n), timeout)
        log(f"[host] {st}")
    b = {}
    if bench_frames:
        b = bench(con, frames_addr, min(bench_frames, n), timeout)
        log(f"[host] bench: {b}")
    elif st and "cpu_cycles_per_frame" in st:          # the selftest timed the CPU reference already
        b = {k: int(v) for k, v in _kv(st.split(";", 1)[1]).items()}
    preds, cycles, per = run(con, frames_addr, n, timeout)
    log(f"[host] run: {n} frames, {per} cycles/frame")
    return BatchResult(preds, per, cycles, st, b, stats(con))
