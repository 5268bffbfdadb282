"""Chunk scanner of one engine: window -> (group, plane) items -> one token per non-empty chunk.

The orchestrator hands over a window register `win` (kernel order per plane, see Orchestrator),
registered at the swap, and at the swap (`load`) the scanner latches `nz_next`, its non-empty-chunk
vectors (bit q*KCH + j: chunk j of plane q has a spike; a register of the orchestrator's). The scanner
walks groups -> planes -> non-empty chunks and emits one token per chunk with a spike; a plane without
any spike emits one empty token (the neuron must step). A static layer skips bit-planes without
spikes, except the last one.

Pipeline (one token per cycle in steady state):
  L latch            at `load`: `nz` and per plane what C's control needs of it at a push, so a push
                     selects registers: "at most one chunk" (`sgl`), the saturating counts of six-chunk
                     groups (above COUNT_GROUP chunks), the lowest chunk (above one carry block,
                     bitops.BLOCK), and for a static layer the planes to run. (The at_most_one
                     over the plane mux's output had been 5-7 LUT levels into `last`.)
  P plane sequencer  one (group, plane) item per cycle from the window: the plane's data and its
                     non-empty vector split into the lowest chunk (one-hot) and the rest (a binary
                     plane select beside the one-hot control, so the plane mux is one LUT6 per
                     bit up to 4 planes). The binary select is two kept registers
                     (soc.accel.verilog.kept_copy): `psel` steers the data, `pctl` the non-empty
                     vector into C's control (`last`, the lowest chunk). Routed ECP5 builds timed
                     the single select's net, which reached all 576 data muxes of the output
                     layer, at 12-14 ns of routing into `last`. (One copy per 64 data muxes was
                     tried: router2 then diverged on the SCNN5 SoC with three seeds.)
                     A static layer spends one set-up cycle per window on the plane-skip mask;
                     how many planes are left is a thermometer register, so `plast` after a step
                     is one of its bits. The window is released when the window's last item is
                     pushed (the item carries a copy of its plane); `fin` (= plast & glast &
                     ready) is a register kept beside those, so the release is one LUT of
                     registers (valid & take & fin).
  C chunk extractor  loaded straight from P (a copy of the plane, written with a clock enable): its
                     current chunk `lsb` (one-hot) and the rest `nxt`; each token, lsb' = nxt & -nxt,
                     nxt' = nxt & (nxt - 1); P pushes when C is empty or hands out its last token,
                     so a plane with one chunk takes one cycle. `last` (nxt == 0) is a register,
                     loaded with the plane's `sgl` and stepped as at_most_one(nxt): the
                     push, and all of P's and the orchestrator's control behind it, wait on no
                     compare of `nxt`. Above COUNT_GROUP chunks the step's at_most_one(nxt) is
                     itself kept a token ahead: `c_cnt` holds per group of six chunks min(3, set
                     bits of lsb | nxt) (the plane's latched counts at the push, one LUT of `nxt` at
                     a step), and nxt' is empty when their capped sum is at most 2.
  T token buffer     stream.PipeReady then stream.PipeValid: spikes = AND-OR of the chunks by lsb,
                     j = the index of lsb; the ready towards C and the valid/payload out are
                     registers. The address g*KCH + j leaves T as its two registered terms and is
                     summed at the source (the token FIFOs' write data take it).
                     The AND-OR is split at the ready stage: one partial select per PART chunks
                     (a kept LUT6 per bit), buffered beside the ready stage's payload (`parts_d`),
                     and the valid stage takes the OR of the buffered or of the incoming parts (two
                     kept trees, their select one LUT with the stage's enable).

Ports:
  win       lc.window*in_width     in   the window being scanned (stable while `valid`)
  nz_next   planes*KCH             in   the next window's non-empty-chunk vectors (read at `load`)
  load                             in   strobe: latch `nz_next` (at the swap, or a cycle after it)
  late                             in   the latch is this cycle's, a cycle after the swap: no push
  valid                            in   `win` holds a window not yet released
  release                          out  strobe: the scanner has copied what it needs of `win`
  source    token_layout(lc)       out  chunk tokens
  busy                             out  items or tokens in flight
"""
from functools import reduce
from operator import or_

from migen import Array, Cat, If, Module, Mux, Replicate, Signal

from litex.soc.interconnect import stream

from .bitops import BLOCK, COUNT_GROUP, at_most_one, lowest, reduce_tree, sat_counts, sat_sum, tree_levels
from .config import LayerConfig, bits_for
from .detector import token_layout
from .verilog import kept_copy, kept_wires


def kernel_slots(lc: LayerConfig):
    """The window's slots in kernel order (ky, kx): the column-major window holds (ky, kx) in slot kx*kh + ky."""
    s = lc.shape
    return [kx * s.kh + ky for ky in range(s.kh) for kx in range(s.kw)]


def plane_vectors(lc: LayerConfig, win):
    """Kernel-order spike vector (kh, kw, ci) of every plane, from the column-major window (pixel bit
    p*ci + c)."""
    ci, pixw = lc.shape.ci, lc.in_width
    slots = [win[k * pixw:(k + 1) * pixw] for k in kernel_slots(lc)]
    return [Cat(*[sl[q * ci:(q + 1) * ci] for sl in slots]) for q in range(lc.planes)]


def nonempty_chunks(lc: LayerConfig, win, wire=None):
    """Cat over planes of the non-empty-chunk vector (bit q*KCH + j); `wire`: as bitops.reduce_tree.
    The trees take single bits of `win` (a bit of plane_vectors' Cat would print the whole Cat)."""
    ci, pixw, pci, kch = lc.shape.ci, lc.in_width, lc.pci, lc.chunks
    bits = [[win[k * pixw + q * ci + c] for k in kernel_slots(lc) for c in range(ci)]   # plane_vectors' order
            for q in range(lc.planes)]
    return Cat(*[reduce_tree(or_, vec[j * pci:(j + 1) * pci], wire) for vec in bits for j in range(kch)])


PART = 3    # chunks per partial select in T: 3 (data, one-hot select) pairs fill one LUT6


class Scanner(Module):
    def __init__(self, lc: LayerConfig):
        P, G, kch, pci = lc.planes, lc.groups, lc.chunks, lc.pci
        self.win = Signal(lc.window * lc.in_width)
        self.nz_next = Signal(P * kch)
        self.load = Signal()
        self.late = Signal()
        self.valid = Signal()
        self.release = Signal()
        self.source = stream.Endpoint(token_layout(lc))
        self.busy = Signal()
        self.fin_check = Signal()    # simulation only: fin == plast & glast & ready (tests read it)

        # # #

        # ---- L: the window's vectors, latched at `load` beside their per-plane summaries
        nz = Signal(P * kch, name="scan_nz")
        nz_of = [nz[q * kch:(q + 1) * kch] for q in range(P)]
        nx_of = [self.nz_next[q * kch:(q + 1) * kch] for q in range(P)]
        sgl = Signal(P, name="scan_sgl")                   # per plane: at most one non-empty chunk
        counted = kch > COUNT_GROUP
        ngrp = -(-kch // COUNT_GROUP)
        cnt = [[Signal(2, name=f"scan_cnt{q}_{k}") for k in range(ngrp)] for q in range(P)] if counted else []
        # above one carry block, also each plane's lowest non-empty chunk (one-hot): lowest() over blocks
        # behind the plane mux was the deepest chain (6 LUT levels) of random models with wide fc layers
        wide = kch > BLOCK
        low = [Signal(kch, name=f"scan_low{q}") for q in range(P)] if wide else []
        amo = kept_wires(self, "sgl")        # kept nodes: abc9 had chained it 6 LUTs deep over 36 chunks
        # lowest()'s block flags as kept trees too (abc9 had shared them with `sgl`'s nodes, 5 levels into `low`)
        lowl = kept_wires(self, "lowl")
        self.sync += If(self.load, nz.eq(self.nz_next), sgl.eq(Cat(*[at_most_one(v, amo) for v in nx_of])),
                        *[c.eq(x) for q in range(len(cnt)) for c, x in zip(cnt[q], sat_counts(nx_of[q]))],
                        *[lw.eq(lowest(v, lowl)[0]) for lw, v in zip(low, nx_of)])

        # ---- P: plane sequencer
        poh = Signal(P, reset=1, name="scan_poh")          # current plane, one-hot (control)
        # the same plane, binary: `psel` steers the data mux (and c_plane), its kept twin `pctl` the
        # non-empty vector into C's control, so the path into `last` does not ride the data mux's net
        psel = kept_copy("fanout_scan_p", lc.plane_bits) if P > 1 else Signal(lc.plane_bits, name="scan_p")
        pctl = kept_copy("fanout_scan_pctl", lc.plane_bits) if P > 1 else psel
        g = Signal(lc.group_bits, name="scan_g")
        gbase = Signal(lc.chunk_bits, name="scan_gbase")
        glast = Signal(reset=int(G == 1), name="scan_glast")
        plast = Signal(name="scan_plast")                  # poh is the window's last plane of the group
        ready = Signal(reset=int(not lc.static), name="scan_ready")   # set-up done for this window
        push, take = Signal(name="scan_push"), Signal(name="scan_take")
        vecs = plane_vectors(lc, self.win)
        width = kch * pci
        pdata = Signal(width, name="scan_pdata")
        pnz = Signal(kch, name="scan_pnz")
        psingle = Signal(name="scan_psingle")

        def set_plane(v):
            return [psel.eq(v)] + ([pctl.eq(v)] if P > 1 else [])

        # a binary-select mux is one LUT6 per bit up to 4 planes (a one-hot AND-OR took two)
        self.comb += [
            pdata.eq(Array(vecs)[psel] if P > 1 else vecs[0]),
            pnz.eq(Array(nz_of)[pctl] if P > 1 else nz),
            psingle.eq(Array(sgl)[pctl] if P > 1 else sgl[0]),
        ]
        if wide:
            first = Signal(kch, name="scan_first")
            self.comb += first.eq(Array(low)[pctl] if P > 1 else low[0])
            rest = pnz & ~first
        else:
            first, rest = lowest(pnz)
        # `fin` = plast & glast & ready, a register kept beside them: the release is then one LUT of
        # registers (valid & take & fin), and so is the orchestrator's swap behind it (it was 5 LUT levels)
        fin = Signal(reset=int(not lc.static and P == 1 and G == 1), name="scan_fin")
        # `late`: the window's vectors are latched at the end of this cycle, so nothing is pushed (a static
        # layer's set-up waits instead, and its `fin` implies `ready`)
        live = self.valid if lc.static else self.valid & ~self.late
        self.comb += [
            push.eq(live & ready & take),
            self.release.eq(live & take & fin),            # fin implies ready
        ]
        next_group = [If(glast, g.eq(0), gbase.eq(0), glast.eq(int(G == 1))
                         ).Else(g.eq(g + 1), gbase.eq(gbase + kch), glast.eq(g == G - 2))]
        glast_next = glast if G == 1 else Mux(glast, 0, g == G - 2)     # glast after next_group
        self.comb += self.fin_check.eq(fin == (plast & glast & ready))
        if lc.static:
            # bit-planes without a spike are skipped (the last plane always runs: it closes the update)
            prem = Signal(P, name="scan_prem")             # planes left in this group, poh included
            prem0, poh0 = Signal(P, name="scan_prem0"), Signal(P, name="scan_poh0")
            psel0 = Signal(lc.plane_bits, name="scan_p0")
            plast0 = Signal(name="scan_plast0")
            # how many planes are left, as a thermometer: th[i] = "at least i + 2 left" (a step shifts it),
            # so `plast` after a step is a register's bit (`(after & ~nfirst) == 0` was 5 LUT levels)
            nth = max(1, P - 1)
            th, th0 = Signal(nth, name="scan_th"), Signal(nth, name="scan_th0")
            after = Signal(P, name="scan_after")         # prem without poh
            nfirst = Signal(P, name="scan_nfirst")
            self.comb += [after.eq(prem & ~poh), nfirst.eq(lowest(after)[0])]
            # the window's plane sequence, latched with its vectors: the planes to run, the first, how many
            nzp = Cat(*[v != 0 for v in nx_of[:-1]], 1)
            ge = at_least(nzp) if P > 1 else [0]
            f0 = lowest(nzp)[0]
            self.sync += If(self.load, prem0.eq(nzp), poh0.eq(f0), psel0.eq(onehot_index(f0)),
                            plast0.eq(~ge[0] if P > 1 else 1), th0.eq(Cat(*ge)))
            self.sync += [
                If(self.release, ready.eq(0)),
                If(self.valid & ~self.late & ~ready,       # set-up: the window's first group
                    ready.eq(1), prem.eq(prem0), poh.eq(poh0), *set_plane(psel0), plast.eq(plast0),
                    th.eq(th0), fin.eq(plast0 & glast)),
                If(push,
                    If(plast, prem.eq(prem0), poh.eq(poh0), *set_plane(psel0), plast.eq(plast0), th.eq(th0),
                       *next_group, fin.eq(plast0 & glast_next)
                    ).Else(prem.eq(after), poh.eq(nfirst), *set_plane(onehot_index(nfirst)),
                           plast.eq(~th[1] if nth > 1 else 1), th.eq(th[1:] if nth > 1 else 0),
                           fin.eq((~th[1] if nth > 1 else 1) & glast))),
                If(self.release, fin.eq(0)),               # ready falls: the next window's set-up sets it
            ]
        else:
            self.comb += plast.eq(poh[P - 1])
            self.sync += If(push,
                If(plast, poh.eq(1), *set_plane(0), *next_group, fin.eq(int(P == 1) & glast_next)
                ).Else(poh.eq(Cat(0, poh[:-1]) if P > 1 else 1), *set_plane(psel + 1),
                       fin.eq(poh[P - 2] & glast if P > 1 else 0)))

        # ---- C: chunk extractor, loaded straight from P (the item is a copy of its plane, so the
        # window can be released before its chunks are out)
        # T: ready registered first, then valid and payload: both ends of the link are registers
        # the chunk select is an AND-OR over KCH chunks: its first level (PART chunks, one LUT6 per bit)
        # goes before T's ready stage, the OR of the parts after it
        # the address g*KCH + j leaves T as its two terms, registered, and is summed at the source (the
        # token FIFOs' write data): the index and the add in front of T's valid stage were 5 LUT levels
        nparts = -(-kch // PART)
        jbits = bits_for(kch - 1)
        split = [("gbase", lc.chunk_bits), ("j", jbits)] if G > 1 else [("j", jbits)]
        fields = [f for f in token_layout(lc) if f[0] not in ("spikes", "addr")]
        # The parts ride beside the ready stage, in a buffer of their own loaded as its payload is, so the
        # OR of the parts is two kept trees, one over the stage's input and one over its buffer, and only
        # their select meets the valid stage's enable (the OR behind LiteX's payload mux had been 5 LUT
        # levels into `tokens_out` on a 38-chunk layer)
        self.submodules.tokens = tokens = stream.PipeReady(fields + split)
        self.submodules.tokens_out = tokens_out = stream.PipeValid([("spikes", pci)] + fields + split)
        c_valid = Signal(name="scan_c_valid")
        c_lsb, c_nxt = Signal(kch, name="scan_c_lsb"), Signal(kch, name="scan_c_nxt")
        c_data = Signal(width, name="scan_c_data", reset_less=True)   # data only: meaningless until c_valid
        c_group, c_gbase = Signal(lc.group_bits, name="scan_c_group"), Signal(lc.chunk_bits, name="scan_c_gbase")
        c_plane, c_upd = Signal(lc.plane_bits, name="scan_c_plane"), Signal(name="scan_c_upd")
        c_last, c_take = Signal(name="scan_c_last"), Signal(name="scan_c_take")    # c_last: c_nxt == 0
        pwire = kept_wires(self, "parts")
        parts_in = [pwire(reduce(or_, [c_data[i * pci:(i + 1) * pci] & Replicate(c_lsb[i], pci)
                                       for i in range(b * PART, min(kch, (b + 1) * PART))])) for b in range(nparts)]
        parts_d = Signal(nparts * pci, name="scan_parts_d", reset_less=True)      # data only, as the stage's
        free = tokens.sink.ready                           # the ready stage holds no token (~its `valid`)
        self.sync += If(~tokens.source.ready & free, parts_d.eq(Cat(*parts_in)))

        def parts_or(ps):
            return pwire(reduce_tree(or_, ps, pwire)) if len(ps) > 1 else ps[0]
        self.comb += [
            tokens.source.connect(tokens_out.sink),
            tokens_out.sink.spikes.eq(Mux(free, parts_or(parts_in),
                                          parts_or([parts_d[b * pci:(b + 1) * pci] for b in range(nparts)]))),
        ]
        nl, nn = lowest(c_nxt, kept_wires(self, "below"))    # above BLOCK chunks: kept block ORs
        j = Signal(jbits, name="scan_j")
        self.comb += [
            c_take.eq(c_valid & tokens.sink.ready),
            take.eq(~c_valid | (c_last & tokens.sink.ready)),
            j.eq(onehot_index(c_lsb, kept_wires(self, "j"))),    # kept trees over kept quads (onehot_index)
            tokens.sink.valid.eq(c_valid),
            tokens.sink.j.eq(j),
            tokens.sink.gbase.eq(c_gbase) if G > 1 else [],
            tokens.sink.group.eq(c_group),
            tokens.sink.plane.eq(c_plane),
            tokens.sink.upd.eq(c_last & c_upd),
        ]
        if counted:
            # `last` a token ahead from registers: c_cnt holds, per group of chunks, min(3, set bits) of
            # lsb | nxt (the plane's latched counts at the push, nxt at each step: one LUT of registers),
            # so "nxt' = nxt & (nxt - 1) is empty" is "lsb | nxt has at most two bits", a tree over c_cnt
            # (at_most_one(nxt) had shared the carry chain of nxt - 1: 5-8 LUT levels on wide fc layers)
            cnt_push = [Array([cnt[q][k] for q in range(P)])[pctl] if P > 1 else cnt[0][k] for k in range(ngrp)]
            # each group's count a kept node (each bit one LUT6 of six c_nxt bits): abc9 had shared the
            # counts' terms with the step enable into a chain, 5 levels into c_cnt on random model 0
            cnt_step = list(map(kept_wires(self, "cntstep"), sat_counts(c_nxt)))
            c_cnt = [Signal(2, name=f"scan_c_cnt{k}") for k in range(len(cnt_push))]
            # the tree's nodes kept (one LUT6 per bit each; random model 1's c_cnt went from 4 to 5 levels with
            # these and the kept j: docs/accelerator.md, seventeenth session)
            step_last = sat_sum(c_cnt, kept_wires(self, "cntsum")) <= 2
            self.sync += [
                If(c_take & ~c_last, *[c.eq(x) for c, x in zip(c_cnt, cnt_step)]),
                If(push, *[c.eq(x) for c, x in zip(c_cnt, cnt_push)]),
            ]
        else:
            step_last = at_most_one(c_nxt)
        self.sync += [
            If(c_take & c_last, c_valid.eq(0)),
            If(c_take & ~c_last, c_lsb.eq(nl), c_nxt.eq(nn), c_last.eq(step_last)),
            If(push,
                c_valid.eq(1), c_lsb.eq(first), c_nxt.eq(rest), c_last.eq(psingle), c_data.eq(pdata),
                c_group.eq(g), c_gbase.eq(gbase), c_plane.eq(psel),
                c_upd.eq(poh[P - 1] if lc.static else 1)),
        ]
        self.comb += [
            tokens_out.source.connect(self.source, omit={"gbase", "j"}),
            self.source.addr.eq(tokens_out.source.gbase + tokens_out.source.j if G > 1 else tokens_out.source.j),
            self.busy.eq(self.valid | c_valid | tokens.source.valid | tokens_out.source.valid),
        ]
        assert lc.fan_in <= width


def at_least(v):
    """[popcount(v) >= k for k = 2 .. len(v)] as boolean logic (a sum would map to a carry chain)."""
    def both(x, y):
        return y if x is True else (0 if x is None else x & y)

    def either(x, y):
        return y if x is None else x | y
    ge = [True] + [None] * len(v)                      # ge[k]: at least k of the bits so far (True, None: 1, 0)
    for b in v:
        ge = [True] + [either(ge[k], both(ge[k - 1], b)) if ge[k - 1] is not None else ge[k]
                       for k in range(1, len(v) + 1)]
    return [0 if x is None else x for x in ge[2:]]


def onehot_index(oh, wire=None):
    """Binary index of a one-hot vector (0 for zero): an OR per index bit (a tree of `wire`'s nodes if
    given, bitops.reduce_tree). With `wire` and more than 12 bits, a bit above 1 whose tree would be no
    deeper over quads takes its first level from kept ORs of aligned quads, shared by those bits (the bits'
    ORs had overlapping sub-ORs, which abc9 shared as chains: 5 LUT levels into the token buffer on a
    38-chunk layer); over 64 chunks the quads were a level more than the bits' own trees (random model 4's
    `j`, 5 levels), so there each bit ORs its chunks."""
    n = max(1, bits_for(len(oh) - 1))
    ones = [[oh[i] for i in range(len(oh)) if i >> b & 1] or [0] for b in range(n)]
    if wire is None or len(oh) <= 12:
        return Cat(*[reduce_tree(or_, t, wire) for t in ones])
    nq = -(-len(oh) // 4)
    over_quads = [b >= 2 and 1 + tree_levels(len([k for k in range(nq) if k >> (b - 2) & 1])) <= tree_levels(len(ones[b]))
                  for b in range(n)]
    quads = [wire(reduce(or_, [oh[i] for i in range(a, min(a + 4, len(oh)))])) for a in range(0, len(oh), 4)] \
        if any(over_quads) else []
    return Cat(*[reduce_tree(or_, [q for k, q in enumerate(quads) if k >> (b - 2) & 1] if over_quads[b] else ones[b], wire)
                 for b in range(n)])
