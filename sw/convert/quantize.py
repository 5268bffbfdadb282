"""Pruning, post-training 4-bit quantization with calibration, and optional fine-tuning of an imported
`SpikingNet` (docs/convert.md).

- `prune`: one-shot magnitude pruning (used without fine-tuning), per layer, to a target fraction of
  zero weights. The magnitude is |w| / s_c,
  s_c the channel's LSQ initial scale, i.e. the size of the weight on its channel's 4-bit grid.
- `ptq`: the LSQ initial scale per output channel (`lsq.init_scale`: shared by weight, bias and threshold,
  docs/spec.md section 1), then calibration on training frames: layer by layer, the layer's scales are
  multiplied by the factor of `GRID` that gives the best accuracy on the calibration frames (ties: the
  factor nearest 1), two passes.
- `finetune`: the joint LSQ + Gradient Rewiring phase of `sw.training.train.Trainer`, started from the
  imported, quantized net (its float phase has 0 epochs).
"""
from __future__ import annotations

import numpy as np
import torch

from ..training import lsq
from ..training.config import Config, Data
from ..training.train import Trainer, evaluate

GRID = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.4, 1.6)


@torch.no_grad()
def prune(net, target: float) -> list[float]:
    """Zero the smallest |w| / s_c of every layer until `target` of its weights are 0 after 4-bit
    rounding. Returns the per-layer fraction of zeroed float weights."""
    out = []
    for l in net.layers:
        w = l.weight()
        s = lsq.init_scale(w)
        if l.shape.readout:
            s = s.max().expand_as(s)
        mag = (w.abs() / s.view(-1, 1, 1, 1)).flatten()
        # weights that round to 0 anyway (|w/s| < 1/2) count towards the target
        k = int(np.ceil(target * mag.numel()))
        if k > 0:
            idx = torch.argsort(mag)[:k]
            flat = l.theta_w.view(-1)
            flat[idx] = 0.0
        out.append(float((l.theta_w == 0).float().mean()))
    return out


def accuracy(net, x, y) -> float:
    return float(evaluate(net, x, y)[0])


@torch.no_grad()
def ptq(net, x_cal: np.ndarray, y_cal: np.ndarray, passes: int = 2, log=print) -> dict:
    """Quantize `net` (integer mode) with calibrated per-channel scales; returns the calibration record."""
    net.integer = False
    net.set_integer(True)                        # LSQ init of every layer's scales from its weights
    base = [l.scale.detach().clone() for l in net.layers]
    factors = [1.0] * len(net.layers)
    start = accuracy(net, x_cal, y_cal)
    best_acc = start
    for _ in range(passes):
        changed = False
        for i, l in enumerate(net.layers):
            scores = []
            for f in GRID:
                l.scale.copy_(base[i] * f)
                scores.append((accuracy(net, x_cal, y_cal), -abs(np.log(f)), f))
            acc, _, f = max(scores)
            l.scale.copy_(base[i] * f)
            changed |= f != factors[i]
            factors[i], best_acc = f, acc
        if not changed:
            break
    log(f"calibration on {len(x_cal)} training frames: accuracy {100 * start:.2f}% with the LSQ init scales, "
        f"{100 * best_acc:.2f}% with per-layer factors {factors}")
    return {"frames": int(len(x_cal)), "lsq_init_acc": start, "calibrated_acc": best_acc, "factors": factors}


def finetune(net, dataset: str, x_train, y_train, x_eval, y_eval, epochs: int, target: float, lr: float,
             batch: int, seed: int, log=print, progress: bool = False) -> dict:
    """The joint LSQ + Grad R phase for `epochs` epochs on (x_train, y_train), from `net` as it is
    (quantized, calibrated). Sparsity is driven to `target` (0: no prior). Returns the Trainer's history."""
    cfg = Config(dataset=dataset, model=net.notation, timesteps=net.timesteps, bits=net.in_bits,
                 target_sparsity=target, epochs_float=0, epochs_joint=epochs, batch=batch, lr_joint=lr,
                 prior_strength=Config.prior_strength if target > 0 else 0.0, seed=seed,
                 batch_joint=0, sparsity_count="nominal")     # --batch for every step, target counts nominal shapes
    data = Data(x_train, y_train, x_eval, y_eval, net.in_kind, net.shapes[-1].co,
                eval_split="calibration")
    trainer = Trainer(cfg, data, out_dir="", progress=progress,
                      log=lambda *m: log("  fine-tune:", *m))   # its accuracies are on the calibration frames
    trainer.net = net                            # the imported net, not a fresh one
    trainer.fit()
    return {"history": trainer.history, "config": {"epochs": epochs, "target_sparsity": target, "lr": lr,
                                                    "batch": batch, "seed": seed}}
