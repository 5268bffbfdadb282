"""Random pruned 4-bit models, for hardware tests and as a placeholder before a trained model exists.

    python -m sw.random_model --model scnn5 --sparsity 0.9382 --out artifacts/random-scnn5.ffs

Weights are uniform non-zero int4 at the given density; each layer's thresholds are calibrated on the
given inputs (or random sparse ones) so that about `--spike-density` of its neurons fire. Such a model
is UNTRAINED: its accuracy is chance and must never be reported as a result.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from . import golden, spec
from .artifact import Model
from .topology import parse


def random_weights(rng, shape, density: float) -> np.ndarray:
    vals = rng.integers(spec.W_MIN, spec.W_MAX, size=shape, endpoint=True)
    vals[vals == 0] = 1
    return np.where(rng.random(shape) < density, vals, 0).astype(np.int8)


def random_inputs(rng, model_shapes, n: int, timesteps: int, in_kind: int) -> np.ndarray:
    c, h, w = model_shapes[0].in_shape
    if in_kind == spec.IN_TEMPORAL:
        return (rng.random((n, timesteps, c, h, w)) < 0.2).astype(np.uint8)
    img = rng.integers(0, 256, size=(n, c, h, w), dtype=np.uint8)
    return np.where(rng.random((n, c, h, w)) < 0.3, img, 0).astype(np.uint8)


def make(notation: str, sparsity: float, timesteps: int = 4, in_bits: int = 8, in_kind: int = spec.IN_STATIC,
         seed: int = 0, spike_density: float = 0.15, calib=None, leak: bool = True) -> Model:
    """A random model whose thresholds put each layer's firing near `spike_density` on `calib`."""
    rng = np.random.default_rng(seed)
    shapes = parse(notation, leak=leak)
    ws = [random_weights(rng, (s.co, s.kh, s.kw, s.ci), 1.0 - sparsity) for s in shapes]
    bs = [rng.integers(-4, 5, size=s.co) for s in shapes]
    vths = [np.zeros(s.co, np.int64) for s in shapes]
    if calib is None:
        calib = random_inputs(rng, shapes, 16, timesteps, in_kind)
    for i, s in enumerate(shapes[:-1]):
        # Calibrate layer i with the layers before it fixed: threshold = quantile of its currents.
        probe = Model.from_dense(shapes, ws, bs, [v if j != i else np.full(s.co, 1 << 20) for j, v in
                                                  enumerate(vths)], timesteps, in_bits, in_kind, notation)
        tr = golden.Trace()
        golden.forward(probe, calib, trace=tr)
        cur = tr.currents[i].reshape(-1, s.co)
        vths[i] = np.maximum(np.quantile(cur, 1.0 - spike_density, axis=0).astype(np.int64) // 2, 0)
    return Model.from_dense(shapes, ws, bs, vths, timesteps, in_bits, in_kind, notation)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m sw.random_model", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="scnn5", help="preset name or notation")
    ap.add_argument("--sparsity", type=float, default=0.9382, help="weight sparsity (paper: 93.82%%)")
    ap.add_argument("--timesteps", type=int, default=4)
    ap.add_argument("--bits", type=int, default=8, help="input bits k")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    if not 0.0 <= args.sparsity < 1.0:
        ap.error(f"--sparsity {args.sparsity}: must be in [0, 1)")
    calib = None
    try:
        from .datasets import load
        if args.model.lower() in ("scnn5",) or args.model.startswith("1x28x28"):
            calib = load("mnist", "train").images[:64]
    except Exception as e:   # calibration data is a nicety; random inputs work too
        print(f"note: calibrating on random inputs ({e})", file=sys.stderr)
    m = make(args.model, args.sparsity, args.timesteps, args.bits, seed=args.seed, calib=calib)
    n = m.save(args.out)
    print(f"wrote {args.out}: {n} bytes, UNTRAINED random model (accuracy is meaningless)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
