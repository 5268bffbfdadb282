"""Readout collector: the readout engine's group outputs -> the results stream.

Per frame it gathers the num_classes accumulators (G groups of PCo, padding slots dropped), keeps the
running argmax (strictly greater wins, so ties go to the lowest index), then emits 1 + num_classes
words: the class, then each accumulator sign-extended to 32 bits; `last` on the final word.

Ports:
  sink    [("data", PCo*mem)]   in   readout groups
  source  [("data", 32)]        out  result words
  done                          out  strobe: the last word of a frame was accepted
"""
from migen import Array, Cat, If, Module, Replicate, Signal

from litex.soc.interconnect import stream

from .config import LayerConfig, bits_for


class Results(Module):
    def __init__(self, lc: LayerConfig):
        co, pco, G, mw = lc.shape.co, lc.pco, lc.groups, lc.widths.mem
        self.sink = sink = stream.Endpoint([("data", pco * mw)])
        self.source = source = stream.Endpoint([("data", 32)])
        self.done = Signal()

        # # #

        vals = [Signal((mw, True)) for _ in range(co)]
        g = Signal(bits_for(G - 1))
        best_v, best_i = Signal((mw, True)), Signal(bits_for(co - 1))
        emitting, idx = Signal(), Signal(bits_for(co))
        self.comb += sink.ready.eq(~emitting)
        # running argmax over the group, as a chain of compares
        chain_v, chain_i = best_v, best_i
        for d in range(pco):
            v = Signal((mw, True))
            self.comb += v.eq(sink.data[d * mw:(d + 1) * mw])
            nv, ni = Signal((mw, True)), Signal(bits_for(co - 1))
            cidx = Signal(bits_for(co))
            self.comb += [nv.eq(chain_v), ni.eq(chain_i), cidx.eq(Array([gg * pco + d for gg in range(G)])[g]),
                          If((cidx < co) & ((cidx == 0) | (v > chain_v)), nv.eq(v), ni.eq(cidx))]
            chain_v, chain_i = nv, ni
            for gg in range(G):
                c = gg * pco + d
                if c < co:
                    self.sync += If(sink.valid & sink.ready & (g == gg), vals[c].eq(v))
        self.sync += If(sink.valid & sink.ready,
            best_v.eq(chain_v), best_i.eq(chain_i),
            If(g == G - 1, g.eq(0), emitting.eq(1), idx.eq(0)).Else(g.eq(g + 1)))
        word = Signal(32)
        sel = Signal((mw, True))
        self.comb += [
            sel.eq(Array(vals)[idx - 1]),
            If(idx == 0, word.eq(best_i)).Else(word.eq(Cat(sel, Replicate(sel[mw - 1], 32 - mw)) if mw < 32 else sel)),
            source.valid.eq(emitting), source.data.eq(word), source.last.eq(idx == co),
            self.done.eq(source.valid & source.ready & source.last),
        ]
        self.sync += If(source.valid & source.ready,
            idx.eq(idx + 1), If(idx == co, emitting.eq(0)))
