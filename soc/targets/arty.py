#!/usr/bin/env python3
"""Digilent Arty A7: the litex-boards BaseSoC (VexRiscv, DDR3 main RAM, UART) plus the SNN accelerator.

    python soc/targets/arty.py --model M.ffs --build [--variant a7-35|a7-100] [--accel-clk-freq 100e6] [--load]
    python soc/targets/arty.py --model M.ffs --synth-estimate      # yosys synth_xilinx of the whole SoC

With Vivado on PATH, --build makes the bitstream; without it, everything else is generated (Verilog,
XDC, Vivado TCL, BIOS, firmware) and one line says how to finish on a machine with Vivado.
The accelerator runs in its own clock domain `accel`, a clock output of the board's PLL
(--accel-clk-freq, default soc.ACCEL_CLK_FREQ); sys <-> accel paths are false paths (every crossing is
synchronized, soc.accel_cdc).
"""
from __future__ import annotations

import functools
import shutil
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from migen import ClockDomain

from litex.soc.integration.builder import Builder
from litex_boards.platforms import digilent_arty
from litex_boards.targets.digilent_arty import BaseSoC

from soc import ACCEL_CLK_FREQ, NOMINAL_CLK_FREQ
from soc.accel_options import accel_config_from_args, add_accel_args
from sw.cli import one_line_error
from soc.peripheral import add_snn_accel

VARIANTS = ("a7-35", "a7-100")


def add_accel_clock(crg, platform, freq):
    """Extend the digilent_arty CRG with clock domain `accel` (`crg.cd_accel`): one more output of its
    PLL, with a reset synchronous to it (released when the PLL locks); false paths to and from sys."""
    crg.cd_accel = ClockDomain("accel")
    crg.pll.create_clkout(crg.cd_accel, freq)
    platform.add_false_path_constraints(crg.cd_sys.clk, crg.cd_accel.clk)


class ArtySNNSoC(BaseSoC):
    """BaseSoC + the accelerator on its own PLL clock; the timer's uptime counter gives the firmware its
    CPU cycles."""

    def __init__(self, accel_config, accel_clk_freq=ACCEL_CLK_FREQ, **kwargs):
        kwargs["timer_uptime"] = True           # the firmware times the CPU reference with it
        BaseSoC.__init__(self, **kwargs)
        add_accel_clock(self.crg, self.platform, accel_clk_freq)
        add_snn_accel(self, accel_config, name="snn", accel_clk_freq=accel_clk_freq)


def build_parser():
    from litex.build.parser import LiteXArgumentParser   # after litex.soc: the module imports are circular
    parser = LiteXArgumentParser(platform=digilent_arty.Platform)
    # LiteX 2024.12 hands its keyword arguments to ArgumentParser as `prog`: set both afterwards
    parser.prog = "python soc/targets/arty.py"
    parser.description = "FireFly-S SoC on Arty A7."
    parser.error = functools.partial(one_line_error, parser)      # one line, no usage block
    parser.add_target_argument("--variant", default="a7-35", choices=VARIANTS, help="Board variant.")
    parser.add_target_argument("--sys-clk-freq", default=NOMINAL_CLK_FREQ, type=float, help="System clock frequency.")
    parser.add_target_argument("--accel-clk-freq", default=ACCEL_CLK_FREQ, type=float,
                               help="Accelerator clock frequency (Hz, its own PLL output; default soc.ACCEL_CLK_FREQ).")
    parser.add_target_argument("--synth-estimate", action="store_true",
                               help="Generate, then estimate resources with yosys synth_xilinx (no Vivado needed).")
    add_accel_args(parser)
    # no build date in the SoC identifier: it is LUT logic (a ROM), so each day's netlist would differ,
    # and with it the yosys estimate and a Vivado run's placement; the same sources give the same netlist
    parser.set_defaults(no_ident_version=True)
    return parser


def main(argv=None) -> int:
    from soc.firmware_build import FirmwareError, build_firmware
    from soc.sim_build import tool_path
    from soc.synth_estimate import SynthError, estimate, report
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.accel_clk_freq <= 0:
        parser.error(f"--accel-clk-freq {args.accel_clk_freq:g}: must be > 0 (Hz)")
    model, cfg = accel_config_from_args(args, parser.error, default_part=args.variant)
    tool_path()
    vivado = shutil.which("vivado") is not None
    soc = ArtySNNSoC(cfg, accel_clk_freq=args.accel_clk_freq, variant=args.variant, toolchain=args.toolchain,
                     sys_clk_freq=args.sys_clk_freq, **parser.soc_argdict)
    builder_kw = dict(parser.builder_argdict)      # a fresh dict on every access: set keys on the copy
    builder_kw["output_dir"] = builder_kw.get("output_dir") or str(Path("build") / "arty" / args.variant)
    builder_kw["csr_json"] = builder_kw.get("csr_json") or str(Path(builder_kw["output_dir"]) / "csr.json")
    if not vivado or args.synth_estimate:
        builder_kw["compile_gateware"] = False
    builder = Builder(soc, **builder_kw)
    if args.build or args.synth_estimate:
        builder.build(**parser.toolchain_argdict)
        try:
            fw = build_firmware(builder.output_dir, Path(builder.output_dir) / "firmware", builder_kw["csr_json"])
        except FirmwareError as e:
            parser.exit(1, f"error: {e}\n")
        print(f"[arty] firmware: {fw.bin} ({fw.size} bytes); data goes above 0x{fw.end:08x}")
        gw = Path(builder.gateware_dir)
        if args.build and not vivado and builder_kw.get("compile_gateware", True) is False and not args.no_compile_gateware:
            print(f"[arty] Vivado is not on PATH: generated {gw}/digilent_arty.v, .xdc and .tcl; to finish, on a "
                  f"machine with Vivado run: cd {gw} && vivado -mode batch -source digilent_arty.tcl")
    if args.synth_estimate:
        try:
            util = estimate(soc, builder, part=args.variant)
        except SynthError as e:
            parser.exit(1, f"error: {e}\n")
        print(report(util, args.variant))
    if args.load:
        if not vivado:
            parser.exit(1, "error: --load needs the bitstream, which needs Vivado on PATH\n")
        prog = soc.platform.create_programmer()
        prog.load_bitstream(builder.get_bitstream_filename(mode="sram"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
