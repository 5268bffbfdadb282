"""The integer semantics of docs/spec.md that are not the golden model itself: constants, input
quantization, and the per-layer width derivation that makes overflow impossible by construction."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

W_BITS = 4
W_MIN = -(1 << (W_BITS - 1))      # -8
W_MAX = (1 << (W_BITS - 1)) - 1   # 7
MAX_WIDTH = 32                    # no register in the design is wider than this
MAX_TIMESTEPS = 64

IN_STATIC = 0    # static image: same k-bit input at every timestep, fed as bit-planes to layer 0
IN_TEMPORAL = 1  # binary input that differs per timestep (DVS frames), [T, C, H, W]


def quantize_input(images_u8: np.ndarray, bits: int) -> np.ndarray:
    """k-bit direct encoding of 8-bit pixels: q = p >> (8 - k), so q in [0, 2^k - 1]."""
    if not 1 <= bits <= 8:
        raise ValueError(f"input bits {bits}: must be in 1..8")
    if images_u8.dtype != np.uint8:
        raise ValueError(f"input images must be uint8, got {images_u8.dtype}")
    return images_u8 >> np.uint8(8 - bits)


def bit_planes(q: np.ndarray, bits: int) -> np.ndarray:
    """Bit-planes of k-bit inputs, LSB first: planes[b] = (q >> b) & 1, so q = sum_b 2^b planes[b]."""
    return np.stack([(q >> np.uint8(b)) & 1 for b in range(bits)]).astype(np.uint8)


def signed_bits(lo: int, hi: int) -> int:
    """Smallest n >= 2 with -2^(n-1) <= lo and hi <= 2^(n-1) - 1."""
    lo, hi = int(min(lo, 0)), int(max(hi, 0))
    n = 2
    while lo < -(1 << (n - 1)) or hi > (1 << (n - 1)) - 1:
        n += 1
    return n


@dataclass(frozen=True)
class Widths:
    """Signed register widths of one layer (bits).

    acc:  the input current I and every partial sum of it (weights x inputs, plus the bias);
    mem:  V + I before the shift (firing layers) or the readout accumulator sum_t I_t;
    bias: the integer bias; vth: the integer threshold.
    """
    acc: int
    mem: int
    bias: int
    vth: int

    def as_tuple(self):
        return (self.acc, self.mem, self.bias, self.vth)

    def covers(self, other: "Widths") -> bool:
        return all(a >= b for a, b in zip(self.as_tuple(), other.as_tuple()))


def current_range(weights: np.ndarray, bias: np.ndarray, x_max: int):
    """Per-channel bounds of every partial sum of I = sum w x + b with 0 <= x <= x_max.

    weights: int [co, fan_in]. Returns (lo, hi) int64 arrays [co]; the bias may be added at any point
    of the accumulation, so both bounds include it only when it widens them.
    """
    w = weights.reshape(weights.shape[0], -1).astype(np.int64)
    b = bias.astype(np.int64)
    pos = np.where(w > 0, w, 0).sum(1) * x_max
    neg = np.where(w < 0, w, 0).sum(1) * x_max
    return neg + np.minimum(b, 0), pos + np.maximum(b, 0)


def derive_widths(weights, bias, vth, x_max: int, timesteps: int, leak: bool, readout: bool) -> Widths:
    """Widths for which no value in the layer's integer computation can overflow (docs/spec.md 4)."""
    lo, hi = current_range(weights, bias, x_max)
    acc = signed_bits(int(lo.min()), int(hi.max()))
    if readout:
        mem = signed_bits(timesteps * int(lo.min()), timesteps * int(hi.max()))
    else:
        v_lo = np.minimum(lo, 0) * (1 if leak else timesteps)   # V never drops below this
        v_hi = np.maximum(vth.astype(np.int64), 0)              # V <= Vth after every non-firing step
        mem = signed_bits(int((v_lo + np.minimum(lo, 0)).min()), int((v_hi + hi).max()))
    return Widths(acc=acc, mem=mem, bias=signed_bits(int(bias.min()), int(bias.max())),
                  vth=signed_bits(0, int(vth.max()) if len(vth) else 0))
