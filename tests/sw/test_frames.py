"""Frame words of docs/accel-interface.md: static bytes in (h, w, c), temporal bits in (h, w, t, c)."""
import numpy as np

from sw import frames, spec


def test_static_bytes_hwc_little_endian():
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(1, 2, 3, 3)       # [N, C, H, W]
    w = frames.pack(img, spec.IN_STATIC, 4)
    assert w.shape == (1, 5)
    seq = img[0].transpose(1, 2, 0).reshape(-1)                             # (h, w, c)
    b = w[0].astype("<u4").tobytes()
    assert list(b[:18]) == list(seq) and not any(b[18:])


def test_temporal_bits_hwtc():
    rng = np.random.default_rng(0)
    x = (rng.random((2, 3, 2, 4, 5)) < 0.4).astype(np.uint8)              # [N, T, C, H, W]
    w = frames.pack(x, spec.IN_TEMPORAL, 3)
    assert w.shape == (2, frames.frame_words((2, 4, 5), spec.IN_TEMPORAL, 3))
    for n in range(2):
        j = 0
        for h in range(4):
            for ww in range(5):
                for t in range(3):
                    for c in range(2):
                        assert (int(w[n, j // 32]) >> (j % 32)) & 1 == x[n, t, c, h, ww]
                        j += 1
