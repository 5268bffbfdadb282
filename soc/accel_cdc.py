"""AccelCDC: an AccelCore (soc/accel/core.py) in its own clock domain `accel`, seen from `sys`.

    shell = AccelCDC(AccelCore(cfg))    # the SoC provides the clock domains "sys" and "accel"

Every port below is in `sys`; only the core runs in `accel`. Crossings (docs/soc.md, "Clock domains"):
  load, frames (sys -> accel), results (accel -> sys)
        stream.ClockDomainCrossing (an AsyncFIFO, gray-coded pointers); data, first and last travel together
  reset a sys request held until the accel side answers (MultiReg both ways). In accel the request,
        ORed with the accel clock domain's own reset, reaches the core's registers through a tree of
        registers (soc.accel.reset_tree: no net fans out to the whole core; the domain's reset reaches
        them only through it), and the answer is taken after the same delay. Both sides of every FIFO are
        in reset together; the accel side leaves first, the sys side after it has seen that
  clear, latch
        PulseSynchronizer sys -> accel
  layer_sel, running
        MultiReg sys -> accel; a latch waits LATCH_SETTLE accel cycles for them to settle
  load_done + load_error
        one BusSynchronizer word accel -> sys (the verdict never shows half a code)
  counters
        on `latch` the accel side copies cycles, run_cycles and the selected layer's counters into held
        registers and answers with a PulseSynchronizer; sys copies them and sets `counters_valid`
  idle  sys side: no frame between the frames FIFO's input and the results FIFO's output (frame
        counting on both ends) and the core idle (MultiReg)

Ports (sys domain):
  load, frames                    sink    [("data", 32)], first/last carried
  results                         source  [("data", 32)], `last` on each frame's final word
  reset, clear, latch             in  1   pulses
  running                         in  1   level; run_cycles counts accel cycles while it is high (restarts
                                          from 0 when it rises)
  layer_sel                       in  8   layer whose counters the next latch copies
  resetting                       out 1   a reset is in progress (DMAs and FIFOs held)
  idle, load_done                 out 1
  load_error                      out 8
  counters_valid                  out 1   the counter outputs hold the last latch's snapshot
  cycles                          out 64  accel cycles since clear, as of the last latch
  run_cycles                      out 32  accel cycles `running` was high, as of the last latch
  layer_busy/stall/pairs/empty    out 32  the selected layer's counters, as of the last latch
"""
from __future__ import annotations

from migen import Array, ClockDomainsRenamer, If, Mux, ResetInserter, ResetSignal, Signal
from migen.genlib.cdc import BusSynchronizer, MultiReg, PulseSynchronizer

from litex.gen import LiteXModule
from litex.soc.interconnect import stream

from soc.accel.reset_tree import ResetTree

LAYER_COUNTERS = ("busy", "stall", "pairs", "empty")
FIFO_DEPTH = 16           # words per stream crossing (AsyncFIFO: a power of 2)
LATCH_SETTLE = 3          # accel cycles a latch waits for layer_sel/running to pass their MultiRegs
WORD = [("data", 32)]


class AccelCDC(LiteXModule):
    def __init__(self, core, fifo_depth=FIFO_DEPTH):
        self.config = core.config
        self.load = stream.Endpoint(WORD)
        self.frames = stream.Endpoint(WORD)
        self.results = stream.Endpoint(WORD)
        self.reset = Signal()
        self.clear = Signal()
        self.latch = Signal()
        self.running = Signal()
        self.layer_sel = Signal(8)
        self.resetting = Signal()
        self.idle = Signal()
        self.load_done = Signal()
        self.load_error = Signal(8)
        self.counters_valid = Signal()
        self.cycles = Signal(64)
        self.run_cycles = Signal(32)
        for name in LAYER_COUNTERS:
            setattr(self, f"layer_{name}", Signal(32))

        # # #

        # Reset handshake: rst_req (sys) -> rst_a (accel) -> the core's reset tree -> ack (sys); the sys
        # side is held until ack falls, i.e. until every register of the core has left reset.
        self.core = core = ClockDomainsRenamer("accel")(ResetTree()(core))
        rst_req, rst_a, ack = Signal(reset=1), Signal(), Signal()
        self.sync += If(self.reset, rst_req.eq(1)).Elif(ack, rst_req.eq(0))
        self.specials += MultiReg(rst_req, rst_a, "accel", reset=1), MultiReg(core.reset_out, ack, "sys", reset=1)
        rst_s = Signal()
        self.comb += rst_s.eq(rst_req | ack), self.resetting.eq(rst_s)
        self.comb += core.reset.eq(rst_a | ResetSignal("accel", allow_reset_less=True))

        # Streams.
        def crossing(cd_from, cd_to):
            cdc = ResetInserter(["sys", "accel"])(stream.ClockDomainCrossing(
                WORD, cd_from=cd_from, cd_to=cd_to, depth=fifo_depth, buffered=True))
            self.comb += cdc.reset_sys.eq(rst_s), cdc.reset_accel.eq(core.reset_out)
            return cdc
        self.load_cdc = crossing("sys", "accel")
        self.frames_cdc = crossing("sys", "accel")
        self.results_cdc = crossing("accel", "sys")
        self.comb += [
            self.load.connect(self.load_cdc.sink), self.load_cdc.source.connect(core.load),
            self.frames.connect(self.frames_cdc.sink), self.frames_cdc.source.connect(core.frames),
            core.results.connect(self.results_cdc.sink), self.results_cdc.source.connect(self.results),
        ]

        # clear / latch pulses, layer_sel / running levels into accel.
        self.clear_ps = clear_ps = PulseSynchronizer("sys", "accel")
        self.latch_ps = latch_ps = PulseSynchronizer("sys", "accel")
        self.comb += clear_ps.i.eq(self.clear), latch_ps.i.eq(self.latch)
        sel_a, running_a, running_d = Signal(8), Signal(), Signal()
        self.specials += MultiReg(self.layer_sel, sel_a, "accel"), MultiReg(self.running, running_a, "accel")
        self.comb += core.clear_counters.eq(clear_ps.o)

        # Accel side: run counter, snapshot on a settled latch, answer pulse.
        run_a = Signal(32)
        settle = Signal(LATCH_SETTLE)
        fire, fired = Signal(), Signal()
        snap_cycles, snap_run = Signal(64), Signal(32)
        snaps = {name: Signal(32) for name in LAYER_COUNTERS}
        self.comb += fire.eq(settle[-1])
        sync_a = self.sync.accel
        sync_a += [
            running_d.eq(running_a),
            If(clear_ps.o | (running_a & ~running_d), run_a.eq(0)).Elif(running_a, run_a.eq(run_a + 1)),
            settle.eq((settle << 1) | latch_ps.o),
            fired.eq(fire),
            If(fire, snap_cycles.eq(core.cycles), snap_run.eq(run_a),
               *[snaps[n].eq(Array(getattr(core, n))[sel_a]) for n in LAYER_COUNTERS]),
        ]
        self.done_ps = done_ps = PulseSynchronizer("accel", "sys")
        self.comb += done_ps.i.eq(fired)        # one accel cycle after the snapshot registers were written
        # Sys side: copy the held snapshot (stable since before the answer) into the outputs.
        self.sync += If(self.latch | rst_s, self.counters_valid.eq(0)).Elif(done_ps.o,
            self.counters_valid.eq(1), self.cycles.eq(snap_cycles), self.run_cycles.eq(snap_run),
            *[getattr(self, f"layer_{n}").eq(snaps[n]) for n in LAYER_COUNTERS])

        # Load verdict: one coherent word accel -> sys.
        self.verdict = verdict = BusSynchronizer(9, "accel", "sys")
        self.comb += verdict.i.eq(core.load_done | (core.load_error << 1))
        self.comb += self.load_done.eq(verdict.o[0] & ~rst_s), self.load_error.eq(Mux(rst_s, 0, verdict.o[1:]))

        # Idle: frames entered vs results frames left, both counted in sys, and the core idle.
        core_idle = Signal()
        self.specials += MultiReg(core.idle, core_idle, "sys")
        inflight, partial = Signal(17), Signal()
        f_in = self.frames.valid & self.frames.ready
        r_out = self.results.valid & self.results.ready & self.results.last
        f_last = f_in & self.frames.last
        self.sync += [
            If(rst_s, inflight.eq(0), partial.eq(0)).Else(
                inflight.eq(inflight + f_last - r_out),
                If(f_in, partial.eq(~self.frames.last))),
        ]
        self.comb += self.idle.eq((inflight == 0) & ~partial & core_idle & ~rst_s)

