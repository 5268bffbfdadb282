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
           written or it is padding. `written` (addr < pixels written) is a register computed a cycle
           ahead for the next address (addr + W, or the next column's top), compared against
           registered `wsig - step` (one cycle old: it may only wait a cycle, never read early).
  (read)   the read data (masked to zero for padding) shifts into the shadow one cycle later.
  ADVANCE  one cycle after the window's last read: the counters take the next output position's
           values, which `next_*` registers computed while the window loaded.
  FILLED   swap the shadow into the scanned window once the scanner released the previous one
           (`filled`, a register beside the state, so the swap is one LUT of registers with the
           release); the scanner latches the window's non-empty-chunk vectors (`nz_pre`, registered
           from the shadow every cycle) at the swap, or a cycle after it when the swap came in FILLED's
           first cycle, before `nz_pre` had seen the last read. FRAME_END waits for the frame's last
           pixel, then restarts.
Per position: kh*min(stride, kw) reads + 2 cycles (as before the pipelining).
The writer stalls when it would overwrite a pixel the window still needs; its limit is a register
recomputed every cycle from the position, and its ready a register compared against the limit of the
cycle before (late only ever stalls it, never overwrites: the limit only grows within a frame).

Ports:
  sink    [("data", planes*ci)]   in   input pixels
  source  token_layout(lc)        out  chunk tokens, broadcast to the PCo detectors
  busy                            out  a window is being scanned
  active                          out  a frame is partly received or a window is in flight
"""
from migen import FSM, If, Memory, Module, Mux, NextState, NextValue, Signal

from litex.soc.interconnect import stream

from .bitops import less_than
from .config import LayerConfig, bits_for
from .verilog import add, equals, kept_wires
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
    return (add(x, -lo) >= 0) & (add(x, -hi) < 0)


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
        limit_m1 = Signal((sw, True), reset=-s.pad * s.w - s.pad + depth - s.pad - 1, name="limit_m1")
        # the writer's ready is a register: the compare against `limit` for the next cycle's count, made
        # now (one compare per case of this cycle's write), so the input FIFO's level and flags behind it
        # see one register (the compare in front of them was 5 LUT levels on random models). It reads
        # the limit a cycle earlier still: within a frame the limit only grows, so that only stalls; after
        # the wrap (wdone, so wready is 0) the first compare reads the old frame's limit, for pixel 0,
        # which every limit admits, as the combinational ready did
        wready = Signal(name="wready")
        cmp_wire = kept_wires(self, "wlt")

        def below(lim):             # wcount < lim (signed): lim >= 0 (inside the tree), and the magnitudes
            return cmp_wire(less_than(wcount, lim[:-1], cmp_wire, b_negative=lim[-1]))
        wrap, write = Signal(), Signal()
        self.comb += [
            wsig.eq(wcount),
            sink.ready.eq(wready),
            # a kept node: the input FIFO's "not empty" and the ready in one LUT, which the ready's mux
            # and the memory's write enable read (abc9 had shared the FIFO flag's OR as a chain, 5 levels)
            write.eq(cmp_wire(sink.valid & wready)),
            wp.adr.eq(wcount[:aw] if aw <= len(wcount) else wcount), wp.dat_w.eq(sink.data), wp.we.eq(write),
        ]
        self.sync += [
            limit.eq(rowpix + ix0 + (depth - s.pad)),      # <= lowest pixel still needed + depth
            limit_m1.eq(rowpix + ix0 + (depth - s.pad - 1)),
            If(wrap, wcount.eq(0), wdone.eq(0)
            ).Elif(write, wcount.eq(wcount + 1), wdone.eq(wcount == hw - 1)),
            # (no case for the wrap: it comes with wdone, so wready is 0 and no write then)
            If(write, wready.eq(~cmp_wire(equals(wcount, hw - 1)) & below(limit_m1))   # count + 1 < limit
            ).Else(wready.eq(~wdone & below(limit))),
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
        row_ok, col_ok = Signal(reset=int(s.pad == 0)), Signal(reset=int(s.pad == 0))
        row_ok0 = Signal(reset=int(s.pad == 0))           # iy0 inside the map (registered)
        ok, issue = Signal(), Signal()
        written = Signal()                                 # addr < pixels written (registered, see LOAD)
        lim_col = Signal((sw, True), name="written_lim_col")    # wsig - (the next column's step)
        lim_row = Signal((sw, True), name="written_lim_row")    # wsig - W

        def limits(w):
            return [lim_col.eq(add(w, (s.kh - 1) * s.w - 1)), lim_row.eq(add(w, -s.w))]
        p_valid, p_pad = Signal(), Signal()
        # data only, no reset (meaningless until act_valid): the entry slot's padding clear then takes
        # the flip-flops' reset pin, which sys_rst would otherwise occupy (an AND per bit)
        act = Signal(lc.window * pixw, reset_less=True)   # the window being scanned
        shadow = Signal(lc.window * pixw, reset_less=True) if lc.double_buffer else act
        nz_pre = Signal(lc.planes * lc.chunks, name="nz_pre")   # the shadow's non-empty-chunk vectors
        act_valid, swap = Signal(), Signal()
        self.submodules.scanner = scan = Scanner(lc)
        self.comb += [
            ok.eq(~(row_ok & col_ok) | written),
            rp.adr.eq(addr[:aw]),
            scan.win.eq(act), scan.valid.eq(act_valid),
            scan.source.connect(self.source),
        ]
        self.sync += [
            p_valid.eq(issue), p_pad.eq(~(row_ok & col_ok)),
            # the entry slot takes the read, or 0 for padding (a synchronous reset, not an AND per bit)
            If(p_valid, shadow[:-pixw].eq(shadow[pixw:]) if lc.window > 1 else [],
               If(p_pad, shadow[-pixw:].eq(0)).Else(shadow[-pixw:].eq(rp.dat_r))),
            # the address after an issue is addr + a constant (kylast picks which), so its compare is
            # registered a cycle ahead, as addr < (wsig - that constant) with the right side registered.
            # wcount only grows within a frame, so a stale compare only waits: the Else branch looks
            # again the next cycle. Both limits restart with wcount at the wrap.
            If(wrap, *limits(0)).Else(*limits(wsig)),
            If(wrap, written.eq(0)
            ).Elif(issue, written.eq(Mux(kylast, addr < lim_col, addr < lim_row))
            ).Else(written.eq(addr < wsig)),
            If(wrap, row_ok0.eq(int(s.pad == 0))).Else(row_ok0.eq(in_range(iy0, 0, s.h))),
        ]
        # single buffer: the loader shifts into the scanned window itself, once the scanner let it go
        may_load = Signal()
        self.comb += may_load.eq(1 if lc.double_buffer else ~act_valid)
        lastpos, adv, step_col, step_row = Signal(), Signal(), Signal(), Signal()
        self.submodules.fsm = fsm = FSM(reset_state="LOAD")
        fsm.act("LOAD",
            issue.eq(ok & may_load),
            If(issue & kylast & kclast, NextState("ADVANCE")))
        fsm.act("ADVANCE",                                 # the last read lands in the shadow now
            adv.eq(~lastpos),
            If(lastpos, NextValue(endf, 1)),
            NextState("FILLED"))
        fsm.act("FILLED",
            If(swap, If(endf, NextState("FRAME_END")).Else(NextState("LOAD"))))
        fsm.act("FRAME_END",
            If(wdone, wrap.eq(1), NextValue(endf, 0), NextState("LOAD")))
        self.comb += [lastpos.eq(oylast & oxlast), step_col.eq(issue & kylast), step_row.eq(issue & ~kylast)]
        # FILLED as a register of its own: the swap (the clock enable of `act` and `nz`) is then one LUT of
        # registers with the scanner's release (valid & take & fin), not behind the state's decode
        filled = Signal(name="filled")
        self.sync += If(fsm.ongoing("ADVANCE"), filled.eq(1)).Elif(swap, filled.eq(0))
        # the shadow's non-empty vectors are registered every cycle (`nz_pre`), so the scanner latches
        # them, and its per-plane summaries of them, without an OR tree over the shadow in front of the
        # clock enable. They are the full shadow's once FILLED has lasted a cycle (`nzok`): a swap then
        # (the scanner was the slower) hands them over at once, an earlier one (the loader was the slower)
        # a cycle later (`late`; the shadow is rewritten two cycles after the swap at the earliest)
        nzok, late = Signal(name="nzok"), Signal(name="late")
        # (each chunk's OR a tree of kept nodes: abc9 had chained the 29-52-input ORs 5 LUTs deep)
        self.sync += [nz_pre.eq(nonempty_chunks(lc, shadow, kept_wires(self, "nz"))),
                      nzok.eq(filled & ~swap), late.eq(swap & ~nzok)]
        self.comb += [scan.nz_next.eq(nz_pre), scan.load.eq((swap & nzok) | late), scan.late.eq(late)]
        self.comb += swap.eq(filled & (~act_valid | scan.release))

        # the next position's counters, registered while the current one loads (the position registers
        # change only in ADVANCE and at the frame wrap, at least two cycles before the next ADVANCE)
        nxt = {}
        for name, reg, on_row, on_col in [
                ("ox", ox, 0, ox + 1), ("oxlast", oxlast, int(s.conv_w == 1), equals(ox, s.conv_w - 2)),
                ("oy", oy, oy + 1, oy), ("oylast", oylast, equals(oy, s.conv_h - 2), oylast),
                ("ix0", ix0, -s.pad, ix0 + s.stride), ("iy0", iy0, iy0 + s.stride, iy0),
                ("rowpix", rowpix, rowpix + s.stride * s.w, rowpix),
                ("col", col, -s.pad, ix0 + (s.stride + col0)),
                ("col_ok", col_ok, int(s.pad == 0), in_range(ix0, -s.stride - col0, s.w - s.stride - col0)),
                ("iy", iy, iy0 + s.stride, iy0),
                ("row_ok", row_ok, in_range(iy0, -s.stride, s.h - s.stride), row_ok0),
                ("addr", addr, rowpix + (s.stride * s.w - s.pad), rowpix + ix0 + (s.stride + col0)),
                ("ncols", ncols, s.kw, cnew), ("kclast", kclast, int(s.kw == 1), int(cnew == 1))]:
            nxt[name] = Signal.like(reg, name=f"next_{name}")
            self.sync += nxt[name].eq(Mux(oxlast, on_row, on_col))
        start = {"ox": 0, "oxlast": int(s.conv_w == 1), "oy": 0, "oylast": int(s.conv_h == 1), "ix0": -s.pad,
                 "iy0": -s.pad, "rowpix": -s.pad * s.w, "col": -s.pad, "col_ok": int(s.pad == 0), "iy": -s.pad,
                 "row_ok": int(s.pad == 0), "addr": -s.pad * s.w - s.pad, "ncols": s.kw,
                 "kclast": int(s.kw == 1)}
        sig = {"ox": ox, "oxlast": oxlast, "oy": oy, "oylast": oylast, "ix0": ix0, "iy0": iy0,
               "rowpix": rowpix, "col": col, "col_ok": col_ok, "iy": iy, "row_ok": row_ok, "addr": addr,
               "ncols": ncols, "kclast": kclast}
        inside = {   # steps inside the window: (next column, next row); None: unchanged
            "col": (col + 1, None), "col_ok": (in_range(col, -1, s.w - 1), None),
            "iy": (iy0, iy + 1), "row_ok": (row_ok0, in_range(iy, -1, s.h - 1)),
            "kclast": (kc == ncols - 2, None)}
        # the address steps by one adder whose constant `kylast` (a register) picks: two sums under a
        # mux of `step_col`/`step_row` were merged by yosys' opt_share into one adder whose operand mux
        # those (FSM-decoded) selects drive, in front of the carry chain (5 LUT levels)
        addr_step = Signal((sw, True), name="addr_step")
        self.comb += If(kylast, addr_step.eq(1 - (s.kh - 1) * s.w)).Else(addr_step.eq(s.w))
        for name, x in sig.items():
            stmt = If(wrap, x.eq(start[name])).Elif(adv, x.eq(nxt[name]))
            if name == "addr":
                stmt = stmt.Elif(issue, x.eq(addr + addr_step))
            elif name in inside:
                c, r = inside[name]
                stmt = stmt.Elif(step_col, x.eq(c))
                if r is not None:
                    stmt = stmt.Elif(step_row, x.eq(r))
            self.sync += stmt
        # under `issue`, the row/column choice is the `kylast` register (the FSM-decoded step_col and
        # step_row as selects made these 5 LUT levels)
        self.sync += [
            If(wrap | adv, ky.eq(0), kylast.eq(int(s.kh == 1))
            ).Elif(issue,
                If(kylast, ky.eq(0), kylast.eq(int(s.kh == 1))
                ).Else(ky.eq(ky + 1), kylast.eq(equals(ky, s.kh - 2)))),
            If(wrap | adv, kc.eq(0)).Elif(step_col, kc.eq(kc + 1)),
        ]
        self.sync += [
            If(scan.release, act_valid.eq(0)),
            If(swap, act_valid.eq(1), act.eq(shadow) if lc.double_buffer else []),
        ]
        self.comb += [
            self.busy.eq(scan.busy),
            self.active.eq(scan.busy | (wcount != 0) | ~fsm.ongoing("LOAD")),
        ]
