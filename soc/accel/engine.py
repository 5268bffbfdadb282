"""One layer engine: orchestrator -> PCo x (token FIFO -> detector -> neuron) -> pack -> [pool].

Timing: the broadcast waits on a registered "every FIFO has room"; each neuron output passes a
registered-ready and a registered-valid stage before the join, whose valid is an AND of a few
registers (the buffers' valids ANDed a cycle ahead); the packed word is a register that takes
the next pixel only once empty (the join's ready never waits on the pool or the FIFO); the counters add
registered, pipelined population counts. The wide ANDs and ORs (`all_room`, the join flags' ANDs, the
activity ORs' inputs) are trees of kept nodes (soc.accel.verilog.kept_wires), so synthesis keeps their
balanced shape.

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
  busy, stall, pairs, empty                      out  32-bit performance counters (a few cycles late)
  active                                         out  any work in flight, or counter updates still on
                                                      their way (for the core's idle)
"""
from functools import reduce
from operator import and_, or_

from migen import Cat, If, Module, Mux, Signal

from litex.soc.interconnect import stream

from .bitops import reduce_tree
from .config import LayerConfig
from .detector import Detector, popcount, token_layout
from .neuron import Neuron
from .orchestrator import Orchestrator
from .pool import Pool
from .verilog import kept_wires


# the join's valid is an AND of this many registers at most: with the pack's two-input ready, the
# join's fire is one LUT6 from registers
JOIN_FLAGS = 4


def output_layout(lc: LayerConfig):
    if lc.shape.readout:
        return [("data", lc.pco * lc.widths.mem)]    # detector d's accumulator in bits [d*mem, (d+1)*mem)
    return [("data", lc.out_width)]                  # spike of channel c at step t in bit t*co + c


def or_tree(module, sigs, name):
    """OR of `sigs`, a register after every 6-input level (latency ceil(log6 n), at least 1). Each input
    is a kept node (soc.accel.verilog.kept_wires): one that is a function of a few registers (a neuron's
    busy) is then a LUT of its own, and six of them one LUT more (abc9 had chained 24 inputs 5 deep)."""
    leaf = kept_wires(module, f"{name}_in")
    level, i = [leaf(x) for x in sigs], 0
    while True:
        nxt = []
        for j in range(0, len(level), 6):
            r = Signal(name=f"{name}_{i}_{j // 6}")
            module.sync += r.eq(reduce(or_, level[j:j + 6]))
            nxt.append(r)
        level, i = nxt, i + 1
        if len(level) == 1:
            return level[0]


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
        # broadcast while every token FIFO has room: a registered AND of "level <= depth - 2" (one cycle
        # old, and a FIFO gains at most one token per cycle, so the next token always fits)
        # (kept nodes: a 3-bit compare per FIFO, two per LUT, then an AND tree; bitops.reduce_tree)
        all_room = Signal(name="all_room")
        room_wire = kept_wires(self, "room")
        rooms = [f.level <= det_fifo_depth - 2 for f in fifos]
        pairs = [reduce(and_, rooms[i:i + 2]) for i in range(0, pco, 2)]
        pairs = [room_wire(r) for r in pairs] if len(pairs) > 1 else pairs
        self.sync += all_room.eq(reduce_tree(and_, pairs, room_wire))
        self.comb += orch.source.ready.eq(all_room)
        for f in fifos:
            self.comb += [f.sink.valid.eq(orch.source.valid & all_room),
                          f.sink.payload.eq(orch.source.payload)]

        # ---- join the PCo neuron outputs of a group; each neuron output goes through a registered-ready
        # then a registered-valid stage, so the join's AND and the neurons' steps are one register apart
        outs, ins, held = [], [], []     # held: registered valids of the buffers (work in flight)
        for d, n in enumerate(neurons):
            pr, pv = stream.PipeReady(n.source.description), stream.PipeValid(n.source.description)
            setattr(self.submodules, f"nready{d}", pr)
            setattr(self.submodules, f"nvalid{d}", pv)
            self.comb += n.source.connect(pr.sink), pr.source.connect(pv.sink)
            outs.append(pv.source)
            # the PipeValid's input valid, from two registers: the PipeReady's buffer is full
            # (~sink.ready) or the neuron's output is valid. (pv.sink.valid is the same signal as a mux
            # of three registers: a full buffer always holds a valid token)
            ins.append(~pr.sink.ready | n.source.valid)
            held += [~pr.sink.ready, pv.source.valid]
        # the join's valid is the AND of at most JOIN_FLAGS registers, each equal to the AND of the
        # valids of a slice of the PipeValids, computed a cycle ahead from their inputs: a PipeValid
        # holds its valid until taken, and its next one is its input's valid if the join fires now,
        # else (its own | its input's). So the wide AND feeds registers, and the join's fire (the
        # ready and enables of every buffer behind it) is one LUT from registers (docs/accelerator.md)
        joined_valid = Signal(name="joined_valid")
        joined_ready = Signal(name="joined_ready")
        fire = joined_valid & joined_ready
        per = -(-pco // JOIN_FLAGS)
        if per == 1:                     # up to JOIN_FLAGS lanes: the PipeValids' own valid registers
            flags = [o.valid for o in outs]
        else:
            flags, join_wire = [], kept_wires(self, "join")
            for k in range(0, pco, per):
                flags.append(Signal(name=f"joined_v{k // per}"))
                # AND of (i | (o & ~fire)), as its two cases under `fire`: the wide ANDs do not wait on
                # the fire (the AND over `fire`-gated terms was 5-6 LUT levels at PCo 15-22)
                # (each AND a kept tree, bitops.reduce_tree, its leaves as many lanes as their registers
                # fit in a LUT6: 3 lanes' i (two registers each) or 2 lanes' i | o (three))
                lanes = list(zip(ins[k:k + per], outs[k:k + per]))
                all_in = join_wire(reduce_tree(and_, [i for i, _ in lanes], join_wire, leaf_k=3))
                all_held = join_wire(reduce_tree(and_, [i | o.valid for i, o in lanes], join_wire, leaf_k=2))
                self.sync += flags[-1].eq(Mux(fire, all_in, all_held))
        self.comb += joined_valid.eq(reduce(and_, flags))
        self.comb += [o.ready.eq(fire) for o in outs]
        if s.readout:
            self.comb += [source.valid.eq(joined_valid), joined_ready.eq(source.ready),
                          source.data.eq(Cat(*[o.value for o in outs]))]
            out = source
        else:
            # the pack's output is a register stage that takes a pixel only when empty, so no ready
            # crosses it; downstream, the pool's ready is a gate of the core's registered FIFO room
            out = self._pack(lc, outs, joined_valid, joined_ready)
            held.append(out.valid)
            if s.pool:
                # straight into the core's inter-layer FIFO: its ready is a register (the core's
                # `room`), the pool's is ~emit | ready (emit a register): no buffer is needed here
                self.submodules.pool = pool = Pool(lc.out_width, s.conv_h, s.conv_w)
                self.comb += out.connect(pool.sink), pool.source.connect(source)
            else:
                self.comb += out.connect(source)

        # ---- performance counters and activity, pipelined: each input is a register, then OR trees and
        # population counts with a register per level; counters lag their events by a few cycles
        busy = or_tree(self, [orch.busy] + [f.source.valid for f in fifos] + [d.busy for d in self.dets]
                             + [n.busy for n in neurons], "busy_any")
        act = or_tree(self, [busy, orch.active, source.valid] + held, "active_any")
        hold = Signal(4, name="active_hold")      # covers the counters' lag behind the last activity
        self.active = Signal(name="active")       # any work in flight or counted late (the core's idle)
        self.sync += hold.eq(Cat(act, hold[:-1]))
        self.comb += self.active.eq(act | (hold != 0))
        stall = Signal(name="stall_r")
        self.sync += stall.eq(source.valid & ~source.ready)
        pairs, _ = popcount(self, Cat(*[d.pair for d in self.dets]), pco, "pairs_sum")
        empty, _ = popcount(self, Cat(*[d.empty for d in self.dets]), pco, "empty_sum")
        self.sync += If(self.clear, self.busy.eq(0), self.stall.eq(0), self.pairs.eq(0), self.empty.eq(0)
            ).Else(
                If(busy, self.busy.eq(self.busy + 1)),
                If(stall, self.stall.eq(self.stall + 1)),
                self.pairs.eq(self.pairs + pairs),
                self.empty.eq(self.empty + empty))

    def _pack(self, lc, outs, joined_valid, joined_ready):
        """Buffer & pack: groups -> one output pixel word, bit t*co + c."""
        T, G, pco, co = lc.timesteps, lc.groups, lc.pco, lc.shape.co
        out = stream.Endpoint([("data", lc.out_width)])
        gw = pco * T
        live = Cat(*[o.spikes for o in outs])                     # bit d*T + t
        work = Signal(max(1, (G - 1) * gw), name="pack_work", reset_less=True)   # data only
        g = Signal(lc.group_bits, name="pack_group")
        g_last = Signal(name="pack_last", reset=int(G == 1))          # g == G - 1
        full = Cat(work[:(G - 1) * gw], live) if G > 1 else live   # bit g*pco*T + d*T + t
        mapped = Cat(*[full[(c // pco) * gw + (c % pco) * T + t] for t in range(T) for c in range(co)])
        take = Signal()
        # the last group waits for an empty output register rather than for out.ready: the neurons'
        # ready (and everything behind it) then waits on no downstream logic; a group comes at most every
        # few cycles (one token per plane at least), so the bubble this can add is rarely on the path
        self.comb += [
            joined_ready.eq(~g_last | ~out.valid),
            take.eq(joined_valid & joined_ready),
        ]
        self.sync += [
            If(out.ready, out.valid.eq(0)),
            If(take,
                If(g_last, g.eq(0), g_last.eq(G == 1), out.valid.eq(1), out.data.eq(mapped)
                   ).Else(g.eq(g + 1), g_last.eq(g == G - 2))),
            # a group other than the last is always taken when valid (g == i < G - 1 means ~g_last)
            *[If(joined_valid & (g == i), work[i * gw:(i + 1) * gw].eq(live)) for i in range(G - 1)],
        ]
        return out
