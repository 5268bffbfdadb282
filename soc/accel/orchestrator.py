"""Dataflow orchestrator of one engine: sliding-window input buffer, implicit im2col, loop order.

Input pixels arrive in raster order (one word = planes x ci bits, bit p*ci + c) and are written to a
circular RAM of `buffer_depth` words (>= (kh-1)*W + kw + W), at address n mod depth. For every output
position (raster order, pre-pool) the window loader reads the kh*kw pixels (zeros outside the map: zero
padding) into a shadow register while the scanner works on the previous window (double buffer; layers
with few window reads per frame use a single buffer, see LayerConfig.double_buffer). The
scanner walks  co/PCo -> plane (t, or bit-plane b) -> chunks of PCi kernel bits, in kernel order
(kh, kw, ci), and emits one token per chunk with any spike; chunks without spikes cost no cycle. A
plane without any spike still emits one (empty) token, so the neuron update happens.

Ports:
  sink    [("data", planes*ci)]   in   input pixels
  source  token_layout(lc)        out  chunk tokens, broadcast to the PCo detectors
  busy                            out  a window is being scanned
  active                          out  a frame is partly received or a window is in flight
"""
from migen import Array, Case, Cat, FSM, If, Memory, Module, NextState, NextValue, Signal

from litex.soc.interconnect import stream

from .config import LayerConfig, bits_for
from .detector import token_layout


def window_order(lc: LayerConfig):
    """Python model of the token order for one frame, ignoring spikes: yields (oy, ox, g, plane)."""
    for oy in range(lc.shape.conv_h):
        for ox in range(lc.shape.conv_w):
            for g in range(lc.groups):
                for p in range(lc.planes):
                    yield oy, ox, g, p


class Orchestrator(Module):
    def __init__(self, lc: LayerConfig):
        s = lc.shape
        pixw, depth, K, pci, kch = lc.in_width, lc.buffer_depth, lc.fan_in, lc.pci, lc.chunks
        self.sink = sink = stream.Endpoint([("data", pixw)])
        self.source = source = stream.Endpoint(token_layout(lc))
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
        iy0 = Signal((sw, True), reset=-s.pad)
        ix0 = Signal((sw, True), reset=-s.pad)             # first input column of the window
        rowpix = Signal((sw, True), reset=-s.pad * s.w)     # iy0 * W
        kyrow = Signal((sw, True), reset=-s.pad * s.w)      # (iy0 + ky) * W
        limit = Signal((sw, True))
        wsig = Signal((sw, True))
        self.comb += [
            wsig.eq(wcount),
            limit.eq(rowpix + ix0 - s.pad + depth),          # <= lowest pixel still needed + depth
            sink.ready.eq((wcount < hw) & (wsig < limit)),
            wp.adr.eq(wcount[:aw] if aw <= len(wcount) else wcount), wp.dat_w.eq(sink.data),
            wp.we.eq(sink.valid & sink.ready),
        ]
        wrap = Signal()
        self.sync += If(wrap, wcount.eq(0)).Elif(sink.valid & sink.ready, wcount.eq(wcount + 1))

        # ---- window loader: column-major shadow (slot kx*kh + ky); a stride-s step reuses kw - s columns
        cnew = min(s.stride, s.kw)                         # columns loaded per step inside a row
        ky, kc = Signal(bits_for(s.kh)), Signal(bits_for(s.kw))
        ncols = Signal(bits_for(s.kw), reset=s.kw)
        oy, ox = Signal(bits_for(s.conv_h)), Signal(bits_for(s.conv_w))
        col = Signal((sw, True), reset=-s.pad)
        iy, addr = Signal((sw, True)), Signal((sw, True))
        inb, ok, issue = Signal(), Signal(), Signal()
        p_valid, p_pad = Signal(), Signal()
        act = Signal(lc.window * pixw)                    # the window being scanned
        shadow = Signal(lc.window * pixw) if lc.double_buffer else act
        act_valid, release, swap = Signal(), Signal(), Signal()
        data = Signal(pixw)
        self.comb += [
            iy.eq(iy0 + ky), addr.eq(kyrow + col),
            inb.eq((iy >= 0) & (iy < s.h) & (col >= 0) & (col < s.w)),
            ok.eq(~inb | (addr < wsig)),
            rp.adr.eq(addr[:aw]),
            data.eq(rp.dat_r & Cat(*[~p_pad] * pixw)),
        ]
        self.sync += [p_valid.eq(issue), p_pad.eq(~inb),
                      If(p_valid, shadow.eq(Cat(shadow[pixw:], data) if lc.window > 1 else data))]
        # single buffer: the loader shifts into the scanned window itself, once the scanner let it go
        may_load = Signal()
        self.comb += may_load.eq(1 if lc.double_buffer else ~act_valid)
        fsm = FSM(reset_state="LOAD")
        self.submodules.fsm = fsm
        last_pos = (oy == s.conv_h - 1) & (ox == s.conv_w - 1)
        fsm.act("LOAD",
            issue.eq(ok & may_load),
            If(ok & may_load,
                If(ky == s.kh - 1,
                    NextValue(ky, 0), NextValue(kyrow, rowpix), NextValue(col, col + 1), NextValue(kc, kc + 1),
                    If(kc == ncols - 1, NextState("FILLED"))
                ).Else(NextValue(ky, ky + 1), NextValue(kyrow, kyrow + s.w))))
        row_start = [NextValue(ox, 0), NextValue(ix0, -s.pad), NextValue(col, -s.pad), NextValue(ncols, s.kw)]
        next_row = row_start + [NextValue(oy, oy + 1), NextValue(iy0, iy0 + s.stride),
                                NextValue(rowpix, rowpix + s.stride * s.w),
                                NextValue(kyrow, rowpix + s.stride * s.w)]
        next_col = [NextValue(ox, ox + 1), NextValue(ix0, ix0 + s.stride), NextValue(ncols, cnew),
                    NextValue(col, ix0 + s.stride + s.kw - cnew), NextValue(kyrow, rowpix)]
        fsm.act("FILLED",
            If(~p_valid & (~act_valid | release),
                swap.eq(1), NextValue(kc, 0),
                If(last_pos, NextState("FRAME_END")
                ).Elif(ox == s.conv_w - 1, *next_row, NextState("LOAD")
                ).Else(*next_col, NextState("LOAD"))))
        fsm.act("FRAME_END",
            If(wcount == hw,
                wrap.eq(1), *row_start, NextValue(oy, 0), NextValue(iy0, -s.pad),
                NextValue(rowpix, -s.pad * s.w), NextValue(kyrow, -s.pad * s.w),
                NextState("LOAD")))

        # ---- scanner: groups -> planes -> non-empty chunks
        g, p = Signal(lc.group_bits), Signal(lc.plane_bits)
        P = lc.planes
        gbase = Signal(lc.chunk_bits)
        fresh, rem = Signal(reset=1), Signal(kch)
        plane_vec = Signal(kch * pci)
        slots = [act[(kx * s.kh + ky) * pixw:(kx * s.kh + ky + 1) * pixw]        # kernel order ky, kx
                 for ky in range(s.kh) for kx in range(s.kw)]
        cands = [Cat(*[sl[q * s.ci:(q + 1) * s.ci] for sl in slots]) for q in range(lc.planes)]
        self.comb += Case(p, {q: plane_vec.eq(c) for q, c in enumerate(cands)})
        if lc.static:
            # bit-planes without any set bit are skipped at no cost (only the last one closes the update)
            pfresh, prem, pcur = Signal(reset=1), Signal(P), Signal(P)
            self.comb += [
                If(pfresh, pcur.eq(Cat(*[c != 0 for c in cands[:-1]], 1))).Else(pcur.eq(prem)),
                [If(pcur[q], p.eq(q)) for q in reversed(range(P))],
            ]
        chunks = [plane_vec[j * pci:(j + 1) * pci] for j in range(kch)]
        nz = Signal(kch)
        cur = Signal(kch)
        j = Signal(bits_for(kch - 1))
        last = Signal()
        self.comb += [
            nz.eq(Cat(*[c != 0 for c in chunks])),
            If(fresh, cur.eq(nz)).Else(cur.eq(rem)),
            [If(cur[i], j.eq(i)) for i in reversed(range(kch))],
            last.eq((cur & (cur - 1)) == 0),
            source.valid.eq(act_valid),
            source.spikes.eq(Array(chunks)[j]),
            source.addr.eq(gbase + j),
            source.group.eq(g),
            source.plane.eq(p),
            source.upd.eq(last & (p == lc.planes - 1) if lc.static else last),
            release.eq(source.valid & source.ready & last & (p == lc.planes - 1) & (g == lc.groups - 1)),
            self.busy.eq(act_valid),
            self.active.eq(act_valid | (wcount != 0) | ~fsm.ongoing("LOAD")),
        ]
        plane_done = source.valid & source.ready & last
        if lc.static:
            self.sync += If(plane_done,
                If(p == P - 1, pfresh.eq(1)).Else(pfresh.eq(0), prem.eq(pcur & (pcur - 1))))
        else:
            self.sync += If(plane_done, If(p == P - 1, p.eq(0)).Else(p.eq(p + 1)))
        self.sync += [
            If(source.valid & source.ready,
                If(last,
                    fresh.eq(1),
                    If(p == P - 1,
                        If(g == lc.groups - 1, g.eq(0), gbase.eq(0)
                        ).Else(g.eq(g + 1), gbase.eq(gbase + kch)))
                ).Else(fresh.eq(0), rem.eq(cur & (cur - 1)))),
            If(release, act_valid.eq(0)),
            If(swap, act_valid.eq(1), act.eq(shadow) if lc.double_buffer else []),
        ]
        assert K <= kch * pci
