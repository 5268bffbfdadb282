"""The Arty target: generates without Vivado (--no-compile-gateware), and the yosys estimate of the
whole SoC with SCNN5's accelerator fits an XC7A35T (or the test names the part it fits)."""
import os
import shutil
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


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys not installed")
def test_yosys_estimate_fits_a7_35(scnn5_model, tmp_path):
    from soc.targets import arty
    import io
    import contextlib
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = arty.main(["--model", str(scnn5_model), "--synth-estimate", "--output-dir", str(tmp_path)])
    assert rc == 0
    text = buf.getvalue()
    util = parse_stat((tmp_path / "gateware" / "yosys_stat.txt").read_text())
    assert util["lut"] > 5000 and util["ff"] > 3000       # VexRiscv + LiteDRAM + accelerator are all there
    # the default variant (a7-35) sizes the accelerator with balance's A7-35T budget: the whole SoC fits
    assert smallest_part(util) == "a7-35", (f"whole SoC does not fit {PARTS['a7-35']['name']}: {util['lut']} LUT, "
                                            f"{util['ff']} FF, {util['bram36']} RAMB36, {util['dsp']} DSP")
