"""The firmware's load-image builder (firmware/loadimg.c) against soc.accel.loadimage.build, word for
word, for several parallelisms; and its refusal of a model that does not fit the hardware."""
import numpy as np
import pytest

from sw.random_model import make

accel = pytest.importorskip("soc.accel.loadimage")
from soc.accel.config import AccelConfig  # noqa: E402


def hw_text(cfg) -> str:
    lines = [f"{cfg.signature} {len(cfg.layers)} {cfg.timesteps} {cfg.in_bits} {cfg.in_kind} {cfg.load_words()}"]
    for lc in cfg.layers:
        lines.append(" ".join(str(v) for v in (*lc.descriptor(), lc.pco, lc.pci)))
    return "\n".join(lines) + "\n"


def c_image(ffs_host, tmp_path, model, cfg):
    mp, hp, op = tmp_path / "m.ffs", tmp_path / "hw.txt", tmp_path / "img.bin"
    model.save(mp)
    hp.write_text(hw_text(cfg))
    out = ffs_host("loadimg", mp, hp, op)
    return out, (np.fromfile(op, "<u4") if out.startswith("ok") else None)


@pytest.mark.parametrize("topo,par", [
    ("scnn5", [(8, 9), (4, 36), (8, 48), (16, 63), (16, 40), (10, 33)]),
    ("scnn5", [(1, 1), (3, 5), (5, 33), (7, 20), (64, 32), (1, 31)]),
    ("1x12x12-4c3p1-6c3s2p1-mp2-5fc", [(3, 7), (4, 33), (5, 54)]),
    ("scnn5", [(8, 9), (4, 36), (8, 48), (16, 64), (16, 96), (10, 64)]),     # PCi > 63: multi-word masks
])
def test_load_image_matches_python(ffs_host, tmp_path, topo, par):
    model = make(topo, 0.85, seed=len(par), timesteps=3 if topo != "scnn5" else 4,
                 in_bits=4 if topo != "scnn5" else 8)
    cfg = AccelConfig.from_model(model, par)
    out, words = c_image(ffs_host, tmp_path, model, cfg)
    assert out.startswith("ok"), out
    want = accel.build(model, cfg)
    assert len(words) == len(want)
    bad = np.flatnonzero(words != want)
    assert not len(bad), f"first difference at word {bad[0]}: C {words[bad[0]]:#x}, Python {want[bad[0]]:#x}"


def test_model_that_does_not_fit_is_refused(ffs_host, tmp_path):
    hw_model = make("1x12x12-4c3p1-6c3s2p1-mp2-5fc", 0.8, seed=1, timesteps=3, in_bits=4)
    cfg = AccelConfig.from_model(hw_model, [(2, 9), (3, 36), (5, 54)])
    other = make("1x12x12-4c3p1-6c3p1-mp2-5fc", 0.8, seed=1, timesteps=3, in_bits=4)
    out, _ = c_image(ffs_host, tmp_path, other, cfg)
    assert out.startswith("error: model does not fit the hardware: layer 1 topology differs"), out
    wrong_t = make("1x12x12-4c3p1-6c3s2p1-mp2-5fc", 0.8, seed=1, timesteps=2, in_bits=4)
    out, _ = c_image(ffs_host, tmp_path, wrong_t, cfg)
    assert out.startswith("error: model does not fit the hardware: T/in_bits/in_kind"), out
