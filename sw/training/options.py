"""The command line of sw/training/run.py: its options, their defaults (from `Config`) and every check
that turns a bad option into one usage error line before any data is loaded."""
from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path

import torch

from sw.cli import OneLineParser
from sw.topology import PRESETS, TopologyError, parse
from sw.training import guard
from sw.training.average import parse_decays
from sw.training.config import Config
from sw.training.gradrewiring import exempt_layers, layer_targets
from sw.training.models import neuron_leaks

DESCRIPTION = "FireFly-S training: spikingjelly SNN, Grad R pruning + LSQ 4-bit quantization, bit-exact export."
DEFAULT_MODEL = {"mnist": "scnn5", "fashion-mnist": "scnn5", "cifar10": "scnn9", "dvs-gesture": "scnn7"}
# Settings that only matter from the joint phase on: a checkpoint still in the float phase may resume
# with other values (the float phase does not depend on them).
JOINT_ONLY = {"target_sparsity", "epochs_joint", "lr_joint", "alpha", "prior_strength", "ramp", "controller_gain",
              "layer_sparsity", "exempt_layers", "bias_prior", "free_logit_scale", "scale_lr", "lsq_grad",
              "distill", "distill_temp", "teacher", "label_smoothing", "sparsity_count", "batch_joint", "keep_channels", "ema",
              "nonzero_floor"}
# Settings of the fine-tune phase: a checkpoint still in the float or joint phase may resume with other values.
TUNE_ONLY = {"epochs_tune", "lr_tune"}
QUICK = dict(epochs_float=1, epochs_joint=1, train_limit=512, test_limit=256, batch=32, batch_joint=0)


def parse_args(argv=None):
    """(argparse namespace, Config) of run.py's command line; a bad option exits with one usage line."""
    ap = OneLineParser(prog="python sw/training/run.py", description=DESCRIPTION)
    d = Config()
    ap.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist", "cifar10", "dvs-gesture"])
    ap.add_argument("--model", default=None, help="scnn5, scnn7, scnn9 or a notation string "
                    "(default: scnn5 for (fashion-)mnist, scnn9 for cifar10, scnn7 for dvs-gesture)")
    ap.add_argument("--timesteps", type=int, default=d.timesteps)
    ap.add_argument("--bits", type=int, default=d.bits, help="input bits k of static images (q = p >> (8-k))")
    ap.add_argument("--target-sparsity", type=float, default=d.target_sparsity)
    ap.add_argument("--epochs-float", type=int, default=None, help=f"dense float epochs ({d.epochs_float})")
    ap.add_argument("--epochs-joint", type=int, default=None,
                    help=f"joint Grad R + LSQ 4-bit epochs ({d.epochs_joint})")
    ap.add_argument("--epochs-tune", type=int, default=d.epochs_tune, help="fine-tune epochs after the joint "
                    "phase: 4-bit, pruning mask frozen (weights that are zero stay zero), no prior, cosine "
                    "learning rate from --lr-tune to 0 (0 = off); a finished run's checkpoint resumes into it")
    ap.add_argument("--batch", type=int, default=None, help=f"global batch size ({d.batch})")
    ap.add_argument("--batch-joint", type=int, default=None, metavar="N", help="global batch size of "
                    f"the joint and fine-tune phases ({d.batch_joint}; 0 = --batch); a float-phase checkpoint "
                    "resumes with any value")
    ap.add_argument("--lr", type=float, default=d.lr)
    ap.add_argument("--lr-joint", type=float, default=d.lr_joint)
    ap.add_argument("--lr-tune", type=float, default=d.lr_tune)
    ap.add_argument("--weight-decay", type=float, default=d.weight_decay)
    ap.add_argument("--alpha", type=float, default=d.alpha, help="Grad R Laplace prior rate (mu = ln(2(1-s))/alpha)")
    ap.add_argument("--prior-strength", type=float, default=d.prior_strength)
    ap.add_argument("--ramp", type=float, default=d.ramp, help="fraction of the joint phase over which the "
                    "sparsity goal ramps up to the target")
    ap.add_argument("--controller-gain", type=float, default=d.controller_gain, metavar="G", help="every 5 joint "
                    "steps the sparsity controller multiplies the prior strength by G (sparsity below the goal) or "
                    "divides it by G (at or above); smaller reacts more slowly (1.01 lags the ramp, then catches up in a "
                    "burst: docs/training.md)")
    ap.add_argument("--layer-sparsity", default=d.layer_sparsity, metavar="SPEC",
                    help="per-layer sparsity targets, one comma-separated entry per conv/fc layer: a fraction "
                    "or '*'; the '*' layers share the sparsity that makes the overall --target-sparsity "
                    "(e.g. '0,*,*,*,*,*': no prior on layer 0). Default: one target for all layers")
    ap.add_argument("--exempt-layers", default=d.exempt_layers, metavar="I,J", help="layers (conv/fc "
                    "indices, comma-separated) that the Grad R prior leaves alone, with one uniform target: its "
                    "controller still counts every layer, so the other layers carry --target-sparsity (e.g. "
                    "'0': the data term alone prunes SCNN5's 72-weight first layer). Default: none")
    ap.add_argument("--sparsity-count", default=d.sparsity_count, choices=["nominal", "deployed"],
                    help="what --target-sparsity (and --layer-sparsity) count: zeros among the nominal "
                    "network's weights, or among the weights left after channel removal (the deployed "
                    "shapes, report.json's weight_sparsity_deployed_shapes)")
    ap.add_argument("--nonzero-floor", type=float, default=d.nonzero_floor, metavar="F", help="with "
                    "--sparsity-count deployed: each sparsity controller backs off (as if at its goal) while its "
                    "layers keep fewer non-zero weights than F (1 - goal) times their nominal weight count, so that "
                    "emptied channels, which shrink the deployed shapes and so lower their sparsity, cannot drive "
                    "the pruning on until the network is gone (0 = off; docs/training.md)")
    ap.add_argument("--keep-channels", type=int, default=d.keep_channels, metavar="K", help="joint phase: the "
                    "Grad R prior leaves alone an output channel with at most K weights left (weights and bias), "
                    "so the prior alone never silences a channel that channel removal would then drop (0 = off)")
    ap.add_argument("--lsq-grad", default=d.lsq_grad, choices=["split", "whole"], help="joint phase: 'whole' "
                    "applies LSQ's gradient scale 1/sqrt(n Qp) to every use of a layer's scale (the rounding path, "
                    "the surrogate's float units and the readout's logits), as LSQ defines it; 'split' (the "
                    "committed models) applies it to the rounding path only")
    ap.add_argument("--scale-lr", type=float, default=d.scale_lr, metavar="F", help="the LSQ scales learn at "
                    "F times the joint (and fine-tune) learning rate (0 = frozen at their initial values)")
    ap.add_argument("--label-smoothing", type=float, default=d.label_smoothing, metavar="EPS", help="joint "
                    "and fine-tune phases: the cross-entropy's targets put EPS / classes on every class and "
                    "1 - EPS more on the label, so the loss stops pulling the logits apart once the margin reaches "
                    "log(1 + (1 - EPS) classes / EPS); 0 = off")
    ap.add_argument("--free-logit-scale", action="store_true", help="joint phase: the logits get their own "
                    "learned scale (the softmax temperature), so the readout's LSQ scale sets only its weights' "
                    "quantization grid; the deployed model (integer argmax) is unaffected")
    ap.add_argument("--ema", default=d.ema, metavar="D[,D...]", help="joint phase: exponential moving "
                    "averages of the 4-bit model's parameters with these decays, from the end of the sparsity ramp "
                    "on (pruned weights stay pruned); each is scored after every joint epoch, and the first "
                    "replaces the trained model at the end of the joint phase (export, --epochs-tune). '' = off")
    ap.add_argument("--no-bias-prior", dest="bias_prior", action="store_false", help="joint phase: the Grad R "
                    "prior leaves the biases alone (only the data term moves them); by default it prunes them "
                    "with the weights. The weight sparsity never counts biases")
    ap.add_argument("--neuron", default=d.neuron, metavar="lif|if|SPEC", help="neuron of every firing layer "
                    "(docs/spec.md section 5): 'lif' = LIF with tau 2, H = (V + I) >> 1; 'if' = IF, H = V + I; or "
                    "one per firing layer, comma-separated (e.g. 'if,lif,lif,lif,lif' for SCNN5) (the artifact's "
                    "per-layer leak flag; the hardware runs both)")
    ap.add_argument("--surrogate-alpha", type=float, default=d.surrogate_alpha, metavar="A", help="slope of "
                    "the spiking neurons' sigmoid surrogate gradient, spikingjelly surrogate.Sigmoid(alpha=A) "
                    "(backward pass only: the forward pass and the export do not change)")
    ap.add_argument("--shift", type=int, default=d.shift, help="augmentation: random translation of each "
                    "training frame by up to this many pixels (0 = off)")
    ap.add_argument("--hflip", action="store_true", help="augmentation: mirror half the training frames "
                    "left-right (for data sets without handedness, e.g. fashion-mnist)")
    ap.add_argument("--float-bn", action="store_true", help="float phase: a BatchNorm (statistics over T and N) "
                    "after every firing layer's current, folded into that layer's weights and bias when the "
                    "joint phase starts (the integer model and the artifact never have one)")
    ap.add_argument("--float-signs", default=d.float_signs, choices=["fixed", "free"],
                    help="float phase: 'fixed' keeps Grad R's w = sign0 * ReLU(theta) with the random signs of "
                         "the init, so a weight that wants the other sign stays 0; 'free' trains plain dense "
                         "weights and fixes each sign from the float model when the joint phase starts")
    ap.add_argument("--tet", action="store_true", help="loss: mean over the timesteps of the cross-entropy of "
                    "each step's readout (TET-style), instead of the cross-entropy of the mean readout")
    ap.add_argument("--distill", type=float, default=d.distill, metavar="LAMBDA", help="joint phase: "
                    "loss = (1-LAMBDA) CE + LAMBDA tau^2 KL(teacher || student), the teacher being the dense "
                    "float model at the end of the float phase (0 = off)")
    ap.add_argument("--distill-temp", type=float, default=d.distill_temp, metavar="TAU",
                    help="distillation softmax temperature")
    ap.add_argument("--teacher", default=d.teacher, metavar="FILE", help="--distill's teacher: a float CNN "
                    "trained on this run's training frames by 'python -m sw.training.teacher' (same --dataset "
                    "and --val-split), instead of the SNN's own dense float model")
    ap.add_argument("--val-split", type=int, default=d.val_split, metavar="N", help="hold out N training "
                    "frames (a fixed permutation, the same for every --seed) and evaluate on them instead of "
                    "the test set: every accuracy in the log and report.json is then a validation accuracy, "
                    "and the test set is not used (0 = off)")
    ap.add_argument("--stop-after-float", action="store_true", help="exit once the float phase's checkpoint "
                    "is written (no joint phase, no export); rerun without it, with any joint-phase settings, "
                    "to continue from it")
    ap.add_argument("--train-limit", type=int, default=None, help="use only the first N training frames")
    ap.add_argument("--test-limit", type=int, default=None, help="use only the first N test frames")
    ap.add_argument("--data-root", default="", help="directory to look for the data set in first")
    ap.add_argument("--seed", type=int, default=d.seed)
    ap.add_argument("--device", default=d.device, help="torch device for training, e.g. cuda (the export "
                    "check and the reported deployed accuracy always run on cpu)")
    ap.add_argument("--threads", type=int, default=d.threads, help="torch CPU threads (0 = torch default)")
    ap.add_argument("--out", default=None, help="output directory (default: a fresh run folder "
                    "runs/<dataset>-<model>-<UTC time>/); the same --out and arguments resume a run")
    ap.add_argument("--force", action="store_true", help="write into --out even if it holds outputs (model.ffs, "
                    "report.json, plots) that no checkpoint there explains, or committed files")
    ap.add_argument("--quick", action="store_true", help="smoke run: 512 train / 256 test frames, 1+1 epochs")
    ap.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint in --out")
    ap.add_argument("--no-progress", action="store_true")
    a = ap.parse_args(argv)
    a.model = a.model or DEFAULT_MODEL[a.dataset]
    try:
        layers = parse(a.model)
    except TopologyError as e:
        ap.error(str(e))
    base = QUICK if a.quick else {}
    cfg = Config(**{f.name: getattr(a, f.name) for f in fields(Config)
                    if hasattr(a, f.name) and getattr(a, f.name) is not None and f.name not in base})
    for k, v in base.items():
        setattr(cfg, k, v if getattr(a, k, None) is None else getattr(a, k))
    for k in ("epochs_float", "epochs_joint", "batch", "batch_joint", "train_limit", "test_limit"):
        if getattr(a, k, None) is not None:
            setattr(cfg, k, getattr(a, k))
    if cfg.device != "cpu":
        try:
            dev = torch.device(cfg.device)
        except RuntimeError as e:
            ap.error(f"--device {cfg.device}: {e}")
        if dev.type == "cuda" and not torch.cuda.is_available():
            ap.error(f"--device {cfg.device}: this torch build sees no CUDA device")
    ws = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if cfg.data_root and not Path(cfg.data_root).is_dir():
        ap.error(f"--data-root {cfg.data_root}: not a folder")
    for why in (guard.number_problem(cfg, ws), guard.model_problem(layers, cfg)):
        if why:
            ap.error(why)
    try:
        neuron_leaks(cfg.neuron, len(layers) - 1)
    except ValueError as e:
        ap.error(f"--neuron: {e}")
    if cfg.layer_sparsity:
        try:
            layer_targets(cfg.layer_sparsity, [l.co * l.fan_in for l in layers], cfg.target_sparsity)
        except ValueError as e:
            ap.error(f"--layer-sparsity: {e}")
    try:
        exempt = exempt_layers(cfg.exempt_layers, len(layers))
    except ValueError as e:
        ap.error(f"--exempt-layers {e}")
    try:
        parse_decays(cfg.ema)
    except ValueError as e:
        ap.error(f"--ema {e}")
    if cfg.teacher and not cfg.distill > 0:
        ap.error(f"--teacher {cfg.teacher}: goes with --distill LAMBDA > 0")
    if cfg.teacher and not Path(cfg.teacher).is_file():
        ap.error(f"--teacher {cfg.teacher}: no such file (python -m sw.training.teacher --out FILE makes one)")
    if exempt and cfg.layer_sparsity:
        ap.error("--exempt-layers goes with one uniform target; with --layer-sparsity give those layers 0")
    name = a.model.lower() if a.model.lower() in PRESETS else "custom"
    if a.out is None and ws > 1:
        ap.error("--out is required with more than one process (each would pick its own run folder)")
    a.out = Path(a.out) if a.out is not None else guard.default_out(a.dataset, name)
    why = guard.out_problem(a.out, a.force)
    if why:
        ap.error(why)
    return a, cfg
