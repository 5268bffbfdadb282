"""The loader's write-port tree (soc/accel/loader.py): W2 registers per `write_fanout` detectors that
synthesis keeps apart. Loading itself is checked end to end by test_core (every memory, bad images)."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sw import random_model
from soc.accel.config import AccelConfig
from soc.accel.synth import verilog
from soc.accel.verilog import yosys_keep

ROOT = Path(__file__).resolve().parents[3]
needs_yosys = pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys not installed")


def small_cfg():
    m = random_model.make("1x8x8-4c3p1-mp2-12c3p1-5fc", 0.8, seed=3)
    return AccelConfig.from_model(m, [(2, 9), (12, 12), (1, 24)])      # layer 1: 12 detectors, 2 W2 groups


def kept_dffs(text: str, keep: bool, d: Path, wires: str) -> set:
    """Names of the flip-flops left driving the wires `wires` (a yosys selection of wires) after
    `opt -share_all` (merging to a fixed point), with or without yosys_keep() first."""
    d.mkdir(parents=True, exist_ok=True)
    (d / "accel.v").write_text(text)
    script = ["read_verilog accel.v", *(yosys_keep("accel") if keep else ["hierarchy -top accel", "proc"]),
              "flatten", "opt -share_all",
              f"tee -q -o dffs.txt select -list {wires} %ci1:+[Q] t:$*dff* %i"]
    subprocess.run(["yosys", "-q", "-p", "; ".join(script)], cwd=d, check=True, capture_output=True, timeout=600)
    return {x for x in (d / "dffs.txt").read_text().split() if x.startswith("accel/")}


@needs_yosys
def test_write_tree_registers_survive_merging():
    text = verilog(small_cfg(), registered=True)
    groups = set(re.findall(r"\b(\w*fanout_loader_w2_chunk1_\d+)\b", text))
    assert len(groups) == 2, groups                          # 12 detectors, 8 per W2 register
    d, wires = ROOT / "build" / "test-loader-keep", "w:*fanout_loader_w2_chunk1_*"
    assert len(kept_dffs(text, True, d, wires)) == 2         # one flip-flop cell per W2 register
    assert len(kept_dffs(text, False, d, wires)) == 1        # without yosys_keep the twins merge
