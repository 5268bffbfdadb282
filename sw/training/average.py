"""Weight averaging over the end of the joint phase (--ema): exponential moving averages of the 4-bit
model's latent parameters, kept with torch's `AveragedModel`.

The averages start when the sparsity goal has finished its ramp (before it, the mask is still moving
to the target) and are updated after every optimizer step. An average never adds a non-zero: a weight or
bias that the trained model has pruned (theta <= 0, w = 0) keeps the trained model's theta in the
averaged model (`masked`), so the averaged model is at least as sparse as the trained one. Every other
parameter (theta of the kept synapses, thresholds, LSQ scales) is the average; the integer model and
its export follow from them as from any trained model (docs/spec.md).
"""
from __future__ import annotations

import copy

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn


def parse_decays(spec: str) -> list[float]:
    """Decays from a comma-separated `spec` ('' = none), each in (0, 1), no repeats."""
    if not spec.strip():
        return []
    out = []
    for t in (t.strip() for t in spec.split(",")):
        try:
            d = float(t)
        except ValueError:
            raise ValueError(f"{spec!r}: entry {t!r} is not a number") from None
        if not 0.0 < d < 1.0:
            raise ValueError(f"{spec!r}: decay {t} is outside (0, 1)")
        if d in out:
            raise ValueError(f"{spec!r}: decay {t} is given twice")
        out.append(d)
    return out


class WeightAverages:
    """One exponential moving average of `net` per decay (net's parameters and float buffers)."""

    def __init__(self, net, decays: list[float]):
        self.decays = list(decays)
        self.models = [AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(d), use_buffers=True)
                       for d in self.decays]

    def update(self, net) -> None:
        for m in self.models:
            m.update_parameters(net)

    @property
    def updates(self) -> int:
        return int(self.models[0].n_averaged) if self.models else 0

    @torch.no_grad()
    def masked(self, i: int, net):
        """A copy of average i with the trained model's pruning applied: where `net` has theta <= 0 (a
        zero weight or bias), the copy takes net's theta, so it holds no non-zero that net lacks."""
        avg = copy.deepcopy(self.models[i].module)
        avg.integer, avg.whole_lsq_grad = net.integer, net.whole_lsq_grad
        for la, ln in zip(avg.layers, net.layers, strict=True):
            for name in ("theta_w", "theta_b"):
                a, n = getattr(la, name), getattr(ln, name)
                a.copy_(torch.where(n > 0, a, n))
        return avg

    def state_dict(self) -> dict:
        return {"decays": self.decays, "models": [m.state_dict() for m in self.models]}

    def load_state_dict(self, d: dict) -> None:
        if list(d["decays"]) != self.decays:
            raise ValueError(f"checkpoint averages decays {d['decays']}, this run {self.decays}")
        for m, s in zip(self.models, d["models"], strict=True):
            m.load_state_dict(s)
