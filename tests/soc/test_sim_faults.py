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


# ---------------------------------------------------------------- the serial link (issue 14)

@pytest.fixture(scope="module")
def linked(tiny):
    """The tiny SoC booted with its model and 4 random frames in RAM, model loaded, plus the clean
    answers of `infer` on each frame."""
    import numpy as np
    from soc import sim_build
    from soc.sim_session import ram_layout
    from sw.host import session
    from sw.host.frames import frame_bytes, pack
    _, model, b = tiny
    images = np.random.default_rng(3).integers(0, 256, (4, 1, 12, 12), dtype=np.uint8)
    regions, model_addr, frames_addr = ram_layout(b, model.to_bytes(), pack(model, images))
    free = (frames_addr + len(images) * frame_bytes(model) + 4095) // 4096 * 4096
    with sim_build.Simulation(b, regions, boot_timeout=120) as sim:
        con = sim.console
        load_line = session.load(con, model_addr, 120)
        clean = [session.infer(con, frames_addr + i * frame_bytes(model)) for i in range(len(images))]
        yield dict(sim=sim, con=con, model=model, model_addr=model_addr, frames_addr=frames_addr, free=free,
                   fb=frame_bytes(model), clean=clean, load_line=load_line)


def same(got: dict, want: dict) -> bool:
    """Two `infer` answers agree: class and readouts exactly, cycles within 2 (the clock-domain crossing
    varies them by a cycle or two from run to run)."""
    return (got["class"], got["readout"]) == (want["class"], want["readout"]) and \
        abs(got["cycles"] - want["cycles"]) <= 2


def test_long_and_binary_input_then_the_console_resynchronises(linked):
    """A 4 KB line and 2 KB of binary garbage written straight to the link (past sw.host's own checks, and
    more than serial2tcp's 2 KiB ring at once): the next command resynchronises and answers correctly."""
    from sw.host import session
    con = linked["con"]
    for junk in (b"x" * 4096 + b"\n", bytes(range(256)) * 8):
        con.port.write(junk)
        con.port.flush()
        before = con.retried
        got = session.infer(con, linked["frames_addr"])
        assert same(got, linked["clean"][0])
        assert con.command("help")
        print(f"after {len(junk)} junk bytes: {con.retried - before} resends, infer and help answer")


def test_console_refuses_what_it_cannot_send(linked):
    from sw.host.console import HostError
    with pytest.raises(HostError, match="at most"):
        linked["con"].command("x" * 200)
    with pytest.raises(HostError, match="printable ASCII"):
        linked["con"].command("info\x00")
    assert linked["con"].command("help")


def proxied(linked, drop, flip, seed):
    from sw.host.console import Console
    from sw.host.faultproxy import FaultProxy
    proxy = FaultProxy(linked["sim"].port, drop=drop, flip=flip, seed=seed)
    proxy.enabled = False
    linked["con"].close()                               # serial2tcp serves one client: hand it over
    con = Console(f"socket://127.0.0.1:{proxy.port}", connect_timeout=10)
    con.answer_timeout = 2.0
    con.resync()
    proxy.enabled = True
    return proxy, con


def test_faulty_link_never_pairs_a_reply_with_the_wrong_command(linked):
    """100 commands (infer on 4 frames) over a link that drops or corrupts ~1 byte in 250: each
    either gets the clean answer or fails with an error, never a wrong or another command's answer."""
    from sw.host import session
    from sw.host.console import HostError
    proxy, con = proxied(linked, 0.002, 0.002, seed=7)
    ok = failed = wrong = 0
    try:
        for i in range(100):
            k = i % 4
            try:
                got = session.infer(con, linked["frames_addr"] + k * linked["fb"])
            except HostError:
                failed += 1
                proxy.enabled = False
                con.resync()
                proxy.enabled = True
                continue
            want = linked["clean"][k]
            if same(got, want):
                ok += 1
            else:
                wrong += 1
                print("wrong:", got, "clean:", want)
        print(f"faulty link: 100 commands, {ok} right, {failed} failed cleanly, {wrong} wrong; "
              f"{con.retried} resent; {proxy.dropped} bytes dropped, {proxy.flipped} corrupted")
    finally:
        linked["con"] = con
        proxy.enabled = False
    assert wrong == 0 and proxy.faults > 25 and ok > 75


FAULTY_UPLOADS = int(os.environ.get("FFS_FAULTY_UPLOADS", "100"))   # 200 for the count (docs/firmware.md)


def test_faulty_uploads_are_never_silently_wrong(linked):
    """FAULTY_UPLOADS uploads through `put` that meet at least one injected fault: each either ends verified (the
    firmware's CRC-32 of the RAM matches) or fails with an error; then, over a clean link, `load` of the
    uploaded artifact (the artifact's own CRC) shows whether a load the host took for good was wrong."""
    from sw.host import session
    from sw.host.console import HostError
    from sw.host.upload import put
    proxy, con = proxied(linked, 0.001, 0.001, seed=11)
    blob = linked["model"].to_bytes()
    counts = dict(tried=0, faulty=0, retried=0, failed=0, silently_wrong=0)
    try:
        while counts["faulty"] < FAULTY_UPLOADS and counts["tried"] < 2 * FAULTY_UPLOADS:
            addr = linked["free"] + 4096 * (counts["tried"] % 8)
            f0 = proxy.faults
            proxy.enabled = True
            counts["tried"] += 1
            try:
                st = put(con, addr, blob, ack_timeout=0.5)
                good = True
                counts["retried"] += st["attempts"] > 1 or st["resends"] > 0
            except HostError:
                good = False
                counts["failed"] += 1
            counts["faulty"] += proxy.faults > f0
            proxy.enabled = False
            con.resync()
            if good:
                line = con.command(f"load 0x{addr:08x}", check=False, timeout=60)[-1]
                if line != linked["load_line"]:
                    counts["silently_wrong"] += 1
                    print("silently wrong:", line)
        print(f"faulty uploads: {counts}; {proxy.dropped} bytes dropped, {proxy.flipped} corrupted")
    finally:
        linked["con"] = con
    assert counts["faulty"] >= FAULTY_UPLOADS and counts["silently_wrong"] == 0
    assert counts["failed"] < counts["tried"] // 2


def test_error_paths_are_one_line_and_the_console_answers(linked):
    """infer/run before load, models that do not fit the generated hardware (uploaded with `put`),
    addresses outside main RAM or unaligned, impossible counts and lengths: one error line each; then the
    right model loads again and infer gives the clean answer."""
    from sw.host import session
    from sw.host.upload import put
    con, model = linked["con"], linked["model"]
    base, size = linked["sim"].b.main_ram
    fa, free = linked["frames_addr"], linked["free"]
    other_topology = make("1x12x12-4c3p1-5fc", 0.8, seed=2, timesteps=3, in_bits=4)
    other_t = make("1x12x12-4c3p1-6c3s2p1-mp2-5fc", 0.8, seed=1, timesteps=5, in_bits=4)
    put(con, free, other_topology.to_bytes())
    put(con, free + 4096, other_t.to_bytes())
    cases = [("reset", "reset: accelerator reset, model unloaded"),
             (f"infer 0x{fa:08x}", "error: no model loaded"),
             (f"run 0x{fa:08x} 2", "error: no model loaded"),
             (f"load 0x{free:08x}", "error: model does not fit the hardware: 2 layers, hardware has 3"),
             (f"load 0x{free + 4096:08x}", "error: model does not fit the hardware: T/in_bits/in_kind 5/4/0, "
                                           "hardware 3/4/0"),
             (f"load 0x{linked['model_addr']:08x}", "load: ok"),
             ("infer 0x10000000", "error: frame at 0x10000000"),
             (f"infer 0x{fa + 2:08x}", "error: frame at"),
             (f"run 0x{fa:08x} 100000", "error: frame count '100000' must be 1..65536"),
             (f"run 0x{base + size - 8:08x} 8", "error: frames at"),
             (f"selftest 0x{fa:08x} 17", "error: frame count '17' must be 1..16"),
             (f"put 0x{free:08x} 0", "error: put length '0' must be a number >= 1"),
             (f"put 0x{base + size - 4:08x} 8", "error: data at"),
             ("load 0xzz", "error: model address '0xzz' is not a number"),
             ("infer", "error: usage: infer <addr>")]
    for line, want in cases:
        got = con.command(line, check=False, timeout=120)
        assert len(got) == 1 and got[0].startswith(want), (line, got)
    assert "outside main RAM" in con.command("infer 0x10000000", check=False)[0]
    assert con.command("help")
    assert same(session.infer(con, fa), linked["clean"][0])


def test_watchdog_ends_a_stalled_batch_and_reset_reload_rerun_agree(linked):
    """The hardware watchdog (status.watchdog): set below the gap between DMA beats while a frame is
    computed, every batch counts as stalled, and `infer` ends with one error line instead of waiting out
    the firmware's own timeout; the model is unloaded. Restored, then reset + load + rerun: the clean
    answers on every frame."""
    from sw.host import session
    from soc.peripheral import WATCHDOG_CYCLES
    con = linked["con"]
    assert session.watchdog(con) == WATCHDOG_CYCLES
    assert session.watchdog(con, 20) == 20
    got = con.command(f"run 0x{linked['frames_addr']:08x} 4", check=False, timeout=120)
    assert len(got) == 1 and got[0].startswith("error: accelerator stalled on a batch of 4 frames: no word "
                                               "moved for 20 sys cycles (watchdog;"), got
    assert got[0].endswith("accelerator reset; model unloaded (load it again)"), got
    assert con.command(f"infer 0x{linked['frames_addr']:08x}", check=False)[0].startswith("error: no model loaded")
    assert session.watchdog(con, WATCHDOG_CYCLES) == WATCHDOG_CYCLES
    con.command("reset")
    assert session.load(con, linked["model_addr"]) == linked["load_line"]
    for k, want in enumerate(linked["clean"]):
        assert same(session.infer(con, linked["frames_addr"] + k * linked["fb"]), want)


def test_bus_errors_end_loads_and_batches_and_reset_reload_rerun_agree(linked):
    """Fault injection (the sim SoC's `inject` CSR): each DMA in turn is pointed at an address no slave
    decodes, so LiteX's interconnect timeout answers its beats (status.bus_error). The load or batch ends
    with one error line naming that DMA, the model is unloaded, and after `inject off` + reset + load the
    clean answers come back on every frame."""
    from sw.host import session
    con, fa, ma = linked["con"], linked["frames_addr"], linked["model_addr"]
    assert con.command("inject bogus", check=False) == ["error: inject 'bogus': expected load, frames, results or off"]
    cases = [("load", f"load 0x{ma:08x}", "error: bus error on the load DMA during the load"),
             ("frames", f"run 0x{fa:08x} 2", "error: bus error on the frames DMA during a batch of 2 frames"),
             ("results", f"infer 0x{fa:08x}", "error: bus error on the results DMA during a batch of 1 frames")]
    for dma, line, want in cases:
        assert session.inject(con, dma) == f"inject: bus errors on the {dma} DMA"
        if dma != "load":
            con.command("reset")
            assert session.load(con, ma) == linked["load_line"]
        got = con.command(line, check=False, timeout=300)
        assert len(got) == 1 and got[0].startswith(want), (dma, got)
        assert "accelerator reset" in got[0]
        assert session.inject(con) == "inject: bus errors on the DMA (none)"
        assert con.command(f"infer 0x{fa:08x}", check=False)[0].startswith("error: no model loaded")
    con.command("reset")
    assert session.load(con, ma) == linked["load_line"]
    for k, want in enumerate(linked["clean"]):
        assert same(session.infer(con, fa + k * linked["fb"]), want)


def test_ctrl_c_ends_a_running_batch_and_reset_reload_rerun_agree(linked):
    """A batch as long as RAM allows, interrupted from the host mid-run with Ctrl-C: one error line soon
    after, the accelerator reset and the model unloaded; then reset, load and rerun give the clean answers."""
    from sw.host import session
    from sw.host.framing import check_reply, frame
    con = linked["con"]
    base, size = linked["sim"].b.main_ram
    n = min(65536, (base + size - linked["frames_addr"]) // linked["fb"])
    con.seq += 1
    sent = frame(f"run 0x{linked['frames_addr']:08x} {n}", con.seq)
    con.write_line(sent)
    con.read_until("\n", 30, "the echo", keep=True)
    time.sleep(2.0)                                  # the batch is running
    t0 = time.monotonic()
    con.interrupt()
    body, ok = check_reply(con.read_reply(60, "the interrupted run"), sent, con.seq)
    print(f"run of {n} frames interrupted; answered {time.monotonic() - t0:.1f} s after Ctrl-C: {body.strip()}")
    assert not ok and body.strip() == (f"error: batch of 256 frames interrupted (Ctrl-C); accelerator reset; "
                                       "model unloaded (load it again)"), body
    con.command("reset")
    assert session.load(con, linked["model_addr"]) == linked["load_line"]
    for k, want in enumerate(linked["clean"]):
        assert same(session.infer(con, linked["frames_addr"] + k * linked["fb"]), want)
