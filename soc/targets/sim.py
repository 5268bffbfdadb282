#!/usr/bin/env python3
"""litex_sim target: the CLI of soc.sim_soc.SimSoC (VexRiscv, main RAM, UART, timer, the SNN accelerator).

    python soc/targets/sim.py --model M.ffs --images 20 [--offset 0] --json OUT   # batch run
    python soc/targets/sim.py --model M.ffs                                      # live console, until EOF
    python soc/targets/sim.py --model M.ffs --images 2 --trace                  # + waveform (.fst)

The Verilator model is built once per hardware configuration (soc.sim_build: hash of the sources and
of the accelerator config) and reused; firmware, model and frames go into main RAM at run time by
rewriting the RAM's $readmemh file, so a new model of the same topology or new frames need no rebuild.
The accelerator runs on its own simulated clock, half the sys clock (soc.sim_soc); FPS figures are
quoted at soc.ACCEL_CLK_FREQ, the Arty's default accelerator clock.

SIGTERM, SIGHUP and SIGINT stop the simulator (Vsim) too, and exit 128 + the signal; if this process dies
without a chance to clean up (SIGKILL), the kernel kills Vsim with it (soc.sim_build.spawn).
"""
from __future__ import annotations

import signal
import sys
from pathlib import Path

if __package__ in (None, ""):                        # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from soc.accel_options import add_accel_args
from sw.cli import CLIError, OneLineParser, load_frames, output_problem


def main(argv=None):
    from soc import sim_build
    ap = OneLineParser(prog="python soc/targets/sim.py", description=__doc__.split("\n\n")[0])
    add_accel_args(ap)
    ap.add_argument("--images", type=int, default=None, help="run N MNIST test frames, then exit")
    ap.add_argument("--offset", type=int, default=0, help="first test frame index")
    ap.add_argument("--dataset", default="mnist", help="data set of the frames (default mnist)")
    ap.add_argument("--json", help="write the run's results here")
    ap.add_argument("--trace", action="store_true",
                    help="dump a waveform (FST) of the windows in which the accelerator is active (load, batches)")
    ap.add_argument("--selftest", type=int, default=1, metavar="N",
                    help="frames checked by the firmware selftest during a batch run (0: skip)")
    ap.add_argument("--bench", type=int, default=0, metavar="N",
                    help="extra frames timed by the firmware's bench command (default 0: the selftest's timing "
                         "of the CPU reference is used)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="wall-clock limit of the run, seconds")
    ap.add_argument("--build-dir", default="build/sim", help="cache root for Verilator builds")
    args = ap.parse_args(argv)
    if args.images is not None and args.images < 1:
        ap.error(f"--images {args.images}: must be >= 1")
    if args.offset < 0:
        ap.error(f"--offset {args.offset}: must be >= 0")
    if args.selftest < 0 or args.bench < 0 or not args.timeout > 0:
        ap.error("--selftest and --bench must be >= 0, --timeout > 0")
    if output_problem(args.json):
        ap.error(f"--json {output_problem(args.json)}")
    from sw.host.console import HostError
    sim_build.STOP.clear()                       # a stop remembered from an earlier main() in this process
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, sim_build.STOP)
    try:
        if args.images is not None:          # artifact, data set and frame shapes before the Verilator build
            load_frames(args.model, args.dataset, "test", args.offset, args.images)
        return sim_build.cli(args)
    except (CLIError, sim_build.SimError, HostError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:                 # SIGINT/SIGTERM/SIGHUP through sim_build.STOP
        signum = getattr(e, "signum", signal.SIGINT)
        print(f"error: stopped by {signal.Signals(signum).name}; the simulator was stopped too", file=sys.stderr)
        return 128 + signum


if __name__ == "__main__":
    sys.exit(main())
