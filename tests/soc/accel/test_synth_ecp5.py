"""The accelerator through yosys synth_ecp5 + nextpnr's packer (soc.accel.synth --part lfe5u-*): cell
counts parse, and balance's DP16KD model predicts the block RAMs of a small build."""
import json
from pathlib import Path

from sw import random_model
from soc.accel import synth
from soc.accel.balance import layer_cost
from soc.accel.config import AccelConfig
from soc.trellis import parse_stat

ROOT = Path(__file__).resolve().parents[3]


def test_parse_stat_counts_lut4_sites():
    text = """
     3   $scopeinfo
    10   DP16KD
  2300   submodules
   100   CCU2C
  1000   LUT4
    50   PFUMX
     5   TRELLIS_DPR16X4
   900   TRELLIS_FF
     2   MULT18X18D
"""
    u = parse_stat(text)
    assert (u["lut4"], u["lut4_logic"], u["ccu2c"], u["dpr16x4"]) == (1220, 1000, 100, 5)
    assert (u["ff"], u["dp16kd"], u["mult18"]) == (900, 10, 2)


def test_small_accelerator_on_ecp5(tmp_path):
    m = random_model.make("1x12x12-8c3p1-mp2-16c3p1-mp2-10fc", 0.9, seed=4)
    p = tmp_path / "m.ffs"
    m.save(p)
    out = ROOT / "build" / "test_synth_ecp5"
    rc = synth.main(["--model", str(p), "--part", "lfe5u-85", "--parallelism", "1x9,1x24,1x24",
                     "--keep", str(out), "--json", str(out / "r.json")])
    assert rc == 0
    r = json.loads((out / "r.json").read_text())
    assert r["trellis_comb"] >= r["lut4_logic"] > 1000 and r["ff"] > 1000 and r["mult18"] == 0
    cfg = AccelConfig.from_model(m, [(1, 9), (1, 24), (1, 24)])
    assert r["dp16kd"] == sum(layer_cost(l, "ecp5")[1] for l in cfg.layers)
