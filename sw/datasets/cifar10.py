"""CIFAR-10 (60k, 3x32x32 colour, 10 classes).

Sources, in order: cached arrays -> a `cifar-10-batches-py` directory (pickle batches) in `root` or
the cache dir -> a `cifar-10-python.tar.gz` there -> the public download of that tarball ->
offline fallback, test split only: the 20 real CIFAR-10 test images shipped in the `foolbox==3.3.4`
wheel (`foolbox/data/cifar10_<idx>_<label>.png`; they are test images 0..19, in order).
The well-known md5 sums of the tarball and of every batch are checked before anything is unpickled.
"""
from __future__ import annotations

import hashlib
import pickle
import re
import tarfile
import warnings
from pathlib import Path

import numpy as np

from .common import (Dataset, DatasetError, cache_dir, check_digest, download, file_digest,
                     load_npz, log, offline, pip_fetch, save_npz)

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
TAR_NAME = "cifar-10-python.tar.gz"
TAR_MD5 = "c58f30108f718f92721af3b95e74349a"
DIR_NAME = "cifar-10-batches-py"
BATCH_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
}
SPLIT_BATCHES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

FOOLBOX_SPEC = "foolbox==3.3.4"
FOOLBOX_WHEEL = "foolbox-3.3.4-py3-none-any.whl"
FOOLBOX_WHEEL_SHA256 = "11049d515d38e765e206a73ace9cc648b81a0d6d1da9ad9057e149ee117989cb"
# sha256 over (file name + bytes) of the 20 cifar10_*.png files, sorted by name
FOOLBOX_PNGS_SHA256 = "bc7539a4e6174703ad25581e1e6a85efdabbe6d7efa915faa7c70946d69948a4"
SUBSET_SIZE = 20
FULL_HINT = (f"put the standard `{DIR_NAME}` directory (or {TAR_NAME}, from {URL}) in the cache dir "
             "or pass root=")


def _read_batches(d: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    for b in SPLIT_BATCHES[split]:
        p = d / b
        check_digest(str(p), file_digest(p, "md5"), BATCH_MD5[b], f"replace it; {FULL_HINT}", "md5")
        with open(p, "rb") as f:
            entry = pickle.load(f, encoding="latin1")  # safe: content verified above
        images.append(np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        labels.append(np.asarray(entry["labels"], dtype=np.int64))
    return np.concatenate(images), np.concatenate(labels)


def _extract(tar: Path, dest: Path) -> None:
    check_digest(str(tar), file_digest(tar, "md5"), TAR_MD5, f"delete it; {FULL_HINT}", "md5")
    log.info("extracting %s to %s", tar, dest)
    with tarfile.open(tar, "r:gz") as t:
        t.extractall(dest, filter="data")


def _find_full(root: Path | None, cache: Path, allow_download: bool = True) -> tuple[Path, str] | None:
    """Directory holding all six verified-name batches, extracting/downloading the tarball if needed."""
    dirs = [] if root is None else [root / DIR_NAME, root, root / "cifar10" / DIR_NAME]
    dirs.append(cache / DIR_NAME)
    for d in dirs:
        if all((d / b).is_file() for b in BATCH_MD5):
            return d, str(d)
    tars = [] if root is None else [root / TAR_NAME, root / "cifar10" / TAR_NAME]
    for tar in tars + [cache / TAR_NAME]:
        if tar.is_file():
            _extract(tar, cache)
            return cache / DIR_NAME, str(tar)
    if not allow_download or offline():
        return None
    try:
        tar = download(URL, cache / TAR_NAME, timeout=10.0)
    except OSError as e:
        log.info("CIFAR-10 public download failed: %s", e)
        return None
    _extract(tar, cache)
    return cache / DIR_NAME, URL


def subset_pngs(cache: Path | None = None) -> tuple[list[Path], str]:
    """The 20 foolbox CIFAR-10 PNGs (fetched with pip if absent), verified. Returns (paths, source)."""
    d = (cache or cache_dir("cifar10")) / "foolbox"
    source = str(d)
    pngs = sorted(d.glob("cifar10_*.png"))
    if len(pngs) != SUBSET_SIZE:
        got = pip_fetch(FOOLBOX_SPEC, ["cifar10_*.png"], d, wheel=True)
        wheel = got.get(FOOLBOX_WHEEL)
        if wheel is not None:
            check_digest(str(wheel), file_digest(wheel), FOOLBOX_WHEEL_SHA256, "pip fetched another file")
        pngs = sorted(d.glob("cifar10_*.png"))
        source = f"PyPI wheel {FOOLBOX_SPEC}"
    h = hashlib.sha256()
    for p in pngs:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    check_digest(f"foolbox CIFAR-10 PNGs in {d}", h.hexdigest(), FOOLBOX_PNGS_SHA256,
                 f"delete {d} and retry (needs PyPI access)")
    return pngs, source


def load_offline_subset(cache: Path | None = None) -> Dataset:
    """The 20-image real CIFAR-10 test subset from the foolbox wheel (labels from the file names)."""
    cache = cache or cache_dir("cifar10")
    npz = cache / "cifar10_test_subset20.npz"
    hit = load_npz(npz)
    if hit is not None:
        return Dataset(hit["images"], hit["labels"], "cifar10", "test", 10, str(hit["source"]))
    from PIL import Image

    pngs, source = subset_pngs(cache)
    images, labels = [], []
    for p in pngs:
        m = re.fullmatch(r"cifar10_(\d+)_(\d)\.png", p.name)
        if m is None:
            raise DatasetError(f"unexpected file name {p.name} in {p.parent}")
        with Image.open(p) as im:
            arr = np.asarray(im.convert("RGB"), dtype=np.uint8)
        if arr.shape != (32, 32, 3):
            raise DatasetError(f"{p}: expected a 32x32 RGB image, got shape {arr.shape}")
        images.append(arr.transpose(2, 0, 1))
        labels.append(int(m.group(2)))
    images, labels = np.stack(images), np.asarray(labels, dtype=np.int64)
    save_npz(npz, images=images, labels=labels, source=np.str_(source))
    return Dataset(images, labels, "cifar10", "test", 10, source)


def load(split: str, root: str | Path | None = None, allow_subset: bool = True) -> Dataset:
    if split not in SPLIT_BATCHES:
        raise DatasetError(f"cifar10: unknown split {split!r} (use 'train' or 'test')")
    cache = cache_dir("cifar10")
    npz = cache / f"cifar10_{split}.npz"
    hit = load_npz(npz)
    if hit is not None:
        return Dataset(hit["images"], hit["labels"], "cifar10", split, 10, str(hit["source"]))
    full = _find_full(Path(root) if root is not None else None, cache)
    if full is not None:
        images, labels = _read_batches(full[0], split)
        save_npz(npz, images=images, labels=labels, source=np.str_(full[1]))
        return Dataset(images, labels, "cifar10", split, 10, full[1])
    if split == "train" or not allow_subset:
        raise DatasetError(f"CIFAR-10 {split}: the full data set is needed and was not found or "
                           f"downloadable (offline only 20 test images exist); {FULL_HINT}")
    ds = load_offline_subset(cache)
    msg = (f"CIFAR-10: full data set unavailable; using the {SUBSET_SIZE}-image offline test subset "
           f"from {FOOLBOX_SPEC} (smoke tests only, not for training/accuracy)")
    log.warning(msg)
    warnings.warn(msg, stacklevel=2)
    return ds
