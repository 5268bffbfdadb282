"""The loader's write-port tree (soc/accel/loader.py): W2 registers per `write_fanout` detectors that
synthesis keeps apart. Loading itself is checked end to end by test_core (every memory, bad images)."""
import re
from pathlib import Path

import pytest

from keptcheck import kept_dffs, needs_yosys
from sw import random_model
from soc.accel.config import AccelConfig
from soc.accel.synth import verilog

ROOT = Path(__file__).resolve().parents[3]


def small_cfg():
    m = random_model.make("1x8x8-4c3p1-mp2-12c3p1-5fc", 0.8, seed=3)
    return AccelConfig.from_model(m, [(2, 9), (12, 12), (1, 24)])      # layer 1: 12 detectors, 2 W2 groups


@needs_yosys
def test_write_tree_registers_survive_merging():
    text = verilog(small_cfg(), registered=True)
    groups = set(re.findall(r"\b(\w*fanout_loader_w2_chunk1_\d+)\b", text))
    assert len(groups) == 2, groups                          # 12 detectors, 8 per W2 register
    d, wires = ROOT / "build" / "test-loader-keep", "w:*fanout_loader_w2_chunk1_*"
    assert len(kept_dffs(text, True, d, wires)) == 2         # one flip-flop cell per W2 register
    assert len(kept_dffs(text, False, d, wires)) == 1        # without yosys_keep the twins merge
