"""An assembled `ir.Network` as our float `sw.training.models.SpikingNet`, weights loaded.

The source is assumed to see the pixel p / 255 at every timestep (direct encoding, torchvision's
ToTensor without Normalize). Our layer 0 sees the integer q = p >> (8 - k) and multiplies its weights by
1 / (2^k - 1) (`SpikingLayer.in_scale`), so layer 0's weights are stored times 2^(8-k) (2^k - 1) / 255:
exactly the source's for k = 8, and for k < 8 the truncation of p is the only difference.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from .. import spec
from ..topology import TopologyError, parse
from ..training import gradrewiring as gr
from ..training.models import SpikingNet
from .ir import ConvertError, Network, notation


def to_net(net: Network, timesteps: int, in_bits: int = 8) -> SpikingNet:
    text = notation(net)
    try:
        shapes = parse(text)
    except TopologyError as e:
        raise ConvertError(f"the network {text} is not one of ours: {e}") from None
    out = SpikingNet(text, timesteps, in_bits, spec.IN_STATIC)
    layer0 = 2 ** (8 - in_bits) * ((1 << in_bits) - 1) / 255.0
    new_shapes = []
    with torch.no_grad():
        for i, (src, s, l) in enumerate(zip(net.layers, shapes, out.layers)):
            s = replace(s, leak=bool(src.leak) if src.neuron is not None else True)
            l.shape = s
            if l.node is not None:
                l.node.leak = s.leak
            w = torch.from_numpy(np.ascontiguousarray(src.weight * (layer0 if i == 0 else 1.0))).float()
            b = torch.from_numpy(np.ascontiguousarray(src.bias)).float()
            if tuple(w.shape) != tuple(l.theta_w.shape):
                raise ConvertError(f"{src.name}: weight shape {tuple(w.shape)} != {tuple(l.theta_w.shape)}")
            for theta, sign, v in ((l.theta_w, l.sign_w, w), (l.theta_b, l.sign_b, b)):
                t, sg = gr.split(v)
                theta.copy_(t)
                sign.copy_(sg)
            if src.vth is not None:
                l.vth.copy_(torch.from_numpy(src.vth).float())
            new_shapes.append(s)
    out.shapes = tuple(new_shapes)
    return out


def mapping_table(net: Network) -> list[dict]:
    """Per layer: what it came from and how, for the report and the log."""
    rows = []
    for l in net.layers:
        rows.append({"layer": l.name, "kind": l.kind, "shape": list(l.weight.shape), "stride": l.stride,
                     "pad": l.pad, "folded": l.folded, "neuron": l.neuron,
                     "model": ("readout" if l.neuron is None else ("LIF" if l.leak else "IF")),
                     "mapping": l.mapping, "pool": l.pool,
                     "pool_before_neuron": l.pool_before_neuron})
    return rows
