"""The accelerator's Verilog comes from LiteX's converter (the one every SoC build uses), and it never
puts a negative constant where LiteX prints it wrong: LiteX 2024.12 writes -5 as `-3'd5`, an unsigned
expression, so a signed compare or a sum feeding one silently turns unsigned. That bug once made every
SoC build of the accelerator predict class 0 while the Migen-converted core passed."""
import re

import pytest
from migen import Module, Signal

from sw import random_model
from soc.accel.config import AccelConfig
from soc.accel.rtlsim import SimTop, verilog
from soc.accel.verilog import add, convert, equals

# where a negative literal is harmless: a whole assignment, a Mux arm, an (in)equality (an unsigned
# operand is zero-extended under a 0 sign bit, so it never equals a negative pattern)
SAFE = re.compile(r"(<?=\s*-\d+'d\d+;)|(\?\s*-\d+'d\d+\s*:)|([!=]=\s*-\d+'d\d+\))")
NEGATIVE = re.compile(r"-\d+'d\d+")


def unsafe_negative_literals(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n")
            if not line.lstrip().startswith("reg ") and NEGATIVE.search(SAFE.sub("", line))]


@pytest.mark.parametrize("notation,par", [
    ("1x28x28-8c3p1-mp2-8c3p1-mp2-10fc", [(2, 9), (2, 24), (1, 49)]),
    ("2x9x9-4c3s2p1-6c1-mp2-5fc", [(1, 9), (2, 4), (1, 24)]),
    ("1x7x7-3c3p2-4c2s2p1-3fc", [(1, 9), (1, 12), (1, 16)]),
])
def test_core_verilog_has_no_mis_signed_constant(notation, par):
    m = random_model.make(notation, 0.5, seed=1)
    text = verilog(AccelConfig.from_model(m, par))
    assert "module top" in text
    assert unsafe_negative_literals(text) == []
    assert not re.search(r"\{\s*\}", text)      # an empty concatenation: Migen's simulator takes it, Verilog not


def test_the_check_sees_the_trap():
    """The bare compare a designer might write is flagged; the helpers' forms are not."""
    def text(expr_of):
        m = Module()
        x, y = Signal((8, True)), Signal()
        m.comb += y.eq(expr_of(x))
        return convert(m, ios={x, y}, name="t")
    assert unsafe_negative_literals(text(lambda x: x >= -3))
    assert unsafe_negative_literals(text(lambda x: x + -3 < 0))
    assert not unsafe_negative_literals(text(lambda x: add(x, 3) >= 0))
    assert not unsafe_negative_literals(text(lambda x: add(x, -3) < 0))


def test_helpers_keep_the_arithmetic():
    assert equals(Signal(4), -1) == 0
    assert str(add(Signal(4), -3).op) == "-"
    assert str(add(Signal(4), 3).op) == "+"


def test_banner_is_stable():
    """No date or git revision in the text, so rtlsim's and synth's caches keep their keys."""
    m = random_model.make("1x6x6-3c3p1-3fc", 0.5, seed=2)
    cfg = AccelConfig.from_model(m, [(2, 9), (2, 8)])
    a = convert(SimTop(cfg), ios=set(), name="top")
    assert "Date" not in a and "sha1" not in a


def _beside_a_multiplier(width: int, logic):
    """A module whose `width` registered inputs `a` feed logic(module, registered a) into the 1-bit
    register `o`, beside a 64-bit multiply-add whose DSP chain sets a critical delay of several ns: abc9
    (no delay target) maps the logic for area under that delay."""
    m = Module()
    m.a, m.x = Signal(width, name="a"), Signal(64, name="x")
    m.o, m.s = Signal(name="o"), Signal(64, name="s")
    ar, xr = Signal(width, name="ar"), Signal(64, name="xr")
    m.sync += ar.eq(m.a), xr.eq(m.x), m.s.eq(xr * xr[:16] + xr)
    m.sync += m.o.eq(logic(m, ar))
    return m


def _wide_or_beside_a_multiplier(kept: bool):
    """A 52-input OR into a register, beside the multiplier."""
    from operator import or_
    from soc.accel.bitops import reduce_tree
    from soc.accel.verilog import kept_wires
    return _beside_a_multiplier(52, lambda m, ar: reduce_tree(or_, [ar[i] for i in range(52)],
                                                             kept_wires(m, "t") if kept else None))


def test_kept_nodes_hold_a_balanced_tree_through_synthesis(monkeypatch):
    """kept_wires + yosys_keep (in soc.synth_estimate's script): the OR of 52 bits stays 3 LUT levels
    (ceil(log6 52)). Without the kept nodes it is 3 as well at the flow's abc9 wire delay (ABC9_WIRE_PS),
    but at synth_xilinx's own 300 ps abc9 chains it deeper (the A7-100T build's OR trees at 5): the kept
    nodes hold the shape whatever abc9 weighs."""
    from pathlib import Path
    import soc.synth_estimate as se
    levels, w = {}, se.ABC9_WIRE_PS
    for kept, wire_ps in ((True, w), (False, w), (False, 300)):
        monkeypatch.setattr(se, "ABC9_WIRE_PS", wire_ps)
        m = _wide_or_beside_a_multiplier(kept)
        d = Path("build/test-kept-nodes") / f"{kept}-{wire_ps}"
        d.mkdir(parents=True, exist_ok=True)
        (d / "t.v").write_text(convert(m, ios={m.a, m.x, m.o, m.s}, name="t"))
        if kept:
            assert "knode_t" in (d / "t.v").read_text()
        levels[kept, wire_ps] = se.synth_xc7(d, [d / "t.v"], "t")["timing"]["max_lut_levels"]
    assert levels[True, w] == 3 and levels[False, w] == 3 and levels[False, 300] > 3, levels


def test_kept_node_is_a_cut_its_readers_read():
    """yosys_keep() cuts every kept node (soc.accel.verilog.CUT_CELL, removed after mapping by
    yosys_uncut()), as Vivado's KEEP does: a reader of the node reads its LUT. `keep` alone let abc9
    recompute a node's function from the raw bits beside it (the random models' 5-level chains): here y =
    k ^ b[0..3] with k = a0 & a1 kept would be one LUT6 of the six raw bits, with the cut it is a LUT5
    reading k."""
    import subprocess
    from pathlib import Path
    from soc.synth_estimate import parse_stat, synth_xc7, yosys_command
    from soc.accel.verilog import kept_wires, yosys_keep, yosys_uncut
    m = Module()
    m.a, m.b, m.y, m.k = Signal(2), Signal(4), Signal(name="y"), Signal(name="k")
    k = kept_wires(m, "k")(m.a[0] & m.a[1])
    m.sync += m.y.eq(k ^ m.b[0] ^ m.b[1] ^ m.b[2] ^ m.b[3]), m.k.eq(k)
    d = Path("build/test-kept-cut")
    d.mkdir(parents=True, exist_ok=True)
    (d / "t.v").write_text(convert(m, ios={m.a, m.b, m.y, m.k}, name="t"))
    cells = synth_xc7(d, [d / "t.v"], "t")["cells"]
    assert cells.get("LUT5") == 1 and "LUT6" not in cells and "FFS_CUT" not in cells, cells
    keep_only = [c for c in yosys_keep("t") if not c.startswith("insbuf")]      # the same without the cut
    (d / "k.ys").write_text("\n".join(["read_verilog -sv t.v", *keep_only, "synth_xilinx -family xc7 -top t -flatten -abc9",
                                       *yosys_uncut(), "tee -q -o k_stat.txt stat"]) + "\n")
    subprocess.run([yosys_command(), "-q", "-s", "k.ys"], cwd=d, check=True)
    assert "LUT6" in parse_stat((d / "k_stat.txt").read_text())["cells"]


def test_stretches_between_cuts_are_mapped_for_delay():
    """The cut cell is an abc9 timing box and a LUT level costs abc9 a routed wire (soc.synth_estimate's
    ABC9_WIRE_PS): sat_sum over 11 registered counts (kept nodes of three counts each, as the scanner's
    `c_last`) is 3 LUT levels into its register, one LUT6 per node bit. With a plain blackbox cut (each
    stretch timed from 0) and abc9's 300 ps, beside a multiplier's slower path, abc9 mapped a node as a
    LUT2 into a LUT5 for area: 4-5 levels (random model 4's `c_last` at 6)."""
    from pathlib import Path
    from soc.accel.bitops import sat_sum
    from soc.accel.verilog import kept_wires
    from soc.synth_estimate import synth_xc7
    m = _beside_a_multiplier(22, lambda m, cr: sat_sum([cr[2 * i:2 * i + 2] for i in range(11)],
                                                       kept_wires(m, "cntsum")) <= 2)
    d = Path("build/test-cut-timing")
    d.mkdir(parents=True, exist_ok=True)
    (d / "t.v").write_text(convert(m, ios={m.a, m.x, m.o, m.s}, name="t"))
    t = synth_xc7(d, [d / "t.v"], "t")["timing"]
    assert t["max_lut_levels"] == 3 and t["critical_ns"] > 4, t
