"""End to end in litex_sim: VexRiscv + accelerator + console firmware on 20 real MNIST test frames.

Asserts: help lists every command; a corrupted artifact in RAM is refused by `load` with its error
line and the console keeps answering; bad commands get one error line; selftest passes; the
accelerator's predictions agree 100% with the golden model; the accelerator runs on its own clock, at a
different rate from the CPU's, so every run crosses clock domains. The Verilator build is cached
(build/sim/<hash>), so only the first run pays for it.
"""
import json
from pathlib import Path

import numpy as np
import pytest

from soc import sim_build
from soc.accel_options import accel_config
from soc.sim_session import ram_layout
from sw import golden
from sw.artifact import Model
from sw.host import session
from sw.host.frames import frame_bytes, pack

ROOT = Path(__file__).resolve().parents[2]
TRAINED = ROOT / "artifacts" / "mnist-scnn5" / "model.ffs"
N = 20

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model():
    if TRAINED.exists():
        return Model.load(TRAINED)
    from sw.datasets import load
    from sw.random_model import make
    return make("scnn5", 0.9382, seed=0, calib=load("mnist", "train").images[:64])


@pytest.fixture(scope="module")
def sim(model):
    from sw.datasets import load
    b = sim_build.build(accel_config(model))
    ds = load("mnist", "test")
    images, labels = ds.images[:N], np.asarray(ds.labels[:N])
    blob = model.to_bytes()
    bad = bytearray(blob)
    bad[len(bad) // 2] ^= 0x5A                      # one body byte: CRC mismatch
    regions, model_addr, frames_addr = ram_layout(b, blob, pack(model, images))
    bad_addr = (frames_addr + N * frame_bytes(model) + 4095) // 4096 * 4096
    regions.append((bad_addr, bytes(bad)))
    with sim_build.Simulation(b, regions) as s:
        yield dict(con=s.console, alive=s.alive, model_addr=model_addr, frames_addr=frames_addr,
                   bad_addr=bad_addr, images=images, labels=labels, run_dir=s.run_dir, build=b)


def test_two_clock_domains_at_different_rates(sim):
    config = json.loads((sim["run_dir"] / "sim_config.js").read_text())
    clockers = {}
    for m in config:
        if isinstance(m, dict) and m.get("module") == "clocker":
            iface = m["interface"][0]
            clockers[iface["name"] if isinstance(iface, dict) else iface] = m["args"]["freq_hz"]
    assert set(clockers) == {"sys_clk", "accel_clk"}, clockers
    assert clockers["accel_clk"] != clockers["sys_clk"], clockers
    consts = json.loads(sim["build"].csr_json.read_text())["constants"]
    assert consts["config_clock_frequency"] == clockers["sys_clk"]
    assert consts["snn_accel_clk_freq"] == clockers["accel_clk"]
    assert "accelerator: clock {} Hz".format(clockers["accel_clk"]) in " ".join(sim["con"].command("info"))


def test_help_lists_every_command(sim):
    assert session.help_commands(sim["con"]) == list(session.COMMANDS[:-1] + session.TEST_COMMANDS + session.COMMANDS[-1:])


def test_corrupted_artifact_refused_and_console_answers(sim):
    con = sim["con"]
    lines = con.command(f"load 0x{sim['bad_addr']:08x}", check=False, timeout=300)
    assert len(lines) == 1 and lines[0].startswith("error: CRC mismatch: stored 0x"), lines
    assert any(l.startswith("model: none loaded") for l in con.command("info"))


@pytest.mark.parametrize("line,expect", [
    ("bogus", "error: unknown command 'bogus'"),
    ("load", "error: usage: load <addr>"),
    ("run 0x40000000", "error: usage: run <addr> <n>"),
    ("infer 0x3", "error: no model loaded"),
    ("load 0x10", "error: model at 0x00000010+24 is outside main RAM"),
    ("load zz", "error: model address 'zz' is not a number"),
])
def test_bad_commands_get_one_error_line(sim, line, expect):
    con = sim["con"]
    lines = con.command(line, check=False, timeout=60)
    assert len(lines) == 1 and lines[0].startswith(expect), lines
    assert con.command("help")                      # still answering


def test_overlong_line_refused_by_the_host_and_by_the_firmware(sim):
    from sw.host.console import PROMPT, HostError
    con = sim["con"]
    with pytest.raises(HostError, match="the console takes at most 116"):
        con.command("x" * 200)
    con.port.write(b"x" * 200 + b"\n")              # past the host's check, straight to the firmware
    reply = con.read_until(PROMPT, 60, "the refusal")
    assert reply.endswith("\nerror: line longer than 127 characters: ignored\n"), reply
    assert con.command("help")


def test_selftest_and_agreement_with_golden(sim, model):
    con = sim["con"]
    res = session.batch(con, sim["model_addr"], sim["frames_addr"], N, selftest_frames=1, bench_frames=0,
                        timeout=1800)
    assert res.selftest.startswith("selftest: PASS"), res.selftest
    gold, _, _ = golden.run(model, sim["images"])
    assert np.array_equal(np.asarray(res.predictions), gold)
    assert res.cycles_per_frame > 0
    assert len(res.stats) == len(model.layers)
    assert sum(s["pairs"] for s in res.stats) > 0


def test_infer_matches_golden_readout(sim, model):
    con = sim["con"]
    out = session.infer(con, sim["frames_addr"])
    want = golden.forward(model, sim["images"][:1])[0]
    assert out["readout"] == want.tolist()
    assert out["class"] == int(golden.predict(want[None])[0])
