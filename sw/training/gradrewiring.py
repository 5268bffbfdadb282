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
from dataclasses import dataclass
from typing import Sequence

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
def prior_step(thetas, lr: float, strength: float, mu: float, keep: int = 0, bias: bool = True) -> None:
    """theta <- theta - lr * strength * sign(theta - mu) for every prunable theta; `thetas` holds
    (weight, bias) pairs (any prunable tensors while keep is 0 and bias is True).

    keep > 0: an output channel with at most `keep` weights left (theta > 0) is exempt, weights and bias,
    so the prior alone never silences a channel (the data term still may). bias False: the prior leaves
    every bias alone (the sparsity counts weights only)."""
    if strength <= 0:
        return
    step = lr * strength
    if not keep and bias:
        for th in thetas:
            th.sub_(step * torch.sign(th - mu))
        return
    for tw, tb in zip(thetas[0::2], thetas[1::2]):
        spare = ((tw > 0).flatten(1).sum(1) > keep).to(tw.dtype) if keep else torch.ones_like(tb)
        tw.sub_(step * torch.sign(tw - mu) * spare.view(-1, *[1] * (tw.dim() - 1)))
        if bias:
            tb.sub_(step * torch.sign(tb - mu) * spare)


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


def layer_targets(spec: str, sizes: Sequence[int], overall: float) -> list[float]:
    """Per-layer target sparsities from `spec`: one comma-separated entry per layer, each a fraction in
    [0, 1) or '*'. The '*' layers share one sparsity, chosen so that the overall sparsity (weighted by
    each layer's number of weights, as `SpikingNet.overall_sparsity` counts it) equals `overall`."""
    items = [t.strip() for t in spec.split(",")]
    if len(items) != len(sizes):
        raise ValueError(f"layer sparsity {spec!r}: {len(items)} entries for {len(sizes)} layers")
    fixed = {}
    for i, t in enumerate(items):
        if t == "*":
            continue
        try:
            v = float(t)
        except ValueError:
            raise ValueError(f"layer sparsity {spec!r}: entry {i} is {t!r}, not a fraction or '*'") from None
        if not 0.0 <= v < 1.0:
            raise ValueError(f"layer sparsity {spec!r}: entry {i} = {v} is outside [0, 1)")
        fixed[i] = v
    free = [i for i in range(len(sizes)) if i not in fixed]
    if not free:
        raise ValueError(f"layer sparsity {spec!r}: at least one entry must be '*' so that the overall "
                         f"target {overall} can be met")
    zeros = overall * sum(sizes) - sum(v * sizes[i] for i, v in fixed.items())
    s = zeros / sum(sizes[i] for i in free)
    if not 0.0 <= s < 1.0:
        raise ValueError(f"layer sparsity {spec!r}: the '*' layers would need sparsity {s:.4f} to reach "
                         f"{overall} overall; choose other fixed entries")
    return [fixed.get(i, s) for i in range(len(sizes))]


@dataclass
class PriorGroup:
    """Prunable tensors that share one prior (mu) and one controller; `layers` are the layer indices whose
    deployed sparsity the controller tracks (weighted by `sizes`)."""
    thetas: list
    mu: float
    controller: SparsityController
    layers: list[int]
    sizes: list[int]
    exempt: tuple[int, ...] = ()        # layers counted by the controller whose tensors the prior leaves alone

    def sparsity(self, per_layer: Sequence[float], sizes: Sequence[int]) -> float:
        """The group's sparsity from per-layer fractions and weight counts (per layer of the network: the
        nominal or the deployed shapes')."""
        return weighted([per_layer[i] for i in self.layers], [sizes[i] for i in self.layers])

    def below_floor(self, nominal: Sequence[float], step: int, floor: float) -> bool:
        """Whether the group's layers keep fewer non-zero weights than `floor` (1 - goal) times their nominal
        weight count (`nominal`: per-layer sparsity of the nominal shapes, weighted by `self.sizes`), i.e.
        the nominal sparsity exceeds 1 - floor (1 - goal). The deployed count needs this bound: an emptied
        channel leaves the deployed shapes, which lowers their sparsity, so a controller on it may keep
        pushing until the network is gone (docs/training.md, "--nonzero-floor")."""
        if floor <= 0 or self.controller.target <= 0:
            return False
        s = weighted([nominal[i] for i in self.layers], self.sizes)
        return 1.0 - s < floor * (1.0 - self.controller.goal(step))


def weighted(per_layer: Sequence[float], sizes: Sequence[int]) -> float:
    """Overall sparsity from per-layer fractions, weighted by each layer's weight count."""
    return sum(p * n for p, n in zip(per_layer, sizes)) / sum(sizes)


def exempt_layers(spec: str, n_layers: int) -> list[int]:
    """Layer indices from a comma-separated `spec` ('' = none), each in 0..n_layers-1, not all of them."""
    if not spec.strip():
        return []
    out = []
    for t in (t.strip() for t in spec.split(",")):
        if not t.isdigit() or int(t) >= n_layers:
            raise ValueError(f"{spec!r}: entry {t!r} is not a layer index in 0..{n_layers - 1}")
        out.append(int(t))
    if len(set(out)) == n_layers:
        raise ValueError(f"{spec!r}: exempts every layer, so nothing is left to prune")
    return sorted(set(out))


def prior_groups(layers, target: float, alpha: float, ramp_steps: int, strength: float,
                 spec: str = "", exempt: Sequence[int] = (), *, gain: float) -> list[PriorGroup]:
    """One group over every layer (uniform: one mu, one controller on the overall sparsity), or, with a
    `layer_targets` spec, one group per layer with its own target, mu and controller. `exempt` (uniform
    only): layers whose tensors the prior leaves alone; the controller still counts every layer, so the
    others carry the whole target. `gain`: each controller's step factor (`SparsityController`)."""
    sizes = [l.theta_w.numel() for l in layers]
    if spec and exempt:
        raise ValueError("exempt layers go with one uniform target; give a per-layer spec target 0 instead")
    if not spec:
        thetas = [p for i, l in enumerate(layers) if i not in exempt for p in (l.theta_w, l.theta_b)]
        return [PriorGroup(thetas, prior_mu(alpha, target), SparsityController(target, ramp_steps, strength, gain),
                           list(range(len(layers))), sizes, tuple(exempt))]
    return [PriorGroup([l.theta_w, l.theta_b], prior_mu(alpha, t), SparsityController(t, ramp_steps, strength, gain),
                       [i], [n])
            for i, (l, t, n) in enumerate(zip(layers, layer_targets(spec, sizes, target), sizes))]
