"""Benchmark: the full 10k MNIST test set through the RTL (Verilator), agreement with the golden model
(target 100%) and wall time (target <= 10 minutes on the 2-core machine). Wraps soc.accel.rtlsim.

    .venv/bin/python bench/accel_mnist10k.py [--model M.ffs] [--jobs 2] [--json OUT]
"""
import json
import os
import subprocess
import sys
import tempfile
import time

from accel_common import CLIError, check_args, fail, mnist_model, parser


def main():
    ap = parser(__file__, __doc__)
    ap.add_argument("--model", default="artifacts/mnist-scnn5/model.ffs")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--limit", type=int, default=10000)
    ap.add_argument("--json", help="also write soc.accel.rtlsim's report here, with the wall time and command")
    args = ap.parse_args()
    check_args(ap, args, positive=("jobs", "limit"), json=args.json)
    try:
        model, name = mnist_model(args.model)
    except CLIError as e:
        fail(ap, e)
    path = args.model
    if not os.path.exists(path):
        path = os.path.join("build", "random-scnn5.ffs")
        model.save(path)
    with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "soc.accel.rtlsim", "--model", path, "--dataset", "mnist",
                            "--limit", str(args.limit), "--jobs", str(args.jobs), "--json", tmp.name], check=False)
        wall = time.perf_counter() - t0
        if os.path.getsize(tmp.name) == 0:       # rtlsim stopped before its report (it said why)
            fail(ap, f"soc.accel.rtlsim exited {r.returncode} without a report")
        rep = json.load(open(tmp.name))
    print(f"{name}: {rep['n']} frames in {wall:.0f} s wall (build {rep['build_seconds']:.0f} s, simulation "
          f"{rep['sim_seconds']:.0f} s, {args.jobs} jobs), agreement {100 * rep['agreement']:.2f}%, "
          f"cycles/frame {rep['cycles_per_frame']:.0f}, latency {rep['latency_cycles']}; targets: 100% "
          f"{'PASS' if rep['agreement'] == 1 else 'FAIL'}, <= 600 s {'PASS' if wall <= 600 else 'FAIL'}")
    if args.json:
        rep.update(wall_seconds=wall, jobs=args.jobs, command="python bench/accel_mnist10k.py " + " ".join(sys.argv[1:]))
        with open(args.json, "w") as f:
            json.dump(rep, f, indent=1)


if __name__ == "__main__":
    main()
