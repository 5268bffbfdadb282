"""The scanner's plane-select copies (soc/accel/scanner.py): one for the control, one per SEL_FANOUT
data bits, kept apart by synthesis. What the scanner emits is checked by test_orchestrator (every
token, static and not, windows wider than one copy drives) and end to end by test_core."""
import re
from pathlib import Path

import pytest

from keptcheck import kept_dffs, needs_yosys
from migen import Module
from sw import spec
from sw.topology import LayerShape
from soc.accel.config import LayerConfig
from soc.accel.scanner import SEL_FANOUT, Scanner
from soc.accel.verilog import convert

ROOT = Path(__file__).resolve().parents[3]


def scanner_verilog(ci, pci, planes, static):
    lc = LayerConfig(LayerShape("conv", ci, 3, 3, 2, 3, 3), spec.Widths(8, 9, 4, 4), 1, pci, 4, planes, static)
    top = Module()
    top.submodules.scan = scan = Scanner(lc)
    ios = {scan.win, scan.nz, scan.valid, scan.release, scan.busy, *scan.source.flatten()}
    return lc, convert(top, ios, "accel")


@pytest.mark.parametrize("ci,pci,planes,static", [(64, 48, 4, False), (16, 16, 8, True), (2, 18, 4, False),
                                                     (6, 24, 4, False)])     # 54 of 72 chunk bits used
def test_copies_one_per_fanout(ci, pci, planes, static):
    lc, text = scanner_verilog(ci, pci, planes, static)
    names = set(re.findall(r"\b(fanout_scan_p\d+)\b", text))
    assert len(names) == 1 + -(-lc.fan_in // SEL_FANOUT)      # the chunks' bits past fan_in are constant 0


def test_one_plane_has_no_copies():
    _, text = scanner_verilog(16, 16, 1, False)
    assert "fanout_scan_p" not in text


@needs_yosys
def test_copies_survive_merging():
    lc, text = scanner_verilog(64, 48, 4, False)                # 576 data bits: 9 data copies
    d, wires = ROOT / "build" / "test-scanner-keep", "w:scan_p w:fanout_scan_p* %u"
    assert len(kept_dffs(text, True, d, wires)) == 10          # scan_p merges into a copy, the copies stay
    assert len(kept_dffs(text, False, d, wires)) == 1          # without yosys_keep all merge into one
