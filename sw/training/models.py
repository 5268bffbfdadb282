"""FireFly-S SNNs built from the paper's notation (sw.topology.parse): multi-step [T, N, ...] tensors.

Each compute layer holds Grad R parameters (theta, sign0) for weight and bias, a float threshold per
output channel, and the LSQ scale per output channel (the readout has a single scale, so that the
integer argmax equals the float one). `integer=True` switches the forward pass to the deployed integer
arithmetic (exactly that of sw.golden); `integer=False` is the dense float model.

Layout: torch weights are [co, ci, kh, kw]; an fc layer keeps its weight as [co, ci, h, w] too (applied
as a linear map over the NCHW flatten), so that export is one permute(0, 2, 3, 1) for every layer.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import spec
from ..topology import CONV, LayerShape, parse
from . import gradrewiring as gr
from . import lsq
from .neuron import IntLIFNode


NEURONS = {"lif": True, "if": False}     # --neuron name -> the layer's leak flag (docs/spec.md section 5)


def neuron_leaks(spec_text: str, n_firing: int) -> list[bool]:
    """Leak flag of each firing layer from a --neuron spec: 'lif' or 'if' for every firing layer, or a
    comma-separated list with one of them per firing layer (e.g. 'if,lif,lif,lif,lif'). Raises ValueError."""
    items = [t.strip().lower() for t in spec_text.split(",")]
    bad = [t for t in items if t not in NEURONS]
    if bad:
        raise ValueError(f"neuron {spec_text!r}: {bad[0]!r} is not one of {', '.join(NEURONS)}")
    if len(items) == 1:
        items = items * n_firing
    if len(items) != n_firing:
        raise ValueError(f"neuron {spec_text!r}: {len(items)} entries for {n_firing} firing layers "
                         "(one per conv/fc layer before the readout, or one for all)")
    return [NEURONS[t] for t in items]


class SpikingLayer(nn.Module):
    def __init__(self, shape: LayerShape, in_scale: float = 1.0, surrogate_alpha: float = 4.0):
        super().__init__()
        self.shape = shape
        self.in_scale = in_scale     # layer 0 sees integer pixels q; theta is stored in units of 1/in_scale
        w = torch.empty(shape.co, shape.ci, shape.kh, shape.kw)
        nn.init.kaiming_normal_(w, nonlinearity="relu")
        b = torch.empty(shape.co).uniform_(-1, 1) / math.sqrt(shape.fan_in)
        tw, sw = gr.split(w)
        tb, sb = gr.split(b)
        self.theta_w, self.theta_b = nn.Parameter(tw), nn.Parameter(tb)
        self.register_buffer("sign_w", sw)
        self.register_buffer("sign_b", sb)
        self.vth = nn.Parameter(torch.ones(shape.co))
        self.scale = nn.Parameter(torch.ones(1 if shape.readout else shape.co))
        self.node = None if shape.readout else IntLIFNode(leak=shape.leak, alpha=surrogate_alpha)
        self.free_sign = False       # float phase with --float-signs free: w = sign0 * theta, no ReLU
        self.bn = None               # float phase with --float-bn: BatchNorm of the current, folded at the joint start

    # ------------------------------------------------------------------ parameters
    def _effective(self, theta, sign):
        return sign * theta if self.free_sign else gr.effective(theta, sign)

    def weight(self):
        return self._effective(self.theta_w, self.sign_w) * self.in_scale

    def bias(self):
        return self._effective(self.theta_b, self.sign_b)

    @torch.no_grad()
    def fix_signs(self):
        """Leave the free-sign parametrization: sign0 := the sign of w, theta := |theta|, so that
        sign0 * ReLU(theta) is the same w and Grad R continues from it with these signs fixed."""
        for theta, sign in ((self.theta_w, self.sign_w), (self.theta_b, self.sign_b)):
            t, s = gr.split(sign * theta)
            theta.copy_(t)
            sign.copy_(s)
        self.free_sign = False

    @torch.no_grad()
    def fold_bn(self):
        """Fold the eval-mode BatchNorm into the weights and bias and drop it: with k = gamma / sqrt(var + eps)
        per output channel, w := k w (theta := |k| theta, sign0 := sign(k) sign0, so that pruned weights stay
        pruned) and b := k (b - mean) + beta. The current, and so the float model, is unchanged."""
        bn = self.bn
        if bn is None:
            return
        k = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        b = k * (self.bias() - bn.running_mean) + bn.bias
        mag, sign = gr.split(k.view(-1, *[1] * (self.theta_w.dim() - 1)))
        self.theta_w.mul_(mag)
        self.sign_w.mul_(sign)
        t, sg = gr.split(b)          # |b|, sign(b): the same b under either sign parametrization
        self.theta_b.copy_(t)
        self.sign_b.copy_(sg)
        self.bn = None

    def lsq_factor(self) -> float:
        """LSQ's gradient scale 1 / sqrt(n Qp) for this layer's scale (n: weights per scale)."""
        return lsq.lsq_grad_factor(self.theta_w[0].numel() * (self.shape.co if self.shape.readout else 1))

    def float_scale(self, whole: bool) -> torch.Tensor:
        """|scale| where the integer model's values meet float units (the surrogate's input, the logits).
        whole: with LSQ's gradient scale, as in `quantize`, so that the scale's whole gradient is scaled
        alike (LSQ); else with the full gradient, as the committed models were trained."""
        return lsq.grad_scale(self.scale.abs(), self.lsq_factor()) if whole else self.scale.abs()

    def integer_params(self):
        """(w_int, b_int, vth_int) with STE gradients."""
        w_int, b_int, v_int = lsq.quantize(self.weight(), self.bias(), None if self.shape.readout else self.vth,
                                           self.scale, self.lsq_factor())
        if v_int is None:
            v_int = torch.zeros_like(b_int)
        return w_int, b_int, v_int

    @torch.no_grad()
    def init_scale(self):
        w = self.weight()
        s = lsq.init_scale(w)
        self.scale.copy_(s.max().view(1) if self.shape.readout else s)

    # ------------------------------------------------------------------ compute
    def current(self, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """x [B, ci, h, w] -> I [B, co, Hc, Wc] (fc: [B, co])."""
        s = self.shape
        if s.kind == CONV:
            return F.conv2d(x, w, b, stride=s.stride, padding=s.pad)
        return F.linear(x.reshape(x.shape[0], -1), w.reshape(s.co, -1), b)


class SpikingNet(nn.Module):
    """Multi-step SNN. forward(x) with x static [N, C, H, W] k-bit integers (as float) or temporal
    [T, N, C, H, W] binary. Returns (logits [N, classes] float, acc [N, classes] = sum_t I_t)."""

    def __init__(self, notation: str, timesteps: int = 4, in_bits: int = 8, in_kind: int = spec.IN_STATIC,
                 leak: bool | Sequence[bool] = True, surrogate_alpha: float = 4.0):
        """leak: one flag for every firing layer, or one per firing layer (`neuron_leaks`); the readout
        takes the last firing layer's (it does not fire, so the flag only labels it)."""
        super().__init__()
        self.notation = notation
        shapes = parse(notation)
        leaks = [leak] * (len(shapes) - 1) if isinstance(leak, bool) else list(leak)
        if len(leaks) != len(shapes) - 1:
            raise ValueError(f"{len(leaks)} leak flags for {len(shapes) - 1} firing layers")
        self.shapes = tuple(replace(s, leak=bool(k)) for s, k in zip(shapes, leaks + leaks[-1:]))
        self.timesteps, self.in_bits, self.in_kind = timesteps, in_bits, in_kind
        x_max = (1 << in_bits) - 1 if in_kind == spec.IN_STATIC else 1
        self.layers = nn.ModuleList(
            SpikingLayer(s, 1.0 / x_max if i == 0 else 1.0, surrogate_alpha) for i, s in enumerate(self.shapes))
        self.integer = False
        self.register_parameter("logit_scale", None)   # set_logit_scale(): the logits' own scale (joint phase)
        self.whole_lsq_grad = False  # --lsq-grad whole: LSQ's gradient scale on every use of a scale (float_scale)
        self.step_logits = None      # [T, N, classes] per-timestep readout logits of the last forward

    @property
    def device(self) -> torch.device:
        return self.layers[0].theta_w.device

    def prunable(self):
        return [p for l in self.layers for p in (l.theta_w, l.theta_b)]

    def set_free_signs(self, on: bool = True):
        """on: dense float training with free signs (w = sign0 * theta); off: back to Grad R's fixed signs,
        taken from the current weights (`SpikingLayer.fix_signs`)."""
        for l in self.layers:
            if on:
                l.free_sign = True
            elif l.free_sign:
                l.fix_signs()

    def set_bn(self, on: bool = True):
        """on: a BatchNorm (batch statistics over T and N, like tdBN) after every firing layer's current, for the
        dense float phase; off: fold each into its layer (`SpikingLayer.fold_bn`). Integer mode never has one."""
        for l in self.layers:
            if on and not l.shape.readout and l.bn is None:
                bn = nn.BatchNorm2d(l.shape.co) if l.shape.kind == CONV else nn.BatchNorm1d(l.shape.co)
                l.bn = bn.to(self.device)
            elif not on:
                l.fold_bn()

    def bn_parameters(self):
        return [p for l in self.layers if l.bn is not None for p in l.bn.parameters()]

    @torch.no_grad()
    def set_logit_scale(self):
        """Give the integer-mode logits their own learned scale, initialized to the readout's LSQ scale (so the
        logits start unchanged): logits = |logit_scale| acc / T. The readout's scale then sets only its
        quantization grid; by default it is also the softmax temperature, which the loss pulls up. The
        integer argmax, and so the deployed model, do not depend on it."""
        if self.logit_scale is None:
            self.logit_scale = nn.Parameter(self.layers[-1].scale.detach().abs().clone())

    def logits_scale(self) -> torch.Tensor:
        """Integer mode: logits = this * acc / T (the logits' own scale, else the readout's LSQ scale)."""
        return self.logit_scale.abs() if self.logit_scale is not None else self.layers[-1].float_scale(
            self.whole_lsq_grad)

    def set_integer(self, on: bool = True):
        if on and not self.integer:
            self.set_bn(False)
            for l in self.layers:
                l.init_scale()
        self.integer = on

    def forward(self, x: torch.Tensor, record: bool = False):
        T = self.timesteps
        rec = {"currents": [], "membranes": [], "spikes": []} if record else None
        static = self.in_kind == spec.IN_STATIC
        n = x.shape[0] if static else x.shape[1]
        for i, l in enumerate(self.layers):
            if self.integer:
                w, b, vth = l.integer_params()
            else:
                w, b, vth = l.weight(), l.bias(), l.vth
            once = i == 0 and static                          # static input: one current for every step
            cur = l.current(x if once else x.flatten(0, 1), w, b)
            if l.bn is not None:                              # float phase only: set_integer folds it
                cur = l.bn(cur)
            cur = cur.unsqueeze(0).expand(T, *cur.shape) if once else cur.view(T, n, *cur.shape[1:])
            if l.shape.readout:
                acc = cur.sum(0)
                scale = self.logits_scale() if self.integer else 1.0
                if rec is not None:
                    rec["currents"].append(cur)
                    rec["membranes"].append(torch.cumsum(cur, 0))
                    rec["spikes"].append(None)
                logits = acc * scale / T
                self.step_logits = cur * scale                 # mean over T == logits (TET loss)
                return (logits, acc, rec) if record else (logits, acc)
            spikes, mems = l.node(cur, vth, l.float_scale(self.whole_lsq_grad) if self.integer else None,
                                  self.integer, record)
            if l.shape.pool:
                spikes = F.max_pool2d(spikes.flatten(0, 1), 2).view(T, n, l.shape.co, l.shape.ho, l.shape.wo)
            if rec is not None:
                rec["currents"].append(cur)
                rec["membranes"].append(mems)
                rec["spikes"].append(spikes)
            x = spikes
        raise AssertionError("unreachable: the last layer is the readout")

    # ------------------------------------------------------------------ statistics
    @torch.no_grad()
    def weight_sparsity(self):
        """Per-layer fraction of zero weights as deployed (integer mode: w_int == 0; float: w == 0)."""
        out = []
        for l in self.layers:
            w = l.integer_params()[0] if self.integer else l.weight()
            out.append(float((w == 0).float().mean()))
        return out

    @torch.no_grad()
    def overall_sparsity(self, per_layer=None):
        """Fraction of zero weights over all layers; `per_layer` = a `weight_sparsity()` result to reuse."""
        tot = sum(l.theta_w.numel() for l in self.layers)
        per_layer = self.weight_sparsity() if per_layer is None else per_layer
        return sum(sp * l.theta_w.numel() for sp, l in zip(per_layer, self.layers)) / tot

    @torch.no_grad()
    def calibrate(self, x: torch.Tensor, quantile: float = 0.8):
        """Data-driven init (no BN): layer by layer, rescale theta so that the `quantile` of the layer's
        input current is 1 (= the float threshold), LIF and IF layers alike. (Calibrating an IF layer to
        1/2, so that its first step fires what a LIF layer's would, trained a worse model: docs/training.md,
        "IF neurons".)"""
        was = self.integer
        self.integer = False
        for i, l in enumerate(self.layers):
            _, _, rec = self.forward(x, record=True)
            cur = rec["currents"][i]
            q = float(torch.quantile(cur.flatten()[:1_000_000].float(), quantile)) if not l.shape.readout \
                else float(cur.std()) * 0.5
            if q > 1e-6:
                l.theta_w.div_(q)
                l.theta_b.div_(q)
        self.integer = was


def build(model: str, timesteps: int = 4, in_bits: int = 8, in_kind: int = spec.IN_STATIC, **kw) -> SpikingNet:
    return SpikingNet(model, timesteps, in_bits, in_kind, **kw)
