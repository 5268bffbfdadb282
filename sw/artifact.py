"""The bitmap-compressed model artifact (.ffs): the one Python definition of docs/artifact-format.md.

    model = Model.from_dense(layers, weights, biases, vths, timesteps=4, in_bits=8)
    blob = model.to_bytes(); Model.from_bytes(blob) == model
    python -m sw.artifact M.ffs        # summary: layers, shapes, non-zeros, sparsity, bytes

Every malformed file raises ArtifactError with one message naming what is wrong; nothing is returned
for a file that does not pass every check.
"""
from __future__ import annotations

import os
import struct
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import spec
from .topology import CONV, FC, PRESETS, LayerShape, TopologyError, check_chain, parse

MAGIC = b"FFSM"
VERSION = 2                 # 2: the CRC covers the header and every record too (version 1: the body only)
UPGRADE_HINT = "re-export it with: python -m sw.artifact OLD.ffs --upgrade NEW.ffs"
MAX_IN_BITS = 8             # in_bits k: 1..MAX_IN_BITS (8-bit pixels, q = p >> (8 - k))
CRC_AT = 12                 # offset of the crc32 field; the CRC covers every other byte of the file
HEADER = struct.Struct("<4sHHIIBBBBI")       # magic ver hdr_len body_len crc T in_bits in_kind n_layers rsvd
LAYER = struct.Struct("<BBBBBBBBHHHHBBHIII")  # see docs/artifact-format.md, 32 bytes
KIND_CODE = {CONV: 0, FC: 1}
F_POOL, F_LEAK, F_READOUT = 1, 2, 4


# The message prefixes of ArtifactError, one per error class (docs/artifact-format.md, "Validation").
ERROR_CLASSES = ("truncated", "bad magic", "unknown format version", "inconsistent sizes", "CRC mismatch",
                 "out-of-range value", "unsupported topology")


class ArtifactError(ValueError):
    """A model artifact that is malformed or not supported; the message names the problem."""


def error_class(message: str) -> str | None:
    """The error class of a reader's message (Python's or the firmware's), or None if it has none."""
    message = message.split(": ", 1)[1] if message.startswith("error: ") else message
    return next((c for c in ERROR_CLASSES if message.startswith(c)), None)


def _words(nbits: int) -> int:
    return (nbits + 31) // 32


@dataclass(frozen=True, eq=False)
class Layer:
    """One compute layer: shape, int weights [co, kh, kw, ci] in -8..7, int bias/vth [co], widths."""
    shape: LayerShape
    weights: np.ndarray
    bias: np.ndarray
    vth: np.ndarray
    widths: spec.Widths

    @property
    def flat(self) -> np.ndarray:
        """Weights flattened in canonical kernel order (kh, kw outer, ci inner): [co, fan_in]."""
        return self.weights.reshape(self.shape.co, -1)

    @property
    def nnz(self) -> int:
        return int(np.count_nonzero(self.weights))

    @property
    def sparsity(self) -> float:
        return 1.0 - self.nnz / self.weights.size

    def __eq__(self, other):
        return (self.shape == other.shape and self.widths == other.widths
                and all(np.array_equal(a, b) for a, b in ((self.weights, other.weights),
                        (self.bias, other.bias), (self.vth, other.vth))))


@dataclass(frozen=True, eq=False)
class Model:
    layers: tuple
    timesteps: int
    in_bits: int
    in_kind: int = spec.IN_STATIC
    notation: str = ""          # the nominal topology before channel removal (informative + checked)

    @property
    def shapes(self):
        return tuple(l.shape for l in self.layers)

    @property
    def num_classes(self) -> int:
        return self.layers[-1].shape.co

    @property
    def input_shape(self):
        return self.layers[0].shape.in_shape

    def x_max(self, i: int) -> int:
        """Largest input value of layer i: 2^k-1 for a static layer 0, else 1 (spikes)."""
        return (1 << self.in_bits) - 1 if i == 0 and self.in_kind == spec.IN_STATIC else 1

    def __eq__(self, other):
        return (isinstance(other, Model) and self.layers == other.layers
                and (self.timesteps, self.in_bits, self.in_kind, self.notation)
                == (other.timesteps, other.in_bits, other.in_kind, other.notation))

    @classmethod
    def from_dense(cls, shapes, weights, biases, vths, timesteps, in_bits, in_kind=spec.IN_STATIC,
                   notation="", widths=None):
        """Build a model from integer arrays, deriving the minimal widths (or using `widths`)."""
        notation = PRESETS.get(notation.strip().lower(), notation.strip())
        layers = []
        for i, (s, w, b, v) in enumerate(zip(shapes, weights, biases, vths)):
            w = np.asarray(w).astype(np.int8).reshape(s.co, s.kh, s.kw, s.ci)
            b = np.asarray(b, dtype=np.int64).reshape(s.co)
            v = np.zeros(s.co, np.int64) if s.readout else np.asarray(v, dtype=np.int64).reshape(s.co)
            xm = (1 << in_bits) - 1 if i == 0 and in_kind == spec.IN_STATIC else 1
            wd = widths[i] if widths else spec.derive_widths(w.reshape(s.co, -1), b, v, xm, timesteps,
                                                             s.leak, s.readout)
            layers.append(Layer(s, w, b, v, wd))
        model = cls(tuple(layers), timesteps, in_bits, in_kind, notation)
        validate(model)
        return model

    # ---------------------------------------------------------------- encoding
    def to_bytes(self) -> bytes:
        validate(self)
        note = self.notation.encode()
        body = bytearray(struct.pack("<H", len(note)) + note)
        body += bytes(-len(body) % 4)
        table_at = len(body)
        body += bytes(LAYER.size * len(self.layers))
        for i, l in enumerate(self.layers):
            s, data_at = l.shape, len(body)
            body += _encode_layer(l)
            flags = (F_POOL if s.pool else 0) | (F_LEAK if s.leak else 0) | (F_READOUT if s.readout else 0)
            wd = l.widths
            LAYER.pack_into(body, table_at + i * LAYER.size, KIND_CODE[s.kind], flags, s.kh, s.kw,
                            s.stride, s.pad, wd.acc, wd.mem, s.ci, s.h, s.w, s.co, wd.bias, wd.vth, 0,
                            data_at, len(body) - data_at, l.nnz)
        hdr = bytearray(HEADER.pack(MAGIC, VERSION, HEADER.size, len(body), 0, self.timesteps,
                                    self.in_bits, self.in_kind, len(self.layers), 0))
        blob = hdr + body
        struct.pack_into("<I", blob, CRC_AT, file_crc(blob))
        return bytes(blob)

    def save(self, path) -> int:
        blob = self.to_bytes()
        Path(path).write_bytes(blob)
        return len(blob)

    @classmethod
    def load(cls, path) -> "Model":
        try:
            blob = Path(path).read_bytes()
        except OSError as e:
            raise ArtifactError(f"{path}: cannot read: {e.strerror}") from None
        try:
            return cls.from_bytes(blob)
        except ArtifactError as e:
            raise ArtifactError(f"{path}: {e}") from None

    @classmethod
    def from_bytes(cls, blob: bytes, max_layers: int | None = None) -> "Model":
        """max_layers: also apply a reader's own layer limit (check 16; the firmware's FFS_MAX_LAYERS), for
        comparing verdicts with that reader."""
        return _decode(bytes(blob), max_layers=max_layers)


def file_crc(blob) -> int:
    """CRC-32 (zlib) of every byte of the file but the crc32 field itself: bytes 0..11, then 16..end."""
    return zlib.crc32(blob[CRC_AT + 4:], zlib.crc32(blob[:CRC_AT]))


def upgrade(src, dst) -> Model:
    """Read a version-1 file (whose header was outside its CRC: T, in_bits, in_kind and n_layers are
    trusted as they stand) and write it as the current version. Refuses to overwrite dst."""
    try:
        blob = Path(src).read_bytes()
    except OSError as e:
        raise ArtifactError(f"{src}: cannot read: {e.strerror}") from None
    try:
        model = _decode(blob, version1=True)
    except ArtifactError as e:
        raise ArtifactError(f"{src}: {e}") from None
    try:
        with open(dst, "xb") as f:
            f.write(model.to_bytes())
    except FileExistsError:
        raise ArtifactError(f"{dst}: exists; not overwritten (remove it or choose another path)") from None
    except OSError as e:
        raise ArtifactError(f"{dst}: cannot write: {e.strerror}") from None
    return model


def _encode_layer(l: Layer) -> bytes:
    """bias i32[co], vth i32[co], bitmaps u32[co][ceil(K/32)], then per channel the non-zeros as
    int4 nibbles, 8 per u32 word, low nibble first, each channel padded to a whole word."""
    co, k = l.flat.shape
    out = [l.bias.astype("<i4").tobytes(), l.vth.astype("<i4").tobytes()]
    mask = l.flat != 0
    bits = np.zeros((co, _words(k) * 32), np.uint8)
    bits[:, :k] = mask
    out.append(np.packbits(bits, axis=1, bitorder="little").tobytes())
    for c in range(co):
        vals = l.flat[c][mask[c]].astype(np.int64) & 0xF
        nib = np.zeros(_words(len(vals) * 4) * 8, np.uint64)
        nib[:len(vals)] = vals
        words = (nib.reshape(-1, 8) << (4 * np.arange(8, dtype=np.uint64))).sum(1).astype("<u4")
        out.append(words.tobytes())
    return b"".join(out)


def _decode(blob: bytes, version1: bool = False, max_layers: int | None = None) -> Model:
    """The checks of docs/artifact-format.md ("Validation"), in its order. `version1`: read a version-1
    file (CRC over the body only), for `upgrade` alone."""
    if len(blob) < HEADER.size:
        raise ArtifactError(f"truncated: {len(blob)} bytes, the header alone needs {HEADER.size}")
    magic, ver, hlen, blen, crc, t, in_bits, in_kind, n, reserved = HEADER.unpack_from(blob)
    if magic != MAGIC:
        raise ArtifactError(f"bad magic {magic!r}: not a FireFly-S model (expected {MAGIC!r})")
    if version1 and ver != 1:
        raise ArtifactError(f"unknown format version {ver} (--upgrade reads version 1 files only)")
    if ver == 1 and not version1:
        raise ArtifactError(f"unknown format version 1 (this reader supports version {VERSION}; version 1 "
                            f"left its header outside the CRC): {UPGRADE_HINT}")
    if ver != VERSION and not version1:
        raise ArtifactError(f"unknown format version {ver} (this reader supports version {VERSION})")
    if hlen != HEADER.size:
        raise ArtifactError(f"inconsistent sizes: header length {hlen}, expected {HEADER.size}")
    if len(blob) - hlen < blen:
        raise ArtifactError(f"truncated: body is {len(blob) - hlen} bytes, header says {blen}")
    if len(blob) - hlen > blen:
        raise ArtifactError(f"inconsistent sizes: {len(blob) - hlen - blen} trailing bytes after the body")
    body = blob[hlen:]
    got = zlib.crc32(body) if version1 else file_crc(blob)
    if got != crc:
        raise ArtifactError(f"CRC mismatch: stored 0x{crc:08x}, computed 0x{got:08x}")
    if reserved:
        raise ArtifactError(f"out-of-range value: header reserved field 0x{reserved:08x} (must be 0)")
    if not 1 <= t <= spec.MAX_TIMESTEPS:
        raise ArtifactError(f"out-of-range value: timesteps {t} (expected 1..{spec.MAX_TIMESTEPS})")
    if not 1 <= in_bits <= MAX_IN_BITS:
        raise ArtifactError(f"out-of-range value: input bits {in_bits} (expected 1..{MAX_IN_BITS})")
    if in_kind not in (spec.IN_STATIC, spec.IN_TEMPORAL) or (in_kind == spec.IN_TEMPORAL and in_bits != 1):
        raise ArtifactError(f"unsupported topology: input kind {in_kind} with {in_bits} bits "
                            "(0 = static k-bit, 1 = temporal binary)")
    if n < 1:
        raise ArtifactError("unsupported topology: zero layers")
    (nlen,) = struct.unpack_from("<H", body, 0) if len(body) >= 2 else (None,)
    table_at = (2 + (nlen or 0) + 3) // 4 * 4
    if nlen is None or table_at + n * LAYER.size > len(body):
        raise ArtifactError(f"inconsistent sizes: body of {len(body)} bytes too short for the notation and "
                            f"{n} layer records")
    try:
        notation = body[2:2 + nlen].decode()
    except UnicodeDecodeError:
        raise ArtifactError("out-of-range value: notation is not UTF-8") from None
    if any(body[2 + nlen:table_at]):
        raise ArtifactError("out-of-range value: non-zero padding after the notation (must be 0)")
    if max_layers is not None and n > max_layers:
        raise ArtifactError(f"unsupported topology: {n} layers (this firmware supports at most {max_layers})")
    recs = [LAYER.unpack_from(body, table_at + i * LAYER.size) for i in range(n)]
    shapes = [_decode_shape(i, rec) for i, rec in enumerate(recs)]
    try:
        check_chain(shapes)
    except TopologyError as e:
        raise ArtifactError(f"unsupported topology: {e}") from None
    layers, end = [], table_at + n * LAYER.size
    for i, (rec, shape) in enumerate(zip(recs, shapes)):
        layers.append(_decode_layer(i, rec, shape, body, end))
        end = rec[15] + rec[16]
    if end != len(body):
        raise ArtifactError(f"inconsistent sizes: {len(body) - end} unused bytes after the last layer")
    model = Model(tuple(layers), t, in_bits, in_kind, notation)
    validate(model)
    return model


def _decode_shape(i, rec) -> LayerShape:
    kind, flags, kh, kw, stride, pad, acc, mem, ci, h, w, co = rec[:12]
    if kind not in (0, 1) or flags & ~7:
        raise ArtifactError(f"unsupported topology: layer {i} kind {kind} flags 0x{flags:x}")
    if rec[14]:
        raise ArtifactError(f"out-of-range value: layer {i} reserved field 0x{rec[14]:04x} (must be 0)")
    try:
        return LayerShape(FC if kind else CONV, ci, h, w, co, kh, kw, stride, pad, bool(flags & F_POOL),
                          bool(flags & F_LEAK), bool(flags & F_READOUT))
    except TopologyError as e:
        raise ArtifactError(f"unsupported topology: layer {i}: {e}") from None


def _decode_layer(i, rec, shape, body, expect_at):
    kh, kw, acc, mem, ci, co, bb, vb, at, size, nnz = (rec[j] for j in (2, 3, 6, 7, 8, 11, 12, 13, 15, 16, 17))
    where = f"layer {i}"
    k = shape.fan_in
    fixed = 8 * co + 4 * co * _words(k)
    if at != expect_at or size < fixed or at + size > len(body):
        raise ArtifactError(f"inconsistent sizes: {where} data at {at}+{size}, expected at {expect_at}, "
                            f"at least {fixed} bytes, within a body of {len(body)}")
    bias = np.frombuffer(body, "<i4", co, at).astype(np.int64)
    vth = np.frombuffer(body, "<i4", co, at + 4 * co).astype(np.int64)
    bm = np.frombuffer(body, np.uint8, 4 * co * _words(k), at + 8 * co).reshape(co, -1)
    mask = np.unpackbits(bm, axis=1, bitorder="little").astype(bool)
    if mask[:, k:].any():
        raise ArtifactError(f"out-of-range value: {where} bitmap has bits set beyond the kernel length {k}")
    mask = mask[:, :k]
    counts = mask.sum(1)
    need = fixed + 4 * int(sum(_words(4 * c) for c in counts))
    if size != need or int(counts.sum()) != nnz:
        raise ArtifactError(f"inconsistent sizes: {where} has {size} data bytes and nnz {nnz}; its bitmaps "
                            f"need {need} bytes and hold {int(counts.sum())} non-zeros")
    flat = np.zeros((co, k), np.int8)
    off = at + fixed
    for c in range(co):
        nw = _words(4 * int(counts[c]))
        words = np.frombuffer(body, "<u4", nw, off).astype(np.int64)
        nib = ((words[:, None] >> (4 * np.arange(8))) & 0xF).reshape(-1)
        vals, pad_nib = nib[:counts[c]], nib[counts[c]:]
        if (vals == 0).any() or pad_nib.any():
            raise ArtifactError(f"out-of-range value: {where} channel {c} has a zero among its packed "
                                "non-zeros or non-zero padding")
        flat[c, mask[c]] = np.where(vals >= 8, vals - 16, vals)
        off += 4 * nw
    return Layer(shape, flat.reshape(co, kh, kw, ci), bias, vth, spec.Widths(acc, mem, bb, vb))


def validate(model: Model) -> None:
    """Every cross-field rule of docs/artifact-format.md; raises ArtifactError."""
    try:
        check_chain(model.shapes)
    except TopologyError as e:
        raise ArtifactError(f"unsupported topology: {e}") from None
    for i, l in enumerate(model.layers):
        w = l.weights
        if w.min(initial=0) < spec.W_MIN or w.max(initial=0) > spec.W_MAX:
            raise ArtifactError(f"out-of-range value: layer {i} weights outside {spec.W_MIN}..{spec.W_MAX}")
        if l.shape.readout and l.vth.any():
            raise ArtifactError(f"out-of-range value: layer {i} is the readout; its thresholds must be 0")
        if l.vth.min(initial=0) < 0:
            raise ArtifactError(f"out-of-range value: layer {i} threshold {int(l.vth.min())} < 0")
        need = spec.derive_widths(l.flat, l.bias, l.vth, model.x_max(i), model.timesteps, l.shape.leak,
                                  l.shape.readout)
        if max(l.widths.as_tuple()) > spec.MAX_WIDTH or not l.widths.covers(need):
            raise ArtifactError(f"out-of-range value: layer {i} widths {l.widths.as_tuple()} "
                                f"(acc, mem, bias, vth) must be >= {need.as_tuple()} and <= {spec.MAX_WIDTH}")
    if model.notation:
        try:
            nominal = parse(model.notation, leak=model.layers[0].shape.leak)
        except TopologyError as e:
            raise ArtifactError(f"unsupported topology: {e}") from None
        for i, (a, b) in enumerate(zip(nominal, model.shapes)):
            if (a.kind, a.kh if a.kind == CONV else 0, a.stride, a.pad, a.pool) != \
                    (b.kind, b.kh if b.kind == CONV else 0, b.stride, b.pad, b.pool) or b.co > a.co:
                raise ArtifactError(f"unsupported topology: layer {i} {b.token()} does not match the "
                                    f"notation's {a.token()}")
        if len(nominal) != len(model.layers) or nominal[0].in_shape != model.input_shape:
            raise ArtifactError(f"unsupported topology: layers do not match the notation {model.notation!r}")


def summary(model: Model, nbytes: int | None = None) -> str:
    kinds = {spec.IN_STATIC: f"static {model.in_bits}-bit", spec.IN_TEMPORAL: "temporal binary"}
    lines = [f"FireFly-S model v{VERSION}: {model.notation or '(no notation)'}",
             f"  input {'x'.join(map(str, model.input_shape))} {kinds[model.in_kind]}, T={model.timesteps}, "
             f"{model.num_classes} classes" + (f", {nbytes} bytes" if nbytes is not None else ""),
             f"  {'#':>2} {'layer':<14} {'in':>12} {'out':>12} {'weights':>8} {'nnz':>7} {'sparsity':>8} "
             f"{'acc/mem/b/vth bits':>18}"]
    tot = nnz = 0
    for i, l in enumerate(model.layers):
        s = l.shape
        tot, nnz = tot + l.weights.size, nnz + l.nnz
        lines.append(f"  {i:>2} {s.token():<14} {'x'.join(map(str, s.in_shape)):>12} "
                     f"{'x'.join(map(str, s.out_shape)):>12} {l.weights.size:>8} {l.nnz:>7} "
                     f"{100 * l.sparsity:>7.2f}% {'/'.join(map(str, l.widths.as_tuple())):>18}")
    lines.append(f"  total {tot} weights, {nnz} non-zeros, {100 * (1 - nnz / tot):.2f}% weight sparsity")
    return "\n".join(lines)


def main(argv=None):
    from .cli import OneLineParser
    ap = OneLineParser(prog="python -m sw.artifact", description="Summarize a .ffs model artifact.")
    ap.add_argument("model", help="path to a .ffs file")
    ap.add_argument("--upgrade", metavar="NEW.ffs",
                    help=f"read a version-1 file and write it as version {VERSION} to NEW.ffs (never overwrites)")
    args = ap.parse_args(argv)
    try:
        if args.upgrade:
            m = upgrade(args.model, args.upgrade)
            print(f"wrote {args.upgrade}: version {VERSION}, T={m.timesteps}, in_bits={m.in_bits}, "
                  f"in_kind={m.in_kind}, {len(m.layers)} layers. These header values were not covered by the "
                  "version-1 CRC: check them against the model's training report.")
            return 0
        m = Model.load(args.model)
    except ArtifactError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    try:
        print(summary(m, Path(args.model).stat().st_size))
        sys.stdout.flush()
    except BrokenPipeError:             # `... | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
