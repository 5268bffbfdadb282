"""A strong float teacher for distillation: a small conventional CNN (ReLU, BatchNorm, no spikes, no
quantization) trained on exactly the frames the SNN trains on.

`--distill` without `--teacher` distills from the SNN's own dense float model, which is no better than
what the pruned 4-bit network reaches (docs/training.md). This module trains a teacher that is: on MNIST
about a point above the SNN's float model. It only ever sees the run's training split, so with
`--val-split N` the validation frames stay unseen and the comparison stays honest.

    python -m sw.training.teacher --dataset mnist --val-split 5000 --out build/teacher/mnist-val5000.pt
    python sw/training/run.py --val-split 5000 --distill 0.5 --teacher build/teacher/mnist-val5000.pt

The file records the data set, the split and a digest of the training labels; `load` refuses a teacher
made for other training frames.
"""
from __future__ import annotations

import argparse
import hashlib
import math
import sys
import time
from pathlib import Path

if __package__ in (None, ""):                      # run as a script: make `sw` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from sw import spec  # noqa: E402
from sw.training.augment import augment  # noqa: E402

FORMAT = "firefly-s teacher 2"             # 2: the input is given by its bits, not x_max


class TeacherError(ValueError):
    """A teacher file that cannot be used for this run (one line)."""


class TeacherCNN(nn.Module):
    """[B, C, H, W] integer pixels (q of `bits`-bit input, the SNN's own input) -> logits [B, classes].
    Two blocks of conv3-BN-ReLU x2 + max-pool, then a 256-wide hidden layer with dropout."""

    def __init__(self, channels: int, height: int, width: int, classes: int, bits: int, width_mult: int = 16):
        super().__init__()
        self.shape = dict(channels=channels, height=height, width=width, classes=classes, bits=bits,
                          width_mult=width_mult)
        self.bits = bits
        self.x_max = float((1 << bits) - 1)
        c1, c2 = width_mult, 2 * width_mult

        def block(ci, co):
            return [nn.Conv2d(ci, co, 3, padding=1, bias=False), nn.BatchNorm2d(co), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(*block(channels, c1), *block(c1, c1), nn.MaxPool2d(2),
                                      *block(c1, c2), *block(c2, c2), nn.MaxPool2d(2))
        flat = c2 * (height // 4) * (width // 4)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(flat, 256), nn.ReLU(inplace=True), nn.Dropout(0.3),
                                  nn.Linear(256, classes))

    def forward(self, x: torch.Tensor):
        """(logits, None): the SNN's call signature, so the trainer's distillation treats both alike."""
        return self.head(self.features(x / self.x_max)), None


def labels_digest(y: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(y, dtype=np.int64).tobytes()).hexdigest()[:16]


@torch.no_grad()
def accuracy(net: TeacherCNN, x: np.ndarray, y: np.ndarray, batch: int = 1000) -> float:
    net.eval()
    ok = 0
    for a in range(0, len(x), batch):
        xb = torch.from_numpy(quantized(x[a:a + batch], net.bits))
        ok += int((net(xb)[0].argmax(1).numpy() == y[a:a + batch]).sum())
    return ok / max(len(x), 1)


def quantized(frames: np.ndarray, bits: int) -> np.ndarray:
    """uint8 frames -> the SNN's integer input q (docs/spec.md section 8), as float32."""
    return spec.quantize_input(frames, bits).astype(np.float32)


def train(x: np.ndarray, y: np.ndarray, classes: int, bits: int, epochs: int = 6, batch: int = 128,
          lr: float = 2e-3, shift: int = 2, seed: int = 0, log=print, progress: bool = False,
          x_eval: np.ndarray | None = None, y_eval: np.ndarray | None = None) -> TeacherCNN:
    """Adam with a cosine learning rate, random shifts of up to `shift` pixels; static frames [N, C, H, W]."""
    if x.ndim != 4:
        raise TeacherError(f"the teacher takes static frames [N, C, H, W], got shape {x.shape}")
    torch.manual_seed(seed)
    net = TeacherCNN(x.shape[1], x.shape[2], x.shape[3], classes, bits)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    steps = epochs * (len(x) // batch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 0.5 * (1 + math.cos(math.pi * min(i / steps, 1))))
    for ep in range(epochs):
        net.train()
        rng = np.random.default_rng([seed, 31, ep])
        perm = rng.permutation(len(x))
        t0, tot, n = time.time(), 0.0, 0
        it = range(0, len(x) - batch + 1, batch)
        if progress:
            from tqdm import tqdm
            it = tqdm(it, desc=f"teacher {ep + 1}/{epochs}", unit="batch", dynamic_ncols=True, mininterval=1.0)
        for a in it:
            idx = perm[a:a + batch]
            frames = augment(x[idx], rng, shift) if shift else x[idx]
            xb, yb = torch.from_numpy(quantized(frames, bits)), torch.from_numpy(y[idx].astype(np.int64))
            loss = F.cross_entropy(net(xb)[0], yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot, n = tot + loss.item() * len(idx), n + len(idx)
        msg = f"[teacher epoch {ep + 1}] loss {tot / max(n, 1):.4f}"
        if x_eval is not None:
            msg += f" eval {100 * accuracy(net, x_eval, y_eval):.2f}%"
        log(msg + f" ({time.time() - t0:.0f} s)")
    return net.eval()


def save(net: TeacherCNN, path: str | Path, meta: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": FORMAT, "shape": net.shape, "state": net.state_dict(), "meta": meta}, tmp)
    tmp.replace(path)


def load(path: str | Path, dataset: str, val_split: int, y_train: np.ndarray) -> tuple[TeacherCNN, dict]:
    """The teacher in `path`, in eval mode, checked against the run's data set and training frames."""
    try:
        st = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:                      # missing, truncated, not a torch file at all
        raise TeacherError(f"--teacher {path}: cannot read it ({e.__class__.__name__}: {e})") from None
    if not isinstance(st, dict) or st.get("format") != FORMAT:
        raise TeacherError(f"--teacher {path}: not a teacher file (python -m sw.training.teacher writes them)")
    meta = st["meta"]
    want = {"dataset": dataset, "val_split": val_split, "train_frames": len(y_train),
            "train_labels": labels_digest(y_train)}
    for k, v in want.items():
        if meta.get(k) != v:
            raise TeacherError(f"--teacher {path}: trained with {k} {meta.get(k)!r}, this run has {v!r} "
                               "(a teacher must train on exactly the run's training frames)")
    net = TeacherCNN(**st["shape"])
    net.load_state_dict(st["state"])
    return net.eval().requires_grad_(False), meta


def main(argv=None) -> int:
    from sw.training.config import Config, load_data
    ap = argparse.ArgumentParser(prog="python -m sw.training.teacher", description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist", "cifar10"])
    ap.add_argument("--val-split", type=int, default=0, help="hold out the same N frames as run.py --val-split")
    ap.add_argument("--bits", type=int, default=Config.bits, help="input bits, as run.py --bits")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--shift", type=int, default=2, help="augmentation: random shifts up to this many pixels")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--data-root", default="")
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    if a.epochs < 1 or not 1 <= a.bits <= 8 or a.val_split < 0:
        ap.error("--epochs must be >= 1, --bits 1..8, --val-split >= 0")
    if a.threads:
        torch.set_num_threads(a.threads)
    data = load_data(Config(dataset=a.dataset, val_split=a.val_split, data_root=a.data_root))
    t0 = time.time()
    net = train(data.x_train, data.y_train, data.num_classes, a.bits, a.epochs, shift=a.shift, seed=a.seed,
                progress=not a.no_progress, x_eval=data.x_test, y_eval=data.y_test)
    acc = accuracy(net, data.x_test, data.y_test)
    meta = {"dataset": a.dataset, "val_split": a.val_split, "train_frames": len(data.y_train),
            "train_labels": labels_digest(data.y_train), "eval_split": data.eval_split, "eval_acc": acc,
            "epochs": a.epochs, "shift": a.shift, "seed": a.seed, "bits": a.bits,
            "seconds": time.time() - t0, "command": " ".join(["python -m sw.training.teacher"] + sys.argv[1:])}
    save(net, a.out, meta)
    print(f"teacher: {data.eval_split} {100 * acc:.2f}% after {a.epochs} epochs ({meta['seconds'] / 60:.1f} min); "
          f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
