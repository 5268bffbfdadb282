"""Fuzzing both artifact parsers: sw/artifact.py and the firmware's firmware/ffs.c (host build, ASan+UBSan).

Mutations of real files (the committed artifacts and small random models of every input kind):
truncation, extension, bit flips, byte overwrites, header fields, layer-record fields and layer data set
to edge values (huge sizes, wrong version, wrong lengths), each either left as it is (a damaged file) or
resealed (body_len and CRC recomputed: a deliberately crafted file that reaches the deeper checks).

For every case:
- Python refuses with ArtifactError (one line, a documented error class), or accepts; nothing else.
- A damaged (unsealed) file that differs from the original is always refused: the CRC covers it all.
- An accepted file re-encodes to exactly its own bytes (one meaning, one encoding).
- C agrees: it refuses the same files with the same error class, and on the files it accepts it decodes
  the same model (a CRC-32 digest of every decoded field and dense weight, computed on both sides).

FFS_FUZZ_EXAMPLES sets the number of hypothesis cases (default 2000).
"""
import os
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from sw import artifact, spec
from sw.artifact import HEADER, LAYER, ArtifactError, Model, file_crc
from sw.random_model import make

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = sorted((ROOT / "artifacts").glob("*/model.ffs"))
EXAMPLES = int(os.environ.get("FFS_FUZZ_EXAMPLES", "2000"))
FIRMWARE_LIMIT = "layers (this firmware supports at most"    # C's own limit (FFS_MAX_LAYERS), not the format's


def small_models():
    return [make("1x12x12-4c3p1-6c3s2p1-mp2-5fc", 0.8, seed=1, timesteps=3, in_bits=4),
            make("2x10x10-4c5p2-mp2-8fc-3fc", 0.8, seed=2, timesteps=5, in_kind=spec.IN_TEMPORAL, in_bits=1),
            make("1x9x7-3c3x2-2c1-4fc", 0.8, seed=3, timesteps=2, in_bits=8, leak=False)]


SEEDS = [p.read_bytes() for p in COMMITTED] + [m.to_bytes() for m in small_models()]


def digest(m: Model) -> int:
    """The meaning of a decoded model, as ffs_host's digest(): CRC-32 over little-endian i32 fields."""
    def i32(vals):
        return np.asarray(vals, dtype=np.int64).astype("<i4").tobytes()
    note = m.notation.encode()
    crc = zlib.crc32(i32([m.timesteps, m.in_bits, m.in_kind, len(m.layers), len(note)]))
    crc = zlib.crc32(note, crc)
    for l in m.layers:
        s, w = l.shape, l.widths
        crc = zlib.crc32(i32([artifact.KIND_CODE[s.kind], s.pool, s.leak, s.readout, s.kh, s.kw, s.stride, s.pad,
                              s.ci, s.h, s.w, s.co, w.acc, w.mem, w.bias, w.vth, l.nnz]), crc)
        for a in (l.flat.reshape(-1), l.bias, l.vth):
            crc = zlib.crc32(i32(a), crc)
    return crc


def python_verdict(blob: bytes):
    """("ok DIGEST", model) or ("error: MESSAGE", None); any other exception fails the test."""
    try:
        m = Model.from_bytes(blob)
    except ArtifactError as e:
        msg = str(e)
        assert "\n" not in msg and artifact.error_class(msg), f"not a one-line classed error: {msg!r}"
        return f"error: {msg}", None
    return f"ok {digest(m):08x}", m


class CDecoder:
    """One long-running `ffs_host serve`: a blob in, one verdict line out."""

    def __init__(self, exe, log):
        self.log = log
        self.proc = subprocess.Popen([str(exe), "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=open(log, "wb"), env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))

    def __call__(self, blob: bytes) -> str:
        try:
            self.proc.stdin.write(struct.pack("<I", len(blob)) + blob)
            self.proc.stdin.flush()
            line = self.proc.stdout.readline().decode()
        except BrokenPipeError:
            line = ""
        assert line, f"ffs_host crashed on a {len(blob)}-byte blob: {Path(self.log).read_text()[-3000:]}"
        return line.rstrip("\n")

    def close(self):
        self.proc.stdin.close()
        assert self.proc.wait(timeout=30) == 0, Path(self.log).read_text()[-3000:]


@pytest.fixture(scope="module")
def c_decoder(ffs_host, tmp_path_factory):
    d = CDecoder(ffs_host.exe, tmp_path_factory.mktemp("fuzz") / "serve.err")
    yield d
    d.close()


def check(blob: bytes, original: bytes, sealed: bool, c_decoder) -> str:
    py, m = python_verdict(blob)
    if not sealed and blob != original:
        assert py.startswith("error: "), "a damaged file was accepted"
    if m is not None:
        assert m.to_bytes() == blob, "an accepted file does not re-encode to its own bytes"
    c = c_decoder(blob)
    if py.startswith("ok"):
        assert c == py, f"Python {py}, C {c}"
    else:
        assert c.startswith("error: "), f"C accepts what Python refuses ({py})"
        if FIRMWARE_LIMIT not in c:
            assert artifact.error_class(c) == artifact.error_class(py), f"C '{c}' vs Python '{py}'"
    return py


def test_seeds_are_accepted_identically(c_decoder):
    assert len(COMMITTED) >= 2, "the committed artifacts are the fuzz seeds"
    for blob in SEEDS:
        assert check(blob, blob, True, c_decoder).startswith("ok")


# ---------------------------------------------------------------- structured mutations

def seal(b: bytearray, fix_len: bool) -> None:
    """Recompute the CRC (and body_len after a length change), so the deeper checks are reached."""
    if len(b) >= HEADER.size:
        if fix_len:
            struct.pack_into("<I", b, 8, len(b) - HEADER.size)
        struct.pack_into("<I", b, artifact.CRC_AT, file_crc(b))


def table_at(blob) -> int:
    (nlen,) = struct.unpack_from("<H", blob, HEADER.size)
    return HEADER.size + (2 + nlen + 3) // 4 * 4


def edge_values(bits: int, old: int):
    top = (1 << bits) - 1
    return st.one_of(st.sampled_from(sorted({0, 1, 2, 3, 7, 8, 31, 32, 33, 64, 65, 255, top, top - 1, top >> 1,
                                             (top >> 1) + 1, old - 1 & top, old + 1 & top, old ^ 1, old ^ 0x80 & top})),
                     st.integers(0, top))


LAYER_FIELDS = [(i, 8 * struct.calcsize("<" + c)) for i, c in enumerate(LAYER.format[1:])]
HEADER_FIELDS = [(4, "<H"), (6, "<H"), (8, "<I"), (16, "<B"), (17, "<B"), (18, "<B"), (19, "<B"), (20, "<I")]


@st.composite
def mutated(draw):
    original = draw(st.sampled_from(SEEDS))
    b = bytearray(original)
    kind = draw(st.sampled_from(["truncate", "extend", "flip", "bytes", "header", "record", "data", "notation"]))
    if kind == "truncate":
        del b[draw(st.integers(0, len(b) - 1)):]
    elif kind == "extend":
        b += draw(st.binary(min_size=1, max_size=64))
    elif kind == "flip":
        for _ in range(draw(st.integers(1, 4))):
            b[draw(st.integers(0, len(b) - 1))] ^= 1 << draw(st.integers(0, 7))
    elif kind == "bytes":
        at = draw(st.integers(0, len(b) - 1))
        new = draw(st.binary(min_size=1, max_size=8))
        b[at:at + len(new)] = new
    elif kind == "header":
        at, fmt = draw(st.sampled_from(HEADER_FIELDS))
        (old,) = struct.unpack_from(fmt, b, at)
        struct.pack_into(fmt, b, at, draw(edge_values(8 * struct.calcsize(fmt), old)))
    elif kind == "record":
        n = b[19]
        i = draw(st.integers(0, n - 1))
        field, bits = draw(st.sampled_from(LAYER_FIELDS))
        at = table_at(b) + i * LAYER.size
        rec = list(LAYER.unpack_from(b, at))
        rec[field] = draw(edge_values(bits, rec[field]))
        LAYER.pack_into(b, at, *rec)
    elif kind == "data":                    # a u32 of some layer's bias, vth, bitmaps or packed values
        t = table_at(b)
        i = draw(st.integers(0, b[19] - 1))
        rec = LAYER.unpack_from(b, t + i * LAYER.size)
        at = HEADER.size + rec[15] + 4 * draw(st.integers(0, rec[16] // 4 - 1))
        (old,) = struct.unpack_from("<I", b, at)
        struct.pack_into("<I", b, at, draw(edge_values(32, old)))
    else:                                   # the notation text and its padding
        end = table_at(b)
        at = draw(st.integers(HEADER.size, end - 1))
        b[at] = draw(st.sampled_from(b"0123456789xcpsmf-+ \x00\x80\xff"))
    sealed = draw(st.integers(0, 3)) > 0 if kind in ("flip", "bytes") else draw(st.booleans())
    if sealed:
        seal(b, fix_len=kind in ("truncate", "extend"))
    return bytes(b), original, sealed


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(mutated())
def test_fuzz_parsers_agree(c_decoder, case):
    blob, original, sealed = case
    check(blob, original, sealed, c_decoder)


# ---------------------------------------------------------------- every single-byte change of the real files

@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.parent.name)
def test_every_single_byte_change_is_refused_by_both(ffs_host, path):
    deltas = (0x01, 0x80, 0xFF, 0x5A)
    blob = bytearray(path.read_bytes())
    out = ffs_host("flips", path, *deltas, timeout=600).splitlines()
    assert len(out) == len(blob) * len(deltas)
    c_classes, py_classes = {}, {}
    for line in out:
        pos, delta, verdict = line.split(" ", 2)
        assert verdict.startswith("error: "), f"C accepts byte {pos} ^ {delta}: {verdict}"
        c_classes[int(pos), int(delta)] = artifact.error_class(verdict)
    for pos in range(len(blob)):
        for d in deltas:
            blob[pos] ^= d
            py, _ = python_verdict(bytes(blob))
            blob[pos] ^= d
            assert py.startswith("error: "), f"Python accepts byte {pos} ^ {d:#x}"
            py_classes[pos, d] = artifact.error_class(py)
    assert c_classes == py_classes
    assert set(py_classes.values()) <= {"CRC mismatch", "bad magic", "unknown format version", "truncated",
                                        "inconsistent sizes"}
