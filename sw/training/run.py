"""FireFly-S training: spikingjelly SNN, Grad R pruning + LSQ 4-bit quantization, bit-exact export.

    python sw/training/run.py                      # the recipe of artifacts/mnist-scnn5 (the demo model)
    python sw/training/run.py --dataset fashion-mnist --batch 64 --timesteps 4 --epochs-joint 20 --ramp 0.3 --target-sparsity 0.908 --layer-sparsity '0,0.5,0.8,*,*,0.8' --sparsity-count nominal --batch-joint 0 --float-bn
                                                   # the recipe of artifacts/fashion-mnist-scnn5 (T = 4)
    python sw/training/run.py --quick --dataset cifar10 --model scnn9 --out /tmp/q
    torchrun --nproc_per_node 2 sw/training/run.py --out DIR ...   # DDP (gloo on CPU)

Writes model.ffs, report.json, training_curves.png, layers.png and checkpoint.pt into --out (default: a
fresh run folder runs/<dataset>-<model>-<UTC time>/); a run with the same --out and arguments resumes
from checkpoint.pt (--fresh ignores it). It never writes into a folder holding outputs that no
checkpoint there explains (e.g. a committed model under artifacts/) unless --force. Bad options, a model
that does not fit the data set or the memory, an unwritable --out and a damaged checkpoint are one error
line before any data is loaded (sw/training/guard.py).
"""
from __future__ import annotations

import json
import os
import platform
import shlex
import sys
import time
from dataclasses import asdict
from pathlib import Path

if __package__ in (None, ""):                      # run as a script: make `sw` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402

from sw.cli import CLIError  # noqa: E402
from sw.topology import notation  # noqa: E402
from sw.training import export, guard, plots  # noqa: E402
from sw.training.config import Config, load_data  # noqa: E402
from sw.training.options import JOINT_ONLY, TUNE_ONLY, parse_args  # noqa: E402
from sw.training.parallel import world  # noqa: E402
from sw.training.train import Trainer, evaluate  # noqa: E402


def resume_state(ckpt: Path, cfg: Config) -> dict:
    """The checkpoint to resume from, if it was written with these settings; CLIError otherwise."""
    st = guard.read_checkpoint(ckpt)
    free = ({"threads", "device"} | (JOINT_ONLY if st["phase"] == "float" else set())
            | (TUNE_ONLY if st["phase"] in ("float", "joint") else set()))
    diff = sorted(k for k, v in asdict(cfg).items() if k not in free and st["config"].get(k, getattr(Config(), k)) != v)
    if diff:
        raise CLIError(f"{ckpt} was written with other values of {', '.join(diff)}; use --fresh or another --out")
    return st


def versions():
    import spikingjelly
    import matplotlib
    try:
        from importlib.metadata import version
        sj = version("spikingjelly")
    except Exception:
        sj = getattr(spikingjelly, "__version__", "?")
    return {"python": platform.python_version(), "torch": torch.__version__, "spikingjelly": sj,
            "numpy": np.__version__, "matplotlib": matplotlib.__version__, "platform": platform.platform()}


def main(argv=None):
    t_start = time.time()
    args, cfg = parse_args(argv)
    if "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1 and not dist.is_initialized():
        cuda = cfg.device.startswith("cuda")
        if cuda:                                   # one GPU per process: cuda:LOCAL_RANK
            cfg.device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
            torch.cuda.set_device(cfg.device)
        dist.init_process_group("nccl" if cuda else "gloo")
    rank, ws = world()
    if cfg.device.startswith("cuda"):
        # the integer forward keeps exact integers in float32: no TF32 anywhere
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = args.out
    log = (lambda *m: print(*m, flush=True)) if rank == 0 else (lambda *m: None)
    ckpt = out / "checkpoint.pt"
    try:
        st = resume_state(ckpt, cfg) if ckpt.is_file() and not args.fresh else None
    except CLIError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    from sw.datasets import DatasetError
    try:
        data = load_data(cfg)
        if data.note:
            log(f"note: {data.note}")
        if advice := guard.target_advice(cfg):
            log(f"note: {advice}")
        log(f"{cfg.dataset}: {len(data.x_train)} train / {len(data.x_test)} {data.eval_split} frames; model {cfg.model}; "
            f"T={cfg.timesteps}; {ws} process(es); run folder {out}")
        trainer = Trainer(cfg, data, str(out), progress=not args.no_progress, log=log)
    except (DatasetError, ValueError) as e:        # missing data, --val-split too large
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        if not guard.is_out_of_memory(e):
            raise
        print(f"error: out of memory building --model {cfg.model} ({e.__class__.__name__}): use a smaller model "
              "or --batch", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    resumed = st is not None
    if resumed:
        try:
            trainer.load(st)
        except (KeyError, ValueError, RuntimeError, TypeError) as e:
            print(f"error: {ckpt}: does not fit this model ({type(e).__name__}); {guard.FRESH_HINT}",
                  file=sys.stderr)
            return 1
        log(f"resumed from {ckpt}: phase {trainer.phase}, epoch {trainer.epoch}")
    try:
        results = trainer.fit(str(ckpt), stop_after_float=args.stop_after_float)
    except Exception as e:
        if not guard.is_out_of_memory(e):
            raise
        print(f"error: out of memory training --model {cfg.model} with --batch {cfg.batch} "
              f"({e.__class__.__name__}): use a smaller model or --batch", file=sys.stderr)
        return 1
    if results is None:                            # --stop-after-float
        log(f"float phase complete ({trainer.epoch} epochs); checkpoint {ckpt}")
        if ws > 1:
            dist.barrier()
        return 0
    if rank != 0:
        dist.barrier()
        return 0
    try:
        return finish(args, cfg, trainer, data, results, out, argv, t_start, resumed)
    except export.ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        if ws > 1:
            dist.barrier()


def finish(args, cfg, trainer, data, results, out, argv, t_start, resumed):
    rank, ws = world()
    log = lambda *m: print(*m, flush=True)  # noqa: E731
    ckpt = out / "checkpoint.pt"
    pq4 = float(evaluate(trainer.net, data.x_test, data.y_test)[0])     # on the training device
    net = trainer.net.cpu()              # export and its exactness check run on the cpu
    t_exp = time.time()
    model = export.to_artifact(net)
    nbytes = model.save(out / "model.ffs")
    split = data.eval_split
    log(f"wrote {out / 'model.ffs'} ({nbytes} bytes); checking golden == torch on {len(data.x_test)} {split} frames")
    preds, stats = export.verify(net, model, data.x_test, progress=not args.no_progress)
    deployed = float((preds == data.y_test).mean())
    dens = [s.spike_density for s in stats[:-1]]
    names = [s.token() for s in net.shapes]
    layer_sp = [l.sparsity for l in model.layers]
    nominal = net.weight_sparsity()
    total_w = sum(s.co * s.fan_in for s in net.shapes)
    target = {i: None if i in g.exempt else g.controller.target for g in trainer.groups for i in g.layers}
    nnz = sum(l.nnz for l in model.layers)
    wall = time.time() - t_start
    rep = {
        "dataset": cfg.dataset, "model": cfg.model, "notation": model.notation,
        "deployed_notation": notation(model.shapes),
        "command": " ".join(shlex.quote(a) for a in ([sys.executable] + sys.argv if argv is None
                                                        else ["sw/training/run.py"] + list(argv))),
        "processes": ws, "seed": cfg.seed, "config": asdict(cfg), "data_note": data.note,
        "eval_split": split, "n_train": int(len(data.x_train)), f"n_{split}": int(len(data.x_test)),
        "accuracy": {"float": results.get("float_acc"),
                     "quant4_dense_ptq": results.get("quant4_dense_acc"),
                     "pruned_float": results.get("pruned_float_acc"),
                     "pruned_quant4_torch": pq4,
                     "joint_trained": results.get("joint_trained_acc"),
                     "ema": results.get("ema_acc"),
                     "deployed": deployed},
        "teacher": trainer.teacher_meta,
        "accuracy_definitions": {
            "evaluated_on": "the test set" if split == "test" else
                            f"the validation split ({len(data.x_test)} held-out training frames; --val-split)",
            "float": f"dense float model after the float phase ({split} set)",
            "quant4_dense_ptq": "that model quantized to 4 bits by the LSQ init, before joint training",
            "pruned_float": "final joint model with quantization switched off (float weights, pruned)",
            "pruned_quant4_torch": "final eval-mode integer torch model",
            "deployed": "sw.golden on model.ffs (identical to the torch predictions, checked)",
            "joint_trained": "with --ema: the trained integer model at the end of the joint phase, before the "
                             "average replaced it",
            "ema": "with --ema: each masked weight average at the end of the joint phase (the first one is "
                   "the model above)"},
        "weight_sparsity": 1 - nnz / total_w, "weight_sparsity_deployed_shapes": 1 - nnz / sum(l.weights.size for l in model.layers),
        "layers": [{"layer": n, "nominal_co": s.co, "deployed_co": l.shape.co, "deployed_ci": l.shape.ci,
                    "weights_nominal": s.co * s.fan_in, "nonzeros": l.nnz,
                    "weight_sparsity": 1 - l.nnz / (s.co * s.fan_in), "target_sparsity": target[i],
                    "spike_density": None if s.readout else d}
                   for i, (n, s, l, d) in enumerate(zip(names, net.shapes, model.layers, dens + [None]))],
        "nonzeros": nnz, "artifact_bytes": nbytes,
        "widths": [l.widths.as_tuple() for l in model.layers],
        "export_check": {"frames": int(len(data.x_test)), "mismatches": 0},
        "history": trainer.history,
        "export_seconds": time.time() - t_exp,
        "wall_seconds": wall,
        "wall_seconds_note": "this invocation, data loading to report" + (
            " (resumed from a checkpoint: earlier invocations are not included; see history[].seconds)"
            if resumed else ""),
        "epoch_seconds_total": sum(h["seconds"] for h in trainer.history),
        "versions": versions(),
    }
    (out / "report.json").write_text(json.dumps(rep, indent=1))
    plots.write_all(out, trainer.history, names, [r["weight_sparsity"] for r in rep["layers"]], dens)
    log(f"deployed {split} accuracy {100 * deployed:.2f}% at {100 * rep['weight_sparsity']:.2f}% weight sparsity, "
        f"{nnz} non-zeros, {nbytes} bytes; golden == torch on all {len(data.x_test)} {split} frames; "
        f"{wall / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
