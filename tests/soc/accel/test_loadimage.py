"""The load image layout (docs/load-image.md): decode it back into weights, biases and thresholds."""
import numpy as np
import pytest

from sw import random_model
from soc.accel import loadimage as li
from soc.accel.config import VAL_PER_WORD, AccelConfig


def decode(words, cfg):
    """Inverse of build(): per layer flat weights [co, K], bias, vth, and the model widths."""
    assert words[0] == li.MAGIC and words[1] == cfg.signature and words[2] == len(cfg.layers)
    pos, layers = 3, []
    for lc in cfg.layers:
        desc = [int(v) for v in words[pos:pos + 5]]
        assert tuple(desc[:4]) == lc.descriptor()[:4]
        pos += 5
        co, k = lc.shape.co, lc.fan_in
        flat, bias, vth = np.zeros((co, k), np.int64), np.zeros(co, np.int64), np.zeros(co, np.int64)
        for d in range(lc.pco):
            recs = words[pos:pos + lc.chunk_depth * lc.chunk_words].reshape(lc.groups, lc.chunks, lc.chunk_words)
            pos += lc.chunk_depth * lc.chunk_words
            vw = words[pos:pos + lc.val_depth].astype(np.int64)
            pos += lc.val_depth
            nib = ((vw[:, None] >> (4 * np.arange(VAL_PER_WORD))) & 0xF).reshape(-1)
            vals = np.where(nib >= 8, nib - 16, nib)
            par = words[pos:pos + 2 * lc.groups].reshape(lc.groups, 2).astype(np.int64)
            pos += 2 * lc.groups
            for g, c in enumerate(li.detector_channels(lc, d)):
                for j in range(lc.chunks):
                    m = sum(int(recs[g, j, w]) << (32 * w) for w in range(lc.mask_words))
                    base = int(recs[g, j, -1])
                    for i in range(lc.pci):
                        if m >> i & 1:
                            assert c is not None and j * lc.pci + i < k
                            flat[c, j * lc.pci + i] = vals[base + bin(m & ((1 << i) - 1)).count("1")]
                if c is not None:
                    bias[c] = par[g, 0] - (1 << 32) * (par[g, 0] >= 1 << 31)
                    vth[c] = par[g, 1]
        layers.append((flat, bias, vth, desc[4]))
    assert words[pos] == li.END and pos + 1 == len(words)
    return layers


@pytest.mark.parametrize("notation,par,sparsity", [
    ("1x6x6-4c3p1-mp2-5c3-3fc", [(3, 5), (2, 36), (2, 4)], 0.5),
    ("2x5x5-3c2s2-4fc", [(1, 8), (4, 12)], 0.0),
    ("1x4x4-6fc", [(4, 7)], 0.9),
])
def test_layout_roundtrip(notation, par, sparsity):
    m = random_model.make(notation, sparsity, seed=3)
    cfg = AccelConfig.from_model(m, par)
    words = li.build(m, cfg)
    assert len(words) == cfg.load_words()
    for (flat, bias, vth, wd), layer in zip(decode(words, cfg), m.layers):
        assert np.array_equal(flat, layer.flat)
        assert np.array_equal(bias, layer.bias) and np.array_equal(vth, layer.vth)
        w = layer.widths
        assert wd == w.acc | w.mem << 8 | w.bias << 16 | w.vth << 24


def test_refuses_other_topology_and_wider_model():
    m = random_model.make("1x6x6-4c3p1-3fc", 0.5, seed=1)
    cfg = AccelConfig.from_model(m, [(2, 9), (3, 8)])
    other = random_model.make("1x6x6-5c3p1-3fc", 0.5, seed=1)
    with pytest.raises(li.LoadImageError, match="does not fit"):
        li.build(other, cfg)
    wide = type(m).from_dense(m.shapes, [l.weights for l in m.layers], [l.bias * 1000 for l in m.layers],
                              [l.vth for l in m.layers], m.timesteps, m.in_bits, notation=m.notation)
    with pytest.raises(li.LoadImageError, match="widths"):
        li.build(wide, cfg)
    narrow = random_model.make("1x6x6-4c3p1-3fc", 0.95, seed=2)     # same topology, fits: accepted
    if cfg.fits(narrow) is None:
        assert len(li.build(narrow, cfg)) == cfg.load_words()
