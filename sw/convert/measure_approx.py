"""Measure the two approximations that --approximate accepts (docs/convert.md):

    python -m sw.convert.measure_approx [--train 5000] [--epochs 3] [--json OUT]

snnTorch CSNNs (Leaky(beta=0.5, reset 'zero')) trained with snnTorch's own loop on the first --train MNIST
training frames: 'pool-first' (conv -> max-pool -> Leaky, linear readout), 'output-neuron' (conv -> Leaky
-> max-pool, an output Leaky whose spike counts predict) and 'tutorial' (both). Each is imported with
--approximate; on all 10,000 test frames this prints the source's accuracy (snnTorch), the imported float
net's accuracy, and how often the two predict the same class.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import torch


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m sw.convert.measure_approx")
    ap.add_argument("--train", type=int, default=5000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--timesteps", type=int, default=4)
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    from sw.datasets import load
    from sw.training.export import torch_input
    from spikingjelly.activation_based import functional
    from . import examples, mapping, pipeline
    tr, te = load("mnist", "train"), load("mnist", "test")
    res = {}
    for arch in ("pool-first", "output-neuron", "tutorial"):
        net = examples.train(examples.snntorch_net(arch), tr.images[:a.train], tr.labels[:a.train], a.timesteps,
                             a.epochs, lr=5e-3)
        src = examples.predict(net, te.images, a.timesteps)
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / "m.pt"
            torch.save(examples.picklable(net), p)
            net_ir, _ = pipeline.read_source(torch_path=p, approximate=True)
        snet = mapping.to_net(net_ir, a.timesteps)
        preds = []
        with torch.no_grad():
            for i in range(0, len(te.images), 500):
                logits, _ = snet(torch_input(te.images[i:i + 500], snet))
                functional.reset_net(snet)
                preds.append(logits.argmax(1))
        ours = torch.cat(preds).numpy()
        res[arch] = {"approximations": net_ir.notes, "source_acc": float((src == te.labels).mean()),
                     "imported_float_acc": float((ours == te.labels).mean()),
                     "agreement": float((src == ours).mean()), "test_frames": int(len(te.labels)),
                     "train_frames": a.train, "epochs": a.epochs}
        print(f"{arch}: source {100 * res[arch]['source_acc']:.2f}%, imported float "
              f"{100 * res[arch]['imported_float_acc']:.2f}%, same class on {100 * res[arch]['agreement']:.2f}% "
              f"of {len(te.labels)} test frames", flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
