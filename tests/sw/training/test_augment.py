import numpy as np
import pytest

from sw.training.augment import augment, batch_rng


def _frames(shape, seed=0):
    return np.random.default_rng(seed).integers(1, 256, shape, dtype=np.uint8)


@pytest.mark.parametrize("shape", [(16, 1, 12, 10), (8, 3, 2, 9, 7)])
def test_shift_moves_whole_frames_with_zero_fill(shape):
    x = _frames(shape)
    y = augment(x, np.random.default_rng(1), shift=2)
    assert y.shape == x.shape and y.dtype == x.dtype
    h, w = shape[-2:]
    moved = 0
    for n in range(shape[0]):
        # find the (dy, dx) that explains frame n: every non-zero pixel comes from x shifted by it
        hits = []
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                ref = np.zeros_like(x[n])
                ref[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
                    x[n][..., max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
                if np.array_equal(ref, y[n]):
                    hits.append((dy, dx))
        assert len(hits) == 1, f"frame {n} is not a shifted copy"
        moved += hits[0] != (0, 0)
    assert moved > 0


def test_hflip_mirrors_about_half_and_leaves_the_input_alone():
    x = _frames((400, 1, 5, 6))
    keep = x.copy()
    y = augment(x, np.random.default_rng(3), hflip=True)
    assert np.array_equal(x, keep)
    flipped = np.array([np.array_equal(y[i], x[i, ..., ::-1]) for i in range(len(x))])
    same = np.array([np.array_equal(y[i], x[i]) for i in range(len(x))])
    assert np.all(flipped | same) and 150 < flipped.sum() < 250


def test_draws_are_reproducible_per_batch():
    x = _frames((32, 1, 28, 28))
    a = augment(x, batch_rng(0, "float", 2, 5), shift=2, hflip=True)
    b = augment(x, batch_rng(0, "float", 2, 5), shift=2, hflip=True)
    c = augment(x, batch_rng(0, "float", 2, 6), shift=2, hflip=True)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_bad_shift_is_refused():
    with pytest.raises(ValueError):
        augment(_frames((2, 1, 4, 4)), np.random.default_rng(0), shift=4)
    with pytest.raises(ValueError):
        augment(_frames((2, 1, 4, 4)), np.random.default_rng(0), shift=-1)
