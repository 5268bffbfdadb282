"""The training loop: dense float pretraining, then joint Grad R pruning + LSQ 4-bit quantization, then
(optional, --epochs-tune) a fine-tune of the 4-bit model with its pruning mask frozen.

Data-parallel under torchrun (DDP, gloo on CPU); how the ranks share each batch is in parallel.py.
"""
from __future__ import annotations

import copy
import math
import os
import time
from dataclasses import asdict

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from spikingjelly.activation_based import functional

from .. import spec
from ..topology import parse
from . import gradrewiring as gr
from . import teacher as teacher_file
from .augment import augment, batch_rng
from .average import WeightAverages, parse_decays
from .config import Config, Data
from .export import deployed_layer_sparsity, torch_input
from .models import SpikingNet, build, neuron_leaks
from .parallel import global_batches, rank_slice, world


@torch.no_grad()
def evaluate(net: SpikingNet, x: np.ndarray, y: np.ndarray, batch: int = 500):
    """Accuracy and per-layer spike density of the current mode (float or integer)."""
    was = net.training
    net.eval()
    correct, dens_num, dens_den = 0, None, 0
    for a in range(0, len(x), batch):
        logits, acc, rec = net(torch_input(x[a:a + batch], net), record=True)
        functional.reset_net(net)
        pred = (acc if net.integer else logits).argmax(1).cpu().numpy()
        correct += int((pred == y[a:a + batch]).sum())
        d = np.array([float(s.sum()) for s in rec["spikes"][:-1]])
        dens_num = d if dens_num is None else dens_num + d
        dens_den += 1
    net.train(was)
    sizes = [net.timesteps * s.co * s.ho * s.wo for s in net.shapes[:-1]]
    density = (dens_num / np.array(sizes) / max(len(x), 1)).tolist() if dens_num is not None else []
    return correct / max(len(x), 1), density


class Trainer:
    def __init__(self, cfg: Config, data: Data, out_dir: str, progress: bool = True, log=print):
        self.cfg, self.data, self.out_dir, self.log = cfg, data, out_dir, log
        self.rank, self.ws = world()
        self.progress = progress and self.rank == 0
        torch.manual_seed(cfg.seed)
        self.net = build(cfg.model, cfg.timesteps, cfg.bits if data.in_kind == spec.IN_STATIC else 1,
                         data.in_kind, leak=neuron_leaks(cfg.neuron, len(parse(cfg.model)) - 1),
                         surrogate_alpha=cfg.surrogate_alpha).to(cfg.device)
        if self.net.shapes[-1].co != data.num_classes:
            raise ValueError(f"model {cfg.model} has {self.net.shapes[-1].co} outputs, "
                             f"{cfg.dataset} has {data.num_classes} classes")
        calib = data.x_train[np.random.default_rng(cfg.seed).permutation(len(data.x_train))[:128]]
        self.net.calibrate(torch_input(calib, self.net))
        self.net.set_free_signs(cfg.float_signs == "free")     # off again in enter_joint
        self.net.set_bn(cfg.float_bn)                           # folded in enter_joint
        self.history = []            # one dict per epoch
        self.phase, self.epoch, self.step = "float", 0, 0
        self.groups = []             # Grad R prior groups (joint phase)
        self.floor_updates = 0       # this epoch's controller updates that --nonzero-floor held back
        self.results = {}
        self.opt = None
        self.ddp = None
        self.teacher = None          # frozen dense float model (joint phase with --distill)
        self.cnn_teacher = self.teacher_meta = None   # --teacher FILE: a float CNN, checked against the frames now
        if cfg.distill > 0 and cfg.teacher:
            self.cnn_teacher, self.teacher_meta = teacher_file.load(cfg.teacher, cfg.dataset, cfg.val_split,
                                                                    data.y_train)
            self.cnn_teacher.to(cfg.device)
            log(f"teacher {cfg.teacher}: {self.teacher_meta['eval_split']} "
                f"{100 * self.teacher_meta['eval_acc']:.2f}%")
        self.frozen = None           # tune phase: per layer, the weights that must stay zero
        self.decays = parse_decays(cfg.ema)
        self.averages = None         # --ema: WeightAverages, from the end of the sparsity ramp on

    # ---------------------------------------------------------------- phases
    PHASE_SEED = {"float": 0, "joint": 1000, "tune": 2000}     # batch order: (seed, offset + epoch)

    def phase_epochs(self, phase):
        return {"float": self.cfg.epochs_float, "joint": self.cfg.epochs_joint, "tune": self.cfg.epochs_tune}[phase]

    def phase_batch(self, phase=None):
        """Global batch size of a phase: --batch, or --batch-joint from the joint phase on when it is set."""
        phase = phase or self.phase
        return self.cfg.batch_joint if phase != "float" and self.cfg.batch_joint else self.cfg.batch

    def steps_per_epoch(self, phase=None):
        return len(global_batches(len(self.data.x_train), self.phase_batch(phase), 0, 0))

    def make_optimizer(self):
        cfg, net = self.cfg, self.net
        lr = {"float": cfg.lr, "joint": cfg.lr_joint, "tune": cfg.lr_tune}[self.phase]
        groups = [{"params": net.prunable(), "weight_decay": cfg.weight_decay, "lr": lr},
                  {"params": [l.vth for l in net.layers], "weight_decay": 0.0, "lr": lr}]
        bn = net.bn_parameters()                     # --float-bn, float phase
        if bn:
            groups.append({"params": bn, "weight_decay": 0.0, "lr": lr})
        if self.phase != "float":
            scales = [l.scale for l in net.layers] + ([net.logit_scale] if net.logit_scale is not None else [])
            groups.append({"params": scales, "weight_decay": 0.0, "lr": lr * cfg.scale_lr})
        self.opt = torch.optim.AdamW(groups, lr=lr)
        for g in self.opt.param_groups:
            g["initial_lr"] = g["lr"]
        if self.ws > 1:
            ids = [net.device] if net.device.type == "cuda" else None
            self.ddp = torch.nn.parallel.DistributedDataParallel(net, device_ids=ids, find_unused_parameters=True)
        else:
            self.ddp = None

    def enter_joint(self):
        self.phase = "joint"
        self.net.set_bn(False)             # --float-bn: fold each BatchNorm into its layer (float model unchanged)
        self.net.set_free_signs(False)     # --float-signs free: Grad R's signs are the float model's
        if self.cnn_teacher is not None:
            self.teacher = self.cnn_teacher
        elif self.cfg.distill > 0:   # the teacher: the dense float model as the float phase left it
            self.teacher = copy.deepcopy(self.net).requires_grad_(False)
            self.teacher.integer = False
        self.net.set_integer(True)
        self.net.whole_lsq_grad = self.cfg.lsq_grad == "whole"
        if self.cfg.free_logit_scale:
            self.net.set_logit_scale()
        total = self.cfg.epochs_joint * self.steps_per_epoch("joint")
        self.groups = gr.prior_groups(self.net.layers, self.cfg.target_sparsity, self.cfg.alpha,
                                      int(self.cfg.ramp * total), self.cfg.prior_strength, self.cfg.layer_sparsity,
                                      gr.exempt_layers(self.cfg.exempt_layers, len(self.net.layers)),
                                      gain=self.cfg.controller_gain)
        self.joint_step = 0
        self.ramp_steps = self.groups[0].controller.ramp_steps if self.groups else 0

    def average_now(self) -> bool:
        """--ema: whether the averages run (joint phase, the sparsity ramp finished)."""
        return bool(self.decays) and self.phase == "joint" and self.joint_step >= self.ramp_steps

    @torch.no_grad()
    def average_accuracies(self):
        """{decay: accuracy} of each masked average on the evaluation frames."""
        return {str(d): evaluate(self.averages.masked(i, self.net), self.data.x_test, self.data.y_test)[0]
                for i, d in enumerate(self.decays)}

    @torch.no_grad()
    def adopt_average(self):
        """End of the joint phase with --ema: the trained model's accuracy and every average's (as its last
        epoch scored them) go into the results, and the first decay's masked average replaces the trained model."""
        last = self.history[-1]              # the joint phase's last epoch already scored the averages
        self.results["joint_trained_acc"] = last[f"{self.data.eval_split}_acc"]
        self.results["ema_acc"] = last["ema_acc"]
        self.results["ema_updates"] = self.averages.updates
        self.net.load_state_dict(self.averages.masked(0, self.net).state_dict())
        self.log(f"--ema: the trained model {100 * self.results['joint_trained_acc']:.2f}%, averages "
                 + ", ".join(f"{d} {100 * a:.2f}%" for d, a in self.results["ema_acc"].items())
                 + f" ({self.averages.updates} updates); continuing with the {self.decays[0]} average")

    def enter_tune(self, frozen=None):
        """Fine-tune phase: no prior, no controller, no distillation; every weight that is zero as deployed
        (w_int == 0) at its start stays exactly zero (theta clamped <= 0 after each step), so the sparsity
        can only rise. `frozen`: the masks of a resumed tune-phase checkpoint."""
        self.phase = "tune"
        self.teacher = None
        self.net.set_integer(True)
        if frozen is None:
            with torch.no_grad():
                frozen = [l.integer_params()[0] == 0 for l in self.net.layers]
        self.frozen = [m.to(self.net.device) for m in frozen]
        self.freeze()

    @torch.no_grad()
    def freeze(self):
        for l, m in zip(self.net.layers, self.frozen):
            l.theta_w[m] = l.theta_w[m].clamp(max=0.0)

    def sparsity_goal(self):
        """The overall sparsity the controllers currently aim at (weighted by layer size)."""
        n = sum(sum(g.sizes) for g in self.groups)
        return sum(g.controller.goal(self.joint_step) * sum(g.sizes) for g in self.groups) / n

    def measured_sparsity(self):
        """(per-layer sparsity, per-layer weight count) that the controllers track: on the nominal shapes,
        or with --sparsity-count deployed on the shapes left after channel removal (what the hardware holds)."""
        if self.cfg.sparsity_count == "deployed":
            return deployed_layer_sparsity(self.net)
        return self.net.weight_sparsity(), [l.theta_w.numel() for l in self.net.layers]

    def update_controllers(self, per_layer, sizes):
        """One controller update per prior group on its measured sparsity; with the deployed count and
        --nonzero-floor F, a group whose nominal non-zeros fall below F (1 - goal) of its weights reads as at
        its goal (the prior backs off), and the update is counted in `floor_updates`."""
        floor = self.cfg.nonzero_floor if self.cfg.sparsity_count == "deployed" else 0.0
        nominal = self.net.weight_sparsity() if floor > 0 else None
        for g in self.groups:
            low = floor > 0 and g.below_floor(nominal, self.joint_step, floor)
            self.floor_updates += low
            g.controller.update(self.joint_step, 1.0 if low else g.sparsity(per_layer, sizes))

    def deployed_sparsity(self) -> float:
        """Overall sparsity on the deployed shapes (joint phase only: it reads the integer weights, and
        switching a float-phase model to integer mode would initialize its LSQ scales)."""
        return gr.weighted(*deployed_layer_sparsity(self.net))

    def strengths(self):
        """Prior strength: one number (uniform), a per-layer list (--layer-sparsity), 0 in the float phase."""
        if not self.groups:
            return 0.0
        s = [g.controller.strength for g in self.groups]
        return s[0] if len(s) == 1 else s

    def loss(self, logits, x, y):
        """Cross-entropy on the mean readout (default) or, with --tet, the mean of the per-timestep
        cross-entropies; with --distill (joint phase) mixed with KL(teacher || student) at temperature tau
        (the teacher: the dense float SNN, or with --teacher a float CNN).
        --label-smoothing applies from the joint phase on."""
        cfg = self.cfg
        eps = cfg.label_smoothing if self.phase != "float" else 0.0
        if cfg.tet:
            steps = self.net.step_logits                      # [T, N, classes], mean over T = logits
            ce = F.cross_entropy(steps.flatten(0, 1), y.repeat(steps.shape[0]), label_smoothing=eps)
        else:
            ce = F.cross_entropy(logits, y, label_smoothing=eps)
        if self.teacher is None or self.phase != "joint":
            return ce
        with torch.no_grad():
            t_logits, _ = self.teacher(x)
            functional.reset_net(self.teacher)          # a no-op for the CNN teacher (no stateful modules)
        tau = cfg.distill_temp
        kd = F.kl_div(F.log_softmax(logits / tau, 1), F.log_softmax(t_logits / tau, 1), log_target=True,
                      reduction="batchmean") * tau * tau
        return (1 - cfg.distill) * ce + cfg.distill * kd

    def lr_factor(self, i, n):
        """Cosine decay over each phase."""
        return 0.5 * (1 + math.cos(math.pi * min(i / max(n, 1), 1.0)))

    # ---------------------------------------------------------------- one epoch
    def run_epoch(self):
        cfg, net, data = self.cfg, self.net, self.data
        batches = global_batches(len(data.x_train), self.phase_batch(), cfg.seed,
                                 self.PHASE_SEED[self.phase] + self.epoch)
        n_phase = self.phase_epochs(self.phase) * len(batches)
        it = batches
        if self.progress:
            from tqdm import tqdm
            it = tqdm(batches, desc=f"{self.phase} {self.epoch + 1}/{self.phase_epochs(self.phase)}",
                      unit="batch", dynamic_ncols=True, mininterval=1.0)
        model = self.ddp or net
        tot_loss = tot_ok = tot_n = 0.0
        sparsity = net.overall_sparsity()
        self.floor_updates = 0
        t0 = time.time()
        for bi, idx in enumerate(it):
            i = self.epoch * len(batches) + bi
            f = self.lr_factor(i, n_phase)
            for g in self.opt.param_groups:
                g["lr"] = g["initial_lr"] * f
            frames = data.x_train[idx]
            if cfg.shift or cfg.hflip:
                frames = augment(frames, batch_rng(cfg.seed, self.phase, self.epoch, bi), cfg.shift, cfg.hflip)
            idx, frames = rank_slice(idx, self.rank, self.ws), rank_slice(frames, self.rank, self.ws)
            x = torch_input(frames, net)
            y = torch.from_numpy(data.y_train[idx]).to(x.device)
            logits, _ = model(x)
            loss = self.loss(logits, x, y)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            functional.reset_net(net)
            net.step_logits = None           # the last forward's graph: not kept past the step (and not copied)
            if self.phase == "tune":
                self.freeze()
            if self.phase == "joint":
                for g in self.groups:
                    gr.prior_step(g.thetas, self.opt.param_groups[0]["lr"], g.controller.strength, g.mu,
                                  cfg.keep_channels, cfg.bias_prior)
                self.joint_step += 1
                if self.average_now():
                    if self.averages is None:
                        self.averages = WeightAverages(net, self.decays)
                    self.averages.update(net)
                if self.joint_step % 5 == 0 or bi == len(batches) - 1:
                    per_layer, sizes = self.measured_sparsity()
                    self.update_controllers(per_layer, sizes)
                    sparsity = gr.weighted(per_layer, sizes)
            tot_loss = tot_loss + loss.detach() * len(idx)      # device tensors: no per-step sync
            tot_ok = tot_ok + (logits.argmax(1) == y).sum()
            tot_n += len(idx)
            if self.progress and (bi % 10 == 0 or bi == len(batches) - 1):
                post = {"loss": f"{float(tot_loss) / tot_n:.3f}", "acc": f"{100 * float(tot_ok) / tot_n:.2f}",
                        "sparsity": f"{100 * sparsity:.2f}"}
                if self.phase == "joint":
                    post["goal"] = f"{100 * self.sparsity_goal():.1f}"
                it.set_postfix(post, refresh=False)
        stats = torch.tensor([float(tot_loss), float(tot_ok), tot_n], dtype=torch.float64, device=net.device)
        if self.ws > 1:
            dist.all_reduce(stats)
        tot_loss, tot_ok, tot_n = stats.tolist()
        test_acc, density = evaluate(net, data.x_test, data.y_test)
        per_layer = net.weight_sparsity()
        split = self.data.eval_split
        rec = {"phase": self.phase, "epoch": self.epoch + 1, "train_loss": tot_loss / tot_n,
               "train_acc": tot_ok / tot_n, f"{split}_acc": test_acc, "sparsity": net.overall_sparsity(per_layer),
               "layer_sparsity": per_layer, "spike_density": density,
               "sparsity_deployed_shapes": self.deployed_sparsity() if self.phase != "float" else None,
               "prior_strength": self.strengths(),
               "floor_updates": self.floor_updates if self.phase == "joint" else None,
               "ema_acc": self.average_accuracies() if self.averages is not None and self.phase == "joint" else None,
               "seconds": time.time() - t0}
        self.history.append(rec)
        self.log(f"[{self.phase} epoch {self.epoch + 1}] loss {rec['train_loss']:.4f} train {100 * rec['train_acc']:.2f}% "
                 f"{split} {100 * test_acc:.2f}% sparsity {100 * rec['sparsity']:.2f}%"
                 + ("" if rec["sparsity_deployed_shapes"] is None
                    else f", deployed shapes {100 * rec['sparsity_deployed_shapes']:.2f}%")
                 + (f", non-zero floor bound {rec['floor_updates']} controller updates" if rec["floor_updates"] else "")
                 + ("" if rec["ema_acc"] is None else
                    ", averages " + ", ".join(f"{d} {100 * a:.2f}%" for d, a in rec["ema_acc"].items()))
                 + f" ({rec['seconds']:.0f} s)")
        self.epoch += 1

    # ---------------------------------------------------------------- driver + checkpoints
    def fit(self, checkpoint: str | None = None, stop_after_float: bool = False):
        """Train to the end (returns the results dict), or with stop_after_float return None as soon as
        the float phase is complete (its last epoch's checkpoint holds it)."""
        if self.opt is None:
            self.make_optimizer()
        key = f"{self.data.eval_split}_acc"
        while True:
            if self.epoch >= self.phase_epochs(self.phase):
                if self.phase == "float":
                    if stop_after_float:
                        return None
                    self.results["float_acc"] = evaluate(self.net, self.data.x_test, self.data.y_test)[0] \
                        if not self.history or self.history[-1]["phase"] != "float" else self.history[-1][key]
                    self.enter_joint()
                    self.results["quant4_dense_acc"] = evaluate(self.net, self.data.x_test, self.data.y_test)[0]
                    self.log(f"float {100 * self.results['float_acc']:.2f}%, 4-bit (post-training LSQ init, "
                             f"dense) {100 * self.results['quant4_dense_acc']:.2f}%")
                    self.epoch = 0
                    self.make_optimizer()
                    continue
                if self.phase == "joint" and self.averages is not None and "ema_acc" not in self.results:
                    self.adopt_average()
                    if checkpoint and self.rank == 0:
                        self.save(checkpoint)
                if self.phase == "joint" and self.cfg.epochs_tune > 0:
                    self.enter_tune()
                    self.log(f"fine-tune: {self.cfg.epochs_tune} epochs at lr {self.cfg.lr_tune:g}, pruning mask "
                             f"frozen at {100 * self.net.overall_sparsity():.2f}% sparsity")
                    self.epoch = 0
                    self.make_optimizer()
                    continue
                break
            self.run_epoch()
            if checkpoint and self.rank == 0:
                self.save(checkpoint)
        if "pruned_float_acc" not in self.results:
            self.net.integer = False
            self.results["pruned_float_acc"] = evaluate(self.net, self.data.x_test, self.data.y_test)[0]
            self.net.integer = True
        return self.results

    def state(self):
        return {"config": asdict(self.cfg), "net": self.net.state_dict(), "opt": self.opt.state_dict(),
                "phase": self.phase, "epoch": self.epoch, "history": self.history, "results": self.results,
                "controller": [g.controller.state_dict() for g in self.groups] or None,
                "joint_step": getattr(self, "joint_step", 0), "integer": self.net.integer,
                "teacher": None if self.teacher is None or self.teacher is self.cnn_teacher
                else self.teacher.state_dict(),
                "tune_mask": None if self.frozen is None else [m.cpu() for m in self.frozen],
                "ema": None if self.averages is None else self.averages.state_dict()}

    def save(self, path):
        tmp = path + ".tmp"
        torch.save(self.state(), tmp)
        os.replace(tmp, path)

    def load(self, path):
        """Resume from a checkpoint file, or from its already loaded state dict."""
        st = path if isinstance(path, dict) else torch.load(path, map_location="cpu", weights_only=False)
        self.phase, self.epoch = st["phase"], st["epoch"]
        self.history, self.results = st["history"], st["results"]
        if self.phase in ("joint", "tune"):
            self.enter_joint()       # the groups (their targets go into the report) and the teacher
            ctl = st["controller"]
            for g, d in zip(self.groups, [ctl] if isinstance(ctl, dict) else ctl, strict=True):
                g.controller.load_state_dict(d)
            self.joint_step = st["joint_step"]
            if st["phase"] == "tune":
                self.enter_tune(st["tune_mask"])
        self.net.load_state_dict(st["net"])
        self.net.integer = st["integer"]
        if st.get("ema") is not None:
            self.averages = WeightAverages(self.net, self.decays)
            self.averages.load_state_dict(st["ema"])
        if self.teacher is not None and self.teacher is not self.cnn_teacher:
            if st.get("teacher") is None:
                raise ValueError("joint-phase checkpoint without a distillation teacher")
            self.teacher.load_state_dict(st["teacher"])
        self.make_optimizer()
        self.opt.load_state_dict(st["opt"])
        return st["config"]
