"""Resource estimate of the generated accelerator: yosys synth_xilinx -family xc7, then LUT/FF/BRAM/DSP.

    python -m soc.accel.synth --model M.ffs [--parallelism 8x9,...] [--json OUT]

No Vivado here, so this is yosys' mapping (LUT6/LUTRAM/RAMB18/RAMB36/DSP48E1 cells); it is an
estimate, not a placed-and-routed result.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from migen.fhdl.verilog import convert

from sw.artifact import ArtifactError, Model

from ..synth_estimate import LUTRAM
from ..synth_estimate import parse_stat as _parse_stat
from .balance import PARTS, SIM_PART, Budget
from .config import AccelConfig, ConfigError
from .core import AccelCore

ROOT = Path(__file__).resolve().parents[2]


def verilog(cfg: AccelConfig) -> str:
    core = AccelCore(cfg)
    return str(convert(core, ios=core.ios(), name="accel"))


def parse_stat(text: str) -> dict:
    """soc.synth_estimate's cell summary with the accelerator's keys: `lut` is logic LUTs only,
    `lut_mem` the LUTs used as distributed RAM / shift registers, `lc_estimate` yosys' own LC count."""
    r = _parse_stat(text)
    lcs = re.findall(r"Estimated number of LCs:\s+(\d+)", text)
    return dict(r, lut=r["lut_logic"], lut_all=r["lut"], lc_estimate=int(lcs[-1]) if lcs else None,
                lutram_cells=sum(v for k, v in r["cells"].items() if k in LUTRAM), bram36_equiv=r["bram36"])


def synthesize(cfg: AccelConfig, keep: Path | None = None, timeout: int = 3600) -> dict:
    with tempfile.TemporaryDirectory() as td:
        d = Path(keep or td)
        d.mkdir(parents=True, exist_ok=True)
        (d / "accel.v").write_text(verilog(cfg))
        script = "read_verilog accel.v; synth_xilinx -family xc7 -top accel -flatten; stat"
        t0 = time.perf_counter()
        out = subprocess.run(["yosys", "-q", "-p", script, "-l", "yosys.log"], cwd=d, capture_output=True,
                             text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"yosys failed:\n{out.stderr[-3000:]}")
        res = parse_stat((d / "yosys.log").read_text())
        res["seconds"] = time.perf_counter() - t0
        return res


def main(argv=None):
    from .rtlsim import parse_parallelism
    ap = argparse.ArgumentParser(prog="python -m soc.accel.synth", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--parallelism", help="PCOxPCI per layer (default: balance() for --part)")
    ap.add_argument("--part", default=SIM_PART, choices=sorted(PARTS),
                    help=f"size the accelerator for this FPGA (default {SIM_PART}, like the litex_sim SoC)")
    ap.add_argument("--json")
    ap.add_argument("--keep", help="keep the Verilog and yosys log in this directory")
    args = ap.parse_args(argv)
    try:
        model = Model.load(args.model)
        cfg = AccelConfig.from_model(model, parse_parallelism(args.parallelism) if args.parallelism else None,
                                     budget=Budget.for_part(args.part))
    except (ArtifactError, ConfigError, ValueError) as e:
        ap.exit(1, f"error: {e}\n")
    r = synthesize(cfg, Path(args.keep) if args.keep else None)
    print(f"parallelism {','.join(f'{a}x{b}' for a, b in cfg.parallelism)}")
    print(f"LUT {r['lut']} (yosys estimated LCs {r['lc_estimate']})  FF {r['ff']}  BRAM36-equiv "
          f"{r['bram36_equiv']:g} (RAMB36 {r['ramb36']}, RAMB18 {r['ramb18']})  DSP {r['dsp']}  "
          f"LUTRAM cells {r['lutram_cells']} ({r['lut_mem']} LUTs)  ({r['seconds']:.0f} s)")
    if args.json:
        r = dict(r, parallelism=cfg.parallelism, model=args.model)
        Path(args.json).write_text(json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
