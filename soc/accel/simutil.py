"""Migen-simulation helpers for the block tests: stream drivers and monitors with seeded random stalls,
memory writes through a port, and bounded waits that say what they waited for."""
from __future__ import annotations

import random

from migen import passive


class Timeout(AssertionError):
    pass


def send(ep, items, rng: random.Random, stall: float = 0.3, what: str = "sink", limit: int = 100000):
    """Drive `items` (dicts of field -> value) into endpoint `ep` with random valid gaps."""
    for item in items:
        while rng.random() < stall:
            yield ep.valid.eq(0)
            yield
        for k, v in item.items():
            yield getattr(ep, k).eq(v)
        yield ep.valid.eq(1)
        yield
        n = 0
        while not (yield ep.ready):
            n += 1
            if n > limit:
                raise Timeout(f"{what}: ready never rose within {limit} cycles")
            yield
    yield ep.valid.eq(0)


def monitor(ep, fields, out: list, count: int | None = None):
    """Passive: record every handshake on `ep` (call with @passive semantics via run_simulation list)."""
    @passive
    def gen():
        while True:
            if (yield ep.valid) and (yield ep.ready):
                row = []
                for f in fields:
                    row.append((yield getattr(ep, f)))
                out.append(tuple(row))
            yield
    return gen()


def ready_driver(ep, rng: random.Random, stall: float = 0.3):
    """Passive: toggle `ep.ready` randomly."""
    @passive
    def gen():
        while True:
            yield ep.ready.eq(int(rng.random() >= stall))
            yield
    return gen()


def write_mem(port, words):
    """Write `words` to a Memory write port, one per cycle."""
    for a, w in enumerate(words):
        yield port.adr.eq(a)
        yield port.dat_w.eq(int(w))
        yield port.we.eq(1)
        yield
    yield port.we.eq(0)
    yield


def wait_for(cond_gen, what: str, limit: int = 100000):
    """Yield until `(yield from cond_gen())` is true, at most `limit` cycles."""
    for _ in range(limit):
        if (yield from cond_gen()):
            return
        yield
    raise Timeout(f"waited {limit} cycles for {what}")
