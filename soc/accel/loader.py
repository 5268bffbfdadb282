"""Load-image loader: checks the header of docs/load-image.md and writes every detector memory.

The image is a fixed sequence of sections, known at build time from the AccelConfig: header checks
(magic, signature, layer count), per layer the descriptor (shape words compared for equality, the
widths word compared field by field as model <= hardware), then per detector its chunk records, packed
values and parameters, and the end marker. `first` restarts the sequence. The first failing check
latches `error` (codes in soc.accel.loadimage); `done` rises on a correct end marker and falls on
`first` or on any extra word.

Pipeline (one word per cycle, `sink.ready` is always 1):
  A sequence  the current section is a one-hot shift register; each memory section has a class
              (entries, words per entry), and "last word of the entry" / "last entry of the section"
              are registers kept one step ahead (the words per class; the entries left as a one-hot
              base-16 down-counter, loaded from the next class at a new section: no per-section
              constant is looked up while the word is counted), and what a step to a new section
              needs of the sections ahead (the next class, "one entry", "one word per entry") is
              shift registers moving with the one-hot (bit m: m sections ahead), so the step
              selects register bits, not an OR over the one-hot. The memory write of an entry's
              last word is decided here.
  W1, W2      the write (address, data, strobe) goes through two registers on its way to the
              memories: W1 one per layer and memory kind, W2 one per `write_fanout` detectors.
  D decode    the word's nibbles against the constants the checks use: one registered flag per
              (nibble, value) for equality and for "greater than", a 4-input function each (a check
              of a whole byte against its constant, written directly, let yosys' abc9 share the
              decode between the sections' constants into 5-LUT-level chains).
  B1 check    every check of the word against its section's constant: one registered flag per
              checked word (two LUT levels of D's registers) or widths field (one LUT).
  B2 gather   one registered flag per error code.
  C verdict   `error` latches the first failing code, `done` follows the end marker.
`error` and `done` thus follow their word by four cycles, and a failing check stops the memory
writes from the fifth word after it on (the image is refused either way: `done` stays low). A write
lands two cycles after its word, so every write of an image has landed when `done` rises (the end
marker follows the last memory word).

Ports:
  sink    [("data", 32)]   in   load image words (`first` on word 0)
  done    1                out  a complete, accepted image is in the memories
  error   8                out  0, or the first error code

Parameter: write_fanout, the detectors one W2 register feeds (a routed ECP5 build timed the unregistered
write data at 15.4 ns of routing: one net reached every memory of the accelerator). The tree's registers
are kept copies (soc.accel.verilog.kept_copy): a yosys flow must run yosys_keep(), or the W2 twins of one
W1 register, which have the same input, merge back into one.
"""
from functools import reduce
from operator import and_, or_

from migen import Cat, If, Module, Signal

from litex.soc.interconnect import stream

from . import loadimage as li
from .config import AccelConfig, bits_for
from .verilog import equals, kept_copy, kept_wires


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


def _wreg(module, value, name, reset_less=True):
    """A write-tree register: a kept copy, so synthesis does not merge the twins of one level."""
    r = kept_copy(f"fanout_{name}", len(value), reset_less=reset_less)
    module.sync += r.eq(value)
    return r


class Loader(Module):
    def __init__(self, cfg: AccelConfig, dets, write_fanout: int = 8):
        self.sink = sink = stream.Endpoint([("data", 32)])
        self.done = Signal()
        self.error = Signal(8)
        secs = sections(cfg, dets)
        S = len(secs)
        maxw = max(s[3] for s in secs if s[0] == "mem")
        maxe = max(s[2] for s in secs if s[0] == "mem")
        # class 0: one-word sections (checks, end marker, past the end); then one per (entries, words)
        shapes = sorted({(s[2], s[3]) for s in secs if s[0] == "mem"})
        klass = [1 + shapes.index((s[2], s[3])) if s[0] == "mem" else 0 for s in secs] + [0, 0]
        K = len(shapes) + 1
        n_of = [1] + [n for n, _ in shapes]
        w_of = [1] + [w for _, w in shapes]

        # # #

        # ---- A: section sequencer and memory writes
        word, go, first = sink.data, Signal(), Signal()
        onehot = Signal(S + 1, reset=1, name="loader_onehot")   # bit i: section i; bit S: past the end
        cls = Signal(K, reset=1, name="loader_cls")           # class of the current section, one-hot
        entry = Signal(bits_for(maxe), name="loader_entry")
        wsub = Signal(bits_for(maxw), name="loader_wsub")
        ent_last = Signal(reset=1, name="loader_ent_last")     # this entry is the section's last
        sub_last = Signal(reset=1, name="loader_sub_last")     # this word is the entry's last
        sub_pre = Signal(K, name="loader_sub_pre")            # per class: wsub == words - 2
        buf, nbuf = Signal(32 * maxw), Signal(32 * maxw)
        failed = Signal(name="loader_failed")                 # error != 0 (registered in C)
        single, wstrobe = (Signal(name=f"loader_{x}") for x in ("single", "wstrobe"))
        self.comb += [
            sink.ready.eq(1), go.eq(sink.valid), first.eq(sink.first),
            nbuf.eq(Cat(buf[32:], word) if maxw > 1 else word),
            single.eq(cls[0]),
            wstrobe.eq(go & ~first & ~single & sub_last),
        ]
        # the step to a new section as a kept node (soc.accel.verilog.kept_wires): one LUT, so every register
        # it selects for is a mux behind it (abc9 had folded it into the down-counter's digits: 5 levels)
        node = kept_wires(self, "loader")
        adv = node(go & ~first & (single | (sub_last & ent_last)))

        # what the step to a new section needs of the sections ahead (the next one's class, its "one
        # entry" and "one word per entry" flags), as shift registers moving with the one-hot: bit m holds
        # the value for m sections after the current one, `adv` shifts them and `first` loads a constant,
        # so the step selects register bits (OR trees over the one-hot, even registered a cycle ahead, came
        # out at 5 LUT levels; these need no LUT but the class decode)
        def ahead(flag, name):
            def vals(cur):
                return sum(int(flag(klass[min(cur + m, S + 1)])) << m for m in range(S + 2))
            # no reset (the power-on value is section 0's): `first` takes the flip-flops' reset pin, and
            # every image starts with `first` (soc/peripheral.py), which loads them
            r = Signal(S + 2, reset=vals(0), reset_less=True, name=f"loader_ahead_{name}")
            self.sync += If(go & first, r.eq(vals(1))).Elif(adv, r.eq(Cat(r[1:], int(flag(0)))))
            return r
        cbits = [ahead(lambda c, b=b: c >> b & 1, f"cls{b}") for b in range(bits_for(K - 1))]
        def class_ahead(m):                                # the class m sections ahead, one-hot
            return Cat(*[reduce(and_, [c[m] if k >> b & 1 else ~c[m] for b, c in enumerate(cbits)] or [1])
                         for k in range(K)])
        nxt_cls = class_ahead(1)
        ent1, sub1 = (lambda k: n_of[k] == 1), (lambda k: w_of[k] == 1)
        ent1_ahead, sub1_ahead = ahead(ent1, "ent1"), ahead(sub1, "sub1")
        # per-class "word" flags at the start of an entry
        start_sub_pre = Cat(*[int(w_of[k] == 2) for k in range(K)])
        # the entries left after this one, a down-counter in one-hot base-16 digits: loaded at a new
        # section from `enext`, a register holding the next section's count (set at each step from the
        # look-ahead's class two sections ahead: a few class bits per digit bit), so "this is the last
        # entry" after a step is one LUT of digit bits (per-class flags selected by the class, an AND-OR
        # over every class, were 5 LUT levels, and so was the class decode in front of the load)
        ndig = max(1, -(-bits_for(maxe - 1) // 4))

        def left_of(n, i):                                 # digit i of n - 1 entries left, one-hot
            return 1 << ((n - 1) >> 4 * i & 15)
        # no reset (as the look-ahead's): `first` takes the flip-flops' reset pin, so a digit's LUTs see the
        # step, the borrow and two digit bits only
        ldig = [Signal(16, reset=left_of(n_of[klass[0]], i), reset_less=True, name=f"loader_eleft{i}")
                for i in range(ndig)]

        def left_is(c):
            return reduce(and_, [d[c >> 4 * i & 15] for i, d in enumerate(ldig)])
        enext = [Signal(16, reset=left_of(n_of[klass[1]], i), reset_less=True, name=f"loader_enext{i}")
                 for i in range(ndig)]
        cls2 = class_ahead(2)
        # a digit steps down (bit v takes bit v + 1) at the next entry of a section when every lower digit
        # is at 0: that condition a kept node per digit (`go`, `sub_last` and the lower digits' bit 0: `first`
        # and `adv` take priority in the If chain, so the node leaves them out and the fourth digit's is one
        # LUT of five inputs, not two LUTs of seven), so each digit bit is a mux of the step, it and two
        # digit bits
        # Each node above the second reads its own copies of the lower digits' bit 0 (kept registers,
        # updated as that bit is): over the same bits, every node held the one below as a sub-AND, and
        # abc9 chained them through it, however the AND was written (5 LUT levels on a 4-digit count).
        rots = []
        for i, d in enumerate(ldig):
            if i < 2:
                zs = [ldig[k][0] for k in range(i)]
            else:
                zs = [kept_copy(f"fanout_loader_z{i}_{k}", reset=left_of(n_of[klass[0]], k) & 1, reset_less=True)
                      for k in range(i)]
                for k, z in enumerate(zs):
                    self.sync += If(go & first, z.eq(left_of(n_of[klass[1]], k) & 1)
                                    ).Elif(adv, z.eq(enext[k][0])
                                    ).Elif(rots[k], z.eq(ldig[k][1]))
            rot = node(reduce(and_, zs + [go, sub_last]))
            rots.append(rot)
            self.sync += If(go & first, d.eq(left_of(n_of[klass[1]], i))
                            ).Elif(adv, d.eq(enext[i])
                            ).Elif(rot, d.eq(Cat(d[1:], d[0])))
            # the next section's count, taken at each step from the look-ahead two sections ahead
            count2 = Cat(*[reduce(or_, [cls2[k] for k in range(K) if left_of(n_of[k], i) >> v & 1] or [0])
                           for v in range(16)])
            self.sync += If(go & first, enext[i].eq(left_of(n_of[klass[2]], i))).Elif(adv, enext[i].eq(count2))
        new_section = [entry.eq(0), wsub.eq(0), sub_pre.eq(start_sub_pre)]
        self.sync += [
            If(go & first,                                  # word 0 is section 0 (magic): on to section 1
                onehot.eq(2), cls.eq(1 << klass[1]), *new_section,
                ent_last.eq(int(ent1(klass[1]))), sub_last.eq(int(sub1(klass[1]))), buf.eq(nbuf)
            ).Elif(go,
                buf.eq(nbuf),
                If(adv,
                    onehot.eq(Cat(0, onehot[:S - 1], onehot[S - 1] | onehot[S])), cls.eq(nxt_cls),
                    *new_section, ent_last.eq(ent1_ahead[1]), sub_last.eq(sub1_ahead[1]),
                ).Elif(sub_last,                             # next entry of this memory section
                    wsub.eq(0), sub_pre.eq(start_sub_pre), sub_last.eq(sub1_ahead[0]),
                    entry.eq(entry + 1), ent_last.eq(left_is(1))
                ).Else(
                    wsub.eq(wsub + 1), sub_last.eq((cls & sub_pre) != 0),
                    sub_pre.eq(Cat(*[equals(wsub, w_of[k] - 3) for k in range(K)])))),
        ]
        # W1, W2: the write port is a tree of registers (data, address, strobe), so no net fans out
        # from the loader to every memory on the chip: W1 one per layer and memory kind, W2 one per
        # `write_fanout` detectors of it, next to their memories
        w1, w2, seen = {}, {}, {}                          # by data key / by (data key, group)
        for i, sc in enumerate(secs):
            if sc[0] != "mem":
                continue
            _, port, n, wpe, key = sc
            kind, l = key
            adr_key = ("adr", l)
            if key not in w1:
                w1[key] = _wreg(self, _write_data(cfg, key, nbuf[32 * (maxw - wpe):]), f"loader_w1_{kind}{l}")
            if adr_key not in w1:
                w1[adr_key] = _wreg(self, entry, f"loader_w1_adr{l}")
            grp = seen.get(key, 0) // write_fanout          # this detector's W2 group
            seen[key] = seen.get(key, 0) + 1
            for k in (key, adr_key):
                if (k, grp) not in w2:
                    w2[(k, grp)] = _wreg(self, w1[k], f"loader_w2_{k[0]}{l}_{grp}")
            we1 = _wreg(self, wstrobe & onehot[i] & ~failed, f"loader_w1_we{i}", reset_less=False)
            self.comb += [port.adr.eq(w2[(adr_key, grp)]), port.dat_w.eq(w2[(key, grp)]),
                          port.we.eq(_wreg(self, we1, f"loader_w2_we{i}", reset_less=False))]

        # ---- D: the word's nibbles decoded against the constants the checks use (one registered
        # flag per nibble and value: a 4-input function each), and the checked sections' flags
        # delayed alongside, so every B1 check is at most two LUT levels of registers
        sec = [first | onehot[0]] + [onehot[i] & ~first for i in range(1, S)]
        dec = {}                                           # (byte, nibble, "eq"|"gt", value) -> flag

        def nib(b, n, op, v):
            key = (b, n, op, v)
            if key not in dec:
                x = word[8 * b + 4 * n:8 * b + 4 * n + 4]
                dec[key] = Signal(name=f"loader_d_{op}{b}{'lh'[n]}_{v}")
                self.sync += dec[key].eq(x == v if op == "eq" else x > v)
            return dec[key]

        def byte_gt(b, v):
            return nib(b, 1, "gt", v >> 4) | (nib(b, 1, "eq", v >> 4) & nib(b, 0, "gt", v & 0xF))
        d_valid, d_first, d_len = (Signal(name=f"loader_d_{x}") for x in ("valid", "first", "len"))
        d_sec = {}
        self.sync += [d_valid.eq(go), d_first.eq(first), d_len.eq(onehot[S] & ~first)]
        for i, sc in enumerate(secs):
            if sc[0] in ("eq", "widths", "end"):
                d_sec[i] = Signal(name=f"loader_d_sec{i}")
                self.sync += d_sec[i].eq(sec[i])

        # ---- B: checks: B1 one flag per byte or widths field of a checked section, B2 one per error code
        byte_node, byte_eqs = kept_wires(self, "b1byte"), {}

        def byte_eq(b, v):
            """Byte b equals v: its two nibble flags ANDed in a kept node (a cut in the yosys flow), one per
            byte and value, shared by every check that compares it."""
            if (b, v) not in byte_eqs:
                byte_eqs[(b, v)] = byte_node(nib(b, 0, "eq", v & 0xF) & nib(b, 1, "eq", v >> 4))
            return byte_eqs[(b, v)]

        def word_eq(value):
            """The word equals `value`: four byte nodes, so a check (with its section flag) is one LUT5 behind
            them. Unkept, abc9 shared the nibble flags' ANDs between the checks as chains (`b1_fail` at 5
            levels on random model 0); a kept AND of six nibble flags was split the same way inside its cone
            (5 levels on the A7-100T build)."""
            return reduce(and_, [byte_eq(b, (value >> 8 * b) & 0xFF) for b in range(4)])
        checks = []                                        # (code, flag)
        for i, sc in enumerate(secs):
            if sc[0] in ("eq", "end"):
                code, value = (sc[2], sc[1]) if sc[0] == "eq" else (li.ERR_END, li.END)
                # one flag per word (eight nibble flags and the section: two LUT levels), so each code's
                # OR in B2 has a quarter of the inputs (a flag per byte made ERR_TOPOLOGY's 5 levels)
                checks.append((code, d_sec[i] & ~word_eq(value)))
            elif sc[0] == "widths":
                checks += [(li.ERR_WIDTHS, d_sec[i] & byte_gt(f, v)) for f, v in enumerate(sc[1].as_tuple())]
        checks.append((li.ERR_LENGTH, d_len))
        codes = sorted({c for c, _ in checks})
        b1 = Signal(len(checks), name="loader_b1_fail")
        b1_valid, b1_first, b1_end = (Signal(name=f"loader_b1_{x}") for x in ("valid", "first", "end"))
        b_valid, b_first, b_end = (Signal(name=f"loader_b_{x}") for x in ("valid", "first", "end"))
        b_fail = Signal(len(codes), name="loader_b_fail")    # bit c: the word failed check codes[c]
        self.sync += [
            b1_valid.eq(d_valid), b1_first.eq(d_first),
            b1_end.eq(d_sec[S - 1] & word_eq(li.END)),
            b1.eq(Cat(*[f for _, f in checks])),
            b_valid.eq(b1_valid), b_first.eq(b1_first), b_end.eq(b1_end),
            b_fail.eq(Cat(*[reduce(or_, [b1[j] for j, (c, _) in enumerate(checks) if c == code] or [0]) for code in codes])),
        ]

        # ---- C: verdict
        code = Signal(8, name="loader_code")
        self.comb += code.eq(Cat(*[reduce(or_, [b_fail[j] for j, c in enumerate(codes) if c >> b & 1] or [0])
                                   for b in range(8)]))
        self.sync += If(b_valid,
            If(b_first,
                self.error.eq(code), failed.eq(b_fail != 0), self.done.eq(0)
            ).Else(
                If(~failed & (b_fail != 0), self.error.eq(code), failed.eq(1)),
                If(b_fail[codes.index(li.ERR_LENGTH)], self.done.eq(0)
                ).Elif(b_end & ~failed, self.done.eq(1))))
        assert secs[0][1] == li.MAGIC and secs[-1][0] == "end" and max(codes) < 256
