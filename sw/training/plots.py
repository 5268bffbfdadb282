"""PNG plots of a training run (matplotlib, Agg backend)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def curves(history, path):
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
    x = list(range(1, len(history) + 1))
    ax[0].plot(x, [100 * h["train_acc"] for h in history], "o-", label="train")
    split = "val" if history and "val_acc" in history[0] else "test"
    ax[0].plot(x, [100 * h[f"{split}_acc"] for h in history], "s-", label=split)
    ax[0].set(xlabel="epoch (float, then joint)", ylabel="accuracy (%)", title="accuracy")
    ax[1].plot(x, [100 * h["sparsity"] for h in history], "o-", color="C2", label="nominal shapes")
    dep = [(i, 100 * h["sparsity_deployed_shapes"]) for i, h in zip(x, history)
           if h.get("sparsity_deployed_shapes") is not None]
    if dep:
        ax[1].plot(*zip(*dep), "s--", color="C3", label="deployed shapes (after channel removal)")
        ax[1].legend()
    ax[1].set(xlabel="epoch (float, then joint)", ylabel="weight sparsity (%)",
              title="weight sparsity (w_int == 0)")
    nf = sum(h["phase"] == "float" for h in history)
    for a in ax:
        if 0 < nf < len(history):
            a.axvline(nf + 0.5, color="gray", ls="--", lw=0.8)
        a.grid(alpha=0.3)
    ax[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def layers(names, sparsity, density, path):
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
    ax[0].bar(range(len(sparsity)), [100 * s for s in sparsity], color="C2")
    ax[0].set(xticks=range(len(names)), ylabel="weight sparsity (%)", title="per-layer weight sparsity")
    ax[0].set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax[1].bar(range(len(density)), [100 * d for d in density], color="C1")
    ax[1].set(xticks=range(len(density)), ylabel="spike density (%)", title="per-layer output spike density")
    ax[1].set_xticklabels(names[:len(density)], rotation=30, ha="right", fontsize=8)
    for a in ax:
        a.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_all(out_dir, history, names, sparsity, density):
    out = Path(out_dir)
    curves(history, out / "training_curves.png")
    layers(names, sparsity, density, out / "layers.png")
