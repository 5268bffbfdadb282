"""OR max-pooling 2x2, stride 2, of binary spike pixels (per time step: a bitwise OR of the words).

Pixels of a conv_h x conv_w map arrive in raster order. A pixel in an odd last row or column (floor
semantics) is dropped. The OR of a horizontal pair is kept in a row buffer (conv_w/2 words) on even
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

        x, y = Signal(bits_for(conv_w)), Signal(bits_for(conv_h))
        hold = Signal(width)
        rowbuf = Memory(width, max(2, pw))
        wp = rowbuf.get_port(write_capable=True, async_read=True)
        self.specials += rowbuf, wp
        keep, odd_x, odd_y = Signal(), Signal(), Signal()
        pair = Signal(width)
        self.comb += [
            keep.eq((x < 2 * pw) & (y < 2 * ph)),
            odd_x.eq(x[0]), odd_y.eq(y[0]),
            pair.eq(hold | sink.data),
            wp.adr.eq(x[1:]), wp.dat_w.eq(pair),
            wp.we.eq(sink.valid & keep & odd_x & ~odd_y),
            source.data.eq(wp.dat_r | pair),
            source.valid.eq(sink.valid & keep & odd_x & odd_y),
            sink.ready.eq(~(keep & odd_x & odd_y) | source.ready),
        ]
        self.sync += If(sink.valid & sink.ready,
            If(~odd_x, hold.eq(sink.data)),
            If(x == conv_w - 1,
                x.eq(0), If(y == conv_h - 1, y.eq(0)).Else(y.eq(y + 1))
            ).Else(x.eq(x + 1)))
