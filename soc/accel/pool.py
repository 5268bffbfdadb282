"""OR max-pooling 2x2, stride 2, of binary spike pixels (per time step: a bitwise OR of the words).

Pixels of a conv_h x conv_w map arrive in raster order. A pixel in an odd last row or column (floor
semantics) is dropped. One stage: the pixel position (x, y) and its flags (inside the pooled area, odd
column, odd row, last column/row) are registers, so `sink.ready` is one gate of `source.ready`. The OR of a horizontal pair is kept in a row buffer (conv_w/2 words) on even
rows and completed on odd rows, which emit one pooled pixel per pair.

Ports:
  sink    [("data", width)]   in   conv output pixels
  source  [("data", width)]   out  pooled pixels, raster order of the (conv_h/2) x (conv_w/2) map
"""
from migen import If, Memory, Module, Signal

from litex.soc.interconnect import stream

from .config import bits_for


def pool_model(frame):
    """Python model: frame [H][W] of int words -> [H//2][W//2] ORs."""
    h, w = len(frame) // 2, len(frame[0]) // 2
    return [[frame[2 * y][2 * x] | frame[2 * y][2 * x + 1] | frame[2 * y + 1][2 * x] | frame[2 * y + 1][2 * x + 1]
             for x in range(w)] for y in range(h)]


class Pool(Module):
    def __init__(self, width: int, conv_h: int, conv_w: int):
        self.sink = sink = stream.Endpoint([("data", width)])
        self.source = source = stream.Endpoint([("data", width)])
        ph, pw = conv_h // 2, conv_w // 2

        # # #

        x, y = Signal(bits_for(conv_w), name="x"), Signal(bits_for(conv_h), name="y")
        hold = Signal(width, name="hold")
        rowbuf = Memory(width, max(2, pw))
        wp = rowbuf.get_port(write_capable=True, async_read=True)
        self.specials += rowbuf, wp
        # registered flags of the current (x, y): inside the pooled area, odd column, odd row
        keep_x, keep_y = Signal(name="keep_x", reset=int(pw > 0)), Signal(name="keep_y", reset=int(ph > 0))
        odd_x, odd_y = Signal(name="odd_x"), Signal(name="odd_y")
        keep, emit, take = Signal(name="keep"), Signal(name="emit"), Signal(name="take")
        end_x, end_y = Signal(name="end_x", reset=int(conv_w == 1)), Signal(name="end_y", reset=int(conv_h == 1))
        pair = Signal(width, name="pair")
        self.comb += [
            keep.eq(keep_x & keep_y),
            emit.eq(keep & odd_x & odd_y),
            pair.eq(hold | sink.data),
            wp.adr.eq(x[1:]), wp.dat_w.eq(pair),
            wp.we.eq(sink.valid & keep & odd_x & ~odd_y),
            source.data.eq(wp.dat_r | pair),
            source.valid.eq(sink.valid & emit),
            sink.ready.eq(~emit | source.ready),
            take.eq(sink.valid & sink.ready),
        ]
        self.sync += If(take,
            If(~odd_x, hold.eq(sink.data)),
            If(end_x,
                x.eq(0), odd_x.eq(0), keep_x.eq(int(pw > 0)), end_x.eq(int(conv_w == 1)),
                If(end_y, y.eq(0), odd_y.eq(0), keep_y.eq(int(ph > 0)), end_y.eq(int(conv_h == 1))
                ).Else(y.eq(y + 1), odd_y.eq(~odd_y), keep_y.eq(y < 2 * ph - 1), end_y.eq(y == conv_h - 2))
            ).Else(x.eq(x + 1), odd_x.eq(~odd_x), keep_x.eq(x < 2 * pw - 1), end_x.eq(x == conv_w - 2)))
