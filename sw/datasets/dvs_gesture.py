"""DVS128 Gesture (IBM; 11 classes, DVS128 sensor) as binary event frames [N, T, 2, 48, 48].

Reads the standard data set directory, the layout spikingjelly's `DVS128Gesture` reads:
    DvsGesture/trials_to_train.txt, trials_to_test.txt   (one `userXX_<light>.aedat` per line)
    DvsGesture/userXX_<light>.aedat                       (AEDAT 3.1, polarity events)
    DvsGesture/userXX_<light>_labels.csv                  (class,startTime_usec,endTime_usec)
found as `root`, root/DvsGesture, root/extract/DvsGesture, or <cache>/dvs-gesture/DvsGesture; a
`DvsGesture.tar.gz` (in root, root/download or <cache>/dvs-gesture) is extracted into the cache.
Each csv row is one sample: events with start <= t < end, label = class - 1. The data set has no
automatic download (IBM serves it through a web form) and no registry package.
Frames are cached per (split, T, source fingerprint) as compressed npz.
"""
from __future__ import annotations

import hashlib
import struct
import tarfile
from pathlib import Path

import numpy as np

from .common import (Dataset, DatasetError, cache_dir, check_digest, file_digest, load_npz, log,
                     save_npz)
from .events import EventStream, events_to_frames

NUM_CLASSES = 11
SENSOR_SIZE = (128, 128)
OUT_SIZE = (48, 48)
TAR_NAME = "DvsGesture.tar.gz"
TAR_MD5 = "8a5c71fb11e24e5ca5b11866ca6c00a1"  # as listed by spikingjelly
URL = "https://research.ibm.com/interactive/dvsgesture/"
FRAME_FORMAT = 1  # bump when the binning spec changes (invalidates frame caches)
HINT = (f"download {TAR_NAME} from {URL} (manual) and put it, or its extracted DvsGesture/ "
        "directory, in <FIREFLY_DATA>/dvs-gesture, or pass root=")

# type, source, eventSize, tsOffset, tsOverflow, eventCapacity, eventNumber, eventValid
_PACKET_HEADER = struct.Struct("<hhiiiiii")
_POLARITY_EVENT = 1


def read_aedat31(path: str | Path) -> EventStream:
    """Decode the polarity events of an AEDAT 3.x file (jAER/cAER), vectorized per packet.

    Polarity event (8 bytes): uint32 data [bit0 valid, bit1 polarity, bits 2..16 y, bits 17..31 x],
    int32 timestamp (us); full time = tsOverflow << 31 | timestamp. Invalid events (bit0 = 0) are
    dropped; only the first eventNumber events of a packet are read; other packet types are skipped."""
    data = Path(path).read_bytes()
    if not data.startswith(b"#!AER-DAT3"):
        raise DatasetError(f"{path}: not an AEDAT 3.x file (missing '#!AER-DAT3' header)")
    pos, header_end = 0, -1
    while data.startswith(b"#", pos):
        end = data.find(b"\n", pos)
        if end < 0:
            break
        line, pos = data[pos:end + 1], end + 1
        if line.startswith(b"#!END-HEADER"):
            header_end = pos
            break
    if header_end < 0:
        raise DatasetError(f"{path}: AEDAT header has no '#!END-HEADER' line")
    header = data[:header_end].decode("ascii", "replace")
    rec = np.dtype({"names": ["d", "t"], "formats": ["<u4", "<i4"], "offsets": [0, 4], "itemsize": 8})
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    while pos + _PACKET_HEADER.size <= len(data):
        etype, _src, esize, _off, eovf, ecap, enum, _valid = _PACKET_HEADER.unpack_from(data, pos)
        pos += _PACKET_HEADER.size
        nbytes = ecap * esize
        if esize <= 0 or ecap < 0 or pos + nbytes > len(data):
            raise DatasetError(f"{path}: truncated or corrupt AEDAT packet at byte {pos - 28}")
        if etype == _POLARITY_EVENT and enum > 0:
            if esize < 8:
                raise DatasetError(f"{path}: polarity events of {esize} bytes (expected 8)")
            ev = np.ndarray((min(enum, ecap),), dtype=rec, buffer=data, offset=pos, strides=(esize,))
            t = ev["t"].astype(np.int64) | (np.int64(eovf) << 31)
            parts.append((ev["d"].copy(), t))
        pos += nbytes
    d = np.concatenate([q[0] for q in parts]) if parts else np.zeros(0, np.uint32)
    t = np.concatenate([q[1] for q in parts]) if parts else np.zeros(0, np.int64)
    keep = (d & 1) == 1
    d, t = d[keep], t[keep]
    x = ((d >> 17) & 0x7FFF).astype(np.int64)
    y = ((d >> 2) & 0x7FFF).astype(np.int64)
    p = ((d >> 1) & 1).astype(np.uint8)
    return EventStream(t, x, y, p, SENSOR_SIZE[1], SENSOR_SIZE[0], header)


def read_labels(csv: Path) -> np.ndarray:
    """[K, 3] int64 rows (class 1..11, start_us, end_us)."""
    if not csv.is_file():
        raise DatasetError(f"label file {csv} is missing; {HINT}")
    rows = np.loadtxt(csv, dtype=np.int64, delimiter=",", skiprows=1, ndmin=2)
    if rows.shape[1] != 3 or rows.size and (rows[:, 0].min() < 1 or rows[:, 0].max() > NUM_CLASSES):
        raise DatasetError(f"{csv}: expected rows 'class,startTime_usec,endTime_usec' with class 1..11")
    return rows


def _is_layout(d: Path) -> bool:
    return (d / "trials_to_train.txt").is_file() and (d / "trials_to_test.txt").is_file()


def find_dir(root: str | Path | None = None) -> Path:
    """Locate the DvsGesture directory (extracting DvsGesture.tar.gz into the cache if that is all)."""
    cache = cache_dir("dvs-gesture")
    roots = [] if root is None else [Path(root)]
    dirs = [d for r in roots for d in (r, r / "DvsGesture", r / "extract" / "DvsGesture")]
    dirs.append(cache / "DvsGesture")
    for d in dirs:
        if _is_layout(d):
            return d
    for tar in [p for r in roots for p in (r / TAR_NAME, r / "download" / TAR_NAME)] + [cache / TAR_NAME]:
        if tar.is_file():
            check_digest(str(tar), file_digest(tar, "md5"), TAR_MD5, f"delete it; {HINT}", "md5")
            log.info("extracting %s into %s", tar, cache)
            with tarfile.open(tar, "r:gz") as t:
                t.extractall(cache, filter="data")
            if _is_layout(cache / "DvsGesture"):
                return cache / "DvsGesture"
    where = ", ".join(str(d) for d in dirs)
    raise DatasetError(f"DVS128 Gesture not found (looked for trials_to_train.txt in {where}); {HINT}")


def trials(d: Path, split: str) -> list[str]:
    names = [ln.strip() for ln in (d / f"trials_to_{split}.txt").read_text().splitlines()]
    return [n for n in names if n]


def _fingerprint(d: Path, names: list[str]) -> str:
    h = hashlib.sha256(f"v{FRAME_FORMAT}".encode())
    for n in names:
        for f in (d / n, d / f"{Path(n).stem}_labels.csv"):
            h.update(f"{f.name}:{f.stat().st_size if f.is_file() else -1};".encode())
    return h.hexdigest()[:12]


def load(split: str, root: str | Path | None = None, timesteps: int = 4) -> Dataset:
    """Binary frames uint8 [N, T, 2, 48, 48] and labels int64 (0..10) of one split."""
    from tqdm import tqdm

    if split not in ("train", "test"):
        raise DatasetError(f"dvs-gesture: unknown split {split!r} (use 'train' or 'test')")
    d = find_dir(root)
    names = trials(d, split)
    if not names:
        raise DatasetError(f"{d}/trials_to_{split}.txt lists no recordings; {HINT}")
    npz = cache_dir("dvs-gesture") / f"frames_{split}_T{timesteps}_{_fingerprint(d, names)}.npz"
    hit = load_npz(npz)
    if hit is not None:
        return Dataset(hit["images"], hit["labels"], "dvs-gesture", split, NUM_CLASSES, str(d))
    frames, labels = [], []
    for name in tqdm(names, desc=f"dvs-gesture {split}", disable=len(names) < 8, leave=False):
        aedat = d / name
        if not aedat.is_file():
            raise DatasetError(f"recording {aedat} (listed in trials_to_{split}.txt) is missing; {HINT}")
        ev = read_aedat31(aedat)
        if ev.t.size and (ev.x.max() >= SENSOR_SIZE[1] or ev.y.max() >= SENSOR_SIZE[0]):
            raise DatasetError(f"{aedat}: event coordinates exceed the 128x128 DVS128 sensor")
        for cls, start, end in read_labels(d / f"{Path(name).stem}_labels.csv"):
            m = (ev.t >= start) & (ev.t < end)
            frames.append(events_to_frames(ev.t[m], ev.x[m], ev.y[m], ev.p[m], timesteps,
                                           SENSOR_SIZE, OUT_SIZE))
            labels.append(cls - 1)
    images = np.stack(frames) if frames else np.zeros((0, timesteps, 2) + OUT_SIZE, np.uint8)
    labels = np.asarray(labels, dtype=np.int64)
    save_npz(npz, compressed=True, images=images, labels=labels, source=np.str_(str(d)))
    return Dataset(images, labels, "dvs-gesture", split, NUM_CLASSES, str(d))
