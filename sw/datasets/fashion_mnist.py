"""Fashion-MNIST (70k, 28x28 grey, 10 classes); same IDX layout as MNIST.

Sources, in order: cached arrays -> idx files in `root`, then in the Debian package
`dataset-fashion-mnist`'s directory (/usr/share/datasets/fashion-mnist/*.gz, read in place), then in
the cache dir -> the public S3 mirror.
Hashes are of the decompressed idx content (Debian's .gz files are recompressed, so their own
hashes differ from the upstream .gz; the content is identical).
"""
from __future__ import annotations

from pathlib import Path

from .common import Dataset, DatasetError, download_set, log
from .mnist import load_idx_dataset, read_verified

SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
# sha256 of the .gz files as shipped by Debian's dataset-fashion-mnist (informational)
DEBIAN_GZ_SHA256 = {
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
MIRRORS = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot")
FETCH_HINT = ("install the Debian package `dataset-fashion-mnist` (apt-get install "
              "dataset-fashion-mnist) or run `python -m sw.datasets fetch fashion-mnist` with internet")


def fetch(dest: Path) -> str:
    """Download the verified idx .gz files into dest from the public mirror (the Debian package's
    directory is searched before this, as a local directory)."""
    names = list(SHA256)
    try:
        got, mirror = download_set(MIRRORS, [n + ".gz" for n in names], dest)
    except OSError as e:
        log.info("Fashion-MNIST public download failed: %s", str(e)[:200])
        raise DatasetError(f"Fashion-MNIST idx files not found (looked in {DEBIAN_DIR} and the cache) "
                           f"and the download failed; {FETCH_HINT}") from e
    for n in names:
        read_verified(got[n + ".gz"], n, SHA256, FETCH_HINT)
    return mirror


def load(split: str, root: str | Path | None = None) -> Dataset:
    dirs = [] if root is None else [Path(root), Path(root) / "fashion-mnist",
                                    Path(root) / "FashionMNIST" / "raw"]
    dirs.append(DEBIAN_DIR)
    return load_idx_dataset("fashion-mnist", split, dirs, SHA256, fetch, FETCH_HINT)
