"""ResetTree (soc/accel/reset_tree.py): every register sees the reset the same `reset_latency` cycles late,
no copy drives more than leaf_bits register bits or `fanout` copies, and a module behaves exactly like
ResetInserter with the delayed reset (checked against it cycle by cycle in a Migen simulation)."""
import random

from hypothesis import given, settings, strategies as st
from migen import If, Module, ResetInserter, Signal, run_simulation
from migen.fhdl.structure import _Assign
from migen.fhdl.tools import list_targets

from soc.accel.reset_tree import ResetTree, leaves


class Counters(Module):
    """Some registers of various widths, reset values and enables, plus a reset-less one."""
    def __init__(self, widths, seed):
        rng = random.Random(seed)
        self.en = Signal()
        self.regs = [Signal(w, reset=rng.randrange(1 << w)) for w in widths]
        self.free = Signal(8, reset_less=True)
        self.sync += [If(self.en, r.eq(r + 1 + 2 * rng.randrange(2))) for r in self.regs] + [self.free.eq(self.free + 1)]


@given(st.lists(st.integers(1, 24), min_size=1, max_size=40), st.integers(1, 48), st.integers(2, 5))
@settings(max_examples=40, deadline=None)
def test_leaves_cover_in_order_within_budget(widths, leaf_bits, _):
    sigs = [Signal(w) for w in widths]
    groups = leaves(sigs, leaf_bits)
    assert [s for g in groups for s in g] == sigs
    for g in groups:
        assert len(g) == 1 or sum(len(s) for s in g) <= leaf_bits


def structure(widths, leaf_bits, fanout):
    dut = ResetTree(leaf_bits=leaf_bits, fanout=fanout)(Counters(widths, 0))
    f = dut.get_fragment()
    stmts = f.sync["sys"]
    copies = {t for t in list_targets(stmts) if t.backtrace[-1][0].startswith("rtree_")}
    return dut, f, copies


def test_fanout_and_latency_bounds():
    dut, f, copies = structure([8] * 200, leaf_bits=16, fanout=4)      # 100 leaves -> 25 -> 7 -> 2
    assert dut.reset_latency == 4
    sources = {c.duid for c in copies} | {dut.reset.duid}
    drivers = {}
    for s in f.sync["sys"]:
        if isinstance(s, _Assign) and isinstance(s.r, Signal) and s.r.duid in sources:
            drivers.setdefault(s.r.duid, []).append(s.l)
    assert len(drivers) >= 25 + 7 + 2 + 1          # the tree above the 100 leaves, and reset
    assert max(len(v) for v in drivers.values()) <= 4 + 1              # reset also starts reset_out's chain
    resets = [s for s in f.sync["sys"] if isinstance(s, If) and isinstance(s.cond, Signal) and s.cond.duid in sources]
    assert len(resets) == 100 and all(sum(len(t) for t in list_targets(r.t)) <= 16 for r in resets)
    assert all("keep" in c.attr for c in copies)


def run_pair(widths, leaf_bits, fanout, seed, cycles=300):
    """Module A under ResetTree, module B under ResetInserter fed A's reset_out: registers identical."""
    a = ResetTree(leaf_bits=leaf_bits, fanout=fanout)(Counters(widths, seed))
    b = ResetInserter()(Counters(widths, seed))
    top = Module()
    top.submodules += a, b
    rst, en = Signal(), Signal()
    top.comb += a.reset.eq(rst), b.reset.eq(a.reset_out), a.en.eq(en), b.en.eq(en)
    rng = random.Random(seed)
    seen = []

    def gen():
        for cyc in range(cycles):
            yield rst.eq(rng.random() < 0.08)
            yield en.eq(rng.random() < 0.7)
            yield
            va, vb = [], []
            for ra, rb in zip(a.regs, b.regs):
                va.append((yield ra))
                vb.append((yield rb))
            seen.append(va != [r.reset.value for r in a.regs])
            assert va == vb, f"cycle {cyc}: {va} != {vb}"
    run_simulation(top, gen())
    assert any(seen)                       # the registers did move between resets


@given(st.lists(st.integers(1, 12), min_size=1, max_size=30), st.integers(1, 20), st.integers(2, 4),
       st.integers(0, 1000))
@settings(max_examples=15, deadline=None)
def test_same_as_resetinserter_delayed(widths, leaf_bits, fanout, seed):
    run_pair(widths, leaf_bits, fanout, seed)


def test_the_domain_reset_no_longer_reaches_the_registers():
    """The tree is the registers' only reset: they are reset-less, so Migen adds no `if (sys_rst)` that
    would send the clock domain's reset (one net) to every flip-flop; Counters without the tree has it."""
    from migen.fhdl.verilog import convert
    plain = Counters([8, 3], 1)
    assert "if (sys_rst)" in str(convert(plain, ios={plain.en}))
    dut = ResetTree(leaf_bits=4)(Counters([8, 3], 1))
    v = str(convert(dut, ios={dut.en, dut.reset, dut.reset_out}))
    under_rst = v.split("if (sys_rst) begin")[1].split("end")[0] if "if (sys_rst)" in v else ""
    assert under_rst.strip() == "" and all(r.reset_less for r in dut.regs), v
