"""Frame unpacker: 32-bit frame words -> layer-0 input pixels (docs/accel-interface.md).

Static frames carry 8-bit pixels in (h, w, c) order, 4 per word; the unpacker quantizes q = p >> (8-k)
and emits bit-planes (bit b*ci + c = bit b of q_c), which is pure wiring. Temporal frames carry binary
spikes in (h, w, t, c) order and are emitted as they are (bit t*ci + c). A frame is H*W pixels; the
bits after its last pixel (padding to a whole word) are dropped, so `last` on the frame words is not
needed.

Timing: the handshakes are registers (`have` = a whole pixel is buffered, `fresh` = the frame's
first word is next, `nlast` = the frame's last pixel), kept one step ahead of the bit count; the word
is shifted in by the few bit offsets that can occur (multiples of gcd(32, bits per pixel)).

Ports:
  sink    [("data", 32)]              in   frame words
  source  [("data", planes*ci)]       out  pixels, raster order
  start                               out  strobe: the first word of a frame was accepted
"""
import math

from migen import C, Cat, If, Module, Signal

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
        cnt = Signal(bits_for(raw + 32))                       # valid bits in buf
        have = Signal()                                        # cnt >= raw (a pixel is ready)
        fresh = Signal(reset=1)                                # nothing of this frame received yet
        n = Signal(bits_for(h * w))
        nlast = Signal(reset=int(h * w == 1))                  # n == h*w - 1
        k = cfg.in_bits
        if static:
            pix = Cat(*[buf[8 * ch + 8 - k + b] for b in range(k) for ch in range(c)])
        else:
            pix = buf[:raw]
        # a word is taken only while cnt < raw, and cnt is a multiple of gcd(32, raw): shift by those bits
        lg, hb = math.gcd(32, raw).bit_length() - 1, bits_for(raw - 1)
        shift = (Cat(C(0, lg), cnt[lg:hb]) if lg else cnt[:hb]) if hb > lg else 0
        self.comb += [
            sink.ready.eq(~have),
            source.valid.eq(have),
            source.data.eq(pix),
            self.start.eq(sink.valid & ~have & fresh),
        ]
        self.sync += [
            If(sink.valid & sink.ready,
                buf.eq(buf | (sink.data << shift)), cnt.eq(cnt + 32), have.eq(cnt >= raw - 32 if raw > 32 else 1), fresh.eq(0)),
            If(source.valid & source.ready,
                If(nlast, n.eq(0), nlast.eq(int(h * w == 1)), buf.eq(0), cnt.eq(0), have.eq(0), fresh.eq(1)
                ).Else(n.eq(n + 1), nlast.eq(n == h * w - 2), buf.eq(buf[raw:]), cnt.eq(cnt - raw),
                       have.eq(cnt >= 2 * raw))),
        ]
