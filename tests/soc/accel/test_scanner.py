"""Scanner helpers (soc/accel/scanner.py): at_most_one, the LUT tree behind the registered `last` of the
chunk extractor, against Python on every value of small vectors and random values of wide ones."""
import random

import pytest
from migen import Module, Signal, run_simulation

from soc.accel.scanner import at_most_one


@pytest.mark.parametrize("width", [1, 2, 3, 5, 6, 7, 12, 18, 19, 36, 52, 54, 55, 110])
def test_at_most_one_is_popcount_le_1(width):
    m = Module()
    m.v, m.out = Signal(width), Signal()
    m.comb += m.out.eq(at_most_one(m.v))
    rng = random.Random(width)
    if width <= 7:
        values = range(1 << width)
    else:      # zero, each one-hot, each pair of a few, and random values of every density
        values = [0] + [1 << i for i in range(width)] + [(1 << i) | (1 << j) for i in range(0, width, 5)
                                                       for j in range(i + 1, width, 7)]
        values += [rng.getrandbits(width) & rng.getrandbits(width) & rng.getrandbits(width) for _ in range(200)]
    bad = []

    def gen():
        for x in values:
            yield m.v.eq(x)
            yield
            if (yield m.out) != int(bin(x).count("1") <= 1):
                bad.append(x)
    run_simulation(m, gen())
    assert not bad, [hex(x) for x in bad[:5]]
