"""Measure the converter on the full MNIST test set (docs/convert.md, "Measured"):

    python -m sw.convert.measure --framework spikingjelly --out runs/convert-sj [--epochs 2] [--threads 1]
    python -m sw.convert.measure --framework snntorch --out runs/convert-snn

1. trains an SCNN5-shaped network (1x28x28-8c3p1-16c3p1-mp2-32c3p1-mp2-64c3p1-64c3p1-mp2-10fc) in plain
   spikingjelly (conv-BN-LIFNode(tau=2)) or snnTorch (conv-Leaky(beta=0.5, reset 'zero')) with that
   framework's own loop (sw/convert/examples.py) on all 60,000 training frames, and scores it on the
   10,000 test frames with that framework;
2. converts it with python -m sw.convert for each conversion setting (--conversions: dense PTQ + fine-tuning,
   and magnitude pruning + fine-tuning), each exported and checked on the whole test set;
3. predicts cycles/frame with soc.accel.balance (A7-100T budget) and, with --rtl-frames N, runs N test
   frames on the Verilated accelerator (cycles/frame measured, golden == RTL checked).
Writes OUT/summary.json and prints one line per conversion.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

CONVERSIONS = {"ptq+ft": ["--finetune-epochs", "1"],
               "prune0.9+ft": ["--target-sparsity", "0.9", "--finetune-epochs", "1"],
               "prune0.9+ft3": ["--target-sparsity", "0.9", "--finetune-epochs", "3"]}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m sw.convert.measure")
    ap.add_argument("--framework", required=True, choices=["spikingjelly", "snntorch"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--timesteps", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--conversions", default=",".join(CONVERSIONS), help=f"any of {list(CONVERSIONS)}")
    ap.add_argument("--calib-frames", type=int, default=512)
    ap.add_argument("--rtl-frames", type=int, default=0)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    from sw.datasets import load
    from . import examples
    from .__main__ import main as convert
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    tr, te = load("mnist", "train"), load("mnist", "test")
    summary = {"framework": a.framework, "epochs": a.epochs, "timesteps": a.timesteps, "conversions": {}}
    if (out / "summary.json").exists():              # a rerun with other --conversions keeps the earlier ones
        summary["conversions"] = json.loads((out / "summary.json").read_text()).get("conversions", {})
    src_path = out / "source.pt"
    t0 = time.time()
    if src_path.exists():
        net = torch.load(src_path, weights_only=False)
        old = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else {}
        summary["train_seconds"] = old.get("train_seconds")
    else:
        net = examples.spikingjelly_net("scnn5") if a.framework == "spikingjelly" else examples.snntorch_net("scnn5")
        examples.train(net, tr.images, tr.labels, a.timesteps, a.epochs, batch=64, lr=2e-3,
                       log=lambda m: print(f"{a.framework} {m}", flush=True))
        summary["train_seconds"] = time.time() - t0
        if a.framework == "snntorch":
            examples.picklable(net)
        torch.save(net, src_path)
    src = examples.predict(net, te.images, a.timesteps)
    summary["source_acc"] = float((src == te.labels).mean())
    print(f"{a.framework}: source model {100 * summary['source_acc']:.2f}% on {len(te.labels)} test frames "
          f"(its own framework's loop)", flush=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    for name in a.conversions.split(","):
        d = out / name
        t1 = time.time()
        rc = convert(["--torch", str(src_path), "--dataset", "mnist", "--out", str(d), "--force",
                      "--timesteps", str(a.timesteps), "--threads", str(a.threads),
                      "--calib-frames", str(a.calib_frames)] + CONVERSIONS[name])
        rec = {"exit": rc, "seconds": time.time() - t1}
        if rc == 0:
            rep = json.loads((d / "report.json").read_text())
            rec.update({k: rep.get(k) for k in ("ptq_acc", "finetuned_acc", "deployed_acc", "weight_sparsity",
                                                "nonzeros", "artifact_bytes", "command", "calibration")})
            rec["float"] = rep["float"]
            rec.update(cycles(d / "model.ffs", te.images, a.rtl_frames))
        summary["conversions"][name] = rec
        print(f"{a.framework} {name}: {json.dumps({k: v for k, v in rec.items() if k != 'calibration'})}", flush=True)
        (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return 0


def cycles(model_path, images, rtl_frames):
    from sw import frames, golden
    from sw.artifact import Model
    from soc.accel import loadimage
    from soc.accel.balance import Budget, balance
    from soc.accel.config import AccelConfig
    m = Model.load(model_path)
    b = balance(m, Budget.for_part("a7-100"), dataset="mnist")
    rec = {"parallelism_a7_100": [list(p) for p in b.parallelism], "predicted_cycles_per_frame": float(b.cycles),
           "bound_cycles_per_frame": float(b.bound)}
    if rtl_frames:
        from soc.accel.rtlsim import simulate
        cfg = AccelConfig.from_model(m, b.parallelism)
        x = images[:rtl_frames]
        t = time.time()
        r = simulate(cfg, loadimage.build(m, cfg), frames.pack(x, m.in_kind, m.timesteps))
        gp, gacc, _ = golden.run(m, x)
        rec.update(rtl_frames=int(rtl_frames), rtl_cycles_per_frame=float(r.cycles_per_frame),
                   rtl_readout_exact=bool(r.status == 0 and np.array_equal(r.readout, gacc)),
                   rtl_seconds=time.time() - t)
    return rec


if __name__ == "__main__":
    raise SystemExit(main())
