"""Benchmark: SCNN5 area-time (cycles/frame x accelerator LUTs, yosys) vs FireFly-S's 1.02e9 (target
<= 0.5e9), steady-state cycles/frame vs the bound max_l work_l / PCo_l (target within 1.25x), and the fit
on the part the accelerator was balanced for (default: the A7-100T, like the litex_sim SoC).

    .venv/bin/python bench/accel_area_time.py [--model M.ffs] [--frames 200] [--part a7-35|a7-100]
"""
import json

import numpy as np
from accel_common import PAPER_AREA_TIME, CLIError, balanced_config, check_args, fail, mnist_frames, mnist_model, parser

from sw import frames, golden
from soc.accel import loadimage, rtlsim, synth
from sw.cli import write_output
from soc.accel.balance import PARTS, SIM_PART, SOC_BRAMS, SOC_LUTS


def main():
    ap = parser(__file__, __doc__)
    ap.add_argument("--model", default="artifacts/mnist-scnn5/model.ffs")
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--parallelism")
    ap.add_argument("--part", default=SIM_PART, choices=sorted(PARTS), help="balance for this FPGA")
    ap.add_argument("--no-synth", action="store_true", help="skip yosys (minutes)")
    ap.add_argument("--json")
    args = ap.parse_args()
    check_args(ap, args, positive=("frames",), json=args.json)
    try:
        model, name = mnist_model(args.model)
        cfg, _ = balanced_config(model, args.parallelism, args.part)
        images = mnist_frames(model, args.frames)
    except CLIError as e:
        fail(ap, e)
    _, _, stats = golden.run(model, images)
    n = len(images)
    bound = max(s.work / n / lc.pco for s, lc in zip(stats, cfg.layers))
    r = rtlsim.simulate_sharded(cfg, loadimage.build(model, cfg), frames.pack(images, model.in_kind,
                                                                               model.timesteps), 2)
    preds, readout, _ = golden.run(model, images)
    exact = bool(np.array_equal(r.readout, readout))
    res = {"model": name, "parallelism": cfg.parallelism, "frames": n, "exact": exact,
           "cycles_per_frame": r.cycles_per_frame, "bound": bound, "ratio_to_bound": r.cycles_per_frame / bound}
    print(f"{name}: parallelism {','.join(f'{a}x{b}' for a, b in cfg.parallelism)}; {n} MNIST frames, "
          f"bit-exact {exact}")
    print(f"cycles/frame {r.cycles_per_frame:.0f}, bound max_l work_l/PCo_l {bound:.0f} -> "
          f"{r.cycles_per_frame / bound:.2f}x (target <= 1.25x)")
    if not args.no_synth:
        s = synth.synthesize(cfg)
        at = r.cycles_per_frame * s["lut"]
        res.update(synth={k: v for k, v in s.items() if k != "cells"}, area_time=at,
                   area_time_with_lutram=r.cycles_per_frame * s["lut_all"],
                   area_time_lc=r.cycles_per_frame * s["lc_estimate"])
        print(f"yosys synth_xilinx: LUT {s['lut']} (estimated LCs {s['lc_estimate']}), LUTRAM cells "
              f"{s['lutram_cells']} ({s['lut_mem']} LUTs), FF {s['ff']}, BRAM36-equiv "
              f"{s['bram36_equiv']:g}, DSP {s['dsp']}")
        print(f"area-time {at:.3g} with logic LUTs, {res['area_time_with_lutram']:.3g} with LUTRAM too, "
              f"{res['area_time_lc']:.3g} with LCs (FireFly-S {PAPER_AREA_TIME:.3g}, target <= 0.5e9: "
              f"{'PASS' if at <= 0.5e9 else 'FAIL'})")
        luts, brams, _ = PARTS[args.part]
        print(f"{args.part} with the rest of the SoC (~{SOC_LUTS} LUT, ~{SOC_BRAMS} RAMB36): "
              f"{s['lut_all'] + SOC_LUTS} / {luts} LUT, {s['bram36_equiv'] + SOC_BRAMS:g} / {brams:g} RAMB36")
    if args.json:
        try:
            write_output(args.json, json.dumps(res, indent=1))
        except CLIError as e:
            fail(ap, e)


if __name__ == "__main__":
    main()
