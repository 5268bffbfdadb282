"""Cached litex_sim builds of soc.sim_soc.SimSoC, RAM images, and running the simulation.

    b = build(cfg)                       # Verilator model + BIOS + firmware, cached by input hash
    with Simulation(b, regions) as sim:  # regions: [(address, bytes)], preloaded into main RAM
        sim.console.command("info")

The hash covers every Python source the SoC is generated from (soc/*.py that build hardware, soc/accel/),
the accelerator config, the simulated clocks (soc.sim_soc.clocking()), the trace option and the LiteX
version. Main RAM is initialized with
$readmemh from a file that Verilator reads when the simulation starts; each run writes its own copy
in a private run directory, so firmware, model and frames change without a rebuild.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAMP = ".complete"


class SimError(RuntimeError):
    """The simulation could not be built or run; the message names the failing step."""


@dataclass
class SimBuild:
    dir: Path
    gateware: Path
    csr_json: Path
    firmware: object          # soc.firmware_build.Firmware
    main_ram: tuple           # (origin, size)
    key: str
    seconds: float            # wall time of this call (build or cache hit)
    cached: bool
    trace: bool


# soc/accel modules that do not generate hardware (the config's describe() covers what they choose)
NOT_HARDWARE = {"balance.py", "rtlsim.py", "simutil.py", "loadimage.py", "synth.py"}


def _sources(with_accel: bool):
    """The Python files the simulated hardware is generated from."""
    files = [ROOT / "soc" / name for name in ("__init__.py", "peripheral.py", "accel_cdc.py", "sim_soc.py")]
    accel = [f for f in sorted((ROOT / "soc" / "accel").glob("*.py")) if f.name not in NOT_HARDWARE]
    return files + (accel if with_accel else [])


def build_key(cfg, trace: bool) -> str:
    import litex
    h = hashlib.sha256()
    for f in _sources(cfg is not None):
        h.update(str(f.relative_to(ROOT)).encode())
        h.update(f.read_bytes())
    from soc.sim_soc import MAIN_RAM_SIZE, clocking
    desc = "none" if cfg is None else f"{cfg.describe()};fifo{cfg.fifo_depth};det{cfg.det_fifo_depth}"
    h.update(f"{desc};trace={trace};litex={getattr(litex, '__version__', '2024.12')};ram={MAIN_RAM_SIZE};"
             f"{clocking()}".encode())
    return h.hexdigest()[:16]


def tool_path() -> None:
    """Put this interpreter's bin dir (meson, ninja of the venv) on PATH for LiteX's build steps."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


class _Quiet:
    """Send this process's stdout/stderr (and its children's) to a log file for the duration."""
    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        sys.stdout.flush(), sys.stderr.flush()
        self.saved = [os.dup(1), os.dup(2)]
        self.f = open(self.path, "w")
        os.dup2(self.f.fileno(), 1), os.dup2(self.f.fileno(), 2)
        return self

    def __exit__(self, *exc):
        sys.stdout.flush(), sys.stderr.flush()
        os.dup2(self.saved[0], 1), os.dup2(self.saved[1], 2)
        for fd in self.saved:
            os.close(fd)
        self.f.close()


def _generate(cfg, out: Path, trace: bool, jobs: int, log):
    """Generate the SoC (Verilog, BIOS, headers) and compile the Verilator model in out/."""
    from litex.soc.integration.builder import Builder
    from soc.sim_soc import SimSoC, sim_config

    soc = SimSoC(accel_config=cfg, trace=trace)
    builder = Builder(soc, output_dir=str(out), csr_json=str(out / "csr.json"), generate_doc=False)
    builder.build(sim_config=sim_config(), run=False, jobs=jobs, threads=1, opt_level="O3", trace=trace,
                  trace_fst=trace, interactive=False)
    gw = out / "gateware"
    log(f"[sim] compiling the Verilator model in {gw} (a few minutes on 2 cores)")
    proc = spawn(["bash", "build_sim.sh"], cwd=gw, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate()
    finally:
        stop(proc, grace=2.0)                      # interrupted: make and the compilers go too
    if proc.returncode != 0 or not (gw / "obj_dir" / "Vsim").exists():
        errs = [l for l in out.splitlines() if "error" in l.lower()][-20:]
        raise SimError("Verilator build failed in {}:\n{}".format(gw, "\n".join(errs)))


KEEP_BUILDS = 3          # most recently used cached builds kept under the cache root (~0.5 GB each)


def _prune(root: Path, keep: int = KEEP_BUILDS) -> None:
    """Remove the least recently used builds beyond `keep`, skipping any that another process holds."""
    builds = sorted((d for d in root.iterdir() if (d / STAMP).exists()), key=lambda d: (d / STAMP).stat().st_mtime,
                    reverse=True)
    for d in builds[keep:]:
        with open(d / ".lock", "w") as lock, open(d / ".inuse", "w") as inuse:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)     # not being built
                fcntl.flock(inuse, fcntl.LOCK_EX | fcntl.LOCK_NB)    # no simulation running from it
            except OSError:
                continue
            shutil.rmtree(d, ignore_errors=True)


def build(cfg, trace: bool = False, root="build/sim", jobs: int = 2, log=print) -> SimBuild:
    """The cached simulation for accelerator config `cfg` (None: SoC without the accelerator)."""
    from soc.firmware_build import FirmwareError, build_firmware
    t0 = time.monotonic()
    tool_path()
    key = build_key(cfg, trace)
    out = (ROOT / root / key) if not Path(root).is_absolute() else Path(root) / key
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)          # one builder per configuration at a time
        cached = (out / STAMP).exists()
        if not cached:
            log(f"[sim] building SoC {key} (no cached build; log: {out / 'build.log'})")
            try:
                with _Quiet(out / "build.log"):
                    _generate(cfg, out, trace, jobs, log)
            except Exception as e:
                tail = (out / "build.log").read_text()[-2000:]
                raise SimError(f"SoC build failed ({type(e).__name__}: {e}); end of {out / 'build.log'}:\n{tail}")
            (out / STAMP).write_text(time.strftime("%Y-%m-%d %H:%M:%S"))
        (out / STAMP).touch()                      # mark as recently used
        try:
            fw = build_firmware(out, out / "firmware", out / "csr.json", jobs=jobs)
        except FirmwareError as e:
            raise SimError(str(e)) from None
    _prune(out.parent)
    mem = json.loads((out / "csr.json").read_text())["memories"]["main_ram"]
    dt = time.monotonic() - t0
    log(f"[sim] SoC {key}: {'cached' if cached else 'built'} in {dt:.1f} s, firmware {fw.size} bytes")
    return SimBuild(out, out / "gateware", out / "csr.json", fw, (mem["base"], mem["size"]), key, dt, cached, trace)


def write_ram_init(path: Path, origin: int, size: int, regions) -> None:
    """$readmemh words (little-endian 32-bit) of main RAM from [(address, bytes)]; checks overlaps."""
    end = 0
    spans = sorted((a, a + len(b)) for a, b in regions)
    for (a0, a1), (b0, _) in zip(spans, spans[1:]):
        if a1 > b0:
            raise SimError(f"RAM regions overlap: 0x{a0:08x}..0x{a1:08x} and 0x{b0:08x}")
    for a, b in regions:
        if a < origin or a + len(b) > origin + size or a % 4:
            raise SimError(f"RAM region 0x{a:08x}+{len(b)} outside main RAM 0x{origin:08x}+0x{size:x} "
                           "or not word aligned")
        end = max(end, a - origin + len(b))
    image = bytearray((end + 3) // 4 * 4)
    for a, b in regions:
        image[a - origin:a - origin + len(b)] = b
    import numpy as np
    words = np.frombuffer(bytes(image), "<u4")
    path.write_text("".join(f"{w:08x}\n" for w in words.tolist()))


class Stopped(KeyboardInterrupt):
    """A stop signal as an exception: it unwinds like Ctrl-C, so every `with Simulation` stops its Vsim."""
    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


class StopRequest:
    """Signal handler that raises Stopped and remembers the signal. Python may raise a handler's
    exception inside a finalizer (__del__, a weakref callback), where it is printed and dropped; the
    boot loop then asks check() (Simulation.alive), so a swallowed stop is raised again."""

    def __init__(self):
        self.signum = None

    def __call__(self, signum, frame=None):
        self.signum = signum
        raise Stopped(signum)

    def check(self):
        if self.signum is not None:
            raise Stopped(self.signum)

    def clear(self):
        self.signum = None


STOP = StopRequest()


def _child_setup():
    """preexec_fn of the simulator child: it gets SIGKILL when the process that started it dies, even by
    SIGKILL (Linux prctl PR_SET_PDEATHSIG), so a killed host never leaves a Vsim running at full CPU.
    The signal follows the *thread* that started the child: start simulations from a thread that outlives
    them (the main thread, as soc/targets/sim.py and the tests do)."""
    parent = os.getpid()
    try:
        import ctypes
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):           # not Linux: close() and the signal handlers still apply
        return None

    def setup():
        prctl(1, signal.SIGKILL)                   # PR_SET_PDEATHSIG
        if os.getppid() != parent:                 # the parent died before prctl took effect
            os._exit(1)
    return setup


def spawn(cmd, **kw) -> subprocess.Popen:
    """Popen for a long-running child (the simulator, the Verilator build): in its own process group, so a
    terminal's Ctrl-C reaches only this process, which then stops the whole group (stop()); killed with
    its parent (see _child_setup)."""
    return subprocess.Popen(cmd, start_new_session=True, preexec_fn=_child_setup(), **kw)


def stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the child's process group, SIGKILL it after `grace` seconds; reaps the child."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Simulation:
    """One run of a built simulation in a private directory, booted to the firmware's prompt. The UART is
    serial2tcp on a free port, driven by sw.host (`self.console`; the live console of soc/targets/sim.py
    too). The simulator runs in its own process group; close() (also on exceptions, KeyboardInterrupt and
    the signals soc/targets/sim.py turns into one) stops it, and it dies with this process (spawn())."""

    def __init__(self, b: SimBuild, regions, log=None, boot_timeout: float = 300.0):
        from sw.host.console import Console
        self.b = b
        self.inuse = open(b.dir / ".inuse", "w")
        fcntl.flock(self.inuse, fcntl.LOCK_SH)          # keeps _prune away while this run lives
        self.run_dir = b.dir / "runs" / f"{os.getpid()}-{time.time_ns()}"
        self.run_dir.mkdir(parents=True)
        for item in b.gateware.iterdir():
            if item.suffix == ".init" or item.name == "modules":
                (self.run_dir / item.name).symlink_to(item)
        inits = [p for p in b.gateware.glob("*.init") if "main_ram" in p.name]
        if len(inits) != 1:
            raise SimError(f"expected one main_ram .init file in {b.gateware}, found {[p.name for p in inits]}")
        ram = self.run_dir / inits[0].name
        ram.unlink()
        write_ram_init(ram, *b.main_ram, regions)
        self.port = free_port()
        self._write_config()
        self.log_path = self.run_dir / "sim.log"
        vsim = str(b.gateware / "obj_dir" / "Vsim")
        self.console = None
        with open(self.log_path, "w") as out:
            self.proc = spawn([vsim], cwd=self.run_dir, stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL)
        try:
            self.console = Console(f"socket://127.0.0.1:{self.port}", connect_timeout=60, log=log)
            self.console.wait_prompt(timeout=boot_timeout, boot=True, alive=self.alive)
        except BaseException:                # also KeyboardInterrupt / a signal: never leave Vsim behind
            self.close(keep=b.trace)        # a traced run keeps its waveform and log for debugging
            raise

    def _write_config(self):
        from soc.sim_soc import sim_config
        cfg = sim_config("serial2tcp", {"port": self.port})
        (self.run_dir / "sim_config.js").write_text(cfg.get_json())

    def alive(self):
        STOP.check()
        if self.proc.poll() is not None:
            tail = self.log_path.read_text()[-1000:] if self.log_path.exists() else ""
            raise SimError(f"the simulation exited with code {self.proc.returncode}: {tail}")

    def close(self, keep: bool = False):
        if getattr(self, "console", None):
            self.console.close()
        stop(self.proc)
        if not keep:
            shutil.rmtree(self.run_dir, ignore_errors=True)
        self.inuse.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close(keep=self.b.trace)


def cli(args):
    """soc/targets/sim.py main body (see its docstring)."""
    from soc.sim_session import batch_run, live_console
    if args.images is None:
        return live_console(args)
    return batch_run(args)
