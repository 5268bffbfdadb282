"""Gradient Rewiring (Grad R, Chen et al., IJCAI 2021) as used by FireFly-S.

Each prunable tensor (conv/fc weights and biases) is w = sign0 * ReLU(theta) with sign0 the fixed sign of
the initial value. The gradient is *rewired*: dL/dtheta = sign0 * dL/dw even where theta < 0, so pruned
synapses keep receiving the loss gradient and may regrow. A Laplace prior on theta adds
-alpha * sign(theta - mu) to theta's update with mu = ln(2 (1 - target_sparsity)) / alpha (the public
Grad R code), which makes a fraction `target_sparsity` of the prior mass negative, i.e. pruned. FireFly-S
uses AdamW (decoupled weight decay on theta). The prior step is applied decoupled, like AdamW's decay:
theta -= lr * strength * sign(theta - mu), where `strength` (the prior's weight relative to the
mean-reduced data loss) is adapted by `SparsityController` so the deployed sparsity follows a ramp to the
target (the paper gives no hyperparameters; see docs/training.md).
"""
from __future__ import annotations

import math

import torch


class _SignReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, theta, sign):
        ctx.save_for_backward(sign)
        return sign * torch.relu(theta)

    @staticmethod
    def backward(ctx, grad):
        (sign,) = ctx.saved_tensors
        return grad * sign, None        # rewired: no ReLU mask, so pruned synapses can regrow


def effective(theta: torch.Tensor, sign: torch.Tensor) -> torch.Tensor:
    """w = sign0 * ReLU(theta), with the rewired gradient."""
    return _SignReLU.apply(theta, sign)


def split(w: torch.Tensor):
    """(theta, sign0) for an initial tensor w: theta = |w|, sign0 = sign(w) with sign(0) = +1."""
    sign = torch.where(w < 0, -torch.ones_like(w), torch.ones_like(w))
    return w.abs().clone(), sign


def prior_mu(alpha: float, target_sparsity: float) -> float:
    if not 0.0 <= target_sparsity < 1.0:
        raise ValueError(f"target sparsity {target_sparsity}: must be in [0, 1)")
    return math.log(2.0 * (1.0 - target_sparsity)) / alpha if target_sparsity > 0.5 else 0.0


@torch.no_grad()
def prior_step(thetas, lr: float, strength: float, mu: float) -> None:
    """theta <- theta - lr * strength * sign(theta - mu) for every prunable theta."""
    if strength <= 0:
        return
    for th in thetas:
        th.sub_(lr * strength * torch.sign(th - mu))


class SparsityController:
    """Adapts the prior strength so that the measured sparsity tracks target * min(1, step / ramp)."""

    def __init__(self, target: float, ramp_steps: int, strength: float = 0.1, gain: float = 1.05,
                 max_strength: float | None = None):
        self.target, self.ramp_steps = target, max(ramp_steps, 1)
        # bounded: an unbounded multiplicative controller winds up while sparsity lags the ramp and then
        # prunes in bursts (seen as a train-accuracy collapse mid-run); 20x the initial strength is enough
        # for the ramp and keeps each step's prior push small
        self.strength, self.gain = strength, gain
        self.max_strength = 20.0 * strength if max_strength is None else max_strength

    def goal(self, step: int) -> float:
        r = min(1.0, step / self.ramp_steps)
        return self.target * (1 - (1 - r) ** 3)          # cubic ramp (Zhu & Gupta style)

    def update(self, step: int, sparsity: float) -> float:
        if self.target <= 0:
            self.strength = 0.0
        elif sparsity < self.goal(step):
            self.strength = min(self.strength * self.gain, self.max_strength)
        else:
            self.strength = max(self.strength / self.gain, 1e-4)
        return self.strength

    def state_dict(self):
        return {"strength": self.strength}

    def load_state_dict(self, d):
        self.strength = float(d["strength"])
