"""Benchmark: golden-model inference time on the full 10k MNIST test set (target <= 60 s).

    .venv/bin/python bench/golden_mnist.py [--model artifacts/mnist-scnn5/model.ffs]
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sw import golden  # noqa: E402
from sw.cli import CLIError, OneLineParser, load_frames  # noqa: E402
from sw.datasets import load  # noqa: E402

DEFAULT_MODEL = "artifacts/mnist-scnn5/model.ffs"


def main():
    ap = OneLineParser(prog="python bench/golden_mnist.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=DEFAULT_MODEL, help="(the default, if missing: an untrained random SCNN5)")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error(f"--repeat {args.repeat}: must be >= 1")
    try:
        if args.model == DEFAULT_MODEL and not os.path.exists(args.model):
            from sw.random_model import make
            print(f"{args.model} missing: timing an UNTRAINED random SCNN5 instead")
            model = make("scnn5", 0.9382, calib=load("mnist", "train").images[:64])
            images, labels = load("mnist", "test").images, load("mnist", "test").labels
        else:
            model, images, labels = load_frames(args.model, "mnist", "test")
    except CLIError as e:
        ap.exit(1, f"error: {e}\n")
    best = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        preds, _, _ = golden.run(model, images)
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    print(f"golden model: {len(images)} MNIST test frames in {best:.1f} s "
          f"({len(images) / best:.0f} frames/s), accuracy {100 * (preds == labels).mean():.2f}%, "
          f"target <= 60 s: {'PASS' if best <= 60 else 'FAIL'}")


if __name__ == "__main__":
    main()
