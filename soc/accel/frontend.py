"""Frame unpacker: 32-bit frame words -> layer-0 input pixels (docs/accel-interface.md).

Static frames carry 8-bit pixels in (h, w, c) order, 4 per word; the unpacker quantizes q = p >> (8-k)
and emits bit-planes (bit b*ci + c = bit b of q_c), which is pure wiring. Temporal frames carry binary
spikes in (h, w, t, c) order and are emitted as they are (bit t*ci + c). A frame is H*W pixels; the
bits after its last pixel (padding to a whole word) are dropped, so `last` on the frame words is not
needed.

Ports:
  sink    [("data", 32)]              in   frame words
  source  [("data", planes*ci)]       out  pixels, raster order
  start                               out  strobe: the first word of a frame was accepted
"""
from migen import Cat, If, Module, Signal

from litex.soc.interconnect import stream

from sw import spec

from .config import AccelConfig, bits_for


class Unpacker(Module):
    def __init__(self, cfg: AccelConfig):
        lc = cfg.layers[0]
        c, h, w = cfg.input_shape
        static = cfg.in_kind == spec.IN_STATIC
        raw = 8 * c if static else cfg.timesteps * c          # frame bits per pixel
        self.sink = sink = stream.Endpoint([("data", 32)])
        self.source = source = stream.Endpoint([("data", lc.in_width)])
        self.start = Signal()

        # # #

        buf = Signal(raw + 32)
        cnt = Signal(bits_for(raw + 32))
        n = Signal(bits_for(h * w))
        k = cfg.in_bits
        if static:
            pix = Cat(*[buf[8 * ch + 8 - k + b] for b in range(k) for ch in range(c)])
        else:
            pix = buf[:raw]
        self.comb += [
            sink.ready.eq(cnt < raw),
            source.valid.eq(cnt >= raw),
            source.data.eq(pix),
            self.start.eq(sink.valid & sink.ready & (cnt == 0) & (n == 0)),
        ]
        self.sync += [
            If(sink.valid & sink.ready,
                buf.eq(buf | (sink.data << cnt)), cnt.eq(cnt + 32)),
            If(source.valid & source.ready,
                If(n == h * w - 1, n.eq(0), buf.eq(0), cnt.eq(0)
                ).Else(n.eq(n + 1), buf.eq(buf[raw:]), cnt.eq(cnt - raw))),
        ]
