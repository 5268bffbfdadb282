"""Load-image loader: checks the header of docs/load-image.md and writes every detector memory.

The image is a fixed sequence of sections, known at build time from the AccelConfig: header checks
(magic, signature, layer count), per layer the descriptor (shape words compared for equality, the
widths word compared field by field as model <= hardware), then per detector its chunk records, packed
values and parameters, and the end marker. `first` restarts the sequence. The first failing check
latches `error` (codes in soc.accel.loadimage) and disables further writes; `done` rises on a correct
end marker and falls on `first` or on any extra word.

Ports:
  sink    [("data", 32)]   in   load image words (`first` on word 0)
  done    1                out  a complete, accepted image is in the memories
  error   8                out  0, or the first error code
"""
from migen import Case, Cat, If, Module, Signal

from litex.soc.interconnect import stream

from . import loadimage as li
from .config import AccelConfig, bits_for


def sections(cfg: AccelConfig, dets):
    """[(kind, args)] in image order; `dets[l]` are layer l's Detector instances. A memory section is
    ("mem", port, entries, words per entry, data key): the key names the shared write data."""
    out = [("eq", li.MAGIC, li.ERR_MAGIC), ("eq", cfg.signature, li.ERR_SIGNATURE),
           ("eq", len(cfg.layers), li.ERR_LAYERS)]
    for l, (lc, ds) in enumerate(zip(cfg.layers, dets)):
        desc = lc.descriptor()
        out += [("eq", v, li.ERR_TOPOLOGY) for v in desc[:4]]
        out.append(("widths", lc.widths))
        for det in ds:
            out.append(("mem", det.chunk_wr, lc.chunk_depth, lc.chunk_words, ("chunk", l)))
            out.append(("mem", det.val_wr, lc.val_depth, 1, ("val", l)))
            out.append(("mem", det.param_wr, lc.groups, 2, ("param", l)))
    out.append(("end",))
    return out


def _write_data(cfg, key, entry):
    """Memory word of a section from its assembled little-endian load words."""
    kind, l = key
    lc = cfg.layers[l]
    if kind == "chunk":
        mw = lc.mask_words * 32
        return Cat(entry[:lc.pci], entry[mw:mw + lc.base_width])
    if kind == "val":
        return entry[:32]
    return Cat(entry[:lc.widths.bias], entry[32:32 + lc.widths.vth])


class Loader(Module):
    def __init__(self, cfg: AccelConfig, dets):
        self.sink = sink = stream.Endpoint([("data", 32)])
        self.done = Signal()
        self.error = Signal(8)
        secs = sections(cfg, dets)
        maxw = max(s[3] for s in secs if s[0] == "mem")
        maxe = max(s[2] for s in secs if s[0] == "mem")

        # # #

        sec = Signal(bits_for(len(secs)))
        cur = Signal(bits_for(len(secs)))
        entry, wsub = Signal(bits_for(maxe)), Signal(bits_for(maxw))
        buf = Signal(32 * maxw)
        nbuf = Signal(32 * maxw)
        word = sink.data
        go = Signal()
        self.comb += [
            sink.ready.eq(1), go.eq(sink.valid),
            If(sink.first, cur.eq(0)).Else(cur.eq(sec)),
            nbuf.eq(Cat(buf[32:], word) if maxw > 1 else word),
        ]

        err_cur = Signal(8)
        self.comb += If(sink.first, err_cur.eq(0)).Else(err_cur.eq(self.error))

        def fail(code):
            return If(err_cur == 0, self.error.eq(code))

        cases, shared, last_word = {}, {}, {}
        onehot = Signal(len(secs) + 1, reset=1)        # bit i: section i is current
        onehot_cur = Signal(len(secs) + 1)
        self.comb += If(sink.first, onehot_cur.eq(1)).Else(onehot_cur.eq(onehot))
        # advancing shifts the one-hot: the same expression in every case, so synthesis shares one
        # shifter (a per-case constant 1 << (i+1) became a sections x sections constant table in yosys)
        onehot_next = onehot.eq(Cat(0, onehot_cur[:-1]))
        wstrobe = Signal()                             # this word completes a memory entry
        for i, sc in enumerate(secs):
            nxt = [sec.eq(cur + 1), onehot_next, entry.eq(0), wsub.eq(0)]
            if sc[0] == "eq":
                cases[i] = [If(word != sc[1], fail(sc[2])), *nxt]
            elif sc[0] == "widths":
                w = sc[1]
                fields = [(word[8 * f:8 * f + 8], v) for f, v in enumerate(w.as_tuple())]
                bad = None
                for fld, v in fields:
                    bad = (fld > v) if bad is None else (bad | (fld > v))
                cases[i] = [If(bad, fail(li.ERR_WIDTHS)), *nxt]
            elif sc[0] == "mem":
                _, port, n, wpe, key = sc
                if key not in shared:
                    shared[key] = Signal(len(_write_data(cfg, key, nbuf[32 * (maxw - wpe):])))
                    self.comb += shared[key].eq(_write_data(cfg, key, nbuf[32 * (maxw - wpe):]))
                self.comb += [port.adr.eq(entry), port.dat_w.eq(shared[key]),
                              port.we.eq(wstrobe & onehot[i] & (self.error == 0))]
                last_word[i] = wsub == wpe - 1
                cases[i] = [If(wsub == wpe - 1,
                                wsub.eq(0),
                                If(entry == n - 1, *nxt).Else(entry.eq(entry + 1))
                            ).Else(wsub.eq(wsub + 1))]
            else:   # end marker
                cases[i] = [If(word != li.END, fail(li.ERR_END)).Elif(err_cur == 0, self.done.eq(1)),
                            sec.eq(cur + 1), onehot_next]
        cases["default"] = [fail(li.ERR_LENGTH), self.done.eq(0)]
        self.comb += Case(cur, {i: wstrobe.eq(go & c) for i, c in last_word.items()})
        self.sync += If(go,
            buf.eq(nbuf),
            If(sink.first, self.error.eq(0), self.done.eq(0), entry.eq(0), wsub.eq(0), onehot.eq(1)),
            Case(cur, cases))
