"""Input frames in the accelerator's word format (docs/accel-interface.md), as bytes for RAM/upload.

Static: the raw 8-bit pixels in (h, w, c) order, 4 per little-endian word, each frame padded to a
whole word. Temporal: binary spikes in (t, h, w, c) order, bit j in bit j%32 of word j//32.
"""
from __future__ import annotations

import numpy as np

from sw import spec


def frame_bytes(model) -> int:
    c, h, w = model.input_shape
    n = c * h * w
    if model.in_kind == spec.IN_TEMPORAL:
        return 4 * -(-(n * model.timesteps) // 32)
    return 4 * -(-n // 4)


def pack(model, images: np.ndarray) -> bytes:
    """images: uint8 [N, C, H, W] (static) or binary [N, T, C, H, W] (temporal)."""
    size = frame_bytes(model)
    out = bytearray()
    for img in images:
        if model.in_kind == spec.IN_STATIC:
            b = np.ascontiguousarray(np.asarray(img, np.uint8).transpose(1, 2, 0)).tobytes()
        else:
            bits = np.ascontiguousarray(np.asarray(img, np.uint8).transpose(0, 2, 3, 1)).reshape(-1)
            b = np.packbits(bits, bitorder="little").tobytes()
        out += b + bytes(size - len(b))
    return bytes(out)
