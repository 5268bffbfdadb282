#!/usr/bin/env python3
"""Soak benchmark in litex_sim (issue 14): N consecutive real test frames through firmware and
accelerator with model reloads, every prediction checked against the golden model.

    python bench/soak.py [--model M.ffs] [--dataset mnist] [--frames 1000] [--reloads 1] [--part a7-100]
                         [--json bench/results/soak.json]

Exit 0 only at 100% agreement. The accelerator is sized for --part (default: the sim's A7-100T, as
soc/targets/sim.py does); its Verilator build is cached under build/sim/.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from soc.accel.balance import PARTS, SIM_PART  # noqa: E402
from sw.cli import CLIError, OneLineParser, output_problem, write_output  # noqa: E402


def main(argv=None) -> int:
    ap = OneLineParser(prog="python bench/soak.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="artifacts/mnist-scnn5/model.ffs")
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--reloads", type=int, default=1)
    ap.add_argument("--chunk", type=int, default=100, help="frames per `run` command")
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--part", choices=sorted(PARTS), default=SIM_PART)
    ap.add_argument("--json", help="write the report here")
    args = ap.parse_args(argv)
    if args.frames < 1 or args.chunk < 1 or args.reloads < 0 or args.offset < 0:
        ap.error("--frames and --chunk must be >= 1, --reloads and --offset >= 0")
    if args.reloads >= args.frames:
        ap.error(f"--reloads {args.reloads}: at most --frames - 1")
    problem = output_problem(args.json)
    if problem:
        ap.error(f"--json {problem}")
    from soc.accel_options import accel_config
    from soc.sim_build import SimError
    from soc.sim_soak import soak
    from sw.artifact import ArtifactError, Model
    try:
        cfg = accel_config(Model.load(args.model), part=args.part)
        rep = soak(args.model, args.dataset, args.frames, args.reloads, args.chunk, args.offset, cfg=cfg)
    except (ArtifactError, CLIError, SimError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    rep["command"] = "python bench/soak.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(json.dumps(rep, indent=1))
    if args.json:
        write_output(args.json, json.dumps(rep, indent=1))
    return 0 if rep["mismatches"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
