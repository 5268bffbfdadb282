"""Benchmark: the same SCNN5 hardware with dense weights vs the pruned model (target: pruned >= 5x
fewer cycles). The dense model keeps the pruned model's biases and thresholds; the hardware is
generated for the dense model's (wider) widths, so both load into it.

    .venv/bin/python bench/accel_sparsity.py [--model M.ffs] [--frames 50]
"""
import numpy as np
from accel_common import CLIError, check_args, fail, mnist_frames, mnist_model, parser

from sw import frames, golden, random_model
from sw.artifact import Model
from soc.accel import loadimage, rtlsim
from soc.accel.balance import SIM_PART, Budget, balance
from soc.accel.config import AccelConfig


def main():
    ap = parser(__file__, __doc__)
    ap.add_argument("--model", default="artifacts/mnist-scnn5/model.ffs")
    ap.add_argument("--frames", type=int, default=50)
    args = ap.parse_args()
    check_args(ap, args, positive=("frames",))
    try:
        pruned, name = mnist_model(args.model)
        images = mnist_frames(pruned, args.frames)
    except CLIError as e:
        fail(ap, e)
    rng = np.random.default_rng(0)
    # dense: every pruned weight gets a random non-zero value, the kept ones stay
    dense_w = [np.where(l.weights != 0, l.weights, random_model.random_weights(rng, l.weights.shape, 1.0))
               for l in pruned.layers]
    dense = Model.from_dense(pruned.shapes, dense_w, [l.bias for l in pruned.layers],
                             [l.vth for l in pruned.layers], pruned.timesteps, pruned.in_bits, pruned.in_kind,
                             pruned.notation)
    cfg = AccelConfig.from_model(dense, balance(pruned, Budget.for_part(SIM_PART), dataset="mnist").parallelism)
    words = frames.pack(images, pruned.in_kind, pruned.timesteps)
    out = {}
    for label, m in (("dense", dense), ("pruned", pruned)):
        r = rtlsim.simulate_sharded(cfg, loadimage.build(m, cfg), words, 2)
        _, readout, stats = golden.run(m, images)
        assert np.array_equal(r.readout, readout), f"{label}: RTL differs from the golden model"
        out[label] = (r.cycles_per_frame, sum(s.matched_pairs for s in stats) / len(images))
        print(f"{label:>6}: {r.cycles_per_frame:9.0f} cycles/frame, {out[label][1]:10.0f} matched pairs/frame "
              f"(bit-exact)")
    ratio = out["dense"][0] / out["pruned"][0]
    print(f"{name} on parallelism {','.join(f'{a}x{b}' for a, b in cfg.parallelism)}: pruned runs {ratio:.2f}x "
          f"fewer cycles (target >= 5x: {'PASS' if ratio >= 5 else 'FAIL'}), "
          f"{out['dense'][1] / out['pruned'][1]:.1f}x fewer matched pairs")


if __name__ == "__main__":
    main()
