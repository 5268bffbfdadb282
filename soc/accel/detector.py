"""Dual-side sparsity detector: one output channel in flight, one matched pair per cycle.

Three parts, each a chain of registers (stage counts follow from the parameters below):
  front (stalls as a whole on `ce`, so its block RAM read and output register share one enable):
    F1 fetch:   the chunk record address goes to the chunk memory; the token is registered.
    F2 record:  the memory's output register holds the record (PCi mask bits + base offset).
    F2b:        a fabric register of it, so no logic follows a block RAM's output directly (yosys maps
                ECP5 DP16KDs with one register, 5.8 ns clock-to-out; on xc7 F2 is the RAMB's own).
    F3..        x = spikes AND mask, x != 0, and n = popcount(x) (the chunk's pair count): a 3-bit table,
                then an adder tree with a register every `count_per_stage` levels; x, mask, base travel
                beside it. x != 0 takes two of those stages when there are two (an OR per 3 bits, then
                their OR).
  extract (the only loop): from the last front stage, a chunk with x = 0 that does not close a neuron
    update is dropped (it never waits for an earlier chunk's extraction); others load B. B emits one
    pair per cycle, lowest set bit first: x <= x AND (x - 1) (one carry chain); the mask bits below the
    pair are mask AND (x - 1) AND NOT x. A down-counter from n marks the chunk's last pair. A chunk
    wider than one carry-chain block (soc.accel.bitops.BLOCK) has a chain per block; the borrow into a
    block is "a lower block has a set bit", kept as registers: the front counts each lower block's
    set bits beside n, and B keeps per lower block its count, "any left" and "one left".
  back (free-running; a neuron update leaves B only while the current FIFO has a free slot, counting
    updates in flight, so nothing behind B ever stalls):
    E1          the below-mask is registered.
    E2..        offset = popcount(below): a 6-bit table, then adds, a register every `offset_per_stage`
                levels.
    E+1 address: pair address = base + offset.
    V1..V4      the packed 4-bit weight word: address, block RAM read, its output register, a fabric
                register (as F2b).
    D0 select:  the weight nibble (0 for an update without a pair).
    D1 shift:   by the bit-plane of a static first layer.
    D2 accumulate: I += w; on the update's last pair total = I + w, I = 0.
    D3 bias:    current = total + bias (the param memory is read from V4's group, through its output
                register and a fabric register) -> current FIFO.

Ports:
  sink    token_layout(lc)        in   chunk tokens from the orchestrator
  source  current_layout(lc)      out  one input current per neuron update (from the current FIFO)
  chunk_wr, val_wr, param_wr           memory write ports, driven by the core's loader
  pair, empty                     out  registered strobes: a matched pair was extracted / a chunk had
                                       no match (one cycle late)
  busy                            out  registered: any stage holds work (one cycle late)

Parameters: count_per_stage, offset_per_stage (logic levels per stage of the two population counts),
out_depth (the current FIFO's memory entries; with the buffered FIFO's output register it holds
out_depth + 1 updates, the credits B may have in flight, each counted until a cycle after it leaves the
FIFO: so >= the back pipeline's depth for one update per cycle).
"""
from functools import reduce
from operator import or_

from migen import Array, Cat, If, Memory, Module, Mux, Signal

from litex.soc.interconnect import stream

from .bitops import blocks_of, minus_one
from .config import VAL_PER_WORD, LayerConfig, bits_for


def token_layout(lc: LayerConfig):
    return [("spikes", lc.pci),              # the chunk's PCi input spike bits (kernel order)
            ("addr", lc.chunk_bits),         # chunk record address g*KCH + j
            ("group", lc.group_bits),        # output-channel group g
            ("plane", lc.plane_bits),        # time step t, or bit-plane b of a static layer
            ("upd", 1)]                      # last chunk of a neuron update: emit the current


def current_layout(lc: LayerConfig):
    return [("current", (lc.widths.acc, True)),   # I = sum of matched weights (+ bias)
            ("vth", (lc.widths.vth, True))]       # the channel's threshold


def chunk_record_width(lc: LayerConfig) -> int:
    return lc.pci + lc.base_width


def param_record_width(lc: LayerConfig) -> int:
    return lc.widths.bias + lc.widths.vth


def _reg(module, value, name, ce=None, reset=0):
    """A register of value (same shape), loaded every cycle or when `ce`."""
    r = Signal.like(value, name=name, reset=reset)
    module.sync += r.eq(value) if ce is None else If(ce, r.eq(value))
    return r


def delay(module, value, n, name, ce=None, taps=None):
    """value delayed by n registers (enabled by ce); each register is appended to `taps`."""
    for i in range(n):
        value = _reg(module, value, f"{name}_d{i + 1}", ce)
        if taps is not None:
            taps.append(value)
    return value


def count_stages_needed(n: int, group: int, per_stage: int) -> int:
    levels = 1 + max(0, (-(-n // group) - 1).bit_length())
    return -(-levels // per_stage)


def popcount(module, bits, n, name, group=6, per_stage=2, ce=None):
    """Pipelined population count of an n-bit value: a table per `group` bits, then a tree of adds,
    with a register after every `per_stage` levels (and at the end). Returns (count, stages)."""
    groups = [bits[i:min(i + group, n)] for i in range(0, n, group)]
    table = lambda k: Array([bin(v).count("1") for v in range(1 << k)])  # noqa: E731
    level = []
    for i, g in enumerate(groups):
        s = Signal(bits_for(len(g)), name=f"{name}_g{i}")
        module.comb += s.eq(table(len(g))[g])
        level.append(s)
    stages, depth = 0, 1
    while True:
        if depth % per_stage == 0 or len(level) == 1:
            level = [_reg(module, s, f"{name}_s{stages}_{i}", ce) for i, s in enumerate(level)]
            stages += 1
        if len(level) == 1:
            return level[0], stages
        nxt = []
        for i in range(0, len(level), 2):
            pair = level[i:i + 2]
            s = Signal(max(len(x) for x in pair) + 1, name=f"{name}_l{depth}_{i // 2}")
            module.comb += s.eq(pair[0] + pair[1] if len(pair) == 2 else pair[0])
            nxt.append(s)
        level, depth = nxt, depth + 1


class Detector(Module):
    def __init__(self, lc: LayerConfig, count_per_stage: int = 2, offset_per_stage: int = 2, out_depth: int = 16):
        self.sink = sink = stream.Endpoint(token_layout(lc))
        self.source = source = stream.Endpoint(current_layout(lc))
        self.pair = Signal()
        self.empty = Signal()
        self.busy = Signal()
        pci, bw, wd = lc.pci, lc.base_width, lc.widths

        chunk_mem = Memory(chunk_record_width(lc), max(2, lc.chunk_depth))   # Migen needs depth >= 2
        val_mem = Memory(32, max(2, lc.val_depth))
        param_mem = Memory(param_record_width(lc), max(2, lc.groups))
        self.specials += chunk_mem, val_mem, param_mem
        self.chunk_wr = chunk_mem.get_port(write_capable=True)
        self.val_wr = val_mem.get_port(write_capable=True)
        self.param_wr = param_mem.get_port(write_capable=True)
        chunk_rd = chunk_mem.get_port(has_re=True)
        val_rd = val_mem.get_port()
        param_rd = param_mem.get_port()
        self.specials += self.chunk_wr, self.val_wr, self.param_wr, chunk_rd, val_rd, param_rd

        # # #

        valids = []

        # ---- front: F1 fetch, F2 record, F3 match, count stages; all enabled by ce
        ce = Signal()
        self.comb += [sink.ready.eq(ce), chunk_rd.adr.eq(sink.addr), chunk_rd.re.eq(ce)]
        tok = Cat(sink.spikes, sink.plane, sink.upd, sink.group)
        f1_valid = _reg(self, sink.valid, "f1_valid", ce)
        f1_tok = _reg(self, tok, "f1_tok", ce)
        f2_valid = _reg(self, f1_valid, "f2_valid", ce)
        f2_tok = _reg(self, f1_tok, "f2_tok", ce)
        f2_ram = _reg(self, chunk_rd.dat_r, "f2_ram", ce)            # the block RAM's output register
        # F2b: a fabric register between the RAM and any logic (yosys' ECP5 mapping folds one register
        # into the DP16KD as its synchronous read, REGMODE NOREG, 5.8 ns clock-to-out)
        f2b_valid = _reg(self, f2_valid, "f2b_valid", ce)
        f2b_tok = _reg(self, f2_tok, "f2b_tok", ce)
        f2b_rec = _reg(self, f2_ram, "f2b_rec", ce)
        f2_x = Signal(pci, name="f2_x")
        self.comb += f2_x.eq(f2b_tok[:pci] & f2b_rec[:pci])
        f3_valid = _reg(self, f2b_valid, "f3_valid", ce)
        n, cstages = popcount(self, f2_x, pci, "npairs", group=3, per_stage=count_per_stage, ce=ce)
        if cstages >= 2 and pci > 12:
            # x != 0 over two stages beside the count: an OR per 3 bits of x (one LUT6 of tok & rec), then
            # the OR of those (the one-stage form was 6 LUT levels on a 52-bit chunk)
            f3_nzg = _reg(self, Cat(*[f2_x[i:i + 3] != 0 for i in range(0, pci, 3)]), "f3_nzg", ce)
            nz_at = _reg(self, f3_nzg != 0, "f4_nz", ce), 2
        else:
            nz_at = _reg(self, f2_x != 0, "f3_nz", ce), 1
        # fields beside the count: x, mask, base, plane, upd, group
        fields = Cat(f2_x, f2b_rec, f2b_tok[pci:])
        fl = delay(self, fields, cstages, "front", ce)
        valids += [f1_valid, f2_valid, f2b_valid]
        fl_valid = delay(self, f2b_valid, cstages, "front_valid", ce, valids)
        fl_nz = delay(self, nz_at[0], cstages - nz_at[1], "front_nz", ce)
        # chunks wider than one carry-chain block: the set bits of every block but the last, counted
        # beside n, so B keeps each block's "has a set bit" as a register (see B)
        lower = blocks_of(pci)[:-1]
        fl_nb = []
        for j, (a, b) in enumerate(lower):
            nb, st = popcount(self, f2_x[a:b], b - a, f"npairs_b{j}", group=3, per_stage=count_per_stage, ce=ce)
            assert st <= cstages
            fl_nb.append(delay(self, nb, cstages - st, f"front_nb{j}", ce))
        fl_x, fl_mask = fl[:pci], fl[pci:2 * pci]
        o = 2 * pci
        fl_base = fl[o:o + bw]
        o += bw
        fl_plane, fl_upd, fl_group = fl[o:o + lc.plane_bits], fl[o + lc.plane_bits], fl[o + lc.plane_bits + 1:]
        fl_skip = Signal(name="fl_skip")
        self.comb += fl_skip.eq(~fl_nz & ~fl_upd)

        # ---- B: extract one pair per cycle
        b_busy, b_last, b_nz, b_upd = (Signal(name=f"b_{k}") for k in ("busy", "last", "nz", "upd"))
        b_x, b_mask = Signal(pci, name="b_x"), Signal(pci, name="b_mask")
        b_base, b_plane = Signal(bw, name="b_base"), Signal(lc.plane_bits, name="b_plane")
        b_group = Signal(lc.group_bits, name="b_group")
        b_left = Signal(bits_for(pci), name="b_left")
        b_step, b_free, b_load = Signal(name="b_step"), Signal(name="b_free"), Signal(name="b_load")
        credit_ok = Signal(name="credit_ok", reset=1)                          # registered: outstanding < out_depth + 1
        # per block but the last: set bits left, "any left" and "one left" (registers), so x - 1's
        # borrow into a block is a register's OR, not an OR tree over x (5 LUT levels on 52 bits)
        b_nb = [Signal(bits_for(b - a), name=f"b_nb{j}") for j, (a, b) in enumerate(lower)]
        b_nbz = [Signal(name=f"b_nbz{j}") for j in range(len(lower))]      # block j of x != 0
        b_nb1 = [Signal(name=f"b_nb1_{j}") for j in range(len(lower))]     # block j of x has one bit
        xm1 = Signal(pci, name="b_xm1")             # x - 1: the lowest set bit cleared, the zeros below it set
        self.comb += xm1.eq(minus_one(b_x, b_nbz if lower else None))
        self.comb += [
            b_step.eq(b_busy & (~(b_last & b_upd) | credit_ok)),
            b_free.eq(~b_busy | (b_step & b_last)),
            ce.eq(~fl_valid | fl_skip | b_free),
            b_load.eq(fl_valid & ~fl_skip & b_free),
        ]
        self.sync += [
            If(b_step, b_x.eq(b_x & xm1), b_left.eq(b_left - 1), b_last.eq(b_left == 2), b_nz.eq(~b_last)),
            If(b_free, b_busy.eq(0)),
            If(b_load,
                b_busy.eq(1), b_x.eq(fl_x), b_mask.eq(fl_mask), b_base.eq(fl_base), b_plane.eq(fl_plane),
                b_upd.eq(fl_upd), b_group.eq(fl_group), b_left.eq(n), b_last.eq(n <= 1), b_nz.eq(fl_nz)),
            self.empty.eq(ce & fl_valid & ~fl_nz),
        ]
        for j in range(len(lower)):                 # the step clears a bit of the lowest non-empty block
            lowest_j = b_nbz[j] & ~reduce(or_, b_nbz[:j]) if j else b_nbz[0]
            self.sync += [
                If(b_step & lowest_j, b_nb[j].eq(b_nb[j] - 1), b_nbz[j].eq(~b_nb1[j]), b_nb1[j].eq(b_nb[j] == 2)),
                If(b_load, b_nb[j].eq(fl_nb[j]), b_nbz[j].eq(fl_nb[j] != 0), b_nb1[j].eq(fl_nb[j] == 1)),
            ]
        valids.append(b_busy)

        # ---- back: E1 below-mask, offset count, address
        e_valid = _reg(self, b_step, "e1_valid")
        e_below = _reg(self, b_mask & xm1 & ~b_x, "e1_below")
        e_tok = _reg(self, Cat(b_nz, b_last & b_upd, b_base, b_plane, b_group), "e1_tok")
        self.sync += self.pair.eq(b_step & b_nz)
        offset, ostages = popcount(self, e_below, pci, "offset", group=6, per_stage=offset_per_stage)
        a_valid = delay(self, e_valid, ostages, "offset_valid", taps=valids)
        a_tok = delay(self, e_tok, ostages, "offset_tok")
        adr = _reg(self, a_tok[2:2 + bw] + offset, "pair_adr")
        v1_valid = _reg(self, a_valid, "v1_valid")
        v1_tok = _reg(self, Cat(a_tok[:2], a_tok[2 + bw:]), "v1_tok")       # pair, last, plane, group
        self.comb += val_rd.adr.eq(adr[3:] if len(adr) > 3 else 0)
        v2_valid = _reg(self, v1_valid, "v2_valid")
        v2_tok = _reg(self, Cat(v1_tok, adr[:3]), "v2_tok")
        v3_valid = _reg(self, v2_valid, "v3_valid")
        v3_tok = _reg(self, v2_tok, "v3_tok")
        v3_ram = _reg(self, val_rd.dat_r, "v3_ram")                          # the block RAM's output register
        # V4: a fabric register between the RAM and the nibble select (as F2b)
        v4_valid = _reg(self, v3_valid, "v4_valid")
        v4_tok = _reg(self, v3_tok, "v4_tok")
        v4_word = _reg(self, v3_ram, "v4_word")
        valids += [e_valid, v1_valid, v2_valid, v3_valid, v4_valid]
        assert VAL_PER_WORD == 8
        v4_pair, v4_last = v4_tok[0], v4_tok[1]
        v4_plane, v4_group = v4_tok[2:2 + lc.plane_bits], v4_tok[2 + lc.plane_bits:2 + lc.plane_bits + lc.group_bits]
        v4_nib = v4_tok[-3:]

        # ---- D1 select, D2 accumulate, D3 bias
        w = Signal((4, True), name="weight")
        term = Signal((wd.acc, True), name="term")
        self.comb += [
            w.eq(Array([v4_word[4 * i:4 * i + 4] for i in range(VAL_PER_WORD)])[v4_nib]),
        ]
        v0_valid = _reg(self, v4_valid, "d0_valid")
        v0_last = _reg(self, v4_last, "d0_last")
        v0_w = _reg(self, Mux(v4_pair, w, 0), "d0_weight")
        v0_plane = _reg(self, v4_plane, "d0_plane")
        self.comb += term.eq(v0_w << v0_plane) if lc.static else term.eq(v0_w)
        d1_valid = _reg(self, v0_valid, "d1_valid")
        d1_last = _reg(self, v0_last, "d1_last")
        d1_term = _reg(self, term, "d1_term")
        self.comb += param_rd.adr.eq(v4_group)                              # read a cycle before D0 ...
        acc = Signal((wd.acc, True), name="acc")
        d2_valid, d2_total = Signal(name="d2_valid"), Signal((wd.acc, True), name="d2_total")
        self.sync += [
            d2_valid.eq(d1_valid & d1_last),
            If(d1_valid, If(d1_last, acc.eq(0), d2_total.eq(acc + d1_term)).Else(acc.eq(acc + d1_term))),
        ]
        d1_param = _reg(self, param_rd.dat_r, "d1_param")                  # the block RAM's output register
        d2_param = _reg(self, d1_param, "d2_param")                         # ... for a fabric register after it
        bias, vth = Signal((wd.bias, True), name="bias"), Signal((wd.vth, True), name="vth")
        self.comb += bias.eq(d2_param[:wd.bias]), vth.eq(d2_param[wd.bias:])
        d3_valid = _reg(self, d2_valid, "d3_valid")
        d3_current = _reg(self, d2_total + bias, "d3_current")
        d3_vth = _reg(self, vth, "d3_vth")
        self.submodules.out_fifo = fifo = stream.SyncFIFO(current_layout(lc), out_depth, buffered=True)
        self.comb += [fifo.sink.valid.eq(d3_valid), fifo.sink.current.eq(d3_current), fifo.sink.vth.eq(d3_vth),
                      fifo.source.connect(source)]
        valids += [v0_valid, d1_valid, d2_valid, d3_valid]

        # ---- credits: neuron updates between B and the current FIFO's output
        # `down` counts a cycle late (a register): the count is then a function of registers only, where
        # the neuron's ready (five registers) had put it 5 LUT levels deep on random models; a late down
        # only holds a credit a cycle longer (the count never falls below the updates in flight), and
        # the credits are the FIFO's whole capacity (its memory and its output register), one more
        # than the memory: the same credits per round trip as before
        credits = out_depth + 1
        outstanding = Signal(bits_for(credits), name="outstanding")
        up, down = Signal(), Signal(name="credit_back")
        self.comb += up.eq(b_step & b_last & b_upd)
        self.sync += down.eq(source.valid & source.ready)
        self.sync += [
            If(up & ~down, outstanding.eq(outstanding + 1), credit_ok.eq(outstanding != credits - 1)
            ).Elif(down & ~up, outstanding.eq(outstanding - 1), credit_ok.eq(1)),
        ]
        self.sync += self.busy.eq(reduce(or_, valids) | (outstanding != 0))
