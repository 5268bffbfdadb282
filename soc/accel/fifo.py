"""LayerFIFO: the FIFO in front of each engine. LiteX's `stream.SyncFIFO` (migen's first-word-fall-through
`SyncFIFO`) cycle for cycle, with the level logic built for LUT depth.

migen's FIFO counts `level + 1` / `level - 1` behind `we & writable` and `readable & re`, where `readable`
and `writable` are compares of the level. On random model 2 of bench/timing_random.py the orchestrator's
ready (a compare on a carry chain) reached `level[0]` through 5 LUT levels. Here `readable` and
`writable` are registers updated with the level, the two steps are kept nodes
(soc.accel.verilog.kept_wires) and the level is a toggle counter (bitops.updown).

    fifo = LayerFIFO([("data", 32)], depth)     # sink, source (stream.Endpoint), level (as SyncFIFO's)

tests/soc/accel/test_fifo.py drives it beside `stream.SyncFIFO` and compares every output every cycle.
"""
from migen import Cat, If, Memory, Module, Mux, Signal

from litex.soc.interconnect import stream

from .bitops import updown
from .verilog import kept_wires


class LayerFIFO(Module):
    def __init__(self, layout, depth: int):
        assert depth >= 2, depth
        self.sink = sink = stream.Endpoint(layout)
        self.source = source = stream.Endpoint(layout)
        self.depth = depth
        self.level = level = Signal(max=depth + 1, name="level")

        # # #

        node = kept_wires(self, "fifo")
        readable = Signal(name="readable")                 # level != 0, a register
        writable = Signal(name="writable", reset=1)        # level != depth, a register
        do_write, do_read = sink.valid & writable, readable & source.ready
        # one LUT each from the ready (kept do_write/do_read nodes in front of them made the flags 5 LUT
        # levels behind the orchestrator's ready on the A7-35T build)
        inc, dec = node(do_write & ~do_read), node(do_read & ~do_write)
        self.sync += [
            *updown(level, inc, dec, node),
            If(inc, readable.eq(1), writable.eq(~node(level == depth - 1))
            ).Elif(dec, writable.eq(1), readable.eq(~node(level == 1))),
        ]

        # storage: payload, param, first and last, as LiteX's wrapper packs them (an empty part left
        # out: Verilog has no empty concatenation)
        def packed(ep):
            return Cat(*[x for x in (ep.payload.raw_bits(), ep.param.raw_bits(), ep.first, ep.last) if len(x)])
        word, out = packed(sink), packed(source)
        mem = Memory(len(word), depth)
        wr, rd = mem.get_port(write_capable=True), mem.get_port(async_read=True)
        self.specials += mem, wr, rd
        produce, consume = Signal(max=depth, name="produce"), Signal(max=depth, name="consume")
        self.comb += [
            wr.adr.eq(produce), wr.dat_w.eq(word), wr.we.eq(do_write),
            rd.adr.eq(consume), out.eq(rd.dat_r),
            sink.ready.eq(writable), source.valid.eq(readable),
        ]
        self.sync += [
            If(do_write, produce.eq(_next(produce, depth))),
            If(do_read, consume.eq(_next(consume, depth))),
        ]


def _next(ptr, depth):
    """ptr + 1 modulo depth."""
    return ptr + 1 if depth == 1 << len(ptr) else Mux(ptr == depth - 1, 0, ptr + 1)
