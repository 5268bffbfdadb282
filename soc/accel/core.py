"""AccelCore: the spatial accelerator, one engine per layer, all layers running at once.

    core = AccelCore(AccelConfig.from_model(model, [(pco, pci), ...]))

Dataflow (docs/accelerator.md):
    frames -> Unpacker -> FIFO -> Engine 0 -> FIFO -> Engine 1 -> ... -> Engine L-1 (readout) -> Results
    load   -> Loader (writes every detector's memories; frames wait until load_done)

Ports (docs/accel-interface.md):
  load, frames           sink    [("data", 32)]
  results                source  [("data", 32)], `last` on each frame's final word
  idle, load_done        out     1
  load_error             out     8
  clear_counters         in      1
  cycles                 out     64      (two 32-bit halves; the low half's carry is registered)
  busy[l], stall[l], pairs[l], empty[l]   out 32 per layer
"""

from migen import If, Module, Signal

from litex.soc.interconnect import stream

from .config import AccelConfig, bits_for
from .engine import Engine, or_tree
from .frontend import Unpacker
from .loader import Loader
from .results import Results


class AccelCore(Module):
    def __init__(self, cfg: AccelConfig):
        self.config = cfg
        self.load = stream.Endpoint([("data", 32)])
        self.frames = stream.Endpoint([("data", 32)])
        self.results = stream.Endpoint([("data", 32)])
        self.idle = Signal()
        self.load_done = Signal()
        self.load_error = Signal(8)
        self.clear_counters = Signal()
        self.cycles = Signal(64)

        # # #

        self.submodules.unpacker = unpacker = Unpacker(cfg)
        self.engines, fifos = [], []
        prev = unpacker.source
        for i, lc in enumerate(cfg.layers):
            fifo = stream.SyncFIFO([("data", lc.in_width)], cfg.fifo_depth)
            eng = Engine(lc, cfg.det_fifo_depth)
            setattr(self.submodules, f"fifo{i}", fifo)
            setattr(self.submodules, f"engine{i}", eng)
            if i == 0:
                self.comb += prev.connect(fifo.sink)
            else:
                # the engine's output ready is a register: "the FIFO has two free slots" a cycle ago,
                # so at least one now (its own ready, level != depth, reached the pool's hold
                # registers through the pool's ready in 5 LUT levels)
                room = Signal(name=f"fifo{i}_room")
                self.sync += room.eq(fifo.level <= cfg.fifo_depth - 2)
                self.comb += [prev.connect(fifo.sink, omit={"valid", "ready"}),
                              fifo.sink.valid.eq(prev.valid & room), prev.ready.eq(room)]
            self.comb += fifo.source.connect(eng.sink), eng.clear.eq(self.clear_counters)
            self.engines.append(eng)
            fifos.append(fifo)
            prev = eng.source
        self.submodules.collect = collect = Results(cfg.layers[-1])
        self.comb += prev.connect(collect.sink), collect.source.connect(self.results)

        self.submodules.loader = loader = Loader(cfg, [e.dets for e in self.engines])
        self.comb += [
            self.load.connect(loader.sink),
            self.load_done.eq(loader.done), self.load_error.eq(loader.error),
            self.frames.connect(unpacker.sink, omit={"valid", "ready"}),
            unpacker.sink.valid.eq(self.frames.valid & loader.done),
            self.frames.ready.eq(unpacker.sink.ready & loader.done),
        ]

        # frames in flight: the start/done strobes are registered first (and count as in flight there)
        inflight = Signal(bits_for(1 << 16))
        start_r, done_r = Signal(), Signal()
        self.sync += [
            start_r.eq(unpacker.start), done_r.eq(collect.done),
            If(start_r & ~done_r, inflight.eq(inflight + 1)).Elif(done_r & ~start_r, inflight.eq(inflight - 1)),
        ]
        # idle from a registered OR tree (two cycles late; the SoC's frame counting covers a frame's start,
        # soc/accel_cdc.py): the OR of 13 terms in one cone was 5 LUT levels on the A7-35T build
        self.comb += self.idle.eq(~or_tree(self, [inflight != 0, start_r] + [e.active for e in self.engines]
                                           + [f.source.valid for f in fifos], "idle_not"))
        # 64-bit cycle counter as two 32-bit halves: the low half's wrap is known a cycle ahead
        lo, hi = self.cycles[:32], self.cycles[32:]
        lo_wraps = Signal()                             # lo == 2**32 - 1
        self.sync += If(self.clear_counters, self.cycles.eq(0), lo_wraps.eq(0)
                        ).Else(lo.eq(lo + 1), lo_wraps.eq(lo == 2**32 - 2), If(lo_wraps, hi.eq(hi + 1)))

        self.busy = [e.busy for e in self.engines]
        self.stall = [e.stall for e in self.engines]
        self.pairs = [e.pairs for e in self.engines]
        self.empty = [e.empty for e in self.engines]

    def ios(self):
        """Top-level signals for standalone Verilog (rtlsim, synth)."""
        s = set()
        for ep in (self.load, self.frames, self.results):
            s |= {ep.valid, ep.ready, ep.first, ep.last, ep.data}
        s |= {self.idle, self.load_done, self.load_error, self.clear_counters, self.cycles}
        for group in (self.busy, self.stall, self.pairs, self.empty):
            s |= set(group)
        return s
