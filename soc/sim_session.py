"""The two modes of soc/targets/sim.py: a batch of data-set frames (JSON report) or a live console."""
from __future__ import annotations

import json
import sys
import time
from fractions import Fraction

import numpy as np

from soc import ACCEL_CLK_FREQ, NOMINAL_CLK_FREQ
from soc.accel.balance import SIM_PART
from soc.sim_build import SimError, Simulation, build
from soc.sim_soc import SIM_ACCEL_CLK_FREQ, SYS_CLK_FREQ

# The simulated clocks are not real rates: FPS and speedup are quoted at the Arty target's defaults.
FPS_CLOCK = (f"{ACCEL_CLK_FREQ / 1e6:g} MHz accel clock (soc.ACCEL_CLK_FREQ, the Arty PLL default; "
             f"the sim ran accel:sys = {Fraction(SIM_ACCEL_CLK_FREQ, SYS_CLK_FREQ).numerator}:"
             f"{Fraction(SIM_ACCEL_CLK_FREQ, SYS_CLK_FREQ).denominator})")

PAGE = 4096


def _align(v: int, a: int = PAGE) -> int:
    return (v + a - 1) // a * a


def ram_layout(b, blob: bytes, frames: bytes):
    """[(address, bytes)]: firmware at the base of main RAM, then the model, then the frames."""
    base, size = b.main_ram
    model_addr = _align(b.firmware.end)
    frames_addr = _align(model_addr + len(blob))
    if frames_addr + len(frames) > base + size:
        raise SimError(f"{len(frames)} bytes of frames do not fit main RAM above 0x{frames_addr:08x} "
                       f"(ends at 0x{base + size:08x}): use fewer --images")
    return [(base, b.firmware.bin.read_bytes()), (model_addr, blob), (frames_addr, frames)], model_addr, frames_addr


def _config(args):
    from soc.accel_options import accel_config_from_args

    def error(msg):
        raise SimError(msg)
    return accel_config_from_args(args, error, default_part=SIM_PART, dataset=args.dataset)


def batch_run(args) -> int:
    from sw import golden
    from sw.cli import CLIError, load_frames, output_problem, write_output
    from sw.host import session
    from sw.host.frames import pack

    # the frames (artifact, data set, offset, shape) before the SoC build; CLIError is one line in sim.py
    _, images, labels = load_frames(args.model, args.dataset, "test", args.offset, args.images)
    labels = np.asarray(labels)
    if args.json and output_problem(args.json):
        raise CLIError(f"--json {output_problem(args.json)}")
    model, cfg = _config(args)
    t0 = time.monotonic()
    b = build(cfg, trace=args.trace, root=args.build_dir)
    blob = model.to_bytes()
    regions, model_addr, frames_addr = ram_layout(b, blob, pack(model, images))
    n = len(images)
    print(f"[sim] model at 0x{model_addr:08x}, {n} frames at 0x{frames_addr:08x}")
    t1 = time.monotonic()
    # A traced simulation is many times slower: give its boot the whole --timeout.
    with Simulation(b, regions, boot_timeout=args.timeout if args.trace else 300.0) as sim:
        boot_s = time.monotonic() - t1
        print(f"[sim] firmware booted in {boot_s:.1f} s")
        res = session.batch(sim.console, model_addr, frames_addr, n, args.selftest, args.bench, args.timeout)
        if args.trace:
            print(f"[sim] waveform: {sim.run_dir / 'sim.fst'}")
    gold, _, _ = golden.run(model, images)
    preds = np.asarray(res.predictions)
    acc = float((preds == labels).mean())
    agree = float((preds == gold).mean())
    per = res.cycles_per_frame
    cpu = res.bench.get("cpu_cycles_per_frame")
    report = {
        "model": args.model, "dataset": args.dataset, "offset": args.offset, "n": n,
        "predictions": preds.tolist(), "labels": labels.tolist(), "golden_predictions": gold.tolist(),
        "accuracy": acc, "agreement": agree,
        "cycles_per_frame": per, "cycles_total": res.cycles,
        "cpu_cycles_per_frame": cpu,
        # cycles_per_frame counts accel clock cycles, cpu_cycles_per_frame sys clock cycles: both become
        # seconds at the Arty defaults (sys NOMINAL_CLK_FREQ, accel ACCEL_CLK_FREQ)
        "speedup": (cpu * ACCEL_CLK_FREQ) / (per * NOMINAL_CLK_FREQ) if cpu and per else None,
        "sys_clk_hz": NOMINAL_CLK_FREQ, "accel_clk_hz": ACCEL_CLK_FREQ,
        "sim_clocks_hz": {"sys": SYS_CLK_FREQ, "accel": SIM_ACCEL_CLK_FREQ},
        "fps_at_accel_clock": ACCEL_CLK_FREQ / per if per else None,
        "fps_clock": FPS_CLOCK,
        "selftest": res.selftest, "bench": res.bench, "layer_counters": res.stats,
        "parallelism": [list(p) for p in cfg.parallelism],
        "sim_build": {"key": b.key, "cached": b.cached, "build_seconds": b.seconds},
        "sim_seconds": time.monotonic() - t1, "boot_seconds": boot_s, "total_seconds": time.monotonic() - t0,
    }
    print(f"accuracy {100 * acc:.2f}% ({n} frames), agreement with golden {100 * agree:.2f}%, "
          f"{per} accel cycles/frame, {report['fps_at_accel_clock']:,.0f} FPS at {FPS_CLOCK}"
          + (f", CPU reference {cpu} cycles/frame, speedup {report['speedup']:,.0f}x at the Arty clocks" if cpu else ""))
    if args.json:
        write_output(args.json, json.dumps(report, indent=1))
    return 0 if agree == 1.0 and (res.selftest is None or "PASS" in res.selftest) else 1


def live_console(args, inp=None, out=None) -> int:
    """The firmware's console on stdin/stdout until the end of input (Ctrl-D), through serial2tcp and
    sw.host's Console.interact: each line goes to the firmware once the previous reply has reached the
    prompt, and each reply has --timeout seconds."""
    model, cfg = _config(args)
    b = build(cfg, trace=args.trace, root=args.build_dir)
    blob = model.to_bytes()
    regions, model_addr, frames_addr = ram_layout(b, blob, b"")
    print(f"[sim] booting; the model is preloaded at 0x{model_addr:08x}: type 'load 0x{model_addr:08x}'. "
          "Ctrl-D (end of input) quits.", file=sys.stderr)
    with Simulation(b, regions, boot_timeout=args.timeout if args.trace else 300.0) as sim:
        sim.console.interact(timeout=args.timeout, prompted=True, inp=inp, out=out)
    return 0
