"""The converter's intermediate form: a source network as a list of generic operations (`Op`), and
`assemble`, which maps them onto FireFly-S layers (docs/spec.md: conv/fc + IF/LIF neuron + OR max-pool,
last layer the non-firing fc readout).

Every refusal is a `ConvertError` whose message is one line naming the source layer and the reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..topology import MAX_KERNEL


class ConvertError(ValueError):
    """The source network cannot be mapped (one line: the layer and the reason)."""


@dataclass
class Op:
    """One source operation. kind: 'conv', 'fc', 'bn', 'neuron', 'pool', 'flatten'.

    conv: weight [co, ci, kh, kw], bias [co], stride, pad. fc: weight [co, in], bias [co].
    bn: scale [c], shift [c] (y = scale * x + shift). neuron: leak (LIF tau = 2 vs IF), gain (the factor
    on the input current that makes the source's update ours), vth (scalar or array: per channel or
    per neuron). pool: 2x2 stride-2 max-pool."""
    kind: str
    name: str
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    stride: int = 1
    pad: int = 0
    scale: np.ndarray | None = None
    shift: np.ndarray | None = None
    leak: bool = True
    gain: float = 1.0
    vth: np.ndarray | float | None = None
    mapping: str = ""                 # the neuron mapping, for the report


@dataclass
class Layer:
    """One of our compute layers, in float, as the source computes it (gain already applied)."""
    kind: str                         # 'conv' or 'fc'
    name: str
    weight: np.ndarray                # conv [co, ci, kh, kw]; fc [co, C, H, W] over the NCHW flatten
    bias: np.ndarray
    stride: int = 1
    pad: int = 0
    pool: bool = False
    pool_before_neuron: bool = False
    neuron: str | None = None         # source name of the neuron; None: the readout
    leak: bool = True
    vth: np.ndarray | None = None     # [co]
    mapping: str = ""
    folded: list = field(default_factory=list)


@dataclass
class Network:
    in_shape: tuple                   # (C, H, W)
    layers: list
    notes: list                       # approximations taken (empty when exact)

    @property
    def exact(self) -> bool:
        return not self.notes


def pair(v, what, name):
    """An int from an int or a pair of equal ints."""
    if isinstance(v, str):
        raise ConvertError(f"{name}: {what} {v!r} is not supported (give it as numbers)")
    t = tuple(int(x) for x in np.atleast_1d(np.asarray(v)).tolist())
    if len(t) == 1:
        return t[0]
    if len(t) != 2 or t[0] != t[1]:
        raise ConvertError(f"{name}: {what} {t} differs between rows and columns; ours is the same for both")
    return t[0]


def per_channel(v, co: int, spatial: tuple, what: str, name: str) -> np.ndarray:
    """A scalar, per-channel or per-neuron parameter as one value per channel; per-neuron values that
    differ within a channel are refused."""
    a = np.asarray(v, dtype=np.float64)
    if a.size == 1:
        return np.full(co, float(a.reshape(-1)[0]))
    if a.size == co:
        return a.reshape(co)
    if a.size == co * int(np.prod(spatial)):
        a = a.reshape(co, -1)
        if np.all(a == a[:, :1]):
            return a[:, 0].copy()
        raise ConvertError(f"{name}: {what} differs between neurons of one channel (per-neuron {what}); ours "
                           "is one value per output channel")
    raise ConvertError(f"{name}: {what} has {a.size} values for {co} channels of {spatial}")


def uniform(v, what: str, name: str) -> float:
    """A parameter that must have one value for the whole layer (leak, gain)."""
    a = np.asarray(v, dtype=np.float64).reshape(-1)
    if a.size == 0 or not np.all(a == a[0]):
        raise ConvertError(f"{name}: {what} differs between neurons; ours has one value per layer")
    return float(a[0])


def assemble(ops, in_shape, approximate: bool = False) -> Network:
    """Map the operations onto our layers. in_shape: (C, H, W) of the input frames."""
    c, h, w = in_shape
    flat = False                      # a Flatten has been seen: the next compute layer is fc
    layers: list[Layer] = []
    notes: list[str] = []
    cur: Layer | None = None

    def need_approx(what):
        if not approximate:
            raise ConvertError(f"{what}; --approximate accepts it as stated in docs/convert.md")
        notes.append(what)

    for op in ops:
        if op.kind in ("conv", "fc"):
            if cur is not None and cur.neuron is None:
                raise ConvertError(f"{op.name}: follows {cur.name} without a spiking neuron in between; each "
                                   "of our layers is weights + neuron (the readout excepted)")
            if op.kind == "conv":
                if flat:
                    raise ConvertError(f"{op.name}: a convolution after a Flatten")
                co, ci, kh, kw = op.weight.shape
                if ci != c:
                    raise ConvertError(f"{op.name}: takes {ci} input channels, gets {c}")
                if max(kh, kw) > MAX_KERNEL or op.pad >= max(kh, kw):
                    raise ConvertError(f"{op.name}: kernel {kh}x{kw} with padding {op.pad} is outside ours "
                                       f"(kernel <= {MAX_KERNEL}, padding < kernel)")
                wt = op.weight
                h, w = (h + 2 * op.pad - kh) // op.stride + 1, (w + 2 * op.pad - kw) // op.stride + 1
                if h < 1 or w < 1:
                    raise ConvertError(f"{op.name}: kernel larger than its {h}x{w} input")
            else:
                co, fan = op.weight.shape
                if fan != c * h * w:
                    raise ConvertError(f"{op.name}: takes {fan} inputs, gets {c}x{h}x{w} = {c * h * w}")
                wt = op.weight.reshape(co, c, h, w)
                h = w = 1
            c = co
            cur = Layer(op.kind, op.name, np.asarray(wt, np.float64), np.asarray(op.bias, np.float64),
                        op.stride, op.pad)
            layers.append(cur)
            flat = False
        elif op.kind == "bn":
            if cur is None or cur.neuron is not None:
                raise ConvertError(f"{op.name}: batch norm not directly after a convolution or linear layer "
                                   "(only that one can be folded into the weights)")
            if cur.pool_before_neuron and not np.all(op.scale > 0):
                raise ConvertError(f"{op.name}: batch norm after a max-pool with a non-positive scale does not "
                                   "commute with the pool")
            cur.weight = cur.weight * op.scale.reshape(-1, 1, 1, 1)
            cur.bias = cur.bias * op.scale + op.shift
            cur.folded.append(op.name)
        elif op.kind == "pool":
            if cur is None or cur.kind != "conv" or cur.pool or cur.pool_before_neuron:
                raise ConvertError(f"{op.name}: max-pool not after a convolution (ours pools a conv layer's "
                                   "spikes once)")
            if h < 2 or w < 2:
                raise ConvertError(f"{op.name}: max-pool over a {h}x{w} map")
            if cur.neuron is None:
                need_approx(f"{op.name}: max-pool of membrane currents before the neuron (ours ORs the spikes "
                            "after the neuron)")
                cur.pool_before_neuron = True
            cur.pool = True
            h, w = h // 2, w // 2
        elif op.kind == "neuron":
            if cur is None or cur.neuron is not None:
                raise ConvertError(f"{op.name}: a spiking neuron not directly after a convolution or linear "
                                   "layer")
            cur.neuron, cur.leak, cur.mapping = op.name, op.leak, op.mapping
            cur.weight = cur.weight * op.gain
            cur.bias = cur.bias * op.gain
            vth = per_channel(op.vth, c, (h, w), "threshold", op.name)
            if np.any(vth < 0):
                raise ConvertError(f"{op.name}: negative threshold {vth.min():g}; ours is >= 0")
            cur.vth = vth
        elif op.kind == "flatten":
            flat = True
        else:
            raise ConvertError(f"{op.name}: unsupported operation {op.kind!r}")
    if not layers:
        raise ConvertError("no convolution or linear layer found")
    last = layers[-1]
    if last.kind != "fc":
        raise ConvertError(f"{last.name}: the last compute layer must be linear (our fc readout)")
    if last.neuron is not None:
        need_approx(f"{last.neuron}: output neuron (spike-count readout); ours reads out the summed "
                    f"currents of {last.name} without firing")
        last.neuron, last.vth = None, None
    for l in layers[:-1]:
        if l.neuron is None:
            raise ConvertError(f"{l.name}: no spiking neuron after it (only the last layer is a readout)")
    return Network(tuple(in_shape), layers, notes)


def notation(net: Network) -> str:
    """The paper notation of the assembled network (docs/spec.md section 2)."""
    toks = ["x".join(str(v) for v in net.in_shape)]
    for l in net.layers:
        co, _, kh, kw = l.weight.shape
        if l.kind == "fc":
            toks.append(f"{co}fc")
            continue
        t = f"{co}c{kh}" if kh == kw else f"{co}c{kh}x{kw}"
        t += f"s{l.stride}" if l.stride != 1 else ""
        t += f"p{l.pad}" if l.pad else ""
        toks.append(t)
        if l.pool:
            toks.append("mp2")
    return "-".join(toks)
