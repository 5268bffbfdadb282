"""Event-camera helpers: event-to-frame binning (the project's spec), a Prophesee EVT 2.0 decoder,
and a real sample recording from a registry package for tests.

Binning spec (see docs/datasets.md): for one sample with events (t, x, y, p), t0 = first (smallest)
timestamp, t1 = last (largest), all int64:
    bin = (t - t0) * T // (t1 - t0 + 1)          in [0, T)
    x'  = x * W_out // W_in,  y' = y * H_out // H_in
    frame[bin, p, y', x'] = 1                    (uint8, 1 if at least one event landed there)
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np

from .common import DatasetError, cache_dir, check_digest, file_digest, install, pip_fetch


def bin_indices(t: np.ndarray, timesteps: int) -> np.ndarray:
    """Time-bin index of each event (int64), per the spec above."""
    t = np.asarray(t, dtype=np.int64)
    if t.size == 0:
        return np.zeros(0, dtype=np.int64)
    t0, t1 = int(t.min()), int(t.max())
    return (t - t0) * np.int64(timesteps) // np.int64(t1 - t0 + 1)


def events_to_frames(t, x, y, p, timesteps: int, sensor_size=(128, 128), out_size=(48, 48)) -> np.ndarray:
    """Bin one sample's events into binary frames uint8 [T, 2, H_out, W_out].

    sensor_size and out_size are (height, width). p is the polarity (0/1 or bool)."""
    if timesteps < 1:
        raise ValueError(f"timesteps must be >= 1, got {timesteps}")
    (h_in, w_in), (h_out, w_out) = sensor_size, out_size
    frames = np.zeros((timesteps, 2, h_out, w_out), dtype=np.uint8)
    t = np.asarray(t, dtype=np.int64)
    if t.size == 0:
        return frames
    x, y, p = (np.asarray(a).astype(np.int64) for a in (x, y, p))
    if not (t.shape == x.shape == y.shape == p.shape):
        raise ValueError("t, x, y, p must have the same shape")
    if x.min() < 0 or x.max() >= w_in or y.min() < 0 or y.max() >= h_in:
        raise ValueError(f"event coordinates outside the {w_in}x{h_in} sensor")
    if p.min() < 0 or p.max() > 1:
        raise ValueError("polarity must be 0 or 1")
    b = bin_indices(t, timesteps)
    frames[b, p, y * h_out // h_in, x * w_out // w_in] = 1
    return frames


@dataclasses.dataclass(frozen=True, eq=False)
class EventStream:
    t: np.ndarray  # int64, microseconds
    x: np.ndarray  # int64
    y: np.ndarray  # int64
    p: np.ndarray  # uint8, 1 = ON (brightness increase)
    width: int | None
    height: int | None
    header: str


def read_evt2(path: str | Path) -> EventStream:
    """Decode a Prophesee EVT 2.0 .raw file (vectorized).

    Layout: ASCII header lines starting with '%', then little-endian 32-bit words, type in bits 31..28:
    0x0 CD_OFF / 0x1 CD_ON: ts low 6 bits [27:22], x [21:11], y [10:0];
    0x8 EV_TIME_HIGH: ts bits 33..6 in [27:0]; other types (triggers, vendor data) are skipped."""
    data = Path(path).read_bytes()
    pos = 0
    while data[pos:pos + 1] == b"%":
        end = data.find(b"\n", pos)
        if end < 0:
            raise DatasetError(f"{path}: truncated EVT2 header")
        pos = end + 1
    header = data[:pos].decode("ascii", "replace")
    if "evt 2.0" not in header and "EVT2" not in header.upper():
        raise DatasetError(f"{path}: not an EVT 2.0 file (header says: {header[:200]!r})")
    n = (len(data) - pos) // 4
    w = np.frombuffer(data, dtype="<u4", count=n, offset=pos)
    kind = w >> 28
    is_th = kind == 0x8
    last_th = np.maximum.accumulate(np.where(is_th, np.arange(n), -1))
    high = np.where(last_th >= 0, w[np.maximum(last_th, 0)] & 0x0FFFFFFF, 0).astype(np.int64)
    cd = kind <= 1
    t = ((high << 6) | ((w >> 22) & 0x3F).astype(np.int64))[cd]
    x = ((w >> 11) & 0x7FF)[cd].astype(np.int64)
    y = (w & 0x7FF)[cd].astype(np.int64)
    p = kind[cd].astype(np.uint8)
    geo = re.search(r"geometry (\d+)x(\d+)", header)
    wm, hm = re.search(r"width=(\d+)", header), re.search(r"height=(\d+)", header)
    width, height = (int(geo.group(1)), int(geo.group(2))) if geo else (None, None)
    if wm and hm:
        width, height = int(wm.group(1)), int(hm.group(1))
    elif width is None and "gen3" in header:  # Prophesee Gen3 VGA sensor
        width, height = 640, 480
    return EventStream(t, x, y, p, width, height, header)


# A real recording: Prophesee Gen3 (640x480) EVT 2.0 file in the faery sdist's test data.
SAMPLE_SPEC = "faery==0.7.1"
SAMPLE_MEMBER = "tests/data/evt2.raw"
SAMPLE_SHA256 = "e84afbecdc07d2910ae846a4ae0ee246f5b9c97a53816c637d4f85c023d7c234"


def sample_recording() -> Path:
    """Path to a real event-camera recording (fetched once from PyPI into the cache, verified)."""
    dest = cache_dir("events") / "faery-0.7.1-evt2.raw"
    if not dest.is_file():
        got = pip_fetch(SAMPLE_SPEC, [SAMPLE_MEMBER], dest.parent)
        install(got[SAMPLE_MEMBER], dest)
    check_digest(str(dest), file_digest(dest), SAMPLE_SHA256,
                 f"delete it and retry (fetched from the PyPI sdist {SAMPLE_SPEC})")
    return dest
