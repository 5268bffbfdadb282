"""OR max-pool 2x2 vs a Python model, odd map sizes (floor), random stalls on both streams."""
import random

import pytest
from migen import run_simulation

from soc.accel.pool import Pool, pool_model
from soc.accel.simutil import monitor, ready_driver, send


@pytest.mark.parametrize("h,w,seed", [(4, 4, 1), (5, 7, 2), (2, 2, 3), (6, 3, 4)])
def test_pool(h, w, seed):
    r = random.Random(seed)
    frames = [[[r.getrandbits(12) & r.getrandbits(12) for _ in range(w)] for _ in range(h)] for _ in range(2)]
    expect = [(v,) for f in frames for row in pool_model(f) for v in row]
    dut = Pool(12, h, w)
    out = []

    def main():
        yield from send(dut.sink, [dict(data=v) for f in frames for row in f for v in row], r, 0.3, "pool sink")
        for _ in range(200):
            if len(out) >= len(expect):
                break
            yield
    run_simulation(dut, [main(), monitor(dut.source, ["data"], out), ready_driver(dut.source, r, 0.4)])
    assert out == expect
