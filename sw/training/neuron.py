"""The LIF neuron of docs/spec.md as a spikingjelly multi-step node.

Integer mode (the deployed semantics, exact): H = floor((V + I) / 2) (or V + I without leak),
spike iff H > Vth (strict), V = 0 on a spike else H, V starts at 0. Values are integers held in float
tensors; floor uses a straight-through gradient. The surrogate (spikingjelly.activation_based.surrogate)
sees u = s * (H - Vth - 1/2): its Heaviside forward (u >= 0) is exactly H > Vth for integers, and the
factor s (the channel's LSQ scale) puts the surrogate in float units, so its width is relative to a
float threshold of order 1.

Float mode (dense pretraining): H = (V + I) / 2, u = H - Vth.
"""
from __future__ import annotations

import torch
from spikingjelly.activation_based import neuron, surrogate

from .lsq import floor_ste


class IntLIFNode(neuron.BaseNode):
    def __init__(self, leak: bool = True, alpha: float = 4.0, detach_reset: bool = True):
        super().__init__(v_threshold=1.0, v_reset=0.0, surrogate_function=surrogate.Sigmoid(alpha=alpha),
                         detach_reset=detach_reset, step_mode="m")
        self.leak = leak

    def multi_step_forward(self, cur: torch.Tensor, vth: torch.Tensor, scale: torch.Tensor | None,
                           integer: bool, record: bool = False):
        """cur [T, N, C, ...] -> (spikes [T, N, C, ...], membranes after each step or None).
        vth [C] (integer-valued in integer mode); scale [C] (integer mode only)."""
        view = (-1,) + (1,) * (cur.dim() - 3)
        vth = vth.view(view)
        sc = scale.view(view) if integer else None
        v = torch.zeros_like(cur[0])
        spikes, mems = [], []
        for t in range(cur.shape[0]):
            x = v + cur[t]
            if self.leak:
                h = floor_ste(x * 0.5) if integer else x * 0.5
            else:
                h = x
            u = (h - vth - 0.5) * sc if integer else h - vth
            s = self.surrogate_function(u)
            keep = 1.0 - (s.detach() if self.detach_reset else s)
            v = h * keep
            spikes.append(s)
            if record:
                mems.append(v)
        self.v = v
        return torch.stack(spikes), (torch.stack(mems) if record else None)

    def forward(self, *args, **kwargs):
        return self.multi_step_forward(*args, **kwargs)
