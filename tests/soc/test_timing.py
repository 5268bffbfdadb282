"""soc.timing: the logic-only static timing of a yosys netlist, cross-checked against yosys' own `sta`."""
import re
import subprocess
from pathlib import Path

from migen import Module, Signal
from migen.fhdl.verilog import convert

from soc import timing
from soc.synth_estimate import synth_xc7, yosys_command

ROOT = Path(__file__).resolve().parents[2]


class AddCompare(Module):
    """A 16-bit add, a compare and a 4-input AND from the inputs into one register: a carry chain plus a
    few LUT levels. (yosys' `sta` times paths from primary inputs and memories only, not from flip-flops,
    so the cross-check starts at the inputs.)"""

    def __init__(self):
        self.a, self.b, self.e = Signal(16), Signal(16), Signal(17)
        self.mask = Signal(4)
        self.out = Signal()
        s, hit = Signal(17), Signal(name="hit_reg")
        self.comb += s.eq(self.a + self.b)
        self.sync += hit.eq((s > self.e) & (self.mask == 0b1011)), self.out.eq(hit)


def test_matches_yosys_sta_and_names_the_path():
    d = ROOT / "build" / "test_timing"
    d.mkdir(parents=True, exist_ok=True)
    m = AddCompare()
    (d / "top.v").write_text(str(convert(m, ios={m.a, m.b, m.e, m.mask, m.out}, name="top")))
    r = synth_xc7(d, [d / "top.v"], "top", keep_netlist=True)
    t = r["timing"]
    # yosys' own sta on the same (deterministic) synthesis
    subprocess.run([yosys_command(), "-q", "-p", "read_verilog -sv top.v; synth_xilinx -family xc7 -top top -flatten "
                    "-abc9; read_verilog -lib -specify +/xilinx/cells_sim.v; tee -q -o sta.txt sta"], cwd=d,
                   check=True, capture_output=True, timeout=600)
    latest = int(re.search(r"Latest arrival time in 'top' is (\d+)", (d / "sta.txt").read_text()).group(1))
    assert abs(t["critical_ns"] * 1000 - latest) < 1, (t["critical_ns"], latest)
    assert t["critical_carry4"] >= 4 and 1 <= t["critical_lut_levels"] <= 4
    assert t["critical_end"].endswith("hit_reg"), t["critical_end"]
    assert r["ff"] == 2
    assert sum(d["bits"] for d in t["deep_endpoints"]) <= t["endpoints_over_4_lut_levels"]


def test_cell_models_parse():
    models = timing.cell_models()
    lut6 = {(a[0], a[3]): a[5] for a in models["LUT6"]["arcs"]}
    assert lut6[("I0", "O")] == 642 and lut6[("I5", "O")] == 127
    assert any(c[3] == 2454 for c in models["RAMB36E1"]["clk2out"])
    assert len(models["CARRY4"]["arcs"]) >= 40


def test_blocks():
    assert timing.block_of("engine2_detector5_pair_adr") == "detector"
    assert timing.block_of("snn_core_engine0_orchestrator0_kyrow") == "orchestrator"
    assert timing.block_of("engine1_neuron3_v") == "neuron"
    assert timing.block_of("snn_load_dma_offset") == "dma/csr"


def _net(cells, names, ports):
    return {"modules": {"top": {"ports": ports, "cells": cells,
                                "netnames": {n: {"bits": [b], "hide_name": 0} for n, b in names.items()}}}}


def test_deep_endpoint_names_the_start_of_its_deepest_chain():
    # reg_a -> LUT6.I0 (slow pin, 0.642 ns) -> reg_d, and reg_b -> four LUT6s on I5 (fast) -> the same
    # LUT6's I5 (5 x 0.127 ns): the latest path starts at reg_a, the deepest chain (5 levels) at reg_b
    ff = lambda q, d: {"type": "FDRE", "port_directions": {"C": "input", "CE": "input", "R": "input", "D": "input", "Q": "output"},  # noqa: E731
                       "connections": {"C": [1], "CE": ["1"], "R": ["0"], "D": [d], "Q": [q]}}
    lut = lambda i0, i5, o: {"type": "LUT6", "parameters": {"INIT": "0"},  # noqa: E731
                             "port_directions": {**{f"I{k}": "input" for k in range(6)}, "O": "output"},
                             "connections": {"I0": [i0], "I1": ["0"], "I2": ["0"], "I3": ["0"], "I4": ["0"], "I5": [i5], "O": [o]}}
    cells = {"ra": ff(2, 100), "rb": ff(3, 101), "rd": ff(4, 20)}
    prev = 3
    for k in range(4):
        cells[f"l{k}"] = lut("0", prev, 10 + k)
        prev = 10 + k
    cells["last"] = lut(2, prev, 20)
    names = {"clk": 1, "reg_a": 2, "reg_b": 3, "reg_d": 4}
    t = timing.analyze(_net(cells, names, {"clk": {"direction": "input", "bits": [1]}}), "top")
    assert t["critical_start"] == "reg_a" and t["critical_lut_levels"] == 1
    assert t["max_lut_levels"] == 5 and t["endpoints_over_4_lut_levels"] == 1
    (deep,) = t["deep_endpoints"]
    assert deep["endpoint"] == "reg_d" and deep["lut_levels"] == 5 and deep["from"] == "reg_b", deep


def test_deep_families_count_every_copy_of_a_block():
    # two copies of one block (eng0_x, eng1_x), each fed by a 5-LUT chain from its own src register,
    # and one shallow register: one family of 2 bits, named with the numbers replaced by #
    ff = lambda q, d: {"type": "FDRE", "port_directions": {"C": "input", "CE": "input", "R": "input", "D": "input", "Q": "output"},  # noqa: E731
                       "connections": {"C": [1], "CE": ["1"], "R": ["0"], "D": [d], "Q": [q]}}
    lut = lambda i, o: {"type": "LUT2", "parameters": {"INIT": "0"},  # noqa: E731
                        "port_directions": {"I0": "input", "I1": "input", "O": "output"},
                        "connections": {"I0": [i], "I1": ["0"], "O": [o]}}
    cells, names = {}, {"clk": 1}
    for c in range(2):
        src, dst, prev = 100 + 10 * c, 200 + 10 * c, 100 + 10 * c
        names[f"eng{c}_src"], names[f"eng{c}_x"] = src, dst
        cells[f"src{c}"], cells[f"x{c}"] = ff(src, 300), ff(dst, 400 + c)
        for k in range(5):
            cells[f"l{c}_{k}"] = lut(prev, 400 + c if k == 4 else 1000 + 10 * c + k)
            prev = 1000 + 10 * c + k
    cells["shallow"] = ff(500, 100)
    names["eng0_shallow"] = 500
    t = timing.analyze(_net(cells, names, {"clk": {"direction": "input", "bits": [1]}}), "top")
    assert t["endpoints_over_4_lut_levels"] == 2
    assert t["deep_families"] == [{"family": "eng#_x", "lut_levels": 5, "from": "eng#_src", "bits": 2}]
    assert t["deep_family_count"] == 1
    assert "2 bits at 5 levels: eng#_x <- eng#_src" in timing.summary(t)
