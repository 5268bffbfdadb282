"""Benchmark: logic-only timing of accelerators generated for random topologies (issue 12's "a sample of
random topologies"), next to the two default builds' figures.

    .venv/bin/python bench/timing_random.py [--n 6] [--seed 0] [--json OUT] [--max-ns 3.0] [--max-levels 4]

Each model is a random network in the paper's notation (1-3 input channels, 12-32 pixels a side, 2-4
convolution layers of 4-64 channels with kernels 1-5, strides, padding and max-pools, an fc readout),
static or temporal input, T 1-6, 80-95% weight sparsity (sw.random_model: UNTRAINED weights, used for
the hardware's shape only). balance() sizes it under a random xc7 budget of 6k-30k LUTs (a topology
whose smallest build is predicted over both that budget and the A7-100T's accelerator budget is recorded
as skipped: no part we target holds it), then
soc.accel.synth's yosys synth_xilinx -abc9 + soc.timing give the logic-only critical path (yosys' xc7
cell delays, no routing), its LUT levels and the deepest LUT chain. Builds are kept under
build/timing-random/<i>. Minutes per model on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from soc.accel.balance import Budget, balance            # noqa: E402
from soc.accel.config import AccelConfig                  # noqa: E402
from soc.accel.synth import synthesize                    # noqa: E402
from soc.synth_estimate import SynthError                 # noqa: E402
from sw import random_model, spec                         # noqa: E402


def random_notation(rng) -> str:
    c, side = int(rng.integers(1, 4)), int(rng.integers(12, 33))
    toks, h = [f"{c}x{side}x{side}"], side
    for _ in range(int(rng.integers(2, 5))):
        k = int(rng.choice([1, 3, 3, 5])) if h >= 5 else 1
        s = 2 if h >= 8 and rng.random() < 0.25 else 1
        p = k // 2 if rng.random() < 0.8 else 0
        co = int(rng.integers(4, 65))
        h = (h + 2 * p - k) // s + 1
        tok = f"{co}c{k}" + (f"s{s}" if s > 1 else "") + (f"p{p}" if p else "")
        if h >= 4 and rng.random() < 0.5:
            tok += "-mp2"
            h //= 2
        toks.append(tok)
        if h < 3:
            break
    toks.append(f"{int(rng.integers(2, 11))}fc")
    return "-".join(toks)


def one(i: int, rng, keep: Path) -> dict:
    notation = random_notation(rng)
    temporal = bool(rng.random() < 0.3)
    T = int(rng.integers(1, 7))
    in_bits = 1 if temporal else int(rng.integers(1, 9))
    sparsity = float(rng.choice([0.8, 0.9, 0.95]))
    model = random_model.make(notation, sparsity, timesteps=T, in_bits=in_bits,
                              in_kind=spec.IN_TEMPORAL if temporal else spec.IN_STATIC, seed=int(rng.integers(1 << 30)))
    budget = Budget(int(rng.integers(6000, 30001)), 100.0, "xc7")
    b = balance(model, budget)
    cfg = AccelConfig.from_model(model, b.parallelism)
    t0 = time.perf_counter()
    row = {"notation": notation, "input": "temporal" if temporal else f"static {in_bits}-bit", "timesteps": T,
           "sparsity": sparsity, "budget_luts": budget.luts,
           "parallelism": ",".join(f"{a}x{c}" for a, c in b.parallelism), "predicted_luts": int(b.luts)}
    biggest = Budget.for_part("a7-100").luts
    if b.luts > max(budget.luts, biggest):    # balance()'s smallest build fits no part we target
        return dict(row, skipped=f"the smallest build is predicted at {int(b.luts):,} LUTs, over the "
                                 f"{budget.luts:,}-LUT budget and the A7-100T's {biggest:,}",
                    seconds=time.perf_counter() - t0)
    try:
        r = synthesize(cfg, keep=keep / str(i))
    except SynthError as e:      # e.g. the WebAssembly yosys out of its 4 GB: recorded, the sample goes on
        return dict(row, error=str(e).splitlines()[0], seconds=time.perf_counter() - t0)
    t = r["timing"]
    return {**row, "lut": r["lut"], "ff": r["ff"],
            "bram36": r["bram36_equiv"], "critical_ns": t["critical_ns"], "critical_lut_levels": t["critical_lut_levels"],
            "critical_block": t["critical_block"], "critical_end": t["critical_end"],
            "max_lut_levels": t["max_lut_levels"], "max_lut_levels_endpoint": t["max_lut_levels_endpoint"],
            "seconds": time.perf_counter() - t0}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=6, help="random models")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--max-ns", type=float, default=3.0, help="logic-only critical path target")
    ap.add_argument("--max-levels", type=int, default=4, help="LUT levels between registers target")
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error(f"--n {args.n}: must be >= 1")
    rng = np.random.default_rng(args.seed)
    keep = ROOT / "build" / "timing-random"
    rows, t0 = [], time.perf_counter()
    for i in tqdm(range(args.n), desc="random topologies", unit="build"):
        rows.append(one(i, rng, keep))
        r = rows[-1]
        if "error" in r or "skipped" in r:
            tqdm.write(f"{i}: {r['notation']} {r['parallelism']}: "
                       + (f"synthesis failed: {r['error']}" if "error" in r else f"not synthesized: {r['skipped']}"))
            continue
        tqdm.write(f"{i}: {r['notation']} ({r['input']}, T={r['timesteps']}) {r['parallelism']}: {r['lut']} LUT, "
                   f"{r['critical_ns']:.2f} ns ({r['critical_lut_levels']} LUT levels, {r['critical_block']}), "
                   f"deepest {r['max_lut_levels']} levels ({r['max_lut_levels_endpoint']})")
    done = [r for r in rows if "error" not in r and "skipped" not in r]
    if not done:
        print(f"{args.n} random topologies: no synthesis finished", file=sys.stderr)
        return 1
    worst = max(r["critical_ns"] for r in done)
    deepest = max(r["max_lut_levels"] for r in done)
    out = {"command": "python bench/timing_random.py " + " ".join(sys.argv[1:] if argv is None else argv),
           "label": "logic only, no routing (yosys xc7 cell delays)", "seed": args.seed, "models": rows,
           "worst_critical_ns": worst, "deepest_lut_levels": deepest,
           "meets_ns": worst <= args.max_ns, "meets_levels": deepest <= args.max_levels,
           "failed_syntheses": sum("error" in r for r in rows),
           "over_budget": sum("skipped" in r for r in rows),
           "wall_seconds": time.perf_counter() - t0}
    print(f"{len(done)} of {args.n} random topologies synthesized ({out['over_budget']} over their budget): worst logic-only critical path {worst:.2f} ns (target <= {args.max_ns} ns: "
          f"{'met' if out['meets_ns'] else 'NOT met'}), deepest LUT chain {deepest} levels (target <= "
          f"{args.max_levels}: {'met' if out['meets_levels'] else 'NOT met'}); {out['wall_seconds']:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
