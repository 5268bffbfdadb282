"""One layer engine: orchestrator -> PCo x (token FIFO -> detector -> neuron) -> pack -> [pool].

The orchestrator's chunk tokens are broadcast to PCo detectors through small FIFOs, so a detector
that meets several matched pairs in a chunk does not stall the others at once. Detector d serves
output channels g*PCo + d. The neuron results of a group are joined; a spiking layer packs the groups
of one output pixel into a T x co word (bit t*co + c) and optionally OR-pools it; the readout layer
emits each group's PCo accumulators.

Ports:
  sink    [("data", planes*ci)]                 in   input pixels, raster order
  source  [("data", T*co)] or readout groups    out  output pixels (pooled) / [("data", PCo*mem)]
  dets    list of Detector                           memory write ports for the loader
  clear                                          in   zero the counters
  busy, stall, pairs, empty                      out  32-bit performance counters
  active                                         out  any work in flight (for the core's idle)
"""
from functools import reduce
from operator import and_, or_

from migen import Cat, If, Module, Signal

from litex.soc.interconnect import stream

from .config import LayerConfig
from .detector import Detector, token_layout
from .neuron import Neuron
from .orchestrator import Orchestrator
from .pool import Pool


def output_layout(lc: LayerConfig):
    if lc.shape.readout:
        return [("data", lc.pco * lc.widths.mem)]    # detector d's accumulator in bits [d*mem, (d+1)*mem)
    return [("data", lc.out_width)]                  # spike of channel c at step t in bit t*co + c


def popcount(sigs):
    return reduce(lambda a, b: a + b, sigs) if len(sigs) > 1 else sigs[0]


class Engine(Module):
    def __init__(self, lc: LayerConfig, det_fifo_depth: int = 4):
        s, T, G, pco = lc.shape, lc.timesteps, lc.groups, lc.pco
        self.sink = stream.Endpoint([("data", lc.in_width)])
        self.source = source = stream.Endpoint(output_layout(lc))
        self.clear = Signal()
        self.busy, self.stall, self.pairs, self.empty = (Signal(32) for _ in range(4))

        # # #

        self.submodules.orch = orch = Orchestrator(lc)
        self.comb += self.sink.connect(orch.sink)
        self.dets, fifos, neurons = [], [], []
        for d in range(pco):
            fifo = stream.SyncFIFO(token_layout(lc), det_fifo_depth)
            det, neu = Detector(lc), Neuron(lc)
            setattr(self.submodules, f"fifo{d}", fifo)
            setattr(self.submodules, f"det{d}", det)
            setattr(self.submodules, f"neuron{d}", neu)
            self.comb += fifo.source.connect(det.sink), det.source.connect(neu.sink)
            self.dets.append(det)
            fifos.append(fifo)
            neurons.append(neu)
        all_ready = reduce(and_, [f.sink.ready for f in fifos])
        self.comb += orch.source.ready.eq(all_ready)
        for f in fifos:
            self.comb += [f.sink.valid.eq(orch.source.valid & all_ready),
                          f.sink.payload.eq(orch.source.payload)]

        # ---- join the PCo neuron outputs of a group
        joined_valid = reduce(and_, [n.source.valid for n in neurons])
        joined_ready = Signal()
        self.comb += [n.source.ready.eq(joined_valid & joined_ready) for n in neurons]
        if s.readout:
            self.comb += [source.valid.eq(joined_valid), joined_ready.eq(source.ready),
                          source.data.eq(Cat(*[n.source.value for n in neurons]))]
            out = source
        else:
            out = self._pack(lc, neurons, joined_valid, joined_ready)
            if s.pool:
                self.submodules.pool = pool = Pool(lc.out_width, s.conv_h, s.conv_w)
                self.comb += out.connect(pool.sink), pool.source.connect(source)
            else:
                self.comb += out.connect(source)

        # ---- performance counters
        busy = Signal()                  # scanning or computing (the busy counter)
        self.active = Signal()           # any work in flight (the core's idle)
        self.comb += [
            busy.eq(reduce(or_, [orch.busy] + [f.source.valid for f in fifos] + [d.busy for d in self.dets]
                           + [n.busy for n in neurons])),
            self.active.eq(busy | orch.active | source.valid),
        ]
        self.sync += If(self.clear, self.busy.eq(0), self.stall.eq(0), self.pairs.eq(0), self.empty.eq(0)
            ).Else(
                If(busy, self.busy.eq(self.busy + 1)),
                If(source.valid & ~source.ready, self.stall.eq(self.stall + 1)),
                self.pairs.eq(self.pairs + popcount([d.pair for d in self.dets])),
                self.empty.eq(self.empty + popcount([d.empty for d in self.dets])))

    def _pack(self, lc, neurons, joined_valid, joined_ready):
        """Buffer & pack: groups -> one output pixel word, bit t*co + c."""
        T, G, pco, co = lc.timesteps, lc.groups, lc.pco, lc.shape.co
        out = stream.Endpoint([("data", lc.out_width)])
        gw = pco * T
        live = Cat(*[n.source.spikes for n in neurons])           # bit d*T + t
        work = Signal(max(1, (G - 1) * gw))
        g = Signal(lc.group_bits)
        full = Cat(work[:(G - 1) * gw], live) if G > 1 else live   # bit g*pco*T + d*T + t
        mapped = Cat(*[full[(c // pco) * gw + (c % pco) * T + t] for t in range(T) for c in range(co)])
        take = Signal()
        self.comb += [
            joined_ready.eq((g != G - 1) | ~out.valid | out.ready),
            take.eq(joined_valid & joined_ready),
        ]
        self.sync += [
            If(out.ready, out.valid.eq(0)),
            If(take,
                If(g == G - 1, g.eq(0), out.valid.eq(1), out.data.eq(mapped)).Else(g.eq(g + 1)),
                *[If(g == i, work[i * gw:(i + 1) * gw].eq(live)) for i in range(G - 1)]),
        ]
        return out
