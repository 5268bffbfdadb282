"""Frame words for the accelerator's `frames` stream (docs/accel-interface.md), one row per frame.

    words = pack(images, in_kind, timesteps)    # np.uint32 [N, frame_words]

Static: uint8 images [N, C, H, W] -> bytes in (h, w, c) order, pixel j in bits 8*(j%4) of word j//4.
Temporal: binary frames [N, T, C, H, W] -> bits in (h, w, t, c) order, bit j in bit j%32 of word j//32.
Each frame is padded with zeros to a whole word.
"""
from __future__ import annotations

import numpy as np

from . import spec


def frame_words(shape, in_kind: int, timesteps: int) -> int:
    c, h, w = shape
    bits = c * h * w * (8 if in_kind == spec.IN_STATIC else timesteps)
    return -(-bits // 32)


def pack(images: np.ndarray, in_kind: int, timesteps: int) -> np.ndarray:
    n = len(images)
    if in_kind == spec.IN_STATIC:
        if images.ndim != 4 or images.dtype != np.uint8:
            raise ValueError(f"static frames must be uint8 [N, C, H, W], got {images.dtype} {images.shape}")
        nw = frame_words(images.shape[1:], in_kind, timesteps)
        b = np.zeros((n, nw * 4), np.uint8)
        b[:, :images[0].size] = images.transpose(0, 2, 3, 1).reshape(n, -1)
        return b.view("<u4").astype(np.uint32)
    if images.ndim != 5 or images.shape[1] != timesteps:
        raise ValueError(f"temporal frames must be [N, {timesteps}, C, H, W], got {images.shape}")
    if images.max(initial=0) > 1:
        raise ValueError("temporal frames must be binary (0/1)")
    nw = frame_words(images.shape[2:], in_kind, timesteps)
    bits = np.zeros((n, nw * 32), np.uint8)
    bits[:, :images[0].size] = images.transpose(0, 3, 4, 1, 2).reshape(n, -1)
    return np.packbits(bits, axis=1, bitorder="little").view("<u4").astype(np.uint32)
