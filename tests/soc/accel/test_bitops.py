"""Bit-vector operators (soc/accel/bitops.py) against Python, on every value of small vectors and on
one-hot, paired and random values of wide ones (the blocked carry-chain forms start above BLOCK bits)."""
import random
from operator import and_, or_

import pytest
from migen import Module, Signal, run_simulation

from soc.accel.bitops import (BLOCK, at_most_one, blocks_of, count_groups, less_than, lowest, minus_one, reduce_tree, sat_counts,
                              sat_sum)


def _values(width):
    if width <= 7:
        return list(range(1 << width))
    rng = random.Random(width)
    values = [0, (1 << width) - 1] + [1 << i for i in range(width)]
    values += [(1 << i) | (1 << j) for i in range(0, width, 5) for j in range(i + 1, width, 7)]
    values += [rng.getrandbits(width) & rng.getrandbits(width) & rng.getrandbits(width) for _ in range(200)]
    values += [rng.getrandbits(width) << rng.randrange(width) & ((1 << width) - 1) for _ in range(100)]
    return values


def _wire(m):
    """sat_sum's node namer for module m (as the scanner's)."""
    def wire(e):
        w = Signal(len(e))
        m.comb += w.eq(e)
        return w
    return wire


def _check(width, outputs, expect):
    """outputs: {name: (width, expr of v[, "wire"])}; expect(x) -> {name: int}. Returns the mismatches."""
    m = Module()
    m.v = Signal(width)
    m.wire = _wire(m)
    sigs = {}
    for name, (w, expr, *wired) in outputs.items():         # (w, expr, "wire"): expr(v, wire)
        sigs[name] = Signal(w)
        m.comb += sigs[name].eq(expr(m.v, m.wire) if wired else expr(m.v))
    bad = []

    def gen():
        for x in _values(width):
            yield m.v.eq(x)
            yield
            got = {}
            for name, s in sigs.items():
                got[name] = yield s
            if got != expect(x):
                bad.append((hex(x), got, expect(x)))
    run_simulation(m, gen())
    return bad


@pytest.mark.parametrize("width", [1, 2, 3, 5, 6, 7, 12, 18, 19, 36, 52, 54, 55, 110])
def test_at_most_one_is_popcount_le_1(width):
    bad = _check(width, {"out": (1, at_most_one)}, lambda x: {"out": int(bin(x).count("1") <= 1)})
    assert not bad, bad[:3]


@pytest.mark.parametrize("width", [1, 2, 5, 6, 7, 12, 19, 36, 52, 55, 2 * BLOCK + 3])
def test_trees_with_named_nodes(width):
    """at_most_one, reduce_tree and lowest with every node named (the scanner's latch and extractor, the
    orchestrator's nz)."""
    full = (1 << width) - 1
    bad = _check(width, {"amo": (1, lambda v, wire: at_most_one(v, wire), "wire"),
                         "any": (1, lambda v, wire: reduce_tree(or_, [v[i] for i in range(width)], wire), "wire"),
                         "all": (1, lambda v, wire: reduce_tree(and_, [v[i] for i in range(width)], wire, k=3), "wire"),
                         "all2": (1, lambda v, wire: reduce_tree(and_, [v[i] for i in range(width)], wire, leaf_k=2),
                                  "wire"),
                         "one": (width, lambda v, wire: lowest(v, wire)[0], "wire"),
                         "rest": (width, lambda v, wire: lowest(v, wire)[1], "wire")},
                 lambda x: {"amo": int(bin(x).count("1") <= 1), "any": int(x != 0), "all": int(x == full),
                            "all2": int(x == full),
                            "one": x & -x & full, "rest": x & (x - 1)})
    assert not bad, bad[:3]


@pytest.mark.parametrize("n, leaf_k, sizes", [(12, 3, [3, 3, 3, 3]), (12, 2, [2] * 6), (13, 2, [2] * 6 + [1, 6, 1]),
                                             (5, 2, [2, 2, 1]), (3, 3, [])])
def test_reduce_tree_leaf_fan_in(n, leaf_k, sizes):
    """leaf_k terms per first-level node, then k (6) per node; every node but the root is named."""
    named = []

    def inputs(expr):                     # the signals an expression reads (reduce() nests binary ops)
        return sum((inputs(o) for o in expr.operands), []) if hasattr(expr, "operands") else [expr]

    def wire(expr):
        named.append(len(inputs(expr)))
        return Signal(name=f"n{len(named)}")
    root = reduce_tree(and_, [Signal(name=f"t{i}") for i in range(n)], wire, leaf_k=leaf_k)
    assert named == sizes
    assert len(inputs(root)) <= 6 and (sizes or len(inputs(root)) == n)     # the root: one LUT


@pytest.mark.parametrize("width", [1, 3, 7, BLOCK, BLOCK + 1, 2 * BLOCK + 3, 64, 100])
def test_minus_one_and_lowest_match_arithmetic(width):
    mask = (1 << width) - 1
    bad = _check(width, {"xm1": (width, minus_one), "one": (width, lambda v: lowest(v)[0]),
                         "rest": (width, lambda v: lowest(v)[1])},
                 lambda x: {"xm1": (x - 1) & mask, "one": x & -x & mask, "rest": x & (x - 1) & mask})
    assert not bad, bad[:3]


@pytest.mark.parametrize("width", [BLOCK + 1, 52, 64, 3 * BLOCK + 5])
def test_minus_one_with_block_flags(width):
    """The detector's form: each lower block's "!= 0" given as a signal (there a register kept beside x)."""
    mask = (1 << width) - 1
    flags = lambda v: [v[a:b] != 0 for a, b in blocks_of(len(v))[:-1]]      # noqa: E731
    bad = _check(width, {"xm1": (width, lambda v: minus_one(v, flags(v)))}, lambda x: {"xm1": (x - 1) & mask})
    assert not bad, bad[:3]


@pytest.mark.parametrize("width", [1, 6, 7, 13, 19, 37])
def test_sat_counts_and_sum_are_popcount_capped_at_3(width):
    """The scanner's `last` a token ahead: per-group counts capped at 3, and their capped sum."""
    groups = count_groups(width)
    assert sorted(i for g in groups for i in g) == list(range(width)) and all(1 <= len(g) <= 6 for g in groups)
    assert len(groups) == 1 or all(g != list(range(len(g))) for g in groups)      # no group is a prefix
    group = lambda x, g: sum(x >> i & 1 for i in g)        # noqa: E731
    outs = {f"c{k}": (2, lambda v, k=k: sat_counts(v)[k]) for k in range(len(groups))}
    outs["sum"] = (2, lambda v, wire: sat_sum(sat_counts(v), wire), "wire")
    bad = _check(width, outs, lambda x: {**{f"c{k}": min(3, group(x, g)) for k, g in enumerate(groups)},
                                         "sum": min(3, bin(x).count("1"))})
    assert not bad, bad[:3]


@pytest.mark.parametrize("wa,wb", [(1, 1), (3, 3), (3, 4), (4, 3), (7, 12), (9, 9), (10, 16), (2, 28)])
def test_less_than_tree(wa, wb):
    """The orchestrator's writer ready: a < b as a tree of chunk compares, operands of unequal widths."""
    bad = _check(wa + wb, {"lt": (1, lambda v, wire: less_than(v[:wa], v[wa:], wire), "wire")},
                 lambda x: {"lt": int((x & ((1 << wa) - 1)) < (x >> wa))})
    assert not bad, bad[:3]


@pytest.mark.parametrize("wa,wb", [(1, 2), (3, 4), (4, 5), (7, 13), (9, 10), (10, 14)])
def test_less_than_signed_b(wa, wb):
    """The same with b signed (wb bits, its sign given as b_negative): the orchestrator's limit."""
    def signed_b(x):
        b = x >> wa
        return b - (1 << wb) if b >> (wb - 1) else b
    bad = _check(wa + wb, {"lt": (1, lambda v, wire: less_than(v[:wa], v[wa:wa + wb - 1], wire,
                                                               b_negative=v[wa + wb - 1]), "wire")},
                 lambda x: {"lt": int((x & ((1 << wa) - 1)) < signed_b(x))})
    assert not bad, bad[:3]


@pytest.mark.parametrize("width", [7, 13, 25, 55])
def test_verilog_semantics(width, tmp_path_factory):
    """The same operators through LiteX's Verilog and yosys' evaluator: Verilog sizes an expression by
    its context, so a sum of 1-bit terms compared against 2'd3 once summed modulo 4 there while the Migen
    simulation above passed (the scanner's counted `last` then broke every frame in Verilator)."""
    import re
    import subprocess
    from pathlib import Path
    from soc.accel.verilog import convert
    from soc.synth_estimate import yosys_command
    m = Module()
    m.v = v = Signal(width)
    outs = {"cnt": (2, sat_sum(sat_counts(v), _wire(m)), lambda x: min(3, bin(x).count("1"))),
            "amo": (1, at_most_one(v), lambda x: int(bin(x).count("1") <= 1)),
            "rest": (width, lowest(v)[1], lambda x: x & (x - 1)),
            "xm1": (width, minus_one(v), lambda x: (x - 1) & ((1 << width) - 1))}
    sigs = {}
    for name, (w, expr, _) in outs.items():
        sigs[name] = Signal(w, name=name)
        m.comb += sigs[name].eq(expr)
    # yosys can only read the project's build folder (yowasp's sandbox), not pytest's /tmp
    d = Path("build/test-bitops-verilog") / str(width)
    d.mkdir(parents=True, exist_ok=True)
    (d / "t.v").write_text(convert(m, ios={v, *sigs.values()}, name="t"))
    values = [x for x in _values(width) if x][:60]
    evals = "; ".join(f"eval -set v {width}'b{x:0{width}b} -show {','.join(outs)}" for x in values)
    r = subprocess.run([yosys_command(), "-p", f"read_verilog t.v; proc; {evals}"], cwd=d,
                       capture_output=True, text=True, check=True)
    got = re.findall(r"Eval result: .* = \d+'([01]+)\.", r.stdout)    # the outputs concatenated, first MSB
    assert len(got) == len(values), r.stdout[-2000:]
    bad = []
    for x, bits in zip(values, got):
        for name, (w, _, expect) in outs.items():
            if int(bits[:w], 2) != expect(x):
                bad.append((hex(x), name, bits[:w]))
            bits = bits[w:]
    assert not bad, bad[:5]


@pytest.mark.parametrize("width", [5, 12, 13, 38, 64])
def test_onehot_index_is_the_or_of_set_indices(width):
    """The scanner's chunk index (`j`): each index bit an OR over the chunks that have it, so a one-hot
    vector gives its index (any vector the OR of its set indices); above 12 bits with kept nodes, over
    quads where that is no deeper (38 chunks) and over the chunks themselves where it is (64)."""
    from functools import reduce
    from operator import or_
    from soc.accel.scanner import onehot_index
    nb = max(1, (width - 1).bit_length())
    bad = _check(width, {"j": (nb, lambda v, wire: onehot_index(v, wire), "wire")},
                 lambda x: {"j": reduce(or_, [i for i in range(width) if x >> i & 1], 0)})
    assert not bad, bad[:3]
