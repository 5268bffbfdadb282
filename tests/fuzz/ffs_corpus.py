"""A deterministic corpus of mutated artifacts, and the verdicts of both decoders on it.

Mutations of the committed artifacts and three small models of every input kind: truncation, extension,
bit flips, byte overwrites, the magic, header fields and layer-record fields set to edge values (huge sizes, wrong
version, wrong lengths), layer data words, notation bytes. About 70% are "sealed" afterwards (body_len and
CRC recomputed), so the deeper checks behind the CRC are reached.
"""
from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

import numpy as np

from sw import artifact, spec
from sw.artifact import HEADER, LAYER, ArtifactError, Model, file_crc

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("truncate", "extend", "flip", "bytes", "magic", "header", "record", "data", "notation")
HEADER_FIELDS = [(4, "<H"), (6, "<H"), (8, "<I"), (16, "<B"), (17, "<B"), (18, "<B"), (19, "<B"), (20, "<I")]
LAYER_FIELDS = [(i, 8 * struct.calcsize("<" + c)) for i, c in enumerate(LAYER.format[1:])]
# check 16, the firmware's own layer limit: Python applies it too when comparing (Model.from_bytes max_layers)
FFS_MAX_LAYERS = int(re.search(r"#define FFS_MAX_LAYERS\s+(\d+)", (ROOT / "firmware/ffs.h").read_text())[1])


def seeds() -> list[bytes]:
    from sw.random_model import make
    small = [make("1x12x12-4c3p1-6c3s2p1-mp2-5fc", 0.8, seed=1, timesteps=3, in_bits=4),
             make("2x10x10-4c5p2-mp2-8fc-3fc", 0.8, seed=2, timesteps=5, in_kind=spec.IN_TEMPORAL, in_bits=1),
             make("1x9x7-3c3x2-2c1-4fc", 0.8, seed=3, timesteps=2, in_bits=8, leak=False)]
    return [p.read_bytes() for p in sorted(ROOT.glob("artifacts/**/model.ffs"))] + [m.to_bytes() for m in small]


def seal(b: bytearray, fix_len: bool = True) -> None:
    if len(b) >= HEADER.size:
        if fix_len:
            struct.pack_into("<I", b, 8, len(b) - HEADER.size)
        struct.pack_into("<I", b, artifact.CRC_AT, file_crc(b))


def _table_at(b) -> int:
    (nlen,) = struct.unpack_from("<H", b, HEADER.size)
    return HEADER.size + (2 + nlen + 3) // 4 * 4


def _edge(rng, bits: int, old: int) -> int:
    top = (1 << bits) - 1
    if rng.random() < 0.25:
        return int(rng.integers(0, top, endpoint=True))
    vals = [0, 1, 2, 3, 7, 8, 31, 32, 33, 64, 65, 255, top, top - 1, top >> 1, (top >> 1) + 1,
            (old - 1) & top, (old + 1) & top, old ^ 1, (old ^ 0x80) & top]
    return int(vals[rng.integers(len(vals))]) & top


def mutate(rng, original: bytes) -> tuple[bytes, str, bool]:
    b = bytearray(original)
    kind = KINDS[rng.integers(len(KINDS))]
    n = b[19]
    if kind == "truncate":
        del b[int(rng.integers(0, len(b))):]
    elif kind == "extend":
        b += rng.bytes(int(rng.integers(1, 65)))
    elif kind == "flip":
        for _ in range(int(rng.integers(1, 5))):
            b[int(rng.integers(len(b)))] ^= 1 << int(rng.integers(8))
    elif kind == "bytes":
        at = int(rng.integers(len(b)))
        new = rng.bytes(int(rng.integers(1, 9)))
        b[at:at + len(new)] = new
        del b[len(original):]
    elif kind == "magic":
        at = int(rng.integers(4))
        b[at] ^= 1 << int(rng.integers(8))
    elif kind == "header":
        at, fmt = HEADER_FIELDS[rng.integers(len(HEADER_FIELDS))]
        (old,) = struct.unpack_from(fmt, b, at)
        struct.pack_into(fmt, b, at, _edge(rng, 8 * struct.calcsize(fmt), old))
    elif kind == "record":
        at = _table_at(b) + int(rng.integers(n)) * LAYER.size
        rec = list(LAYER.unpack_from(b, at))
        field, bits = LAYER_FIELDS[rng.integers(len(LAYER_FIELDS))]
        rec[field] = _edge(rng, bits, rec[field])
        LAYER.pack_into(b, at, *rec)
    elif kind == "data":
        rec = LAYER.unpack_from(b, _table_at(b) + int(rng.integers(n)) * LAYER.size)
        at = HEADER.size + rec[15] + 4 * int(rng.integers(rec[16] // 4))
        (old,) = struct.unpack_from("<I", b, at)
        struct.pack_into("<I", b, at, _edge(rng, 32, old))
    else:
        at = int(rng.integers(HEADER.size, _table_at(b)))
        b[at] = b"0123456789xcpsmf-+ \x00\x80\xff"[rng.integers(22)]
    sealed = rng.random() < 0.7
    if sealed:
        seal(b, fix_len=kind in ("truncate", "extend") or rng.random() < 0.5)
    return bytes(b), kind, sealed


def write_corpus(folder: Path, n: int, seed: int = 13) -> list[Path]:
    rng = np.random.default_rng(seed)
    base = seeds()
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        blob, kind, sealed = mutate(rng, base[i % len(base)])
        p = folder / f"{i:05d}-{kind}{'-sealed' if sealed else ''}.ffs"
        p.write_bytes(blob)
        paths.append(p)
    return paths


def python_verdict(blob: bytes) -> str:
    """'OK T k kind n nnz' or 'ERR message' (as ffs_check prints)."""
    try:
        m = Model.from_bytes(blob, max_layers=FFS_MAX_LAYERS)
    except ArtifactError as e:
        return f"ERR {e}"
    return f"OK {m.timesteps} {m.in_bits} {m.in_kind} {len(m.layers)} {sum(l.nnz for l in m.layers)}"


def c_verdicts(checker: Path, paths: list[Path], workdir: Path) -> list[str]:
    lst = workdir / "list.txt"
    lst.write_text("".join(f"{p}\n" for p in paths))
    r = subprocess.run([str(checker), str(lst)], capture_output=True, timeout=1800,
                       env={"ASAN_OPTIONS": "detect_leaks=0", "PATH": "/usr/bin:/bin"})
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 0, f"ffs_check crashed ({r.returncode}): {err[-3000:]}"
    # split on newlines only: an error line may quote notation bytes such as \x0c or \x1c
    out = [line.decode(errors="backslashreplace") for line in r.stdout.split(b"\n")[:-1]]
    assert len(out) == len(paths), (len(out), len(paths), err[-2000:])
    return out


def verdict_class(v: str) -> str:
    return "OK" if v.startswith("OK") else (artifact.error_class(v[4:]) or f"UNCLASSED: {v[4:]}")


def disagreements(paths: list[Path], c_out: list[str]) -> tuple[list[str], dict]:
    """Files on which the decoders differ (accept/refuse, error class, or the accepted model's fields), and
    the count of each class."""
    bad, classes = [], {}
    for p, c in zip(paths, c_out):
        py = python_verdict(p.read_bytes())
        pc, cc = verdict_class(py), verdict_class(c)
        classes[pc] = classes.get(pc, 0) + 1
        if pc != cc or (pc == "OK" and py != c) or "\n" in py:
            bad.append(f"{p.name}: python {py!r} / C {c!r}")
    return bad, classes
