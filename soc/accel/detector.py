"""Dual-side sparsity detector: one output channel in flight, >= 1 matched pair per cycle.

A 4-stage pipeline, each stage a register with valid/ready:
  A fetch:    read the chunk record (PCi mask bits + base offset) and the channel's bias/threshold.
  B extract:  x = spikes AND mask; each cycle take the lowest set bit y = x & -x, x &= x - 1; the weight
              address is base + popcount(mask & (y - 1)) into the packed non-zero values (y - 1 is
              computed as (x - 1) & ~x, so one subtractor serves both). A chunk whose
              AND is zero and that does not close a neuron update leaves stage A without entering B,
              so it overlaps with the extraction of an earlier chunk.
  C value:    read the packed 4-bit weight (8 per memory word).
  D accumulate: I += w << plane (plane = bit-plane of a static first layer, else 0); on `upd`, emit
              I + bias with the threshold and clear I.

Ports:
  sink    token_layout(lc)        in   chunk tokens from the orchestrator
  source  current_layout(lc)      out  one input current per neuron update
  chunk_wr, val_wr, param_wr           memory write ports, driven by the core's loader
  pair, empty                     out  strobes: a matched pair was extracted / a chunk had no match
  busy                            out  any stage holds work
"""
from functools import reduce
from operator import or_

from migen import Array, If, Memory, Module, Signal

from litex.soc.interconnect import stream

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


def popcount(module, bits, n):
    """Population count of an n-bit value as a SWAR adder tree (a handful of wide operations, which
    also keeps the Verilator model fast): 2-bit, 4-bit, then byte fields, then the bytes summed."""
    w = max(8, -(-n // 8) * 8)
    cur = Signal(w)
    module.comb += cur.eq(bits)
    for mask, sh in ((0x55, 1), (0x33, 2), (0x0F, 4)):
        m = int.from_bytes(bytes([mask]) * (w // 8), "little")
        nxt = Signal(w)
        module.comb += nxt.eq((cur & m) + ((cur >> sh) & m))
        cur = nxt
    sh = 8
    while sh < w:
        nxt = Signal(w)
        module.comb += nxt.eq(cur + (cur >> sh))
        cur, sh = nxt, 2 * sh
    out = Signal(bits_for(n))
    module.comb += out.eq(cur[:8])
    return out


class Detector(Module):
    def __init__(self, lc: LayerConfig):
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
        val_rd = val_mem.get_port(has_re=True)
        param_rd = param_mem.get_port(has_re=True)
        self.specials += self.chunk_wr, self.val_wr, self.param_wr, chunk_rd, val_rd, param_rd

        # # #

        # ---- A: fetch the chunk record and the channel parameters
        a_valid, a_consume = Signal(), Signal()
        a_spikes, a_plane, a_upd = Signal(pci), Signal(lc.plane_bits), Signal()
        a_mask, a_base = Signal(pci), Signal(bw)
        a_bias, a_vth = Signal((wd.bias, True)), Signal((wd.vth, True))
        a_x = Signal(pci)
        self.comb += [
            sink.ready.eq(~a_valid | a_consume),
            chunk_rd.adr.eq(sink.addr), chunk_rd.re.eq(sink.ready),
            param_rd.adr.eq(sink.group), param_rd.re.eq(sink.ready),
            a_mask.eq(chunk_rd.dat_r[:pci]), a_base.eq(chunk_rd.dat_r[pci:]),
            a_bias.eq(param_rd.dat_r[:wd.bias]), a_vth.eq(param_rd.dat_r[wd.bias:]),
            a_x.eq(a_spikes & a_mask),
        ]
        self.sync += If(sink.ready,
            a_valid.eq(sink.valid), a_spikes.eq(sink.spikes), a_plane.eq(sink.plane), a_upd.eq(sink.upd))

        # ---- B: extract matched pairs, lowest set bit first
        b_busy, b_x, b_mask, b_base = Signal(), Signal(pci), Signal(pci), Signal(bw)
        b_plane, b_upd = Signal(lc.plane_bits), Signal()
        b_bias, b_vth = Signal((wd.bias, True)), Signal((wd.vth, True))
        b_emit, b_out_ready, b_free = Signal(), Signal(), Signal()
        xm1, x_next = Signal(pci), Signal(pci)
        below = Signal(pci)
        offset = Signal(bits_for(pci))
        pair_adr = Signal(bw + 1)
        a_skip = Signal()
        self.comb += [
            xm1.eq(b_x - 1),                      # lowest set bit cleared, the zeros below it set
            x_next.eq(b_x & xm1),
            below.eq(b_mask & xm1 & ~b_x),        # mask bits below the extracted one (y - 1 = xm1 & ~x)
            offset.eq(popcount(self, below, pci)),
            pair_adr.eq(b_base + offset),
            b_emit.eq(b_busy & ((b_x != 0) | b_upd)),
            b_free.eq(~b_busy | (b_emit & b_out_ready & (x_next == 0))),
            a_skip.eq((a_x == 0) & ~a_upd),
            a_consume.eq(a_valid & (a_skip | b_free)),
            self.empty.eq(a_consume & (a_x == 0)),
        ]
        self.sync += [
            If(b_emit & b_out_ready, b_x.eq(x_next)),
            If(b_free, b_busy.eq(0)),
            If(a_consume & ~a_skip,
                b_busy.eq(1), b_x.eq(a_x), b_mask.eq(a_mask), b_base.eq(a_base), b_plane.eq(a_plane),
                b_upd.eq(a_upd), b_bias.eq(a_bias), b_vth.eq(a_vth)),
        ]

        # ---- C: read the packed weight
        c_valid, c_pair, c_last, c_consume = Signal(), Signal(), Signal(), Signal()
        c_nib, c_plane = Signal(3), Signal(lc.plane_bits)
        c_bias, c_vth = Signal((wd.bias, True)), Signal((wd.vth, True))
        w = Signal((4, True))
        self.comb += [
            b_out_ready.eq(~c_valid | c_consume),
            val_rd.adr.eq(pair_adr[3:]), val_rd.re.eq(b_out_ready),
            w.eq(Array([val_rd.dat_r[4 * i:4 * i + 4] for i in range(VAL_PER_WORD)])[c_nib]),
        ]
        self.sync += If(b_out_ready,
            c_valid.eq(b_emit), c_pair.eq(b_x != 0), c_last.eq(b_upd & (x_next == 0)),
            c_nib.eq(pair_adr[:3]), c_plane.eq(b_plane), c_bias.eq(b_bias), c_vth.eq(b_vth))
        assert VAL_PER_WORD == 8

        # ---- D: accumulate, add the bias once per update
        acc = Signal((wd.acc, True))
        term = Signal((wd.acc + 8, True))
        total = Signal((wd.acc + 1, True))
        self.comb += [
            If(c_pair, term.eq(w << c_plane) if lc.static else term.eq(w)),
            total.eq(acc + term),
            c_consume.eq(c_valid & (~c_last | ~source.valid | source.ready)),
            self.pair.eq(c_consume & c_pair),
        ]
        self.sync += [
            If(source.ready, source.valid.eq(0)),
            If(c_consume,
                If(c_last,
                    acc.eq(0), source.valid.eq(1),
                    source.current.eq(total + c_bias), source.vth.eq(c_vth),
                ).Else(acc.eq(total))),
        ]
        self.comb += self.busy.eq(reduce(or_, [a_valid, b_busy, c_valid, source.valid]))
