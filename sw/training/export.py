"""Export a trained SpikingNet to the .ffs artifact, bit-exact.

1. integer parameters from the eval-mode model (w_int [co, ci, kh, kw] -> [co, kh, kw, ci]);
2. channel removal (paper's Algorithm 1): an output channel whose kernel is all zero is removed if its
   bias alone never fires it within T steps; the matching input channel of the next layer goes too. The
   layer shapes shrink (co/ci); the notation stays the nominal one;
3. sw.artifact.Model.from_dense(...);
4. verification: sw.golden.run on the given frames must give exactly the eval-mode torch model's
   predictions; a single difference raises ExportError.
"""
from __future__ import annotations

import numpy as np
import torch
from spikingjelly.activation_based import functional

from .. import golden, spec
from ..artifact import Model


class ExportError(RuntimeError):
    """The artifact would not reproduce the torch model."""


@torch.no_grad()
def integer_arrays(net):
    """Per layer (w [co, kh, kw, ci] int64, b [co] int64, vth [co] int64) of the integer model."""
    was = net.integer
    net.set_integer(True)
    out = []
    for l in net.layers:
        w, b, v = l.integer_params()
        out.append((w.permute(0, 2, 3, 1).round().long().cpu().numpy(), b.round().long().cpu().numpy(),
                    v.round().long().cpu().numpy()))
    net.integer = was
    return out


def bias_alone_fires(b: int, vth: int, timesteps: int, leak: bool) -> bool:
    v = 0
    for _ in range(timesteps):
        h = (v + b) >> 1 if leak else v + b
        if h > vth:
            return True
        v = h
    return False


def remove_channels(shapes, arrays, timesteps: int):
    """Algorithm 1. Returns (shapes, [(w, b, vth)], kept) with kept[i] the kept output channels of
    layer i (the readout keeps all)."""
    shapes, arrays = list(shapes), [list(a) for a in arrays]
    kept = []
    keep_in = None
    for i, s in enumerate(shapes):
        w, b, v = arrays[i]
        if keep_in is not None:
            w = w[..., keep_in]
        if s.readout:
            keep = np.arange(s.co)
        else:
            dead = [c for c in range(s.co) if not w[c].any()
                    and not bias_alone_fires(int(b[c]), int(v[c]), timesteps, s.leak)]
            keep = np.array([c for c in range(s.co) if c not in set(dead)], dtype=np.int64)
            if len(keep) == 0:           # a layer needs one channel; keep the first (it never fires)
                keep = np.array([0])
        arrays[i] = [w[keep], b[keep], v[keep]]
        shapes[i] = s.with_channels(ci=len(keep_in) if keep_in is not None else s.ci, co=len(keep))
        kept.append(keep)
        keep_in = keep
    return tuple(shapes), arrays, kept


def deployed_layer_sparsity(net):
    """([fraction of zero weights], [weight count]) per layer on the deployed shapes, i.e. after channel
    removal, as `report.json`'s `weight_sparsity_deployed_shapes` counts them."""
    _, arrays, _ = remove_channels(net.shapes, integer_arrays(net), net.timesteps)
    return [float((a[0] == 0).mean()) for a in arrays], [int(a[0].size) for a in arrays]


def to_artifact(net, remove: bool = True) -> Model:
    arrays = integer_arrays(net)
    shapes = net.shapes
    if remove:
        shapes, arrays, _ = remove_channels(shapes, arrays, net.timesteps)
    return Model.from_dense(shapes, [a[0] for a in arrays], [a[1] for a in arrays], [a[2] for a in arrays],
                            net.timesteps, net.in_bits if net.in_kind == spec.IN_STATIC else 1, net.in_kind,
                            notation=net.notation)


def torch_input(images: np.ndarray, net) -> torch.Tensor:
    """Dataset frames (uint8 [N,C,H,W] static or [N,T,C,H,W] binary) -> the torch model's input, on the
    model's device."""
    if net.in_kind == spec.IN_STATIC:
        x = spec.quantize_input(images, net.in_bits).astype(np.float32)
    else:
        x = np.ascontiguousarray(images.transpose(1, 0, 2, 3, 4)).astype(np.float32)
    return torch.from_numpy(x).to(net.device)


@torch.no_grad()
def torch_predict(net, images: np.ndarray, batch: int = 500):
    """Eval-mode integer predictions and readout accumulators (int64)."""
    was_train, was_int = net.training, net.integer
    net.eval()
    net.set_integer(True)
    accs = []
    for a in range(0, len(images), batch):
        _, acc = net(torch_input(images[a:a + batch], net))
        functional.reset_net(net)
        accs.append(acc.round().long().cpu().numpy())
    net.train(was_train)
    net.integer = was_int
    acc = np.concatenate(accs) if accs else np.zeros((0, net.shapes[-1].co), np.int64)
    return acc.argmax(1), acc


def verify(net, model: Model, images: np.ndarray, batch: int = 500, progress: bool = False):
    """Golden vs torch on every frame. Returns (predictions, golden stats); raises ExportError."""
    tp, tacc = torch_predict(net, images, batch)
    gp, gacc, stats = golden.run(model, images, batch=batch, progress=progress)
    bad = np.flatnonzero(tp != gp)
    if len(bad):
        raise ExportError(f"export check failed: golden and torch predictions differ on {len(bad)} of "
                          f"{len(images)} frames (first: frame {bad[0]}, torch {tp[bad[0]]} vs golden "
                          f"{gp[bad[0]]})")
    if not np.array_equal(tacc, gacc):
        raise ExportError("export check failed: predictions agree but the readout accumulators differ on "
                          f"{int((tacc != gacc).any(1).sum())} frames")
    return gp, stats
