"""Source networks trained in the other frameworks with their own training loops, for the tests and the
measurements (sw/convert/measure.py). Nothing here uses our training package: these are what a user of
spikingjelly or snnTorch would write.

Input convention (docs/convert.md): the pixel p / 255, the same at every timestep; prediction = argmax of
the readout Linear's outputs summed over T.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SCNN5 = [(8, True, False), (16, True, True), (32, True, True), (64, True, False), (64, True, True)]
# (channels, conv 3x3 pad 1, max-pool after) per conv layer of 1x28x28-8c3p1-16c3p1-mp2-32c3p1-mp2-64c3p1-64c3p1-mp2-10fc


def spikingjelly_net(arch: str = "small") -> nn.Module:
    """spikingjelly activation_based layers, multi-step. 'small': conv-BN-LIF-pool, conv-IF-pool, fc;
    'scnn5': SCNN5 with LIF(tau=2) everywhere and BN after every conv."""
    from spikingjelly.activation_based import layer, neuron

    def lif():
        return neuron.LIFNode(tau=2.0, decay_input=True, v_reset=0.0, detach_reset=True)
    if arch == "strided":            # for spikingjelly's own NIR export (no max-pool in NIR)
        mods = [layer.Conv2d(1, 8, 3, stride=2, padding=1), lif(), layer.Conv2d(8, 16, 3, stride=2, padding=1),
                neuron.IFNode(v_reset=0.0, detach_reset=True), layer.Flatten(), layer.Linear(16 * 7 * 7, 10)]
    elif arch == "small":
        mods = [layer.Conv2d(1, 8, 3, padding=1, bias=False), layer.BatchNorm2d(8), lif(), layer.MaxPool2d(2),
                layer.Conv2d(8, 16, 3, padding=1), neuron.IFNode(v_reset=0.0, detach_reset=True),
                layer.MaxPool2d(2), layer.Flatten(), layer.Linear(16 * 7 * 7, 10)]
    else:
        mods, ci = [], 1
        for co, _, pool in SCNN5:
            mods += [layer.Conv2d(ci, co, 3, padding=1, bias=False), layer.BatchNorm2d(co), lif()]
            if pool:
                mods.append(layer.MaxPool2d(2))
            ci = co
        mods += [layer.Flatten(), layer.Linear(64 * 3 * 3, 10)]
    net = nn.Sequential(*mods)
    from spikingjelly.activation_based import functional
    functional.set_step_mode(net, "m")
    return net


def snntorch_net(arch: str = "small", per_neuron_params: bool = False) -> nn.Module:
    """snnTorch Leaky(beta=0.5, reset_mechanism='zero') layers (init_hidden). 'small': conv-LIF-pool x2,
    fc; 'strided': two stride-2 convolutions, no pooling (the NIR path); 'scnn5': SCNN5.
    per_neuron_params: beta and threshold as tensors of the layer's neuron shape (what snnTorch 1.0's NIR
    export needs for nir 1.0.8's type inference)."""
    import snntorch as snn

    def leaky(shape):
        if per_neuron_params:
            return snn.Leaky(beta=torch.full(shape, 0.5), threshold=torch.ones(shape), init_hidden=True,
                             reset_mechanism="zero")
        return snn.Leaky(beta=0.5, init_hidden=True, reset_mechanism="zero")
    if arch == "small":
        mods = [nn.Conv2d(1, 8, 3, padding=1), leaky((8, 28, 28)), nn.MaxPool2d(2),
                nn.Conv2d(8, 16, 3, padding=1), leaky((16, 14, 14)), nn.MaxPool2d(2),
                nn.Flatten(), nn.Linear(16 * 7 * 7, 10)]
    elif arch in ("pool-first", "output-neuron", "tutorial"):
        # snnTorch's tutorial CSNN order (conv -> max-pool -> Leaky: the pool sees membrane currents) and/or
        # an output Leaky whose spike counts are the prediction: the two --approximate cases
        first = arch in ("pool-first", "tutorial")
        mods = []
        for ci, co, hw in ((1, 8, 28), (8, 16, 14)):
            mods += [nn.Conv2d(ci, co, 3, padding=1)]
            mods += [nn.MaxPool2d(2), leaky((co, hw // 2, hw // 2))] if first else [leaky((co, hw, hw)), nn.MaxPool2d(2)]
        mods += [nn.Flatten(), nn.Linear(16 * 7 * 7, 10)]
        if arch in ("output-neuron", "tutorial"):
            mods.append(leaky((10,)))
    elif arch == "strided":
        mods = [nn.Conv2d(1, 8, 3, stride=2, padding=1), leaky((8, 14, 14)),
                nn.Conv2d(8, 16, 3, stride=2, padding=1), leaky((16, 7, 7)),
                nn.Flatten(), nn.Linear(16 * 7 * 7, 10)]
    else:
        mods, ci, hw = [], 1, 28
        for co, _, pool in SCNN5:
            mods += [nn.Conv2d(ci, co, 3, padding=1), leaky((co, hw, hw))]
            if pool:
                mods.append(nn.MaxPool2d(2))
                hw //= 2
            ci = co
        mods += [nn.Flatten(), nn.Linear(64 * 3 * 3, 10)]
    return nn.Sequential(*mods)


def framework_of(net) -> str:
    return "snntorch" if any(type(m).__module__.startswith("snntorch") for m in net.modules()) else "spikingjelly"


def forward(net, x: torch.Tensor, timesteps: int) -> torch.Tensor:
    """The framework's own way to run the net: readout outputs summed over T, [N, classes]."""
    if framework_of(net) == "spikingjelly":
        from spikingjelly.activation_based import functional
        functional.reset_net(net)
        out = net(x.unsqueeze(0).repeat(timesteps, 1, 1, 1, 1)).sum(0)
        functional.reset_net(net)
        return out
    from snntorch import utils
    utils.reset(net)
    out = 0
    for _ in range(timesteps):
        out = out + net(x)
    utils.reset(net)
    return out


def train(net, images: np.ndarray, labels: np.ndarray, timesteps: int = 4, epochs: int = 1, batch: int = 32,
          lr: float = 2e-3, seed: int = 0, log=None):
    """Adam on cross-entropy of the mean readout, surrogate gradients as each framework defines them."""
    torch.manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    net.train()
    for ep in range(epochs):
        perm = rng.permutation(len(images))
        for a in range(0, len(images) - batch + 1, batch):
            idx = perm[a:a + batch]
            x = torch.from_numpy(images[idx].astype(np.float32) / 255.0)
            y = torch.from_numpy(labels[idx].astype(np.int64))
            loss = F.cross_entropy(forward(net, x, timesteps) / timesteps, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if log:
            log(f"epoch {ep + 1}: loss {float(loss):.3f}")
    net.eval()
    return net


@torch.no_grad()
def predict(net, images: np.ndarray, timesteps: int = 4, batch: int = 500) -> np.ndarray:
    net.eval()
    out = [forward(net, torch.from_numpy(images[a:a + batch].astype(np.float32) / 255.0), timesteps).argmax(1)
           for a in range(0, len(images), batch)]
    return torch.cat(out).numpy() if out else np.zeros(0, np.int64)


def picklable(net) -> nn.Module:
    """snnTorch's default surrogate (surrogate.atan()) is a closure, which torch.save(net) cannot pickle.
    Its forward is the same step (x > 0) as Heaviside.apply, a picklable class method: swap it in before
    saving (only the backward pass, unused at deployment, differs)."""
    import snntorch as snn
    for m in net.modules():
        if isinstance(m, snn.SpikingNeuron):
            m.spike_grad = snn.surrogate.Heaviside.apply
    return net


def export_nir(net, path, in_shape=(1, 28, 28)):
    """snntorch.export_to_nir of `net` (built with per_neuron_params=True), written to `path`. The export
    traces one unbatched frame, so Flatten must start at dim 0 for it (put back afterwards)."""
    import nir
    from snntorch.export_nir import export_to_nir
    flats = [m for m in net.modules() if isinstance(m, nn.Flatten)]
    old = [m.start_dim for m in flats]
    for m in flats:
        m.start_dim = 0
    try:
        graph = export_to_nir(net.eval(), torch.zeros(*in_shape))
    finally:
        for m, s in zip(flats, old):
            m.start_dim = s
    nir.write(str(path), graph)
    return graph
