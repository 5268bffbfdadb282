"""The ULX3S target: the whole open flow (yosys synth_ecp5, nextpnr-ecp5 place and route, ecppack) for a
small model with a small accelerator, the routed report, and one-line errors for bad input."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
WORK = ROOT / "build" / "test_ulx3s"          # not under /tmp: the WebAssembly tools cannot read it
SMALL = "1x12x12-8c3p1-mp2-16c3p1-mp2-10fc"
SMALL_PAR = "1x9,1x24,1x24"


@pytest.fixture(scope="module")
def small_model():
    from sw.random_model import make
    WORK.mkdir(parents=True, exist_ok=True)
    p = WORK / "small.ffs"
    make(SMALL, 0.9, seed=4).save(p)
    return p


@pytest.fixture(scope="module")
def built(small_model):
    """`ulx3s.py --build` of the small model on the default LFE5U-85F (measured 6 min 56 s with router1 on
    the shared 2 cores; router1 is nextpnr's own default, and quick on this small design)."""
    out = WORK / "LFE5U-85F"
    r = subprocess.run([sys.executable, "soc/targets/ulx3s.py", "--model", str(small_model), "--accel-parallelism",
                        SMALL_PAR, "--build", "--output-dir", str(out), "--nextpnr-router", "router1"], cwd=ROOT,
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
    return out, r.stdout


@pytest.mark.slow
def test_small_flow_makes_a_bitstream_and_a_routed_report(built):
    out, stdout = built
    rep = json.loads((out / "ulx3s_report.json").read_text())
    bit = Path(rep["bitstream"])
    assert bit.exists() and bit.stat().st_size > 100_000, bit
    assert rep["device"] == "LFE5U-85F" and rep["parallelism"] == [[1, 9], [1, 24], [1, 24]]
    assert rep["nextpnr_seed"] == 2                 # the 85F's default seed (NEXTPNR_SEED)
    u = rep["utilisation"]
    assert u["lut4"]["available"] == 83_640 and 3000 < u["lut4"]["used"] < u["lut4"]["available"]
    assert u["ff"]["used"] > 2000 and u["dp16kd"]["used"] > 0 and u["dp16kd"]["available"] == 208
    sys_clk, accel = rep["clocks"]["sys"], rep["clocks"]["accel"]
    assert sys_clk["target_mhz"] == 50 and sys_clk["verdict"] == "PASS", sys_clk     # the board's 50 MHz
    assert accel["target_mhz"] == 60 and accel["fmax_mhz"] > 0, accel                # the 85F's default accel clock
    for c in (sys_clk, accel):
        assert c["verdict"] == ("PASS" if c["fmax_mhz"] >= c["target_mhz"] else "FAIL"), c
    for c in (sys_clk, accel):
        cp = c["critical_path"]
        assert cp["start"] and cp["end"] and cp["delay_ns"] > 0 and cp["routing_ns"] > 0, cp
    assert rep["seconds"]["gateware"] > 0 and rep["seconds"]["total"] >= rep["seconds"]["gateware"]
    assert "routed Fmax" in stdout and (out / "firmware" / "firmware.bin").exists()
    consts = json.loads((out / "csr.json").read_text())["constants"]
    assert "config_l2_size" not in consts and consts["config_clock_frequency"] == 50_000_000   # no L2 by default
    ident = bytes(int(x, 16) for x in (out / "gateware" / "radiona_ulx3s_mem.init").read_text().split())
    assert ident.rstrip(b"\0") == b"LiteX SoC on ULX3S", ident     # no build date: the same netlist every day
    if accel["verdict"] == "FAIL":                  # the advice names a pair the PLL can make
        assert "a pair the PLL makes" in stdout, stdout[-2000:]


def test_pll_advice_is_a_pair_the_pll_makes():
    sys.path.insert(0, str(ROOT / "soc" / "targets"))
    from ulx3s import pll_pair_within, pll_problem
    s, a = pll_pair_within(49.2e6, 56.1e6)        # 49 MHz + 56 MHz is one
    assert s <= 49.2e6 and a <= 56.1e6 and pll_problem(s, a) is None and a == 56e6
    assert pll_pair_within(45.9e6, 100e6) == (44e6, 100e6)      # 45 MHz + 100 MHz is not


def test_nextpnr_seed_default_per_device_unless_given():
    sys.path.insert(0, str(ROOT / "soc" / "targets"))
    from ulx3s import NEXTPNR_SEED, seed_given
    assert set(NEXTPNR_SEED) == {"LFE5U-45F", "LFE5U-85F"}
    for argv in (["--nextpnr-seed", "2"], ["--nextpnr-seed=2"], ["--nextpnr-s", "2"]):   # argparse abbreviates
        assert seed_given(["--model", "m.ffs", *argv]), argv
    for argv in ([], ["--nextpnr-router", "router1"], ["--model", "seed.ffs"], ["--nextpnr-", "2"]):
        assert not seed_given(argv), argv


def run_cli(*argv, env=None):
    return subprocess.run([sys.executable, "soc/targets/ulx3s.py", *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=env)


@pytest.mark.parametrize("argv, message", [
    (["--model", "no/such.ffs"], "no/such.ffs"),
    (["--device", "LFE5U-25F"], "--device"),
    (["--accel-clk-freq", "0"], "--accel-clk-freq 0: must be 1e6..400e6"),
    (["--sys-clk-freq", "fast"], "--sys-clk-freq"),
    (["--accel-parallelism", "1x9,1x24"], "3"),
    (["--accel-parallelism", "9q9"], "PCOxPCI"),
    (["--accel-clk-freq", "101.3e6"], "no PLL setting"),
    (["--output-dir", "/tmp/ulx3s"], "/tmp"),
    (["--nextpnr-placer", "fast"], "--nextpnr-placer"),
])
def test_bad_input_is_one_line(small_model, argv, message):
    argv = list(argv) if "--model" in argv else ["--model", str(small_model), "--accel-parallelism", SMALL_PAR, *argv]
    r = run_cli(*argv)
    assert r.returncode != 0
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in r.stderr, r.stderr
    assert err[0].startswith("python soc/targets/ulx3s.py: error:") or err[0].startswith("error:"), err
    assert message in err[0], err


def test_load_without_openfpgaloader_is_one_line(small_model):
    env = dict(os.environ, PATH=os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                                                if not (Path(p) / "openFPGALoader").exists()))
    r = run_cli("--model", str(small_model), "--accel-parallelism", SMALL_PAR, "--load",
                "--output-dir", str(WORK / "noload"), env=env)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == ["error: --load needs openFPGALoader on PATH "
                                             "(Debian: apt-get install openfpgaloader)"], r.stderr
