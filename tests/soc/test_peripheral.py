"""add_snn_accel: CSRs with a description on every register and field, the LiteX CSR documentation
generates, DMA masters and IRQ are attached, hardware parameters reach soc.h as constants."""
import pytest

from soc.accel_options import accel_config
from soc.sim_soc import SimSoC
from sw.random_model import make

TOPO = "1x8x8-4c3p1-mp2-6c3p1-3fc"


@pytest.fixture(scope="module")
def soc():
    model = make(TOPO, 0.7, seed=1, timesteps=2, in_bits=4)
    cfg = accel_config(model, [(2, 5), (3, 18), (3, 27)])
    s = SimSoC(accel_config=cfg)
    s.finalize()
    return s, cfg


def test_every_csr_and_field_is_documented(soc):
    s, _ = soc
    csrs = s.snn.get_csrs()
    assert len(csrs) >= 15
    for c in csrs:
        assert getattr(c, "description", None), f"CSR {c.name} has no description"
        for f in getattr(c, "fields", None).fields if getattr(c, "fields", None) else []:
            assert f.description, f"CSR {c.name} field {f.name} has no description"


def test_dma_masters_irq_and_constants(soc):
    s, cfg = soc
    masters = set(s.bus.masters)
    assert {"snn_load", "snn_frames", "snn_results"} <= masters
    assert "snn" in s.irq.locs
    consts = s.constants
    assert consts["SNN_ACCEL_SIGNATURE"] == cfg.signature
    assert consts["SNN_ACCEL_FRAME_WORDS"] == cfg.frame_words
    for i, lc in enumerate(cfg.layers):
        assert consts[f"SNN_ACCEL_L{i}_PCO"] == lc.pco
        assert [consts[f"SNN_L{i}_DESC{j}"] for j in range(5)] == list(lc.descriptor())


def test_csr_documentation_generates(soc, tmp_path):
    from litex.soc.doc import generate_docs
    s, _ = soc
    generate_docs(s, str(tmp_path), project_name="FireFly-S sim SoC", author="FireFly-S")
    text = (tmp_path / "snn.rst").read_text()
    for name in ("LOAD_BASE", "FRAMES_BASE", "RESULTS_BASE", "RUN_ENABLE", "LAYER_PAIRS", "STATUS"):
        assert name in text.upper(), name
    assert "load_error" in text and "Selected layer" in text
    assert (tmp_path / "interrupts.rst").exists()
