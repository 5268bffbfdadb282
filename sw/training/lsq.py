"""Modified LSQ (learned step size quantization) for FireFly-S: 4-bit signed weights, and ONE learnable
scale per output channel shared by the weight, the bias and the threshold.

Everything downstream of quantization is computed in the *integer domain*: the forward values are exact
integers (stored in float tensors) and the straight-through estimator (STE) carries the gradients. Since
the neuron compares H > Vth with both sides in units of the same scale s, the scale cancels in the
forward pass; it only sets the quantization grid, which is exactly what LSQ learns.
"""
from __future__ import annotations

import math

import torch

from .. import spec

QN, QP = -spec.W_MIN, spec.W_MAX    # 8, 7
MAX_BIAS = 1 << 24                   # keeps I exactly representable (checked again at export)


def round_ste(x: torch.Tensor) -> torch.Tensor:
    """round() forward, identity backward."""
    return x + (torch.round(x) - x).detach()


def floor_ste(x: torch.Tensor) -> torch.Tensor:
    """floor() forward, identity backward."""
    return x + (torch.floor(x) - x).detach()


def grad_scale(x: torch.Tensor, g: float) -> torch.Tensor:
    """Value x, gradient scaled by g (LSQ's step-size gradient scale)."""
    return (x - x * g).detach() + x * g


def lsq_grad_factor(numel_per_channel: int) -> float:
    return 1.0 / math.sqrt(max(numel_per_channel, 1) * QP)


def init_scale(w: torch.Tensor) -> torch.Tensor:
    """Per-output-channel initial step size for weights w [co, ...]: the larger of LSQ's
    2*mean|w|/sqrt(Qp) and max|w|/Qp-ish coverage, so that few weights saturate."""
    a = w.detach().abs().reshape(w.shape[0], -1)
    s = torch.maximum(2 * a.mean(1) / math.sqrt(QP), a.amax(1) / (QP + 0.5))
    return torch.where(s > 0, s, torch.full_like(s, 1e-3))


def quantize(w: torch.Tensor, b: torch.Tensor, vth: torch.Tensor | None, scale: torch.Tensor, g: float):
    """Integer-valued (w_int, b_int, vth_int) with STE gradients, sharing `scale` [co] (or [1]).

    w_int = clamp(round(w/s), -8, 7); b_int = round(b/s); vth_int = round(max(vth, 0)/s) >= 0.
    """
    s = grad_scale(scale.abs().clamp_min(1e-8), g)
    view = (-1,) + (1,) * (w.dim() - 1)
    w_int = round_ste(torch.clamp(w / s.view(view), -QN, QP))
    s1 = s.expand(w.shape[0])
    b_int = round_ste(torch.clamp(b / s1, -MAX_BIAS, MAX_BIAS))
    v_int = None if vth is None else round_ste(torch.clamp(vth.clamp_min(0) / s1, 0, MAX_BIAS))
    return w_int, b_int, v_int
