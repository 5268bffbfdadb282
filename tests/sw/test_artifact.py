import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from sw import artifact, random_model, spec
from sw.artifact import HEADER, LAYER, ArtifactError, Model, file_crc


@pytest.fixture(scope="module")
def model():
    return random_model.make("1x8x8-4c3p1-mp2-6c3p1-5fc", 0.7, timesteps=3, in_bits=4, seed=3)


def recrc(blob: bytes) -> bytes:
    """Fix the CRC after a deliberate corruption, so the check under test is the one that fires."""
    b = bytearray(blob)
    struct.pack_into("<I", b, artifact.CRC_AT, file_crc(b))
    return bytes(b)


def table_at(blob):
    (nlen,) = struct.unpack_from("<H", blob, HEADER.size)
    return HEADER.size + (2 + nlen + 3) // 4 * 4


def test_round_trip(model, tmp_path):
    p = tmp_path / "m.ffs"
    n = model.save(p)
    assert n == p.stat().st_size
    back = Model.load(p)
    assert back == model
    assert back.to_bytes() == model.to_bytes()
    assert back.notation == "1x8x8-4c3p1-mp2-6c3p1-5fc"


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from([0.0, 0.5, 0.9, 1.0]), st.integers(1, 8))
def test_round_trip_random(seed, sparsity, bits):
    m = random_model.make("2x6x5-3c3p1-4c2s2-3fc", sparsity, timesteps=2, in_bits=bits, seed=seed)
    assert Model.from_bytes(m.to_bytes()) == m


def test_summary_cli(model, tmp_path, capsys):
    p = tmp_path / "m.ffs"
    model.save(p)
    assert artifact.main([str(p)]) == 0
    out = capsys.readouterr().out
    assert "4c3p1-mp2" in out and "weight sparsity" in out and f"{p.stat().st_size} bytes" in out


def corrupt(blob, at, fmt, value, fix_crc=True):
    b = bytearray(blob)
    struct.pack_into(fmt, b, at, value)
    return recrc(bytes(b)) if fix_crc else bytes(b)


CASES = {
    "empty": (lambda b: b"", "truncated: 0 bytes"),
    "short header": (lambda b: b[:10], "truncated: 10 bytes"),
    "truncated body": (lambda b: b[:-5], "truncated: body is"),
    "trailing": (lambda b: b + b"\0\0\0\0", "inconsistent sizes: 4 trailing bytes"),
    "bad magic": (lambda b: b"XXXX" + b[4:], "bad magic"),
    "version": (lambda b: corrupt(b, 4, "<H", 9, False), "unknown format version 9"),
    "header_len": (lambda b: corrupt(b, 6, "<H", 20, False), "inconsistent sizes: header length 20"),
    "version 1": (lambda b: corrupt(b, 4, "<H", 1, False), "unknown format version 1 (this reader supports "
                  "version 2; version 1 left its header outside the CRC): re-export it with: python -m sw.artifact"),
    "crc": (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "CRC mismatch"),
    "crc field": (lambda b: corrupt(b, 12, "<I", file_crc(b) ^ 1, False), "CRC mismatch"),
    # the header is inside the CRC: a changed T, k, input kind or layer count alone is a CRC mismatch
    "timesteps unsealed": (lambda b: corrupt(b, 16, "<B", 4, False), "CRC mismatch"),
    "in_bits unsealed": (lambda b: corrupt(b, 17, "<B", 8, False), "CRC mismatch"),
    "in_kind unsealed": (lambda b: corrupt(b, 18, "<B", 1, False), "CRC mismatch"),
    "n_layers unsealed": (lambda b: corrupt(b, 19, "<B", 2, False), "CRC mismatch"),
    "reserved unsealed": (lambda b: corrupt(b, 20, "<I", 1, False), "CRC mismatch"),
    "record unsealed": (lambda b: corrupt(b, table_at(b) + 16, "<B", 31, False), "CRC mismatch"),
    "notation unsealed": (lambda b: corrupt(b, HEADER.size + 6, "<B", ord("9"), False), "CRC mismatch"),
    "header reserved": (lambda b: corrupt(b, 20, "<I", 0x100), "out-of-range value: header reserved field"),
    "timesteps": (lambda b: corrupt(b, 16, "<B", 0), "out-of-range value: timesteps 0"),
    "timesteps 65": (lambda b: corrupt(b, 16, "<B", 65), "out-of-range value: timesteps 65"),
    "in_bits": (lambda b: corrupt(b, 17, "<B", 9), "out-of-range value: input bits 9"),
    "in_kind": (lambda b: corrupt(b, 18, "<B", 1), "unsupported topology: input kind 1 with 4 bits"),
    "zero layers": (lambda b: corrupt(b, 19, "<B", 0), "unsupported topology: zero layers"),
    "notation padding": (lambda b: corrupt(b, table_at(b) - 1, "<B", 1),
                         "out-of-range value: non-zero padding after the notation"),
    "layer reserved": (lambda b: corrupt(b, table_at(b) + LAYER.size + 18, "<H", 1),
                       "out-of-range value: layer 1 reserved field 0x0001"),
    "layer kind": (lambda b: corrupt(b, table_at(b), "<B", 7), "unsupported topology: layer 0 kind 7"),
    "flags": (lambda b: corrupt(b, table_at(b) + 1, "<B", 0x83), "unsupported topology: layer 0 kind 0 flags"),
    "chain": (lambda b: corrupt(b, table_at(b) + 14, "<H", 5), "unsupported topology: layer 1 input"),
    "bad pad": (lambda b: corrupt(b, table_at(b) + 5, "<B", 3), "unsupported topology: layer 0: padding 3"),
    "data offset": (lambda b: corrupt(b, table_at(b) + 20, "<I", 4), "inconsistent sizes: layer 0 data at 4"),
    "nnz": (lambda b: corrupt(b, table_at(b) + 28, "<I", 1), "inconsistent sizes: layer 0 has"),
    "acc width": (lambda b: corrupt(b, table_at(b) + 6, "<B", 2), "out-of-range value: layer 0 widths"),
    "width > 32": (lambda b: corrupt(b, table_at(b) + 7, "<B", 40), "out-of-range value: layer 0 widths"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_is_refused_with_its_message(model, name):
    fn, msg = CASES[name]
    with pytest.raises(ArtifactError) as e:
        Model.from_bytes(fn(model.to_bytes()))
    assert msg in str(e.value), str(e.value)


def _layer_data(blob, i):
    rec = LAYER.unpack_from(blob, table_at(blob) + i * LAYER.size)
    return HEADER.size + rec[15], rec  # absolute offset of the layer data, record


def test_zero_packed_value_refused(model):
    at, rec = _layer_data(model.to_bytes(), 0)
    co, k = rec[11], rec[2] * rec[3] * rec[8]
    vals_at = at + 8 * co + 4 * co * ((k + 31) // 32)
    b = bytearray(model.to_bytes())
    b[vals_at] &= 0xF0                       # the first non-zero of channel 0 becomes 0
    with pytest.raises(ArtifactError, match="out-of-range value: layer 0 channel 0 has a zero"):
        Model.from_bytes(recrc(bytes(b)))


def test_bitmap_bit_beyond_kernel_refused(model):
    at, rec = _layer_data(model.to_bytes(), 0)
    co = rec[11]
    b = bytearray(model.to_bytes())
    b[at + 8 * co + 3] |= 0x80               # bit 31 of channel 0's bitmap; K = 9
    with pytest.raises(ArtifactError, match="bits set beyond the kernel length 9"):
        Model.from_bytes(recrc(bytes(b)))


def test_negative_threshold_refused(model):
    at, rec = _layer_data(model.to_bytes(), 0)
    b = bytearray(model.to_bytes())
    struct.pack_into("<i", b, at + 4 * rec[11], -1)   # vth[0]
    with pytest.raises(ArtifactError, match="threshold -1 < 0"):
        Model.from_bytes(recrc(bytes(b)))


def test_readout_threshold_must_be_zero(model):
    at, rec = _layer_data(model.to_bytes(), 2)
    b = bytearray(model.to_bytes())
    struct.pack_into("<i", b, at + 4 * rec[11], 1)
    with pytest.raises(ArtifactError, match="readout; its thresholds must be 0"):
        Model.from_bytes(recrc(bytes(b)))


def test_notation_mismatch_refused(model):
    bad = Model(model.layers, model.timesteps, model.in_bits, model.in_kind, "1x8x8-4c3p1-6c3p1-5fc")
    with pytest.raises(ArtifactError, match="unsupported topology"):
        bad.to_bytes()


def test_channel_removal_is_accepted():
    """A layer may have fewer channels than its notation (Algorithm 1), never more."""
    m = random_model.make("1x6x6-4c3p1-3c3p1-2fc", 0.5, seed=1)
    l0, l1, l2 = m.layers
    shapes = [l0.shape.with_channels(co=3), l1.shape.with_channels(ci=3), l2.shape]
    m2 = Model.from_dense(shapes, [l0.weights[:3], l1.weights[..., :3], l2.weights],
                          [l0.bias[:3], l1.bias, l2.bias], [l0.vth[:3], l1.vth, l2.vth],
                          m.timesteps, m.in_bits, notation=m.notation)
    assert Model.from_bytes(m2.to_bytes()) == m2
    shapes = [l0.shape.with_channels(co=5), l1.shape.with_channels(ci=5), l2.shape]
    with pytest.raises(ArtifactError, match="layer 0 4c3p1 does not match|layer 0 5c3p1 does not match"):
        Model.from_dense(shapes, [np.ones((5, 3, 3, 1)), np.ones((3, 3, 3, 5)), l2.weights],
                         [np.zeros(5), l1.bias, l2.bias], [np.zeros(5), l1.vth, l2.vth], 4, 8,
                         notation=m.notation)


def as_version1(blob: bytes) -> bytes:
    """The same model as format version 1 wrote it: version 1, CRC of the body only."""
    b = bytearray(blob)
    struct.pack_into("<HHII", b, 4, 1, HEADER.size, len(b) - HEADER.size, zlib.crc32(bytes(b[HEADER.size:])))
    return bytes(b)


def test_notation_padding_exists_in_the_fixture(model):
    assert (2 + len(model.notation)) % 4, "the notation-padding case needs a padded notation"


def test_upgrade_version1(model, tmp_path):
    old, new = tmp_path / "old.ffs", tmp_path / "new.ffs"
    old.write_bytes(as_version1(model.to_bytes()))
    with pytest.raises(ArtifactError, match="unknown format version 1 .*--upgrade"):
        Model.load(old)
    assert artifact.main([str(old), "--upgrade", str(new)]) == 0
    assert new.read_bytes() == model.to_bytes()          # same content; only version and CRC differ
    diff = [i for i, (a, b) in enumerate(zip(old.read_bytes(), new.read_bytes())) if a != b]
    assert set(diff) <= {4, 5, 12, 13, 14, 15}
    new.write_bytes(b"keep")
    with pytest.raises(ArtifactError, match="exists; not overwritten"):
        artifact.upgrade(old, new)
    assert new.read_bytes() == b"keep"
    with pytest.raises(ArtifactError, match="--upgrade reads version 1 files only"):
        artifact.upgrade(_write(tmp_path / "v2.ffs", model.to_bytes()), tmp_path / "out.ffs")
    bad = bytearray(as_version1(model.to_bytes()))
    bad[-1] ^= 1
    with pytest.raises(ArtifactError, match="CRC mismatch"):
        artifact.upgrade(_write(tmp_path / "bad.ffs", bytes(bad)), tmp_path / "out2.ffs")
    assert not (tmp_path / "out2.ffs").exists()


def _write(path, blob):
    path.write_bytes(blob)
    return path


def test_unreadable_file_error(tmp_path):
    with pytest.raises(ArtifactError, match="cannot read"):
        Model.load(tmp_path / "missing.ffs")


def test_widths_are_minimal_and_sufficient():
    w = np.array([[7, -8, 3]])
    wd = spec.derive_widths(w, np.array([-5]), np.array([100]), 255, 4, True, False)
    # partial sums in [-8*255-5, 10*255] = [-2045, 2550] -> 13 bits
    assert wd.acc == 13
    assert spec.signed_bits(-2048, 2047) == 12 and spec.signed_bits(0, 2048) == 13
