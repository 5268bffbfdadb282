"""The scanner's plane select as two registers (soc/accel/scanner.py): `psel` for the data mux, `pctl`
for C's control, kept apart by synthesis. What the scanner emits is checked by test_orchestrator (every
token, static and not, windows wider than one copy drives) and end to end by test_core."""
import re
from pathlib import Path

import pytest

from keptcheck import kept_dffs, needs_yosys
from migen import Module
from sw import spec
from sw.topology import LayerShape
from soc.accel.config import LayerConfig
from soc.accel.scanner import Scanner
from soc.accel.verilog import convert

ROOT = Path(__file__).resolve().parents[3]


def scanner_verilog(ci, pci, planes, static):
    lc = LayerConfig(LayerShape("conv", ci, 3, 3, 2, 3, 3), spec.Widths(8, 9, 4, 4), 1, pci, 4, planes, static)
    top = Module()
    top.submodules.scan = scan = Scanner(lc)
    ios = {scan.win, scan.nz_next, scan.load, scan.late, scan.valid, scan.release, scan.busy, *scan.source.flatten()}
    return convert(top, ios, "accel")


@pytest.mark.parametrize("ci,pci,planes,static", [(64, 48, 4, False), (16, 16, 8, True), (6, 24, 4, False)])
def test_two_selects(ci, pci, planes, static):
    text = scanner_verilog(ci, pci, planes, static)
    assert set(re.findall(r"\b(fanout_scan_p\w*)\b", text)) == {"fanout_scan_p", "fanout_scan_pctl"}


def test_one_plane_has_no_copies():
    text = scanner_verilog(16, 16, 1, False)
    assert "fanout_scan_p" not in text


@needs_yosys
def test_copies_survive_merging():
    text = scanner_verilog(64, 48, 4, False)
    d, wires = ROOT / "build" / "test-scanner-keep", "w:fanout_scan_p*"
    assert len(kept_dffs(text, True, d, wires)) == 2
    assert len(kept_dffs(text, False, d, wires)) == 1          # without yosys_keep the twins merge
