"""Deploy an SNN trained elsewhere: a spikingjelly / snnTorch module or a NIR graph to a bit-exact .ffs.

    python -m sw.convert (--torch MODEL.pt | --nir GRAPH.nir) --dataset mnist --out DIR
                         [--target-sparsity S] [--finetune-epochs N] [--approximate] [--timesteps T]

Writes DIR/model.ffs and DIR/report.json (mapping per layer, accuracies of the source, the imported float
net, the post-training-quantized and the fine-tuned net, the deployed accuracy and sparsity). The export
check runs sw.golden against the eval-mode torch model on every test frame and refuses on any difference.
Bad input (a file that is not a module or graph, a layer that cannot be mapped, bad options) is one error
line and exit 2, before any long work.
"""
from __future__ import annotations

import json
import math
import shlex
import sys
import time
from pathlib import Path

from ..cli import OneLineParser, folder_problem

DATASETS = ("mnist", "fashion-mnist", "cifar10")


def parse_args(argv=None):
    ap = OneLineParser(prog="python -m sw.convert", description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--torch", metavar="MODEL.pt", help="a saved nn.Module (torch.save(model) or torch.jit.save)")
    src.add_argument("--nir", metavar="GRAPH.nir", help="a NIR graph (nir.write)")
    ap.add_argument("--dataset", required=True, choices=DATASETS)
    ap.add_argument("--out", required=True, help="output folder (model.ffs, report.json)")
    ap.add_argument("--timesteps", type=int, default=4, help="T the source model runs (4)")
    ap.add_argument("--bits", type=int, default=8, help="input bits k of the artifact (8: exact)")
    ap.add_argument("--target-sparsity", type=float, default=0.0,
                    help="fraction of zero weights: one-shot magnitude pruning of every layer, or with "
                    "--finetune-epochs the Grad R prior ramping up to it while fine-tuning (0: off)")
    ap.add_argument("--finetune-epochs", type=int, default=0,
                    help="epochs of the joint LSQ + Grad R phase from the imported weights (0: off)")
    ap.add_argument("--lr", type=float, default=1e-3, help="fine-tuning learning rate (1e-3)")
    ap.add_argument("--batch", type=int, default=128, help="fine-tuning batch (128)")
    ap.add_argument("--calib-frames", type=int, default=1024, help="training frames for calibration (1024)")
    ap.add_argument("--approximate", action="store_true", help="accept the stated approximations "
                    "(max-pool before the neuron, an output neuron) instead of refusing them")
    ap.add_argument("--nir-dt", type=float, default=1e-4, help="the time step the NIR graph was written "
                    "for (snnTorch: 1e-4)")
    ap.add_argument("--train-limit", type=int, default=0, help="use only the first N training frames (0: all)")
    ap.add_argument("--test-limit", type=int, default=0, help="check and score on the first N test frames "
                    "only (0: the whole test set, the default and the rule for a real deployment)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--force", action="store_true", help="overwrite DIR/model.ffs and DIR/report.json")
    a = ap.parse_args(argv)
    checks = [
        (1 <= a.timesteps <= 64, f"--timesteps {a.timesteps}: must be in 1..64"),
        (1 <= a.bits <= 8, f"--bits {a.bits}: must be in 1..8"),
        (math.isfinite(a.target_sparsity) and 0 <= a.target_sparsity < 1,
         f"--target-sparsity {a.target_sparsity}: must be in [0, 1)"),
        (a.finetune_epochs >= 0, f"--finetune-epochs {a.finetune_epochs}: must be >= 0"),
        (math.isfinite(a.lr) and a.lr > 0, f"--lr {a.lr}: must be a finite number > 0"),
        (a.batch >= 1, f"--batch {a.batch}: must be >= 1"),
        (a.calib_frames >= 1, f"--calib-frames {a.calib_frames}: must be >= 1"),
        (math.isfinite(a.nir_dt) and a.nir_dt > 0, f"--nir-dt {a.nir_dt}: must be a finite number > 0"),
        (a.train_limit >= 0, f"--train-limit {a.train_limit}: must be >= 0"),
        (a.test_limit >= 0, f"--test-limit {a.test_limit}: must be >= 0"),
        (0 <= a.seed < 2 ** 32, f"--seed {a.seed}: must be in 0..2^32-1"),
        (a.threads >= 0, f"--threads {a.threads}: must be >= 0"),
    ]
    for ok, why in checks:
        if not ok:
            ap.error(why)
    why = folder_problem(a.out)
    if why:
        ap.error(f"--out {why}")
    out = Path(a.out)
    if not a.force:
        there = [n for n in ("model.ffs", "report.json") if (out / n).exists()]
        if there:
            ap.error(f"--out {a.out} already holds {', '.join(there)}: choose another --out, or --force")
    return ap, a


def main(argv=None):
    t0 = time.time()
    ap, a = parse_args(argv)
    import numpy as np
    import torch
    from ..datasets import FRAME_SHAPES, DatasetError, load
    from ..artifact import ArtifactError
    from ..training.export import ExportError
    from . import mapping, pipeline
    from .ir import ConvertError
    if a.threads:
        torch.set_num_threads(a.threads)
    log = lambda *m: print(*m, flush=True)  # noqa: E731
    try:
        net_ir, source = pipeline.read_source(a.torch, a.nir, FRAME_SHAPES[a.dataset], a.approximate, a.nir_dt)
        snet = mapping.to_net(net_ir, a.timesteps, a.bits)
    except ConvertError as e:
        ap.error(str(e))
    except Exception as e:                       # noqa: BLE001 - an odd module: one line, no traceback
        why = (str(e).strip().splitlines() or [""])[0][:160]
        ap.error(f"{a.torch or a.nir}: cannot be mapped ({type(e).__name__}: {why})")
    rep_map = pipeline.mapping_report(net_ir)
    log(f"mapped {a.torch or a.nir} onto {rep_map['notation']} "
        f"({'exact' if net_ir.exact else 'approximations: ' + '; '.join(net_ir.notes)})")
    for row in rep_map["layers"]:
        log(f"  {row['layer']}: {row['model']}" + (f" via {row['neuron']}" if row["neuron"] else "")
            + (f", folded {', '.join(row['folded'])}" if row["folded"] else "") + (", OR max-pool" if row["pool"] else ""))
    try:
        train, test = load(a.dataset, "train"), load(a.dataset, "test")
    except DatasetError as e:
        ap.error(str(e))
    if snet.shapes[-1].co != test.num_classes:
        ap.error(f"the network has {snet.shapes[-1].co} outputs, {a.dataset} has {test.num_classes} classes")
    xtr, ytr = train.images, train.labels
    xte, yte = test.images, test.labels
    if a.train_limit:
        xtr, ytr = xtr[:a.train_limit], ytr[:a.train_limit]
    if a.test_limit:
        xte, yte = xte[:a.test_limit], yte[:a.test_limit]
    torch.manual_seed(a.seed)
    rep = {"source": a.torch or a.nir, "kind": "torch" if a.torch else "nir", "dataset": a.dataset,
           "timesteps": a.timesteps, "in_bits": a.bits, "mapping": rep_map,
           "command": " ".join(shlex.quote(x) for x in ["python", "-m", "sw.convert"] + list(sys.argv[1:] if argv is None else argv)),
           "test_frames": int(len(xte)), "whole_test_set": not a.test_limit}
    rep["float"] = pipeline.float_check(snet, source, xte, yte, a.timesteps, log=log)
    try:
        model, dep = pipeline.deploy(snet, a.dataset, xtr, ytr, xte, yte, a.target_sparsity, a.finetune_epochs,
                                     a.calib_frames, a.lr, a.batch, a.seed, log=log)
    except (ExportError, ArtifactError) as e:        # golden != torch, or an unencodable model
        print(f"error: {e}", file=sys.stderr)
        return 1
    rep.update(dep)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    nbytes = model.save(out / "model.ffs")
    rep.update(artifact_bytes=nbytes, wall_seconds=time.time() - t0,
               versions={"torch": torch.__version__, "numpy": np.__version__})
    (out / "report.json").write_text(json.dumps(rep, indent=1))
    log(f"wrote {out / 'model.ffs'} ({nbytes} bytes) and {out / 'report.json'} in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
