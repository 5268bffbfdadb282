"""Model notation (docs/spec.md section 2): parse `1x28x28-8c3p1-16c3p1-mp2-...-10fc` into layer shapes.

The parsed form is a tuple of `LayerShape`, one per *compute* layer (conv or fc). A `mp2` token is not a
layer of its own: it sets `pool=True` on the conv layer before it (OR max-pool 2x2, stride 2, per
timestep). The last layer must be `fc`; it is the non-firing readout.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

PRESETS = {
    "scnn5": "1x28x28-8c3p1-16c3p1-mp2-32c3p1-mp2-64c3p1-64c3p1-mp2-10fc",
    "scnn7": "2x48x48-16c3p1-32c3p1-mp2-32c3p1-64c3p1-mp2-64c3p1-128c3p1-mp2-128c3p1-11fc",
    "scnn9": "3x32x32-16c3p1-32c3p1-mp2-32c3p1-64c3p1-mp2-64c3p1-128c3p1-mp2-128c3p1-256c3p1-mp2-10fc",
}

CONV = "conv"
FC = "fc"
MAX_CHANNELS = 4096
MAX_DIM = 1024
MAX_KERNEL = 15


class TopologyError(ValueError):
    """A notation string or shape chain the spec does not support."""


@dataclass(frozen=True)
class LayerShape:
    """One compute layer. Input is [ci, h, w] spikes; output is [co, ho, wo] (after the optional pool).

    An fc layer is stored as a conv whose kernel covers the whole input (kh=h, kw=w, stride 1, pad 0),
    so its flattened-input order is the kernel order: (h, w) outer, c inner.
    """
    kind: str
    ci: int
    h: int
    w: int
    co: int
    kh: int
    kw: int
    stride: int = 1
    pad: int = 0
    pool: bool = False
    leak: bool = True        # LIF tau=2 (H = (V+I)>>1); False = IF (H = V+I)
    readout: bool = False    # non-firing accumulator, must be the last layer

    def __post_init__(self):
        for name in ("ci", "h", "w", "co", "kh", "kw", "stride"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise TopologyError(f"layer {name}={v!r}: must be a positive integer")
        if self.kind not in (CONV, FC):
            raise TopologyError(f"layer kind {self.kind!r}: expected 'conv' or 'fc'")
        if self.ci > MAX_CHANNELS or self.co > MAX_CHANNELS:
            raise TopologyError(f"layer channels {self.ci}->{self.co}: at most {MAX_CHANNELS} supported")
        if self.h > MAX_DIM or self.w > MAX_DIM:
            raise TopologyError(f"layer input {self.h}x{self.w}: at most {MAX_DIM}x{MAX_DIM} supported")
        if self.pad < 0 or self.pad >= max(self.kh, self.kw) and self.kind == CONV:
            raise TopologyError(f"padding {self.pad}: must be in [0, kernel-1] for kernel {self.kh}x{self.kw}")
        if self.kind == CONV and (self.kh > MAX_KERNEL or self.kw > MAX_KERNEL):
            raise TopologyError(f"kernel {self.kh}x{self.kw}: at most {MAX_KERNEL}x{MAX_KERNEL} supported")
        if self.kind == FC and (self.kh, self.kw, self.stride, self.pad) != (self.h, self.w, 1, 0):
            raise TopologyError("fc layer must have kh=h, kw=w, stride=1, pad=0")
        if self.kind == FC and self.pool:
            raise TopologyError("mp2 after an fc layer is not supported")
        if self.conv_h < 1 or self.conv_w < 1:
            raise TopologyError(f"kernel {self.kh}x{self.kw} (pad {self.pad}) larger than input {self.h}x{self.w}")
        if self.pool and (self.conv_h < 2 or self.conv_w < 2):
            raise TopologyError(f"mp2 over a {self.conv_h}x{self.conv_w} map: needs at least 2x2")
        if self.readout and self.pool:
            raise TopologyError("the readout layer cannot be pooled")

    @property
    def conv_h(self) -> int:
        return (self.h + 2 * self.pad - self.kh) // self.stride + 1

    @property
    def conv_w(self) -> int:
        return (self.w + 2 * self.pad - self.kw) // self.stride + 1

    @property
    def ho(self) -> int:
        return self.conv_h // 2 if self.pool else self.conv_h

    @property
    def wo(self) -> int:
        return self.conv_w // 2 if self.pool else self.conv_w

    @property
    def fan_in(self) -> int:
        """Length of one output channel's flattened kernel: kh * kw * ci."""
        return self.kh * self.kw * self.ci

    @property
    def in_shape(self):
        return (self.ci, self.h, self.w)

    @property
    def out_shape(self):
        return (self.co, self.ho, self.wo)

    def with_channels(self, ci=None, co=None) -> "LayerShape":
        return replace(self, ci=self.ci if ci is None else ci, co=self.co if co is None else co)

    def token(self) -> str:
        if self.kind == FC:
            return f"{self.co}fc"
        s = f"{self.co}c{self.kh}" if self.kh == self.kw else f"{self.co}c{self.kh}x{self.kw}"
        if self.stride != 1:
            s += f"s{self.stride}"
        if self.pad:
            s += f"p{self.pad}"
        return s + ("-mp2" if self.pool else "")


_TOK_CONV = re.compile(r"^(\d+)c(\d+)(?:x(\d+))?(?:s(\d+))?(?:p(\d+))?$")
_TOK_FC = re.compile(r"^(\d+)fc$")
_TOK_IN = re.compile(r"^(\d+)x(\d+)x(\d+)$")


def parse(notation: str, leak: bool = True) -> tuple[LayerShape, ...]:
    """Parse a notation string (or a preset name) into compute layers. Raises TopologyError."""
    text = PRESETS.get(notation.strip().lower(), notation.strip())
    tokens = [t for t in text.split("-")]
    if not tokens or not _TOK_IN.match(tokens[0]):
        raise TopologyError(f"notation {notation!r}: must start with the input shape CxHxW, e.g. 1x28x28")
    c, h, w = (int(v) for v in _TOK_IN.match(tokens[0]).groups())
    layers: list[LayerShape] = []
    for tok in tokens[1:]:
        if tok == "mp2":
            if not layers or layers[-1].kind != CONV or layers[-1].pool:
                raise TopologyError(f"notation {notation!r}: 'mp2' must follow a conv layer")
            last = layers.pop()
            layers.append(replace(last, pool=True))
            c, h, w = layers[-1].out_shape
            continue
        m = _TOK_CONV.match(tok)
        if m:
            co, kh, kw, s, p = m.groups()
            kh = int(kh)
            kw = int(kw) if kw else kh
            layer = LayerShape(CONV, c, h, w, int(co), kh, kw, int(s or 1), int(p or 0), leak=leak)
        elif _TOK_FC.match(tok):
            layer = LayerShape(FC, c, h, w, int(_TOK_FC.match(tok).group(1)), h, w, leak=leak)
        else:
            raise TopologyError(f"notation {notation!r}: unknown token {tok!r} "
                                "(expected NcK[sS][pP], mp2 or Nfc)")
        layers.append(layer)
        c, h, w = layer.out_shape
    if not layers or layers[-1].kind != FC:
        raise TopologyError(f"notation {notation!r}: the last layer must be the fc readout (e.g. 10fc)")
    layers[-1] = replace(layers[-1], readout=True)
    check_chain(layers)
    return tuple(layers)


def check_chain(layers) -> None:
    """Each layer's input shape must equal the previous layer's output shape; only the last is readout."""
    if not layers:
        raise TopologyError("a model needs at least one layer")
    for i, (a, b) in enumerate(zip(layers, layers[1:])):
        if a.out_shape != b.in_shape:
            raise TopologyError(f"layer {i + 1} input {b.in_shape} != layer {i} output {a.out_shape}")
    for i, l in enumerate(layers):
        if l.readout != (i == len(layers) - 1):
            raise TopologyError(f"layer {i}: only the last layer is the non-firing readout")
    if layers[-1].kind != FC:
        raise TopologyError("the last layer must be the fc readout")


def notation(layers) -> str:
    """Inverse of parse(): the notation string of a layer chain."""
    c, h, w = layers[0].in_shape
    return "-".join([f"{c}x{h}x{w}"] + [l.token() for l in layers])
