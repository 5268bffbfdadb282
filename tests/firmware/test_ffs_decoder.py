"""The firmware's C artifact decoder against the Python writer/reader (sw.artifact).

Valid files: every decoded field equals the Python model. Malformed files: C refuses each one with the
same error class (the message prefix of docs/artifact-format.md) as Python.
"""
import struct

import numpy as np
import pytest

from sw import spec
from sw import artifact
from sw.artifact import HEADER, LAYER, ArtifactError, Model, file_crc
from sw.random_model import make


TOPOLOGIES = [
    ("scnn5", dict()),
    ("1x12x12-4c3p1-6c3s2p1-mp2-5fc", dict(timesteps=3, in_bits=4)),
    ("2x10x10-4c5p2-mp2-8fc-3fc", dict(timesteps=5, in_kind=spec.IN_TEMPORAL, in_bits=1)),
    ("1x9x7-3c3x2-2c1-4fc", dict(timesteps=2, in_bits=8, leak=False)),
    ("1x8x8-4c3-mp2-3fc", dict(timesteps=1, in_bits=1)),
]


def error_class(msg: str) -> str:
    c = artifact.error_class(msg)
    assert c is not None, f"error without a documented prefix: {msg!r}"
    return c


def decode_c(host, tmp_path, blob: bytes):
    p = tmp_path / "m.ffs"
    p.write_bytes(blob)
    return host("decode", p)


@pytest.fixture(scope="module")
def models():
    out = []
    for i, (topo, kw) in enumerate(TOPOLOGIES):
        out.append(make(topo, 0.8 if i else 0.93, seed=i, **kw))
    return out


def check_fields(out: str, m: Model):
    lines = out.splitlines()
    assert lines[0] == "ok", out[:500]
    kv = {}
    for line in lines[1:]:
        key, _, rest = line.partition(" ")
        if key in ("layer", "weights", "bias", "vth"):
            idx, _, rest = rest.partition(" ")
            kv[(key, int(idx))] = rest
        else:
            kv[key] = rest
    assert kv["header"].split() == [str(v) for v in (m.timesteps, m.in_bits, m.in_kind, len(m.layers),
                                                     len(m.to_bytes()))]
    assert kv["notation"] == m.notation
    for i, l in enumerate(m.layers):
        s, w = l.shape, l.widths
        want = [int(s.kind == "fc"), s.pool, s.leak, s.readout, s.kh, s.kw, s.stride, s.pad, s.ci, s.h, s.w, s.co,
                w.acc, w.mem, w.bias, w.vth, l.nnz, s.ho, s.wo, s.fan_in]
        assert [int(v) for v in kv[("layer", i)].split()] == [int(v) for v in want], f"layer {i}"
        assert np.array_equal(np.array(kv[("weights", i)].split(), int), l.flat.reshape(-1)), f"layer {i} weights"
        assert np.array_equal(np.array(kv[("bias", i)].split(), int), l.bias), f"layer {i} bias"
        assert np.array_equal(np.array(kv[("vth", i)].split(), int), l.vth), f"layer {i} vth"


def test_valid_models_decode_identically(ffs_host, tmp_path, models):
    for m in models:
        check_fields(decode_c(ffs_host, tmp_path, m.to_bytes()), m)


# ---------------------------------------------------------------- malformed files

def reseal(blob: bytes) -> bytes:
    """Recompute body_len and CRC after an edit, so that the edit itself is what gets checked."""
    b = bytearray(blob)
    struct.pack_into("<I", b, 8, len(b) - HEADER.size)
    struct.pack_into("<I", b, artifact.CRC_AT, file_crc(b))
    return bytes(b)


def table_at(blob: bytes) -> int:
    (nlen,) = struct.unpack_from("<H", blob, HEADER.size)
    return HEADER.size + (2 + nlen + 3) // 4 * 4


def set_layer(blob: bytes, i: int, field: int, value) -> bytes:
    """Change field `field` (index into LAYER's tuple) of layer record i and reseal."""
    b = bytearray(blob)
    at = table_at(blob) + i * LAYER.size
    rec = list(LAYER.unpack_from(b, at))
    rec[field] = value
    LAYER.pack_into(b, at, *rec)
    return reseal(bytes(b))


def set_header(blob: bytes, offset: int, fmt: str, value, seal=True) -> bytes:
    b = bytearray(blob)
    struct.pack_into(fmt, b, offset, value)
    return reseal(bytes(b)) if seal else bytes(b)


def layer_data(blob: bytes, i: int):
    rec = LAYER.unpack_from(blob, table_at(blob) + i * LAYER.size)
    return HEADER.size + rec[15], rec


def mutations(m: Model):
    """(name, blob) pairs of malformed files derived from a valid model."""
    good = m.to_bytes()
    yield "empty", b""
    yield "short header", good[:10]
    yield "truncated body", good[:-4]
    yield "trailing bytes", good + b"\0\0\0\0"
    yield "bad magic", b"XXXX" + good[4:]
    yield "version", set_header(good, 4, "<H", 3, seal=False)
    yield "version 1", set_header(good, 4, "<H", 1, seal=False)
    yield "header length", set_header(good, 6, "<H", 28, seal=False)
    yield "crc", good[:-1] + bytes([good[-1] ^ 1])
    yield "crc field", good[:12] + bytes([good[12] ^ 0x80]) + good[13:]
    yield "in_bits unsealed", set_header(good, 17, "<B", m.in_bits % 8 + 1, seal=False)
    yield "timesteps unsealed", set_header(good, 16, "<B", m.timesteps + 1, seal=False)
    yield "reserved unsealed", set_header(good, 20, "<I", 1, seal=False)
    yield "header reserved", set_header(good, 20, "<I", 1 << 24)
    yield "timesteps 0", set_header(good, 16, "<B", 0)
    yield "timesteps 65", set_header(good, 16, "<B", 65)
    yield "in_bits 9", set_header(good, 17, "<B", 9)
    yield "in_kind 2", set_header(good, 18, "<B", 2)
    yield "zero layers", set_header(good, 19, "<B", 0)
    yield "too many layers", set_header(good, 19, "<B", 200)
    yield "layer reserved", set_layer(good, len(m.layers) - 1, 14, 0x8000)
    if table_at(good) - HEADER.size > 2 + len(m.notation):
        yield "notation padding", set_header(good, table_at(good) - 1, "<B", 0x20)
    yield "kind 3", set_layer(good, 0, 0, 3)
    yield "flags 8", set_layer(good, 0, 1, 8 | 2)
    yield "stride 0", set_layer(good, 0, 4, 0)
    yield "pad too big", set_layer(good, 0, 5, 9)
    yield "ci mismatch", set_layer(good, 1, 8, m.layers[1].shape.ci + 1)
    yield "data offset", set_layer(good, 0, 15, LAYER.unpack_from(good, table_at(good))[15] + 4)
    yield "nnz", set_layer(good, 0, 17, m.layers[0].nnz + 1)
    yield "acc width small", set_layer(good, 0, 6, 2)
    yield "mem width 33", set_layer(good, 0, 7, 33)
    yield "readout flag moved", set_layer(good, 0, 1, 7 if not m.layers[0].shape.pool else 6)
    at, rec = layer_data(good, 0)
    co, k = m.layers[0].shape.co, m.layers[0].shape.fan_in
    b = bytearray(good)
    struct.pack_into("<i", b, at + 4 * co, -1)                       # vth[0] = -1
    yield "negative vth", reseal(bytes(b))
    ra, rrec = layer_data(good, len(m.layers) - 1)
    b = bytearray(good)
    struct.pack_into("<i", b, ra + 4 * m.layers[-1].shape.co, 1)    # readout vth = 1
    yield "readout vth", reseal(bytes(b))
    if k % 32:
        b = bytearray(good)
        kw = (k + 31) // 32
        last = at + 8 * co + 4 * (kw - 1)
        struct.pack_into("<I", b, last, struct.unpack_from("<I", b, last)[0] | (1 << 31))
        yield "bitmap beyond K", reseal(bytes(b))
    # a zero among the packed values: clear the first nibble of the first channel that has non-zeros
    fixed = at + 8 * co + 4 * co * ((k + 31) // 32)
    off = fixed
    for c in range(co):
        n = int(np.count_nonzero(m.layers[0].flat[c]))
        if n:
            b = bytearray(good)
            struct.pack_into("<I", b, off, struct.unpack_from("<I", b, off)[0] & ~0xF)
            yield "zero nibble", reseal(bytes(b))
            if n % 8:
                b = bytearray(good)
                struct.pack_into("<I", b, off + 4 * ((n - 1) // 8),
                                 struct.unpack_from("<I", b, off + 4 * ((n - 1) // 8))[0] | (1 << 28))
                yield "padding nibble", reseal(bytes(b))
            break
        off += 4 * ((4 * n + 31) // 32)
    if m.notation:
        nlen = len(m.notation)
        b = bytearray(good)
        b[HEADER.size + 2:HEADER.size + 2 + nlen] = m.notation.replace("c3", "c5", 1).encode()
        yield "notation kernel", reseal(bytes(b))
        b = bytearray(good)
        b[HEADER.size + 2] = 0xff
        yield "notation utf8", reseal(bytes(b))
        b = bytearray(good)
        b[HEADER.size + 2:HEADER.size + 2 + nlen] = m.notation.replace("-", "+", 1).encode()
        yield "notation syntax", reseal(bytes(b))
        b = bytearray(good)          # a newline and a NUL inside a token (libFuzzer found the C error split in two)
        b[HEADER.size + 2:HEADER.size + 2 + nlen] = m.notation.replace("-", "-1\n\x00", 1).encode()[:nlen]
        yield "notation newline", reseal(bytes(b))


def test_malformed_files_refused_with_the_same_error_class(ffs_host, tmp_path, models):
    checked = 0
    for m in models:
        for name, blob in mutations(m):
            try:
                Model.from_bytes(blob)
                py = None
            except ArtifactError as e:
                py = str(e)
            out = decode_c(ffs_host, tmp_path, blob).strip()
            if not out.startswith("ok"):
                assert "\n" not in out and out.isprintable(), f"{name}: C's error is not one printable line: {out!r}"
            if py is None:
                assert out.startswith("ok"), f"{name}: Python accepts, C says {out[:200]}"
                continue
            assert out.startswith("error: "), f"{name}: C accepted a file Python refuses ({py})"
            c_msg = out.splitlines()[0][len("error: "):]
            if name == "too many layers" and "supports at most" in c_msg:
                continue     # the firmware's own limit (FFS_MAX_LAYERS), stricter than the format's
            assert error_class(c_msg) == error_class(py), f"{name}: C '{c_msg}' vs Python '{py}'"
            checked += 1
    assert checked > 80


def test_crc_offset_matches_the_c_decoder():
    from soc.firmware_build import FIRMWARE_DIR
    text = (FIRMWARE_DIR / "ffs.h").read_text()
    assert f"#define FFS_CRC_AT     {artifact.CRC_AT} " in text
    assert HEADER.unpack(bytes(range(HEADER.size)))[4] == struct.unpack_from("<I", bytes(range(HEADER.size)),
                                                                              artifact.CRC_AT)[0]


def test_random_byte_corruption_never_crashes(ffs_host, tmp_path, models):
    rng = np.random.default_rng(1)
    good = models[1].to_bytes()
    for _ in range(60):
        b = bytearray(good)
        for pos in rng.integers(0, len(b), size=3):
            b[pos] = int(rng.integers(0, 256))
        blob = reseal(bytes(b)) if rng.random() < 0.7 else bytes(b)
        try:
            Model.from_bytes(blob)
            py_ok = True
        except ArtifactError:
            py_ok = False
        out = decode_c(ffs_host, tmp_path, blob)
        assert out.startswith("ok") == py_ok, out[:200]
