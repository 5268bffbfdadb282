"""Input frames as bytes for RAM or upload: the one definition is sw/frames.py (docs/accel-interface.md)."""
from __future__ import annotations

import numpy as np

from sw import frames


def frame_bytes(model) -> int:
    return 4 * frames.frame_words(model.input_shape, model.in_kind, model.timesteps)


def pack(model, images: np.ndarray) -> bytes:
    """images: uint8 [N, C, H, W] (static) or binary [N, T, C, H, W] (temporal)."""
    return frames.pack(np.asarray(images, np.uint8), model.in_kind, model.timesteps).astype("<u4").tobytes()
