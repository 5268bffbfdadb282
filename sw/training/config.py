"""What a training run is: its settings (`Config`, one field per `run.py` option) and its data (`Data`,
`load_data`, the fixed validation split)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import spec


@dataclass
class Config:
    dataset: str = "mnist"
    model: str = "scnn5"
    timesteps: int = 4
    bits: int = 8
    target_sparsity: float = 0.941      # 0.94 until 2026-12-05 (the controller lands within ~0.02 point)
    epochs_float: int = 3
    epochs_joint: int = 14              # 9 until 2026-12-05
    epochs_tune: int = 0                # fine-tune epochs after the joint phase, pruning mask frozen (0 = off)
    batch: int = 128
    batch_joint: int = 64               # batch of the joint and fine-tune phases (0 = the same as batch; 0 until 2026-12-05)
    lr: float = 1e-2
    lr_joint: float = 1e-2
    lr_tune: float = 1e-3               # peak learning rate of the fine-tune phase (cosine to 0)
    lsq_grad: str = "split"             # LSQ's gradient scale on the rounding path only ("split", as trained so far) or "whole"
    scale_lr: float = 0.1               # LSQ scales (and --free-logit-scale's) learn at this fraction of the phase's lr
    weight_decay: float = 1e-4
    alpha: float = 5.0                  # Laplace rate of the Grad R prior (sets mu)
    prior_strength: float = 0.05        # initial prior strength (adapted by the controller)
    ramp: float = 0.4                   # fraction of the joint phase over which sparsity ramps to target
    controller_gain: float = 1.05       # the sparsity controller multiplies or divides the prior strength by this per update
    layer_sparsity: str = ""            # per-layer targets ('0,*,...', gradrewiring.layer_targets); "" = uniform
    exempt_layers: str = ""             # uniform target: layers the prior leaves alone ('0', gradrewiring.exempt_layers)
    surrogate_alpha: float = 4.0
    neuron: str = "lif"                 # "lif" (tau = 2, H = (V+I)>>1) or "if" (H = V+I), for every firing layer or one per layer ("if,lif,...")
    float_bn: bool = False              # float phase: BatchNorm after each firing layer, folded at the joint start
    float_signs: str = "fixed"          # float phase: "fixed" (Grad R's w = sign0 ReLU(theta) from init) or
                                        # "free" (plain dense weights; their signs are fixed at the joint start)
    shift: int = 0                      # augmentation: random translation up to this many pixels
    hflip: bool = False                 # augmentation: random left-right mirror
    tet: bool = False                   # loss: mean over timesteps of the per-step readout CE (TET-style)
    distill: float = 0.0                # joint phase: weight of the KD loss from the dense float model
    distill_temp: float = 2.0           # KD softmax temperature
    teacher: str = ""                   # --distill's teacher: a CNN file (sw/training/teacher.py); "" = the dense float SNN
    label_smoothing: float = 0.0        # joint and fine-tune phases: cross-entropy label smoothing (0 = off)
    keep_channels: int = 0              # joint phase: the prior spares a channel with <= this many weights left
    free_logit_scale: bool = False      # joint phase: the logits get their own learned scale (not the readout's LSQ scale)
    ema: str = ""                       # joint phase: EMA decays of the weight averages ('0.999,0.9995'); the first is kept; "" = off
    bias_prior: bool = True             # joint phase: the prior prunes biases too (they are not in the weight count)
    sparsity_count: str = "deployed"    # what the controllers count: "nominal" or "deployed" shapes ("nominal" until 2026-12-05)
    nonzero_floor: float = 0.6          # deployed count: a controller backs off once its layers keep fewer non-zeros than
                                        # this fraction of its goal's nominal budget, F (1 - goal) n (0 = off; added 2026-12-07)
    val_split: int = 0                  # hold out this many training frames and evaluate on them, not on test
    seed: int = 0
    device: str = "cpu"
    train_limit: int = 0                # 0 = whole split
    test_limit: int = 0
    data_root: str = ""
    threads: int = 0                    # torch CPU threads (0 = torch default: all cores)
    quick: bool = False


@dataclass
class Data:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    in_kind: int
    num_classes: int
    note: str = ""
    eval_split: str = "test"            # what x_test/y_test hold: "test", or "val" (--val-split)


VAL_SEED = 20261130                     # the validation frames do not depend on --seed


def split_validation(x: np.ndarray, y: np.ndarray, n: int):
    """(x_train, y_train, x_val, y_val): n frames chosen by a fixed permutation, both parts in the
    original order."""
    if not 0 < n < len(x):
        raise ValueError(f"--val-split {n}: must be between 1 and {len(x) - 1} (the training split has "
                         f"{len(x)} frames)")
    perm = np.random.default_rng(VAL_SEED).permutation(len(x))
    vi, ti = np.sort(perm[:n]), np.sort(perm[n:])
    return x[ti], y[ti], x[vi], y[vi]


def load_data(cfg: Config) -> Data:
    from ..datasets import DatasetError, load
    root = cfg.data_root or None
    kw = {"timesteps": cfg.timesteps} if cfg.dataset == "dvs-gesture" else {}
    test = load(cfg.dataset, "test", root=root, **kw)
    note = ""
    try:
        train = load(cfg.dataset, "train", root=root, **kw)
    except DatasetError:
        if not cfg.quick:
            raise
        train, note = test, "train split unavailable: --quick trains and tests on the test split"
    kind = spec.IN_TEMPORAL if cfg.dataset == "dvs-gesture" else spec.IN_STATIC
    xtr, ytr, xte, yte = train.images, train.labels, test.images, test.labels
    split = "test"
    if cfg.val_split:
        if note:
            raise ValueError("--val-split needs a real training split")
        xtr, ytr, xte, yte = split_validation(xtr, ytr, cfg.val_split)
        split = "val"
        note = (f"validation run: {cfg.val_split} training frames held out (fixed permutation, seed "
                f"{VAL_SEED}) are the evaluation set; the test set is not used")
    if cfg.train_limit:
        xtr, ytr = xtr[:cfg.train_limit], ytr[:cfg.train_limit]
    if cfg.test_limit:
        xte, yte = xte[:cfg.test_limit], yte[:cfg.test_limit]
    return Data(xtr, ytr, xte, yte, kind, test.num_classes, note, split)
