"""Checks of a training invocation that run before any data is loaded (issue 13): numeric ranges, the
model against the data set, memory, the output folder (never overwrite what this tool did not write)
and the checkpoint to resume from. Each problem is one message; run.py prints it as one error line.
"""
from __future__ import annotations

import math
import os
import subprocess
import time
from pathlib import Path

from .. import spec
from ..artifact import MAX_IN_BITS
from ..cli import CLIError, folder_problem
from ..datasets import FRAME_SHAPES, NUM_CLASSES

# What a run writes into its folder besides checkpoint.pt (the sign that the folder is a run's own).
OUTPUTS = ("model.ffs", "report.json", "training_curves.png", "layers.png")
CHECKPOINT_KEYS = {"config", "net", "opt", "phase", "epoch", "history", "results"}
FRESH_HINT = "--fresh starts over (and replaces it)"


def _finite(v):
    return isinstance(v, (int, float)) and math.isfinite(v)


# (option, Config field, test, what it must be)
RANGES = [
    ("--timesteps", "timesteps", lambda v: 1 <= v <= spec.MAX_TIMESTEPS, f"in 1..{spec.MAX_TIMESTEPS}"),
    ("--bits", "bits", lambda v: 1 <= v <= MAX_IN_BITS, f"in 1..{MAX_IN_BITS}"),
    ("--target-sparsity", "target_sparsity", lambda v: _finite(v) and 0 <= v < 1, "in [0, 1)"),
    ("--epochs-float", "epochs_float", lambda v: v >= 0, ">= 0"),
    ("--epochs-joint", "epochs_joint", lambda v: v >= 0, ">= 0"),
    ("--epochs-tune", "epochs_tune", lambda v: v >= 0, ">= 0"),
    ("--batch", "batch", lambda v: v >= 1, ">= 1"),
    ("--lr", "lr", lambda v: _finite(v) and v > 0, "a finite number > 0"),
    ("--lr-joint", "lr_joint", lambda v: _finite(v) and v > 0, "a finite number > 0"),
    ("--lr-tune", "lr_tune", lambda v: _finite(v) and v > 0, "a finite number > 0"),
    ("--weight-decay", "weight_decay", lambda v: _finite(v) and v >= 0, "a finite number >= 0"),
    ("--alpha", "alpha", lambda v: _finite(v) and v > 0, "a finite number > 0"),
    ("--prior-strength", "prior_strength", lambda v: _finite(v) and v >= 0, "a finite number >= 0"),
    ("--ramp", "ramp", lambda v: _finite(v) and 0 <= v <= 1, "in [0, 1]"),
    ("--controller-gain", "controller_gain", lambda v: _finite(v) and 1 < v <= 2, "in (1, 2]"),
    ("--shift", "shift", lambda v: v >= 0, ">= 0"),
    ("--distill", "distill", lambda v: _finite(v) and 0 <= v <= 1, "in [0, 1]"),
    ("--distill-temp", "distill_temp", lambda v: _finite(v) and v > 0, "a finite number > 0"),
    ("--val-split", "val_split", lambda v: v >= 0, ">= 0"),
    ("--train-limit", "train_limit", lambda v: v >= 0, ">= 0 (0 = the whole split)"),
    ("--test-limit", "test_limit", lambda v: v >= 0, ">= 0 (0 = the whole split)"),
    ("--scale-lr", "scale_lr", lambda v: _finite(v) and v >= 0, "a finite number >= 0 (0 = frozen)"),
    ("--label-smoothing", "label_smoothing", lambda v: _finite(v) and 0 <= v < 1, "in [0, 1)"),
    ("--keep-channels", "keep_channels", lambda v: v >= 0, ">= 0 (0 = off)"),
    ("--nonzero-floor", "nonzero_floor", lambda v: _finite(v) and 0 <= v <= 1, "in [0, 1] (0 = off)"),
    ("--seed", "seed", lambda v: 0 <= v < 2 ** 63, "in 0..2^63-1"),
    ("--threads", "threads", lambda v: v >= 0, ">= 0 (0 = torch's default)"),
]


def number_problem(cfg, world_size: int = 1) -> str | None:
    for opt, field, ok, what in RANGES:
        v = getattr(cfg, field)
        if not ok(v):
            return f"{opt} {v}: must be {what}"
    if cfg.batch < world_size:
        return f"--batch {cfg.batch}: must be >= the number of processes ({world_size})"
    if cfg.batch_joint < 0 or 0 < cfg.batch_joint < world_size:
        return f"--batch-joint {cfg.batch_joint}: must be 0 (= --batch) or >= the number of processes ({world_size})"
    return None


HIGH_TARGET = 0.95   # above this, the deployed count alone misses its target (docs/training.md, the curve)


def target_advice(cfg) -> str | None:
    """A note (not an error) for a target the default settings are known to miss: above 95 % a target counted on
    the deployed shapes keeps emptying channels, and only the non-zero floor holds it back."""
    if cfg.target_sparsity > HIGH_TARGET and cfg.sparsity_count == "deployed" and cfg.keep_channels == 0:
        return (f"--target-sparsity {cfg.target_sparsity} counted on the deployed shapes: above {HIGH_TARGET:.0%} "
                "this loses accuracy and misses the target as channels empty; add --keep-channels 3 to reach it "
                "counted both ways, or --sparsity-count nominal (docs/training.md, the accuracy-sparsity curve)")
    return None


def model_problem(layers, cfg) -> str | None:
    """The model's input and classes against the data set's, and a lower bound of the training memory
    against what this machine has."""
    first, last = layers[0], layers[-1]
    want = FRAME_SHAPES[cfg.dataset]
    got = (first.ci, first.h, first.w)
    if got != want:
        return (f"--model {cfg.model}: takes {'x'.join(map(str, got))} input, {cfg.dataset} frames are "
                f"{'x'.join(map(str, want))}")
    if last.co != NUM_CLASSES[cfg.dataset]:
        return f"--model {cfg.model}: has {last.co} outputs, {cfg.dataset} has {NUM_CLASSES[cfg.dataset]} classes"
    if cfg.device == "cpu":
        need = training_bytes_lower_bound(layers, max(cfg.batch, cfg.batch_joint), cfg.timesteps)
        have = available_memory()
        if have is not None and need > have:
            return (f"--model {cfg.model}: training needs at least {need / 2 ** 30:.1f} GiB (weights, gradients, "
                    f"optimizer state, batch {cfg.batch} x T {cfg.timesteps} activations), this machine has "
                    f"{have / 2 ** 30:.1f} GiB available: use a smaller model or --batch")
    return None


def training_bytes_lower_bound(layers, batch: int, timesteps: int) -> int:
    """float32 weights + gradients + AdamW's two moments, and one saved activation map per layer and
    timestep: what training needs at the very least (the real figure is higher)."""
    weights = sum(l.co * l.fan_in for l in layers)
    neurons = sum(l.co * l.conv_h * l.conv_w for l in layers)
    return 4 * (4 * weights + batch * timesteps * neurons)


def available_memory() -> int | None:
    """MemAvailable + SwapFree from /proc/meminfo (bytes), or None where there is none."""
    try:
        info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
        return sum(int(info[k].split()[0]) * 1024 for k in ("MemAvailable", "SwapFree") if k in info)
    except (OSError, ValueError, KeyError):
        return None


def default_out(dataset: str, name: str) -> Path:
    """A fresh run folder runs/<dataset>-<model>-<UTC time> (a suffix if that exists already)."""
    base = Path("runs") / f"{dataset}-{name}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    out, k = base, 1
    while out.exists():
        k += 1
        out = base.with_name(f"{base.name}-{k}")
    return out


def _git_tracked(folder: Path, names) -> list[str]:
    try:
        r = subprocess.run(["git", "-C", str(folder), "ls-files", "--", *names], capture_output=True, text=True,
                           timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    return r.stdout.split() if r.returncode == 0 else []


def out_problem(out: Path, force: bool) -> str | None:
    """None if the run may write into `out`. Refused without --force: a folder holding outputs that no
    checkpoint of a run explains (another run's finished folder, a committed model), and committed files."""
    why = folder_problem(out)
    if why:
        return f"--out {why}"
    if force or not out.is_dir():
        return None
    found = [n for n in OUTPUTS if (out / n).exists()]
    if not found:
        return None
    if not (out / "checkpoint.pt").is_file():
        return (f"--out {out} already holds {', '.join(found)}, not written by a run that could resume here "
                "(no checkpoint.pt): choose another --out, or --force to overwrite")
    tracked = _git_tracked(out, found)
    if tracked:
        return (f"--out {out}: {', '.join(tracked)} committed to git would be overwritten: choose another --out, "
                "or --force")
    return None


def read_checkpoint(path: Path) -> dict:
    """The checkpoint's state dict; a damaged or foreign file is a CLIError naming it, with --fresh."""
    import torch
    try:
        st = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:                    # torch/pickle/zip raise many types for a damaged file
        why = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
        raise CLIError(f"{path}: damaged checkpoint ({type(e).__name__}: {why}); {FRESH_HINT}") from None
    if (not isinstance(st, dict) or not CHECKPOINT_KEYS <= set(st) or st["phase"] not in ("float", "joint")
            or not isinstance(st["config"], dict)):
        raise CLIError(f"{path}: not a checkpoint of sw/training/run.py; {FRESH_HINT}")
    return st


def is_out_of_memory(e: BaseException) -> bool:
    if isinstance(e, MemoryError):
        return True
    import torch
    if isinstance(e, getattr(torch, "OutOfMemoryError", ())):
        return True
    msg = str(e)
    return isinstance(e, RuntimeError) and ("can't allocate memory" in msg or "out of memory" in msg.lower())
