"""Dataflow orchestrator of one engine: sliding-window input buffer, implicit im2col, loop order.

Input pixels arrive in raster order (one word = planes x ci bits, bit p*ci + c) and are written to a
circular RAM of `buffer_depth` words (>= (kh-1)*W + kw + W), at address n mod depth. For every output
position (raster order, pre-pool) the window loader reads the kh*kw pixels (zeros outside the map: zero
padding) into a shadow register while the scanner (scanner.py) works on the previous window (double
buffer; layers with few window reads per frame use a single buffer, see LayerConfig.double_buffer).
The shadow is column-major (slot kx*kh + ky), so a step of `stride` reuses the kw - stride columns
already loaded.

Pipeline of the window loader (all address arithmetic is incremental, every compare is registered):
  LOAD     one buffer read per cycle: `addr`, the in-map flags of the current row and column and the
           row/column counters are registers stepped by constants; a read issues when its pixel is
           written (addr < pixels written) or it is padding.
  (read)   the read data (masked to zero for padding) shifts into the shadow one cycle later.
  ADVANCE  one cycle after the window's last read: the counters step to the next output position.
  FILLED   swap the shadow into the scanned window (and its non-empty-chunk vectors) once the scanner
           released the previous one; FRAME_END waits for the frame's last pixel, then restarts.
Per position: kh*min(stride, kw) reads + 2 cycles (as before the pipelining).
The writer stalls when it would overwrite a pixel the window still needs; its limit is a register
recomputed every cycle from the position (a cycle late only ever stalls it, never overwrites).

Ports:
  sink    [("data", planes*ci)]   in   input pixels
  source  token_layout(lc)        out  chunk tokens, broadcast to the PCo detectors
  busy                            out  a window is being scanned
  active                          out  a frame is partly received or a window is in flight
"""
from migen import FSM, Cat, If, Memory, Module, NextState, NextValue, Signal

from litex.soc.interconnect import stream

from .config import LayerConfig, bits_for
from .detector import token_layout
from .scanner import Scanner, nonempty_chunks


def window_order(lc: LayerConfig):
    """Python model of the token order for one frame, ignoring spikes: yields (oy, ox, g, plane)."""
    for oy in range(lc.shape.conv_h):
        for ox in range(lc.shape.conv_w):
            for g in range(lc.groups):
                for p in range(lc.planes):
                    yield oy, ox, g, p


def in_range(x, lo, hi):
    """lo <= x < hi for a signed register x and constants."""
    return (x >= lo) & (x < hi)


class Orchestrator(Module):
    def __init__(self, lc: LayerConfig):
        s = lc.shape
        pixw, depth = lc.in_width, lc.buffer_depth
        self.sink = sink = stream.Endpoint([("data", pixw)])
        self.source = stream.Endpoint(token_layout(lc))
        self.busy = Signal()
        self.active = Signal()
        hw = s.h * s.w
        aw = bits_for(depth - 1)

        # # #

        # ---- circular buffer and writer
        mem = Memory(pixw, depth)
        wp, rp = mem.get_port(write_capable=True), mem.get_port()
        self.specials += mem, wp, rp
        sw = bits_for(hw + depth + s.w * s.kh + s.pad * (s.w + 1)) + 2    # signed index width
        wcount = Signal(bits_for(hw))
        wdone = Signal()                                   # wcount == hw
        wsig = Signal((sw, True))
        iy0 = Signal((sw, True), reset=-s.pad)             # first input row of the window
        ix0 = Signal((sw, True), reset=-s.pad)             # first input column of the window
        rowpix = Signal((sw, True), reset=-s.pad * s.w)     # iy0 * W
        limit = Signal((sw, True), reset=-s.pad * s.w - s.pad + depth - s.pad)
        wrap, write = Signal(), Signal()
        self.comb += [
            wsig.eq(wcount),
            sink.ready.eq(~wdone & (wsig < limit)),
            write.eq(sink.valid & sink.ready),
            wp.adr.eq(wcount[:aw] if aw <= len(wcount) else wcount), wp.dat_w.eq(sink.data), wp.we.eq(write),
        ]
        self.sync += [
            limit.eq(rowpix + ix0 + (depth - s.pad)),      # <= lowest pixel still needed + depth
            If(wrap, wcount.eq(0), wdone.eq(0)
            ).Elif(write, wcount.eq(wcount + 1), wdone.eq(wcount == hw - 1)),
        ]

        # ---- window loader
        cnew = min(s.stride, s.kw)                         # columns loaded per step inside a row
        col0 = s.kw - cnew                                 # first new column of a step, from ix0
        ky, kc = Signal(bits_for(s.kh)), Signal(bits_for(s.kw))
        kylast, kclast = Signal(reset=int(s.kh == 1)), Signal(reset=int(s.kw == 1))
        ncols = Signal(bits_for(s.kw), reset=s.kw)
        oy, ox = Signal(bits_for(s.conv_h)), Signal(bits_for(s.conv_w))
        oylast, oxlast = Signal(reset=int(s.conv_h == 1)), Signal(reset=int(s.conv_w == 1))
        endf = Signal()                                    # the window in the shadow is the frame's last
        col = Signal((sw, True), reset=-s.pad)
        iy = Signal((sw, True), reset=-s.pad)
        addr = Signal((sw, True), reset=-s.pad * s.w - s.pad)   # iy * W + col
        rowpix_ix0 = Signal((sw, True))                    # rowpix + ix0 (registered)
        row_ok, col_ok = Signal(reset=int(s.pad == 0)), Signal(reset=int(s.pad == 0))
        row_ok0 = Signal(reset=int(s.pad == 0))           # iy0 inside the map (registered)
        ok, issue = Signal(), Signal()
        p_valid, p_pad = Signal(), Signal()
        act = Signal(lc.window * pixw)                    # the window being scanned
        shadow = Signal(lc.window * pixw) if lc.double_buffer else act
        nz = Signal(lc.planes * lc.chunks)                # its non-empty-chunk vectors
        act_valid, swap = Signal(), Signal()
        data = Signal(pixw)
        self.submodules.scanner = scan = Scanner(lc)
        self.comb += [
            ok.eq(~(row_ok & col_ok) | (addr < wsig)),
            rp.adr.eq(addr[:aw]),
            data.eq(rp.dat_r & Cat(*[~p_pad] * pixw)),
            scan.win.eq(act), scan.nz.eq(nz), scan.valid.eq(act_valid),
            scan.source.connect(self.source),
        ]
        self.sync += [
            p_valid.eq(issue), p_pad.eq(~(row_ok & col_ok)),
            If(p_valid, shadow.eq(Cat(shadow[pixw:], data) if lc.window > 1 else data)),
            rowpix_ix0.eq(rowpix + ix0),
            If(wrap, row_ok0.eq(int(s.pad == 0))).Else(row_ok0.eq(in_range(iy0, 0, s.h))),
        ]
        # single buffer: the loader shifts into the scanned window itself, once the scanner let it go
        may_load = Signal()
        self.comb += may_load.eq(1 if lc.double_buffer else ~act_valid)
        self.submodules.fsm = fsm = FSM(reset_state="LOAD")
        fsm.act("LOAD",
            issue.eq(ok & may_load),
            If(issue,
                If(kylast,                                 # next column of the window
                    NextValue(ky, 0), NextValue(kylast, int(s.kh == 1)), NextValue(iy, iy0),
                    NextValue(row_ok, row_ok0), NextValue(col, col + 1),
                    NextValue(col_ok, in_range(col, -1, s.w - 1)),
                    NextValue(addr, addr + (1 - (s.kh - 1) * s.w)),
                    NextValue(kc, kc + 1), NextValue(kclast, kc == ncols - 2),
                    If(kclast, NextState("ADVANCE"))
                ).Else(
                    NextValue(ky, ky + 1), NextValue(kylast, ky == s.kh - 2), NextValue(iy, iy + 1),
                    NextValue(row_ok, in_range(iy, -1, s.h - 1)), NextValue(addr, addr + s.w))))
        new_pos = [NextValue(ky, 0), NextValue(kylast, int(s.kh == 1)), NextValue(kc, 0)]
        next_row = new_pos + [
            NextValue(ox, 0), NextValue(oxlast, int(s.conv_w == 1)), NextValue(ix0, -s.pad),
            NextValue(col, -s.pad), NextValue(col_ok, int(s.pad == 0)),
            NextValue(ncols, s.kw), NextValue(kclast, int(s.kw == 1)),
            NextValue(oy, oy + 1), NextValue(oylast, oy == s.conv_h - 2),
            NextValue(iy0, iy0 + s.stride), NextValue(iy, iy0 + s.stride),
            NextValue(row_ok, in_range(iy0, -s.stride, s.h - s.stride)),
            NextValue(rowpix, rowpix + s.stride * s.w), NextValue(addr, rowpix + (s.stride * s.w - s.pad))]
        next_col = new_pos + [
            NextValue(ox, ox + 1), NextValue(oxlast, ox == s.conv_w - 2), NextValue(ix0, ix0 + s.stride),
            NextValue(col, ix0 + (s.stride + col0)), NextValue(col_ok, in_range(ix0, -s.stride - col0,
                                                                                s.w - s.stride - col0)),
            NextValue(ncols, cnew), NextValue(kclast, int(cnew == 1)),
            NextValue(iy, iy0), NextValue(row_ok, row_ok0),
            NextValue(addr, rowpix_ix0 + (s.stride + col0))]
        fsm.act("ADVANCE",                                 # the last read lands in the shadow now
            If(oylast & oxlast, NextValue(endf, 1)
            ).Elif(oxlast, *next_row
            ).Else(*next_col),
            NextState("FILLED"))
        fsm.act("FILLED",
            If(~act_valid | scan.release,
                swap.eq(1),
                If(endf, NextState("FRAME_END")).Else(NextState("LOAD"))))
        fsm.act("FRAME_END",
            If(wdone,
                wrap.eq(1), NextValue(endf, 0),
                *new_pos, NextValue(kclast, int(s.kw == 1)), NextValue(ncols, s.kw),
                NextValue(ox, 0), NextValue(oxlast, int(s.conv_w == 1)), NextValue(ix0, -s.pad),
                NextValue(oy, 0), NextValue(oylast, int(s.conv_h == 1)), NextValue(iy0, -s.pad),
                NextValue(col, -s.pad), NextValue(iy, -s.pad), NextValue(row_ok, int(s.pad == 0)),
                NextValue(col_ok, int(s.pad == 0)), NextValue(rowpix, -s.pad * s.w),
                NextValue(addr, -s.pad * s.w - s.pad),
                NextState("LOAD")))
        self.sync += [
            If(scan.release, act_valid.eq(0)),
            If(swap, act_valid.eq(1), nz.eq(nonempty_chunks(lc, shadow)),
               act.eq(shadow) if lc.double_buffer else []),
        ]
        self.comb += [
            self.busy.eq(scan.busy),
            self.active.eq(scan.busy | (wcount != 0) | ~fsm.ongoing("LOAD")),
        ]
