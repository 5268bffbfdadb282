"""The toy task the training tests share: a small SCNN in the paper's notation and a learnable 4-class
problem on 12x12 uint8 images (a bright quadrant)."""
import numpy as np

from sw.training.config import Config, Data
from sw.training.train import Trainer

NOTE = "1x12x12-6c3p1-mp2-8c3p1-mp2-4fc"


def toy_data(n=256, seed=0):
    """n frames [n, 1, 12, 12] uint8 and labels [n] int64: class c brightens quadrant c."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    x = rng.integers(0, 60, (n, 1, 12, 12)).astype(np.uint8)
    for i, c in enumerate(y):
        r, q = divmod(int(c), 2)
        x[i, 0, 6 * r:6 * r + 6, 6 * q:6 * q + 6] += 150
    return x, y.astype(np.int64)


def toy_config(**kw):
    """A training Config for the toy task. The unit tests pin the joint batch and the sparsity count, so
    that a change of the recipe's defaults (sw.training.config.Config) does not change what they test."""
    return Config(**{"batch_joint": 0, "sparsity_count": "nominal", **kw})


def toy_trainer(n=64, **kw):
    """A Trainer on n toy frames (its first 32 are also the evaluation set), quiet, with toy_config(**kw)
    over the toy network, one float and one joint epoch at batch 16, seed 0."""
    x, y = toy_data(n)
    cfg = toy_config(**{"model": NOTE, "epochs_float": 1, "epochs_joint": 1, "batch": 16, "seed": 0, **kw})
    return Trainer(cfg, Data(x, y, x[:32], y[:32], 0, 4), "/tmp", progress=False, log=lambda *a: None)


# `run.main` arguments for a whole run in seconds: --quick on a few frames of the real data set.
SMALL = ["--quick", "--no-progress", "--train-limit", "96", "--test-limit", "48", "--batch", "16"]
