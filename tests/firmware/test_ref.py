"""The firmware's CPU reference (firmware/ref.c, host-compiled) against the golden model (sw.golden):
the same readout accumulators, bit for bit, on real MNIST frames and on random topologies."""
import numpy as np
import pytest

from sw import golden, spec
from sw.host.frames import pack
from sw.random_model import make

TOPOLOGIES = [
    ("1x12x12-4c3p1-6c3s2p1-mp2-5fc", dict(timesteps=3, in_bits=4)),
    ("2x10x10-4c5p2-mp2-8fc-3fc", dict(timesteps=5, in_kind=spec.IN_TEMPORAL, in_bits=1)),
    ("1x9x7-3c3x2-2c1-4fc", dict(timesteps=2, in_bits=8, leak=False)),
    ("3x8x8-4c3-mp2-3fc", dict(timesteps=1, in_bits=2)),
]


def frame_words(model, images: np.ndarray) -> bytes:
    """Frames in the accelerator word format: the one definition, sw/frames.py."""
    return pack(model, images)


def run_ref(ffs_host, tmp_path, model, images):
    mp, fp = tmp_path / "m.ffs", tmp_path / "f.bin"
    model.save(mp)
    fp.write_bytes(frame_words(model, images))
    out = ffs_host("infer", mp, fp, len(images))
    rows = [line.split() for line in out.splitlines() if line.startswith("class")]
    assert len(rows) == len(images), out[:500]
    return np.array([int(r[1]) for r in rows]), np.array([[int(v) for v in r[3:]] for r in rows])


def test_ref_matches_golden_on_mnist(ffs_host, tmp_path):
    from sw.datasets import load
    images = load("mnist", "test").images[:6]
    model = make("scnn5", 0.9, seed=3, calib=load("mnist", "train").images[:32])
    cls, readout = run_ref(ffs_host, tmp_path, model, images)
    gold = golden.forward(model, images)
    assert np.array_equal(readout, gold)
    assert np.array_equal(cls, golden.predict(gold))


@pytest.mark.parametrize("i", range(len(TOPOLOGIES)))
def test_ref_matches_golden_on_random_topologies(ffs_host, tmp_path, i):
    topo, kw = TOPOLOGIES[i]
    model = make(topo, 0.6, seed=10 + i, spike_density=0.3, **kw)
    rng = np.random.default_rng(i)
    c, h, w = model.input_shape
    if model.in_kind == spec.IN_TEMPORAL:
        images = (rng.random((5, model.timesteps, c, h, w)) < 0.3).astype(np.uint8)
    else:
        images = rng.integers(0, 256, (5, c, h, w), dtype=np.uint8)
    cls, readout = run_ref(ffs_host, tmp_path, model, images)
    gold = golden.forward(model, images)
    assert np.array_equal(readout, gold)
    assert np.array_equal(cls, golden.predict(gold))
