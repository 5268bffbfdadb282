"""Static image data sets on the real data available here (first run fetches into the cache)."""
import functools
import hashlib
import http.server
import struct
import threading
import time
import warnings

import numpy as np
import pytest

from sw.datasets import Dataset, DatasetError, cifar10, fashion_mnist, load, mnist

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
# labels encoded in the foolbox file names == the first 20 labels of the official CIFAR-10 test set
CIFAR_FIRST20 = [3, 8, 8, 0, 6, 6, 1, 6, 3, 1, 0, 9, 5, 7, 9, 8, 5, 7, 8, 6]


def idx_sha256(images: np.ndarray, labels: np.ndarray) -> tuple[str, str]:
    """Rebuild the raw idx files from the loaded arrays and hash them: checks every pixel/label."""
    n, _, h, w = images.shape
    img = struct.pack(">IIII", 0x803, n, h, w) + images.astype(np.uint8).tobytes()
    lab = struct.pack(">II", 0x801, n) + labels.astype(np.uint8).tobytes()
    return hashlib.sha256(img).hexdigest(), hashlib.sha256(lab).hexdigest()


def check_static(ds: Dataset, n: int, shape: tuple):
    assert isinstance(ds, Dataset)
    assert ds.images.shape == (n,) + shape and ds.images.dtype == np.uint8
    assert ds.labels.shape == (n,) and ds.labels.dtype == np.int64
    assert ds.num_classes == 10 and len(ds) == n
    assert ds.labels.min() >= 0 and ds.labels.max() < 10
    assert 0 < ds.images.mean() < 255 and ds.images.max() > 200  # real, non-blank pixels


@pytest.mark.parametrize("split,n,counts", [("train", 60000, MNIST_TRAIN_COUNTS),
                                            ("test", 10000, MNIST_TEST_COUNTS)])
def test_mnist_full(split, n, counts):
    ds = load("mnist", split)
    check_static(ds, n, (1, 28, 28))
    assert (ds.name, ds.split) == ("mnist", split)
    assert np.bincount(ds.labels, minlength=10).tolist() == counts
    img_name, lab_name = mnist.idx_names(split)
    assert idx_sha256(ds.images, ds.labels) == (mnist.SHA256[img_name], mnist.SHA256[lab_name])


def test_mnist_cached_load_is_fast():
    load("mnist", "test")  # make sure the cache exists
    t = time.perf_counter()
    ds = load("mnist", "test")
    assert time.perf_counter() - t < 0.5
    assert ds.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


@pytest.mark.parametrize("split,n", [("train", 60000), ("test", 10000)])
def test_fashion_mnist_full(split, n):
    ds = load("fashion-mnist", split)
    check_static(ds, n, (1, 28, 28))
    assert np.bincount(ds.labels, minlength=10).tolist() == [n // 10] * 10  # balanced classes
    img_name, lab_name = mnist.idx_names(split)
    assert idx_sha256(ds.images, ds.labels) == (fashion_mnist.SHA256[img_name],
                                                fashion_mnist.SHA256[lab_name])


def test_cifar10_offline_subset():
    ds = cifar10.load_offline_subset()
    check_static(ds, 20, (3, 32, 32))
    assert ds.labels.tolist() == CIFAR_FIRST20
    # colour images: the channels differ
    assert np.abs(ds.images[:, 0].astype(int) - ds.images[:, 2]).mean() > 5


def test_cifar10_load_test_full_or_subset():
    subset = cifar10.load_offline_subset()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load("cifar10", "test")
    if len(ds) == cifar10.SUBSET_SIZE:  # offline: warned, identical to the subset
        assert any("20-image offline" in str(w.message) for w in caught)
        assert np.array_equal(ds.images, subset.images)
        with pytest.raises(DatasetError, match="full data set is needed"):
            load("cifar10", "train")
    else:  # full data set present: the foolbox images are its first 20 test images
        check_static(ds, 10000, (3, 32, 32))
        assert np.array_equal(ds.images[:20], subset.images)
        assert ds.labels[:20].tolist() == CIFAR_FIRST20


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FIREFLY_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("FIREFLY_OFFLINE", "1")
    return tmp_path


def test_mnist_corrupt_file_is_reported(empty_cache):
    root = empty_cache / "mine"
    root.mkdir()
    (root / "t10k-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 0x803, 2, 28, 28) + bytes(2 * 784))
    (root / "t10k-labels-idx1-ubyte").write_bytes(struct.pack(">II", 0x801, 2) + bytes(2))
    with pytest.raises(DatasetError, match=r"sha256 mismatch for .*t10k-images-idx3-ubyte.*fetch mnist"):
        load("mnist", "test", root=root)


def test_fashion_missing_is_reported(empty_cache, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", empty_cache / "nowhere")
    with pytest.raises(DatasetError, match="dataset-fashion-mnist"):
        load("fashion-mnist", "test")


def test_cifar10_corrupt_batch_is_reported_before_unpickling(empty_cache):
    d = empty_cache / "cifar-10-batches-py"
    d.mkdir()
    for name in cifar10.BATCH_MD5:
        (d / name).write_bytes(b"not a pickle")
    with pytest.raises(DatasetError, match=r"md5 mismatch for .*test_batch"):
        load("cifar10", "test", root=empty_cache)


def test_cifar10_train_without_full_set(empty_cache):
    with pytest.raises(DatasetError, match="full data set is needed"):
        load("cifar10", "train", root=empty_cache)


def test_corrupt_npz_cache_is_rebuilt(empty_cache):
    if not fashion_mnist.DEBIAN_DIR.is_dir():
        pytest.skip("Debian dataset-fashion-mnist not installed")
    bad = empty_cache / "cache" / "fashion-mnist" / "fashion-mnist_test.npz"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"garbage")
    ds = load("fashion-mnist", "test")
    assert len(ds) == 10000 and bad.stat().st_size > 7_000_000


def test_public_download_path(empty_cache, monkeypatch):
    """The download route, served from a local HTTP server (Debian's files), after a dead mirror."""
    if not fashion_mnist.DEBIAN_DIR.is_dir():
        pytest.skip("Debian dataset-fashion-mnist not installed")
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(fashion_mnist.DEBIAN_DIR))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.delenv("FIREFLY_OFFLINE")
        monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", empty_cache / "nowhere")
        monkeypatch.setattr(fashion_mnist, "MIRRORS", ["http://127.0.0.1:1/",
                                                       f"http://127.0.0.1:{server.server_port}/"])
        ds = load("fashion-mnist", "test")
        assert len(ds) == 10000 and ds.source.endswith(f":{server.server_port}/")
        assert (empty_cache / "cache" / "fashion-mnist" / "t10k-images-idx3-ubyte.gz").is_file()
    finally:
        server.shutdown()
        server.server_close()


def test_bad_arguments():
    with pytest.raises(DatasetError, match="unknown data set"):
        load("imagenet", "train")
    with pytest.raises(DatasetError, match="unknown split"):
        load("mnist", "val")
