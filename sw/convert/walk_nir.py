"""Read a NIR graph (PyPI `nir`) into `ir.Op`s.

NIR neurons are continuous-time ODEs; frameworks discretize them with a fixed step dt that the graph does
not store (snnTorch writes and reads its graphs with dt = 1e-4, the default of --nir-dt). Forward Euler
with step dt, which is how snnTorch and Norse integrate them:
- LIF  `tau dv/dt = (v_leak - v) + r I`:   v' = (1 - dt/tau) v + (dt r / tau) I. Ours needs the leak
  dt/tau = 1/2 and v_leak = 0: H = (V + 2 g I) / 2 with g = dt r / tau.
- IF   `dv/dt = r I`:                      v' = v + dt r I: our IF with gain dt r. snnTorch writes
  Leaky(beta=1) as an LIF with tau = r = inf; that is read as IF with gain 1.
- CubaLIF: a synaptic current i' = (1 - dt/tau_syn) i + (dt w_in / tau_syn) I feeding an LIF. It reduces
  to ours only when dt/tau_syn = 1 (the synapse passes its input through in one step).
Every NIR neuron fires on v > v_threshold and resets to v_reset, which must be 0.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .ir import ConvertError, Op, pair

DT = 1e-4


def read_graph(path):
    p = Path(path)
    if not p.is_file():
        raise ConvertError(f"--nir {path}: no such file")
    import nir
    try:
        return nir.read(str(p))
    except Exception as e:                       # noqa: BLE001 - h5py/nir raise many types
        why = (str(e).strip().splitlines() or [type(e).__name__])[0][:120]
        raise ConvertError(f"--nir {path}: not a NIR graph ({type(e).__name__}: {why})") from None


def chain(graph) -> list:
    """The node names from the input to the output; refused unless the graph is one chain."""
    import nir
    nodes, edges = graph.nodes, list(graph.edges)
    succ, pred = {}, {}
    for a, b in edges:
        a, b = a.split(".")[0], b.split(".")[0]
        if a not in nodes or b not in nodes:
            raise ConvertError(f"NIR edge {a} -> {b}: names a node the graph does not have")
        succ.setdefault(a, []).append(b)
        pred.setdefault(b, []).append(a)
    inputs = [n for n, v in nodes.items() if isinstance(v, nir.Input)]
    if len(inputs) != 1:
        raise ConvertError(f"NIR graph has {len(inputs)} Input nodes; one is needed")
    order, seen, n = [], set(), inputs[0]
    while True:
        if n in seen:
            raise ConvertError(f"NIR node {n}: recurrent edge (a cycle back to it); ours is feed-forward")
        seen.add(n)
        order.append(n)
        if len(pred.get(n, [])) > 1:
            raise ConvertError(f"NIR node {n}: {len(pred[n])} inputs (recurrent or merging edges); ours is "
                               "one chain")
        nxt = succ.get(n, [])
        if not nxt:
            break
        if len(nxt) > 1:
            raise ConvertError(f"NIR node {n}: {len(nxt)} outputs (a branch); ours is one chain")
        n = nxt[0]
    if not isinstance(nodes[order[-1]], nir.Output):
        raise ConvertError(f"NIR node {order[-1]}: the chain from the input ends here, not at an Output")
    left = set(nodes) - seen
    if left:
        raise ConvertError(f"NIR node {sorted(left)[0]}: not on the chain from the input to the output")
    return order


def input_shape(graph):
    import nir
    for v in graph.nodes.values():
        if isinstance(v, nir.Input):
            t = v.input_type
            shape = np.asarray(t.get("input", next(iter(t.values()))) if isinstance(t, dict) else t).reshape(-1)
            return tuple(int(x) for x in shape)
    return None


def _a(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _const(x, what, label) -> float:
    a = _a(x).reshape(-1)
    if a.size == 0 or not np.all(a == a[0]):
        raise ConvertError(f"{label}: {what} differs between neurons; ours has one value per layer")
    return float(a[0])


def to_ops(graph, dt: float = DT) -> list[Op]:
    import nir
    ops = []
    for name in chain(graph):
        v = graph.nodes[name]
        k = type(v).__name__
        label = f"{name} ({k})"
        if isinstance(v, (nir.Input, nir.Output)):
            continue
        if isinstance(v, nir.Conv2d):
            if int(np.asarray(v.groups).reshape(-1)[0]) != 1:
                raise ConvertError(f"{label}: grouped convolution")
            if pair(v.dilation, "dilation", label) != 1:
                raise ConvertError(f"{label}: dilated convolution")
            w = _a(v.weight)
            pad = v.padding
            if isinstance(pad, str):
                if pad == "valid":
                    pad = 0
                elif w.shape[2] == w.shape[3] and w.shape[2] % 2 == 1:
                    pad = w.shape[2] // 2
                else:
                    raise ConvertError(f"{label}: padding 'same' with kernel {w.shape[2]}x{w.shape[3]}")
            b = _a(v.bias) if v.bias is not None else np.zeros(w.shape[0])
            if b.size == 1 and w.shape[0] > 1:
                b = np.full(w.shape[0], float(b.reshape(-1)[0]))
            ops.append(Op("conv", label, w, b.reshape(-1), pair(v.stride, "stride", label), pair(pad, "padding", label)))
        elif isinstance(v, (nir.Affine, nir.Linear)):
            w = _a(v.weight)
            b = _a(v.bias).reshape(-1) if isinstance(v, nir.Affine) else np.zeros(w.shape[0])
            ops.append(Op("fc", label, w, b))
        elif isinstance(v, nir.Flatten):
            ops.append(Op("flatten", label))
        elif isinstance(v, (nir.LIF, nir.IF, nir.CubaLIF)):
            ops.append(neuron(v, label, dt))
        elif k in ("SumPool2d", "AvgPool2d"):
            raise ConvertError(f"{label}: sum or average pooling of spikes gives non-binary activations, which "
                               "our hardware does not take; downsample with a strided convolution instead")
        elif isinstance(v, nir.NIRGraph):
            raise ConvertError(f"{label}: a nested graph (snnTorch writes recurrent layers so); ours is one "
                               "feed-forward chain")
        else:
            raise ConvertError(f"{label}: NIR {k} is not mapped")
    return ops


def _reset_zero(v, label):
    vr = getattr(v, "v_reset", None)
    if vr is not None and np.any(_a(vr) != 0):
        raise ConvertError(f"{label}: v_reset != 0; ours resets to 0")


def snap(g: float) -> float:
    """A gain within 1e-5 of a power of two is that power (float32 time constants: 2e-4 is stored as
    0.000199999995, so snnTorch's beta=0.5 reads back as a gain of 1.0000001 instead of 1)."""
    if g > 0:
        p = 2.0 ** round(np.log2(g))
        if abs(g - p) <= 1e-5 * p:
            return p
    return g


def neuron(v, label, dt) -> Op:
    import nir
    _reset_zero(v, label)
    vth = _a(v.v_threshold)
    if isinstance(v, nir.IF):
        g = snap(dt * _const(v.r, "r", label))
        return Op("neuron", label, leak=False, gain=g, vth=vth,
                  mapping=f"IF, dt={dt:g}: v' = v + dt r I, our IF with gain dt r = {g:g}")
    if np.any(_a(v.v_leak) != 0):
        raise ConvertError(f"{label}: v_leak != 0; ours leaks towards 0")
    if isinstance(v, nir.CubaLIF):
        ts = _const(v.tau_syn, "tau_syn", label)
        if not np.isclose(dt / ts, 1.0, rtol=1e-5, atol=0):
            raise ConvertError(f"{label}: CubaLIF with a synaptic time constant (dt/tau_syn = {dt / ts:g}, "
                               "not 1) does not reduce to our LIF")
        w_in = _const(v.w_in, "w_in", label)
        tau, r = _const(v.tau_mem, "tau_mem", label), _const(v.r, "r", label)
        pre = w_in * dt / ts
    else:
        tau, r = _const(v.tau, "tau", label), _const(v.r, "r", label)
        pre = 1.0
    if np.isinf(tau) and np.isinf(r):
        return Op("neuron", label, leak=False, gain=pre, vth=vth,
                  mapping="LIF with tau = r = inf (snnTorch's Leaky(beta=1)): our IF")
    leak = dt / tau
    if not np.isclose(leak, 0.5, rtol=1e-5, atol=0):
        raise ConvertError(f"{label}: leak dt/tau = {leak:g} with dt={dt:g} (tau={tau:g}); ours is 1/2 "
                           "(tau = 2 dt; see --nir-dt)")
    g = snap(pre * dt * r / tau)
    return Op("neuron", label, leak=True, gain=2.0 * g, vth=vth,
              mapping=f"{type(v).__name__}, dt={dt:g}, tau={tau:g}: v' = v/2 + {g:g} I = (v + {2 * g:g} I)/2, ours "
                      f"with the weights and bias times {2 * g:g}")
