"""Benchmark: golden-model inference time on the full 10k MNIST test set (target <= 60 s).

    .venv/bin/python bench/golden_mnist.py [--model artifacts/mnist-scnn5/model.ffs]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sw import golden  # noqa: E402
from sw.artifact import Model  # noqa: E402
from sw.datasets import load  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="artifacts/mnist-scnn5/model.ffs")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    if not os.path.exists(args.model):
        from sw.random_model import make
        print(f"{args.model} missing: timing an UNTRAINED random SCNN5 instead")
        model = make("scnn5", 0.9382, calib=load("mnist", "train").images[:64])
    else:
        model = Model.load(args.model)
    ds = load("mnist", "test")
    best = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        preds, _, _ = golden.run(model, ds.images)
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    print(f"golden model: {len(ds.images)} MNIST test frames in {best:.1f} s "
          f"({len(ds.images) / best:.0f} frames/s), accuracy {100 * (preds == ds.labels).mean():.2f}%, "
          f"target <= 60 s: {'PASS' if best <= 60 else 'FAIL'}")


if __name__ == "__main__":
    main()
