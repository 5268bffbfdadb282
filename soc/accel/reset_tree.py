"""ResetTree: a synchronous reset delivered through a tree of registers, so that no one net reaches
every flip-flop of a big module.

    core = ResetTree()(AccelCore(cfg))      # in place, like Migen's ResetInserter
    comb += core.reset.eq(rst)              # rst: a register in the module's clock domain
    ...  core.reset_out                     # rst, delayed exactly as every register of `core` sees it

Migen's ResetInserter ORs one `reset` into every register of the module. On the ULX3S-85F build of the
trained SCNN5 that one net reached ~48k flip-flops, and nextpnr's worst accel path was the reset
synchronizer to the orchestrators: 16.4 ns of routing, 56 MHz. Here the registers to reset, taken in
order of creation (which keeps one block's registers together), are cut into leaves of at most
`leaf_bits` bits. Each leaf has its own register copy of the reset, marked `keep` so that synthesis
does not merge the twins back into one, and the copies hang from a tree of registers of fan-out at most
`fanout`. Every register therefore sees `reset` the same `latency` cycles late (2 or 3 for any
accelerator), and the module behaves exactly like ResetInserter with the reset that many cycles later.
Leaves are large on purpose: on ECP5 the reset is each flip-flop's LSR pin and the two flip-flops of a
slice must share it, so every leaf is one more control set for the packer (a ULX3S-85F build with
64-bit leaves, ~750 of them, plus the detector's extra registers failed placement at 74% LUT4 fill).
Yosys merges equal flip-flops whatever the wire's `keep` says, so a yosys flow must mark the copies'
cells before synthesis: soc.accel.verilog.yosys_keep() (soc.synth_estimate, soc.trellis and the ULX3S target run it;
Vivado honours the `keep` in the Verilog). `reset_out` is a register chain of the same latency, for
whoever must wait until the module has left reset (soc.accel_cdc's reset handshake and the accel side
of its FIFOs). Tree registers power up at 1, so the module starts in reset for `latency` cycles after
configuration.

The tree is the module's only reset: its registers are made reset-less, so the clock domain's own reset
no longer reaches them (on the ULX3S-85F build that reset, LiteX's AsyncResetSynchronizer, became the
worst accel path once the soft reset had its tree: one net to every flip-flop, 18.4 ns of routing). A
user who wants the domain's reset too ORs it into `reset` (soc.accel_cdc does).
"""
from __future__ import annotations

from migen import If, Signal
from migen.fhdl.decorators import ModuleTransformer
from migen.fhdl.tools import list_targets

from .verilog import kept_copy



def leaves(targets, leaf_bits: int) -> list[list]:
    """Consecutive groups of `targets` of at most leaf_bits bits (a wider signal is a leaf of its own)."""
    out, cur, bits = [], [], 0
    for t in targets:
        if cur and bits + len(t) > leaf_bits:
            out.append(cur)
            cur, bits = [], 0
        cur.append(t)
        bits += len(t)
    if cur:
        out.append(cur)
    return out


class ResetTree(ModuleTransformer):
    def __init__(self, leaf_bits: int = 1024, fanout: int = 16, cd: str = "sys"):
        assert leaf_bits >= 1 and fanout >= 2
        self.leaf_bits, self.fanout, self.cd = leaf_bits, fanout, cd

    def transform_instance(self, i):
        assert not hasattr(i, "reset")
        i.reset = Signal(name="reset")
        i.reset_out = Signal(name="reset_out", reset=1, reset_less=True)
        i.reset_latency = None                   # known once the fragment is built

    def transform_fragment(self, i, f):
        sl = f.sync.get(self.cd, [])
        targets = [t for t in sorted(list_targets(sl), key=lambda s: s.duid) if not t.reset_less]
        for t in targets:
            t.reset_less = True                    # the domain's reset stays out: the tree is their reset
        groups = leaves(targets, self.leaf_bits)
        copies = [self._copy(f"rtree_leaf{k}") for k in range(len(groups))]
        stmts = [If(c, *[t.eq(t.reset) for t in g]) for c, g in zip(copies, groups)]
        level, depth = copies, 1
        while len(level) > self.fanout:
            parents = [self._copy(f"rtree_n{depth}_{k}") for k in range((len(level) + self.fanout - 1) // self.fanout)]
            stmts += [child.eq(parents[k // self.fanout]) for k, child in enumerate(level)]
            level, depth = parents, depth + 1
        stmts += [s.eq(i.reset) for s in level]
        # reset_out: a plain chain of the same depth
        chain = [self._copy(f"rtree_out{k}") for k in range(depth - 1)] + [i.reset_out]
        stmts += [chain[0].eq(i.reset)] + [b.eq(a) for a, b in zip(chain, chain[1:])]
        f.sync[self.cd] = sl + stmts               # after the module's own: the reset wins
        i.reset_latency = depth

    @staticmethod
    def _copy(name):
        return kept_copy(name, reset=1, reset_less=True)
