"""Detector vs a Python model: random masks and spikes (incl. all-zero and all-one), random stalls."""
import random

import numpy as np
import pytest
from migen import passive, run_simulation

from sw import spec
from sw.topology import LayerShape
from soc.accel.config import LayerConfig
from soc.accel.detector import Detector
from soc.accel.simutil import monitor, ready_driver, send, write_mem


def make_lc(pci, groups, static, fan_in=None):
    ci = fan_in or 2 * pci + 3
    shape = LayerShape("conv", ci, 4, 4, groups, 1, 1)
    return LayerConfig(shape, spec.Widths(acc=16, mem=18, bias=8, vth=10), 1, pci, 4, 8 if static else 4, static)


def load_words(lc, flat, bias, vth):
    """Detector memories for channels = groups (PCo = 1), as the load image lays them out."""
    chunks, vals, params, base = [], [], [], 0
    kch, pci = lc.chunks, lc.pci
    for g in range(lc.groups):
        row = np.zeros(kch * pci, np.int64)
        row[:lc.fan_in] = flat[g]
        for j in range(kch):
            seg = row[j * pci:(j + 1) * pci]
            m = sum(1 << int(i) for i in np.flatnonzero(seg))
            chunks.append(m | base << pci)
            nz = seg[seg != 0]
            vals += list(nz & 0xF)
            base += len(nz)
        params.append((int(bias[g]) & 0xFF) | (int(vth[g]) & 0x3FF) << 8)
    vals += [0] * (-len(vals) % 8)
    words = [sum(int(v) << (4 * i) for i, v in enumerate(vals[a:a + 8])) for a in range(0, len(vals), 8)]
    return chunks, words, params


@pytest.mark.parametrize("pci,static,density,seed", [
    (8, False, 0.5, 1), (16, True, 0.3, 2), (5, False, 1.0, 3), (8, False, 0.0, 4), (32, False, 0.2, 5),
    (96, False, 0.3, 6), (72, True, 0.5, 7)])
def test_detector_random(pci, static, density, seed):
    run_random(make_lc(pci, 3, static), density, seed)


@pytest.mark.parametrize("out_depth", [5, 16, 33])
def test_credits_hold_the_current_fifo_under_backpressure(out_depth):
    """Many more neuron updates than current-FIFO slots, the output held off for 600 cycles and then
    stalled half the time: the credit counter must stop B at out_depth updates in flight (a FIFO
    overflow loses currents) and give the credits back (a lost one deadlocks). 33 slots: a 6-bit count."""
    run_random(make_lc(8, 24, False), 0.5, out_depth, out_depth=out_depth, stall=0.5, hold=600)


def run_random(lc, density, seed, out_depth=16, stall=0.3, hold=0):
    rng = np.random.default_rng(seed)
    pci, static, groups = lc.pci, lc.static, lc.groups
    flat = np.where(rng.random((groups, lc.fan_in)) < density, rng.integers(1, 8, (groups, lc.fan_in))
                    * rng.choice([-1, 1], (groups, lc.fan_in)), 0)
    flat = np.clip(flat, -8, 7)
    bias, vth = rng.integers(-100, 100, groups), rng.integers(0, 500, groups)
    chunks, vals, params = load_words(lc, flat, bias, vth)
    # tokens: per (group, plane) a few chunks, with all-zero, all-one and random spikes
    tokens, expect, npairs = [], [], 0
    for g in range(groups):
        acc = 0
        for p in range(lc.planes):
            js = sorted(rng.choice(lc.chunks, size=rng.integers(1, lc.chunks + 1), replace=False))
            for n, j in enumerate(js):
                kind = rng.integers(3)
                rand = int("".join(map(str, rng.integers(0, 2, pci))), 2)
                sp = 0 if kind == 0 else (1 << pci) - 1 if kind == 1 else rand
                last = n == len(js) - 1
                upd = last and (p == lc.planes - 1 or not static)
                tokens.append(dict(spikes=int(sp), addr=int(g * lc.chunks + j), group=g, plane=p, upd=int(upd)))
                for i in range(pci):
                    k = j * pci + i
                    if sp >> i & 1 and k < lc.fan_in and flat[g, k]:
                        acc += int(flat[g, k]) << (p if static else 0)
                        npairs += 1
                if upd:
                    expect.append((acc + int(bias[g]), int(vth[g])))
                    acc = 0
    dut = Detector(lc, out_depth=out_depth)
    out, r, counted, idle = [], random.Random(seed), [], []

    @passive
    def count():
        while True:
            counted.append((yield dut.pair))
            yield

    def main():
        yield from write_mem(dut.chunk_wr, chunks)
        yield from write_mem(dut.val_wr, vals)
        yield from write_mem(dut.param_wr, params)
        yield from send(dut.sink, tokens, r, 0.3, "detector sink")
        for _ in range(2000 + hold):
            if len(out) >= len(expect):
                break
            yield
        for _ in range(8):
            yield
        idle.append(not (yield dut.busy))          # every credit back: the count at 0

    @passive
    def ready():
        for _ in range(hold):
            yield dut.source.ready.eq(0)
            yield
        yield from ready_driver(dut.source, r, stall)
    run_simulation(dut, [main(), count(), monitor(dut.source, ["current", "vth"], out), ready()])
    assert len(expect) > 2 * out_depth or not hold
    assert out == expect
    assert sum(counted) == npairs
    assert idle == [True]
