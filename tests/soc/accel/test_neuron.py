"""Neuron unit vs the spec's integer step (charge -> fire -> reset), with random stalls."""
import random

import pytest
from migen import run_simulation

from sw import spec
from sw.topology import LayerShape
from soc.accel.config import LayerConfig
from soc.accel.neuron import Neuron, lif_step
from soc.accel.simutil import monitor, ready_driver, send


def model(lc, items):
    """items: [(I, vth)] in arrival order -> expected outputs per group of T steps."""
    T, out, v, bits, acc, t = lc.timesteps, [], 0, 0, 0, 0
    steps = T if lc.static else 1
    for i, vth in items:
        for _ in range(steps):
            if lc.shape.readout:
                acc += i
            else:
                s, v = lif_step(v, i, vth, lc.shape.leak)
                bits |= s << t
            t += 1
            if t == T:
                out.append((acc,) if lc.shape.readout else (bits,))
                v, bits, acc, t = 0, 0, 0, 0
    return out


@pytest.mark.parametrize("leak,readout,static,T,seed", [
    (True, False, False, 4, 1), (False, False, False, 3, 2), (True, False, True, 4, 3),
    (True, True, False, 4, 4), (True, True, True, 2, 5), (True, False, False, 1, 6)])
def test_neuron(leak, readout, static, T, seed):
    kind = "fc" if readout else "conv"
    shape = LayerShape(kind, 2, 1, 1, 3, 1, 1, leak=leak, readout=readout)
    lc = LayerConfig(shape, spec.Widths(acc=10, mem=14, bias=4, vth=9), 1, 2, T, 8 if static else T, static)
    r = random.Random(seed)
    n = 6 * T if not static else 6
    items = [(r.randint(-400, 511), r.randint(0, 255)) for _ in range(n)]
    expect = model(lc, items)
    dut = Neuron(lc)
    field = "value" if readout else "spikes"
    out = []

    def main():
        yield from send(dut.sink, [dict(current=i & 0x3FF, vth=v) for i, v in items], r, 0.3, "neuron sink")
        for _ in range(500):
            if len(out) >= len(expect):
                break
            yield
    run_simulation(dut, [main(), monitor(dut.source, [field], out), ready_driver(dut.source, r, 0.4)])
    if readout:
        out = [((v - (1 << 14)) if v >= 1 << 13 else v,) for (v,) in out]
    assert out == expect
