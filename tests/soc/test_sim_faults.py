"""Faults on a real litex_sim (Verilator): soc/targets/sim.py leaves no orphan and no hang, and the firmware
refuses data addresses inside its own image.

- SIGTERM, SIGHUP or SIGINT to sim.py, during the boot or at the live console's prompt, stops its `Vsim`
  and sim.py exits 128 + the signal with one error line;
- SIGKILL of sim.py (no cleanup possible) still takes Vsim with it (PR_SET_PDEATHSIG);
- the live console answers the lines of its input, then ends at the end of input with 0;
- `infer`, `run` and `load` on an address below `_end_of_image` (the firmware's code, data, arena and
  stack) are one error line, and the console still answers and infers at a free address.

A Vsim belongs to a run of sim.py when its working directory is build/sim/<key>/runs/<sim.py's pid>-*.
The SoC is the small accelerator of a 3-layer random model (a cached build under build/sim/ is reused;
a fresh one takes several minutes), so this file needs Verilator and the RISC-V toolchain.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sw.random_model import make

ROOT = Path(__file__).resolve().parents[2]
SIM = ROOT / "soc" / "targets" / "sim.py"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A small model and its cached simulation build."""
    from soc import sim_build
    from soc.accel_options import accel_config
    model = make("1x12x12-4c3p1-6c3s2p1-mp2-5fc", 0.8, seed=1, timesteps=3, in_bits=4)
    path = tmp_path_factory.mktemp("sim") / "tiny.ffs"
    path.write_bytes(model.to_bytes())
    b = sim_build.build(accel_config(model), log=lambda s: None)     # so sim.py finds it cached
    return path, model, b


def vsims_of(pid: int) -> list[int]:
    """Live (not zombie) Vsim processes whose run directory belongs to sim.py process `pid`."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            exe = os.readlink(d / "exe")
            cwd = os.readlink(d / "cwd")
        except OSError:                      # gone, a zombie, or not ours to read
            continue
        if exe.endswith("/obj_dir/Vsim") and Path(cwd).name.startswith(f"{pid}-"):
            found.append(int(d.name))
    return found


def start(model: Path, stdin=subprocess.PIPE):
    return subprocess.Popen([sys.executable, str(SIM), "--model", str(model)], cwd=ROOT, stdin=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(cond, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def read_until_prompt(proc, timeout: float) -> str:
    """stdout of the live console up to its first prompt (the firmware has booted)."""
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    out, deadline = "", time.monotonic() + timeout
    while "ffs> " not in out:
        assert time.monotonic() < deadline, f"no prompt within {timeout} s: {out!r}"
        assert proc.poll() is None, f"sim.py exited {proc.returncode}: {proc.stderr.read()}"
        if sel.select(timeout=1):
            out += os.read(proc.stdout.fileno(), 4096).decode()
    return out


@pytest.mark.parametrize("sig,when", [(signal.SIGTERM, "boot"), (signal.SIGTERM, "prompt"),
                                      (signal.SIGINT, "boot"), (signal.SIGHUP, "prompt")])
def test_signal_stops_the_simulator(tiny, sig, when):
    proc = start(tiny[0])
    try:
        vsim = wait_for(lambda: vsims_of(proc.pid), 120, "the Vsim child")
        if when == "prompt":
            read_until_prompt(proc, 300)
        assert vsims_of(proc.pid) == vsim
        t0 = time.monotonic()
        proc.send_signal(sig)
        rc = proc.wait(timeout=30)
        wait_for(lambda: not vsims_of(proc.pid), 5, f"Vsim {vsim} to end after {sig.name}")
        assert time.monotonic() - t0 < 20
        assert rc == 128 + sig, (rc, proc.stderr.read())
        err = [l for l in proc.stderr.read().splitlines() if l.startswith(("error", "Traceback"))]
        assert err == [f"error: stopped by {sig.name}; the simulator was stopped too"], err
    finally:
        if proc.poll() is None:
            proc.kill()
        for p in vsims_of(proc.pid):          # never leave one behind, even when the test fails
            os.kill(p, signal.SIGKILL)


def test_parent_killed_takes_the_simulator_with_it(tiny):
    proc = start(tiny[0])
    try:
        vsim = wait_for(lambda: vsims_of(proc.pid), 120, "the Vsim child")
        proc.kill()                           # SIGKILL: no handler runs in sim.py
        proc.wait(timeout=10)
        wait_for(lambda: not vsims_of(proc.pid), 5, f"Vsim {vsim} to die with its parent")
    finally:
        for p in vsims_of(proc.pid):
            os.kill(p, signal.SIGKILL)


def test_live_console_ends_at_end_of_input(tiny):
    proc = start(tiny[0])
    try:
        t0 = time.monotonic()
        out, err = proc.communicate("help\ninfo\n", timeout=400)   # stdin closes after the two lines
        dt = time.monotonic() - t0
        assert proc.returncode == 0, err
        assert out.count("ffs> ") == 3, out                     # the boot's prompt + one per line
        assert "  selftest" in out and "model: none loaded" in out, out
        assert not vsims_of(proc.pid)
        print(f"live console: booted, answered 2 lines and ended at EOF in {dt:.1f} s")
    finally:
        if proc.poll() is None:
            proc.kill()
        for p in vsims_of(proc.pid):
            os.kill(p, signal.SIGKILL)


def test_data_inside_the_firmware_image_refused(tiny):
    from soc import sim_build
    from soc.sim_session import ram_layout
    _, model, b = tiny
    regions, model_addr, frames_addr = ram_layout(b, model.to_bytes(), b"")
    base, end = b.main_ram[0], b.firmware.end
    fb = (len(model.to_bytes()) + 4095) // 4096 * 4096
    assert base < end <= model_addr
    with sim_build.Simulation(b, regions, boot_timeout=120) as sim:
        con = sim.console
        assert con.command(f"load 0x{model_addr:08x}", timeout=120)
        for line, what in [(f"infer 0x{base:08x}", "frame"), (f"infer 0x{end - 4:08x}", "frame"),
                           (f"run 0x{base + 0x100:08x} 2", "frames"), (f"selftest 0x{base:08x} 1", "frames"),
                           (f"load 0x{base:08x}", "model")]:
            lines = con.command(line, check=False, timeout=60)
            assert len(lines) == 1, (line, lines)
            assert lines[0].startswith(f"error: {what} at 0x") and "overlaps the firmware at" in lines[0], lines
            assert f"data goes at 0x{end:08x} or above" in lines[0], lines
        assert con.command("help")
        out = con.command(f"infer 0x{model_addr + fb:08x}", timeout=120)     # free RAM: accepted
        assert [l.split()[0] for l in out] == ["class", "cycles", "readout"], out
