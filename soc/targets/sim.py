#!/usr/bin/env python3
"""litex_sim SoC: VexRiscv, integrated main RAM, UART, timer uptime and the SNN accelerator.

    python soc/targets/sim.py --model M.ffs --images 20 [--offset 0] --json OUT   # batch run
    python soc/targets/sim.py --model M.ffs                                      # live console
    python soc/targets/sim.py --model M.ffs --images 2 --trace                  # + waveform (.fst)

The Verilator model is built once per hardware configuration (soc.sim_build: hash of the sources and
of the accelerator config) and reused; firmware, model and frames go into main RAM at run time by
rewriting the RAM's $readmemh file, so a new model of the same topology or new frames need no rebuild.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):                        # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from litex.soc.integration.soc_core import SoCCore
from migen.genlib.io import CRG
from litex.tools.litex_sim import Platform

from soc.accel_options import add_accel_args
from soc.peripheral import add_snn_accel

SYS_CLK_FREQ = int(1e6)            # litex_sim's nominal clock; FPS figures use soc.NOMINAL_CLK_FREQ
MAIN_RAM_SIZE = 0x0040_0000        # 4 MiB: firmware + scratch arena + model + frames + results


class SimSoC(SoCCore):
    """The simulation SoC. `accel_config` is the accelerator's build-time config (None: no accelerator)."""

    def __init__(self, accel_config=None, main_ram_init=(0,), main_ram_size=MAIN_RAM_SIZE, trace=False):
        platform = Platform()
        self.crg = CRG(platform.request("sys_clk"))
        SoCCore.__init__(self, platform, clk_freq=SYS_CLK_FREQ,
                         cpu_type="vexriscv", cpu_variant="standard",
                         integrated_rom_size=0x10000,
                         integrated_sram_size=0x2000,
                         integrated_main_ram_size=main_ram_size,
                         integrated_main_ram_init=list(main_ram_init),
                         uart_name="sim", timer_uptime=True,
                         ident="FireFly-S simulation SoC", ident_version=False)
        # The BIOS skips its serial boot after a short timeout and jumps to the firmware in main RAM.
        self.add_constant("ROM_BOOT_ADDRESS", self.mem_map["main_ram"])
        if accel_config is not None:
            add_snn_accel(self, accel_config, name="snn")
            # --trace dumps only the window in which the accelerator is active (load, batches): a whole
            # traced boot + firmware run is gigabytes of FST before the first frame
            self.comb += platform.trace.eq(self.snn.active)
        else:
            self.comb += platform.trace.eq(1)


def main(argv=None):
    from soc import sim_build
    ap = argparse.ArgumentParser(prog="python soc/targets/sim.py", description=__doc__.split("\n\n")[0])
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
    from sw.host.console import HostError
    try:
        return sim_build.cli(args)
    except (sim_build.SimError, HostError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
