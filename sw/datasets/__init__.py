"""Data-set loaders for FireFly-S: MNIST, Fashion-MNIST, CIFAR-10 and DVS128 Gesture.

    from sw.datasets import load
    ds = load("mnist", "test")            # ds.images uint8 [N,1,28,28], ds.labels int64 [N]
    ev = load("dvs-gesture", "train", timesteps=4)   # uint8 binary [N,4,2,48,48]

Data is cached under $FIREFLY_DATA (default <repo>/data). See docs/datasets.md.
"""
from __future__ import annotations

from pathlib import Path

from . import cifar10, dvs_gesture, fashion_mnist, mnist
from .common import Dataset, DatasetError, cache_dir
from .dvs_gesture import read_aedat31
from .events import EventStream, bin_indices, events_to_frames, read_evt2, sample_recording

NAMES = ("mnist", "fashion-mnist", "cifar10", "dvs-gesture")
SPLITS = ("train", "test")
# What load() returns per data set, known without loading it (for checks before any long work):
# the shape of one frame ([C, H, W]; dvs-gesture frames are [T, C, H, W], T chosen by the caller) and
# the number of classes. tests/sw/test_datasets_meta.py checks them against the loaded data.
FRAME_SHAPES = {"mnist": (1, 28, 28), "fashion-mnist": (1, 28, 28), "cifar10": (3, 32, 32),
                "dvs-gesture": (2,) + dvs_gesture.OUT_SIZE}
NUM_CLASSES = {"mnist": 10, "fashion-mnist": len(fashion_mnist.CLASSES), "cifar10": len(cifar10.CLASSES),
               "dvs-gesture": dvs_gesture.NUM_CLASSES}

__all__ = ["load", "Dataset", "DatasetError", "cache_dir", "events_to_frames", "bin_indices",
           "read_evt2", "read_aedat31", "sample_recording", "EventStream", "NAMES", "SPLITS", "FRAME_SHAPES",
           "NUM_CLASSES"]


def load(name: str, split: str, root: str | Path | None = None, timesteps: int = 4) -> Dataset:
    """Load a data set split.

    root: a directory to look in before the cache; timesteps: dvs-gesture only."""
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}; use one of {SPLITS}")
    if name == "mnist":
        return mnist.load(split, root)
    if name == "fashion-mnist":
        return fashion_mnist.load(split, root)
    if name == "cifar10":
        return cifar10.load(split, root)
    if name == "dvs-gesture":
        return dvs_gesture.load(split, root, timesteps=timesteps)
    raise DatasetError(f"unknown data set {name!r}; use one of {NAMES}")
