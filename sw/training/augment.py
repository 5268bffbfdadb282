"""Training-time data augmentation on uint8 frames: random translation and horizontal flip.

Works on static frames [N, C, H, W] and event frames [N, T, C, H, W] alike (the last two axes are the
image). Draws come from a generator seeded by (seed, phase, epoch, batch), so every DDP rank augments
the global batch identically before taking its slice, and a resumed run repeats the same draws.
"""
from __future__ import annotations

import numpy as np


def batch_rng(seed: int, phase: str, epoch: int, batch: int) -> np.random.Generator:
    return np.random.default_rng([seed, 7 + (phase == "joint"), epoch, batch])


def augment(x: np.ndarray, rng: np.random.Generator, shift: int = 0, hflip: bool = False) -> np.ndarray:
    """Shift each frame by a random (dy, dx) in [-shift, shift]^2 with zero fill, then mirror it
    left-right with probability 1/2 if `hflip`. Returns a new array; `x` is left untouched."""
    if shift < 0:
        raise ValueError(f"shift must be >= 0, got {shift}")
    n, h, w = x.shape[0], x.shape[-2], x.shape[-1]
    if shift:
        if shift >= min(h, w):
            raise ValueError(f"shift {shift} must be smaller than the frame ({h}x{w})")
        flat = x.reshape(n, -1, h, w)
        pad = np.pad(flat, ((0, 0), (0, 0), (shift, shift), (shift, shift)))
        dy = rng.integers(0, 2 * shift + 1, n)
        dx = rng.integers(0, 2 * shift + 1, n)
        rows = (dy[:, None] + np.arange(h))[:, None, :, None]
        cols = (dx[:, None] + np.arange(w))[:, None, None, :]
        chans = np.arange(flat.shape[1])[None, :, None, None]
        x = pad[np.arange(n)[:, None, None, None], chans, rows, cols].reshape(x.shape)
    if hflip:
        flip = rng.random(n) < 0.5
        x = np.where(flip.reshape((n,) + (1,) * (x.ndim - 1)), x[..., ::-1], x)
    return np.ascontiguousarray(x)
