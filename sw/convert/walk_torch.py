"""Read a saved torch module of spikingjelly or snnTorch layers into `ir.Op`s, and run it as its own
framework does (the source reference for the agreement check).

The module (a whole pickled `nn.Module`, or a TorchScript file) is walked in the order its children are
registered: containers (`nn.Sequential`, `nn.ModuleList`, spikingjelly's `SeqToANNContainer`, or any
module with children) are entered, leaves are mapped. This is the order of the usual `nn.Sequential`
nets of both frameworks; a custom `forward` that calls its children in another order is not seen.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from .ir import ConvertError, Op, pair

SKIP = (nn.Dropout, nn.Dropout2d, nn.Identity)


def load_module(path) -> nn.Module:
    """The module in `path`; ConvertError (one line) for a missing, damaged or foreign file."""
    p = Path(path)
    if not p.is_file():
        raise ConvertError(f"--torch {path}: no such file")
    data = p.read_bytes()
    if not data:
        raise ConvertError(f"--torch {path}: empty file")
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            scripted = any(n.endswith("/constants.pkl") or n.endswith("/code/__torch__.py") for n in z.namelist())
        if scripted:
            try:
                return torch.jit.load(io.BytesIO(data), map_location="cpu")
            except Exception as e:               # noqa: BLE001 - torch raises many types
                raise ConvertError(f"--torch {path}: unreadable TorchScript file ({type(e).__name__})") from None
    try:
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=False)
    except Exception as e:                       # noqa: BLE001
        why = (str(e).strip().splitlines() or [type(e).__name__])[0][:120]
        raise ConvertError(f"--torch {path}: not a saved torch module ({type(e).__name__}: {why})") from None
    if isinstance(obj, dict):
        raise ConvertError(f"--torch {path}: holds a state dict, not a module; save the whole module "
                           "(torch.save(model, path)) or a scripted one (torch.jit.save)")
    if not isinstance(obj, nn.Module):
        raise ConvertError(f"--torch {path}: holds a {type(obj).__name__}, not an nn.Module")
    return obj.eval()


def kind_name(m) -> str:
    """The class name, also for a scripted module (its original_name)."""
    return getattr(m, "original_name", None) or type(m).__name__


def leaves(module, prefix=""):
    """(name, module) of the leaves in registration order, containers entered."""
    kids = list(module.named_children())
    if not kids or is_leaf(module):
        yield prefix or kind_name(module), module
        return
    for n, m in kids:
        yield from leaves(m, f"{prefix}.{n}" if prefix else n)


def is_leaf(m) -> bool:
    return isinstance(m, (nn.Conv2d, nn.Linear, nn.BatchNorm2d, nn.BatchNorm1d, nn.MaxPool2d, nn.Flatten)) \
        or framework(m) is not None


def framework(m):
    mod = type(m).__module__
    if mod.startswith("spikingjelly"):
        return "spikingjelly" if _is_sj_node(m) else None
    if mod.startswith("snntorch"):
        return "snntorch"
    return None


def _is_sj_node(m) -> bool:
    try:
        from spikingjelly.activation_based import base
    except ImportError:
        return False
    return isinstance(m, base.MemoryModule)


def _t(x) -> np.ndarray:
    return x.detach().double().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, np.float64)


def to_ops(module) -> list[Op]:
    ops = []
    for name, m in leaves(module):
        k = kind_name(m)
        label = f"{name} ({k})"
        if isinstance(m, SKIP) or k in ("Dropout", "Dropout2d", "Identity"):
            continue
        if isinstance(m, nn.Conv2d) or k == "Conv2d":
            ops.append(conv_op(m, label))
        elif isinstance(m, nn.Linear) or k == "Linear":
            b = m.bias if m.bias is not None else torch.zeros(m.weight.shape[0])
            ops.append(Op("fc", label, _t(m.weight), _t(b)))
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)) or k in ("BatchNorm2d", "BatchNorm1d"):
            ops.append(bn_op(m, label))
        elif isinstance(m, nn.MaxPool2d) or k == "MaxPool2d":
            ks, st = pair(m.kernel_size, "kernel", label), pair(m.stride or m.kernel_size, "stride", label)
            if (ks, st, pair(m.padding, "padding", label), pair(m.dilation, "dilation", label),
                    bool(m.ceil_mode)) != (2, 2, 0, 1, False):
                raise ConvertError(f"{label}: max-pool kernel {ks}, stride {st}; ours is 2x2, stride 2, no "
                                   "padding, floor mode")
            ops.append(Op("pool", label))
        elif isinstance(m, nn.Flatten) or k == "Flatten":
            ops.append(Op("flatten", label))
        elif isinstance(m, (nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.LPPool2d)) or "Pool" in k:
            raise ConvertError(f"{label}: average or sum pooling of spikes gives non-binary activations, "
                               "which our hardware does not take")
        elif framework(m) == "spikingjelly":
            ops.append(sj_neuron(m, label))
        elif framework(m) == "snntorch":
            ops.append(snn_neuron(m, label))
        elif isinstance(m, (nn.RNNBase, nn.RNNCellBase)):
            raise ConvertError(f"{label}: recurrent layer; ours is feed-forward")
        else:
            raise ConvertError(f"{label}: unsupported layer")
    return ops


def conv_op(m, label) -> Op:
    if getattr(m, "groups", 1) != 1:
        raise ConvertError(f"{label}: grouped convolution (groups={m.groups})")
    if pair(m.dilation, "dilation", label) != 1:
        raise ConvertError(f"{label}: dilated convolution")
    if getattr(m, "padding_mode", "zeros") != "zeros":
        raise ConvertError(f"{label}: padding mode {m.padding_mode!r}; ours pads with zeros")
    pad = m.padding
    if isinstance(pad, str):
        if pad == "valid":
            pad = 0
        else:
            kh, kw = m.weight.shape[2:]
            if kh != kw or kh % 2 == 0:
                raise ConvertError(f"{label}: padding 'same' with kernel {kh}x{kw}")
            pad = kh // 2
    b = m.bias if m.bias is not None else torch.zeros(m.weight.shape[0])
    return Op("conv", label, _t(m.weight), _t(b), pair(m.stride, "stride", label), pair(pad, "padding", label))


def bn_op(m, label) -> Op:
    if not getattr(m, "track_running_stats", True) or m.running_mean is None:
        raise ConvertError(f"{label}: batch norm without running statistics cannot be folded")
    inv = 1.0 / np.sqrt(_t(m.running_var) + float(m.eps))
    g = _t(m.weight) if m.weight is not None else np.ones_like(inv)
    bt = _t(m.bias) if m.bias is not None else np.zeros_like(inv)
    return Op("bn", label, scale=g * inv, shift=bt - _t(m.running_mean) * g * inv)


def sj_neuron(m, label) -> Op:
    from spikingjelly.activation_based import neuron
    k = type(m)
    if k not in (neuron.IFNode, neuron.LIFNode):
        why = "learnable time constant" if "Parametric" in k.__name__ else "not an IFNode or LIFNode"
        raise ConvertError(f"{label}: spikingjelly {k.__name__} is not mapped ({why})")
    vr = m.v_reset
    if vr is None:
        raise ConvertError(f"{label}: soft reset (v_reset=None, subtract the threshold); ours resets to 0")
    if float(vr) != 0.0:
        raise ConvertError(f"{label}: v_reset={vr}; ours resets to 0")
    vth = _t(m.v_threshold)
    if k is neuron.IFNode:
        return Op("neuron", label, leak=False, gain=1.0, vth=vth,
                  mapping="IFNode(v_reset=0): H = V + X, identical to our IF")
    tau = float(m.tau)
    if tau != 2.0:
        raise ConvertError(f"{label}: LIFNode tau={tau:g} (leak 1/tau); ours leaks 1/2 (tau=2)")
    if m.decay_input:
        return Op("neuron", label, leak=True, gain=1.0, vth=vth,
                  mapping="LIFNode(tau=2, decay_input=True, v_reset=0): H = V + (X - V)/2 = (V + X)/2, ours")
    return Op("neuron", label, leak=True, gain=2.0, vth=vth,
              mapping="LIFNode(tau=2, decay_input=False, v_reset=0): H = V/2 + X = (V + 2X)/2, ours with the "
                      "weights and bias doubled")


def snn_neuron(m, label) -> Op:
    import snntorch as snn
    k = type(m)
    if k is not snn.Leaky:
        why = "recurrent" if k.__name__.startswith("R") else "not a Leaky"
        raise ConvertError(f"{label}: snnTorch {k.__name__} is not mapped ({why})")
    if m.reset_mechanism == "subtract":
        raise ConvertError(f"{label}: soft reset (reset_mechanism='subtract'); ours resets to 0 "
                           "(reset_mechanism='zero')")
    if m.reset_mechanism != "zero":
        raise ConvertError(f"{label}: reset_mechanism={m.reset_mechanism!r}; ours resets to 0 on a spike")
    if getattr(m, "inhibition", False):
        raise ConvertError(f"{label}: lateral inhibition")
    if getattr(m, "state_quant", False):
        raise ConvertError(f"{label}: state quantization")
    gsf = _t(getattr(m, "graded_spikes_factor", 1.0))
    if not np.all(gsf == 1.0):
        raise ConvertError(f"{label}: graded spikes (graded_spikes_factor != 1)")
    beta = np.clip(_t(m.beta), 0, 1)
    if beta.size == 0 or not np.all(beta == beta.reshape(-1)[0]):
        raise ConvertError(f"{label}: beta differs between neurons; ours has one leak per layer")
    b = float(beta.reshape(-1)[0])
    vth = _t(m.threshold)
    if b == 0.5:
        return Op("neuron", label, leak=True, gain=2.0, vth=vth,
                  mapping="Leaky(beta=0.5, reset_mechanism='zero'): U = U/2 + I = (U + 2I)/2, ours with the "
                          "weights and bias doubled")
    if b == 1.0:
        return Op("neuron", label, leak=False, gain=1.0, vth=vth,
                  mapping="Leaky(beta=1, reset_mechanism='zero'): U = U + I, our IF")
    raise ConvertError(f"{label}: beta={b:g}; ours leaks 1/2 (beta=0.5) or not at all (beta=1)")


class SourceRunner:
    """Runs the walked leaves one timestep at a time with the source framework's own modules: spikingjelly
    nodes in single-step mode, snnTorch neurons with their own state. The input is p / 255 at every step;
    the output is the sum over T of the last module's output (currents of a Linear readout, or spikes of
    an output neuron); the class is its argmax (the first on ties, as torch.argmax)."""

    def __init__(self, module):
        self.module = module.eval()
        self.mods = [m for _, m in leaves(module) if not isinstance(m, SKIP)]

    def _reset(self):
        for m in self.mods:
            if hasattr(m, "step_mode"):
                m.step_mode = "s"
            fw = framework(m)
            if fw == "spikingjelly":
                m.reset()
            elif fw == "snntorch" and hasattr(m, "reset_mem"):
                m.reset_mem()

    @torch.no_grad()
    def predict(self, images: np.ndarray, timesteps: int, batch: int = 500) -> np.ndarray:
        preds = []
        for a in range(0, len(images), batch):
            x = torch.from_numpy(images[a:a + batch].astype(np.float32) / 255.0)
            self._reset()
            acc = 0
            for _ in range(timesteps):
                h = x
                for m in self.mods:
                    h = m(h)
                    if isinstance(h, tuple):
                        h = h[0]
                acc = acc + h
            preds.append(acc.argmax(1).numpy())
        self._reset()
        return np.concatenate(preds) if preds else np.zeros(0, np.int64)


def isfinite_all(ops) -> bool:
    return all(bool(np.isfinite(np.asarray(a, np.float64)).all())
               for op in ops for a in (op.weight, op.bias, op.scale, op.shift, op.vth) if a is not None)
