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
