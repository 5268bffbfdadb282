"""Orchestrator vs a plain-loop model of the window order (implicit im2col, loop order, zero padding,
chunk skipping), for several (H, W, K, stride, pad, Ci, planes), with random valid/ready stalls."""
import random

import numpy as np
import pytest
from migen import passive, run_simulation

from sw import spec
from sw.topology import LayerShape
from soc.accel.config import LayerConfig
from soc.accel.orchestrator import Orchestrator, window_order
from soc.accel.simutil import monitor, ready_driver, send

FIELDS = ["spikes", "addr", "group", "plane", "upd"]


def expected_tokens(lc, frame):
    """Plain loops: positions -> groups -> planes -> non-empty PCi chunks of the (kh, kw, ci) window."""
    s, P, pci, kch = lc.shape, lc.planes, lc.pci, lc.chunks
    out = []
    for oy, ox, g, p in window_order(lc):
        if g == 0 and p == 0:
            vecs = []
            for q in range(P):
                v, pos = 0, 0
                for ky in range(s.kh):
                    for kx in range(s.kw):
                        iy, ix = oy * s.stride - s.pad + ky, ox * s.stride - s.pad + kx
                        pix = frame[iy][ix] if 0 <= iy < s.h and 0 <= ix < s.w else 0
                        v |= ((pix >> (q * s.ci)) & ((1 << s.ci) - 1)) << pos
                        pos += s.ci
                vecs.append(v)
        if lc.static and p < P - 1 and vecs[p] == 0:
            continue                                    # empty bit-planes cost nothing
        chunks = [(vecs[p] >> (j * pci)) & ((1 << pci) - 1) for j in range(kch)]
        nz = [j for j in range(kch) if chunks[j]] or [0]
        close = (p == P - 1) if lc.static else True
        for j in nz:
            out.append((chunks[j], g * kch + j, g, p, int(j == nz[-1] and close)))
    return out


CASES = [  # h, w, kh, kw, stride, pad, ci, co, pco, pci, planes, static
    (5, 6, 3, 3, 1, 1, 2, 4, 2, 5, 4, False),
    (7, 7, 3, 3, 2, 1, 1, 3, 3, 4, 8, True),
    (4, 5, 2, 3, 1, 0, 3, 5, 2, 18, 2, False),
    (6, 4, 5, 3, 2, 2, 2, 2, 1, 7, 3, False),
    (3, 3, 3, 3, 1, 0, 4, 3, 2, 16, 4, False),     # an fc-like window: the whole map
    (6, 6, 1, 1, 3, 0, 5, 2, 2, 3, 2, False),      # 1x1 kernel, stride larger than the kernel
    (24, 23, 3, 3, 1, 1, 1, 2, 2, 9, 1, False),    # enough window reads for a double-buffered window
    (4, 4, 3, 3, 1, 1, 40, 2, 2, 64, 4, False),    # a large window read rarely: single buffer
    (5, 5, 3, 3, 1, 1, 12, 2, 2, 36, 8, True),     # static, 108-bit plane vectors
    (4, 4, 3, 3, 1, 1, 8, 2, 2, 30, 4, False),     # 72 of 90 chunk bits used: the last chunk is short
    (3, 3, 3, 3, 1, 0, 4, 5, 2, 2, 2, False),      # 18 chunks, 3 groups: the scanner's counted `last`
    (5, 5, 3, 3, 1, 1, 2, 3, 1, 1, 4, True),       # static, 18 one-bit chunks
    (3, 3, 3, 3, 1, 0, 8, 2, 1, 2, 2, False),      # 36 chunks: each plane's lowest chunk latched (> BLOCK)
    (5, 5, 3, 3, 1, 1, 4, 2, 1, 1, 3, True),       # static, 36 one-bit chunks
]


@pytest.mark.parametrize("case", CASES)
def test_window_order(case):
    h, w, kh, kw, stride, pad, ci, co, pco, pci, planes, static = case
    shape = LayerShape("conv", ci, h, w, co, kh, kw, stride, pad)
    lc = LayerConfig(shape, spec.Widths(8, 9, 4, 4), pco, pci, 4, planes, static)
    assert lc.double_buffer == (h * w > 500 or kh * kw * ci * planes <= 1024)
    rng, r = np.random.default_rng(sum(case)), random.Random(sum(case))
    frames = [(rng.random((h, w, planes * ci)) < 0.3) for _ in range(2)]
    frames[1][:2] = 0                                   # an empty stretch: empty planes and chunks
    words = [[int(sum(1 << int(b) for b in np.flatnonzero(f[y, x]))) for x in range(w)] for f in frames
             for y in range(h)]
    expect = []
    for f in range(2):
        expect += expected_tokens(lc, words[f * h:(f + 1) * h])
    dut = Orchestrator(lc)
    out, fin_bad = [], []

    def main():
        yield from send(dut.sink, [dict(data=v) for row in words for v in row], r, 0.3, "orchestrator sink")
        for _ in range(20 * len(expect) + 200):
            if len(out) >= len(expect):
                break
            yield

    @passive
    def fin_watch():                                     # the scanner's `fin` register equals its definition
        cycle = 0
        while True:
            if not (yield dut.scanner.fin_check):
                fin_bad.append(cycle)
            cycle += 1
            yield
    run_simulation(dut, [main(), monitor(dut.source, FIELDS, out), ready_driver(dut.source, r, 0.4), fin_watch()])
    assert not fin_bad, f"fin != plast & glast & ready at cycles {fin_bad[:5]}"
    assert len(out) == len(expect), f"{len(out)} tokens, expected {len(expect)}"
    assert out == expect
