"""The integer golden model of docs/spec.md: vectorized numpy, exact integers.

    python -m sw.golden --model M.ffs --dataset mnist --split test [--offset K] [--limit N] --json OUT

Activations are NHWC internally (the kernel order kh, kw, ci makes im2col a reshape). Currents are
computed with a float BLAS matmul, which is exact because every partial sum fits the layer's `acc`
width (<= 24 bits -> float32, else float64), then converted to int64 for the neuron.
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from . import spec
from .artifact import Model
from .cli import CLIError, OneLineParser, load_frames, output_problem, write_output

BATCH = 200


@dataclass
class LayerStats:
    """Totals over all frames run. `work` = matched pairs + bias operations (the hardware's work)."""
    matched_pairs: int = 0
    bias_ops: int = 0
    spikes_out: int = 0
    neurons_out: int = 0     # output spike slots (co*ho*wo*T per frame), for the density
    channel_work: np.ndarray | None = None   # [co] work per output channel (sums to `work`)

    @property
    def work(self) -> int:
        return self.matched_pairs + self.bias_ops

    @property
    def spike_density(self) -> float:
        return self.spikes_out / self.neurons_out if self.neurons_out else 0.0


@dataclass
class Trace:
    """Optional per-layer record for cross-tests: currents I [T,N,Hc,Wc,co] (pre-pool), membrane V after
    each step, spikes out [T,N,ho,wo,co] (post-pool). For the readout, `spikes` is None."""
    currents: list = field(default_factory=list)
    membranes: list = field(default_factory=list)
    spikes: list = field(default_factory=list)


def im2col(x: np.ndarray, kh, kw, stride, pad, dtype) -> np.ndarray:
    """x [B,H,W,C] -> [B,Ho,Wo,kh*kw*C] in the canonical kernel order (kh, kw outer, ci inner)."""
    if pad:
        x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    b, h, w, c = x.shape
    if (kh, kw) == (h, w):
        return x.reshape(b, 1, 1, -1).astype(dtype)
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    return np.ascontiguousarray(win.transpose(0, 1, 2, 4, 5, 3), dtype=dtype).reshape(*win.shape[:3], -1)


def _current(cols: np.ndarray, wmat: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return (cols @ wmat).astype(np.int64) + bias


def _pool(s: np.ndarray) -> np.ndarray:
    """OR max-pool 2x2 stride 2 over [..., H, W, C] (floor for odd sizes)."""
    *lead, h, w, c = s.shape
    s = s[..., :h // 2 * 2, :w // 2 * 2, :]
    return s.reshape(*lead, h // 2, 2, w // 2, 2, c).max(axis=(-4, -2))


def check_frames(model: Model, images: np.ndarray) -> None:
    """ValueError (one line) unless `images` are frames this model takes: uint8 [N, C, H, W] for a static
    model, binary [N, T, C, H, W] for a temporal one."""
    c, h, w = model.input_shape
    if model.in_kind == spec.IN_STATIC:
        if images.ndim != 4 or images.shape[1:] != (c, h, w):
            raise ValueError(f"images of shape {images.shape}: the model expects [N, {c}, {h}, {w}] uint8")
        return
    if images.ndim != 5 or images.shape[1:] != (model.timesteps, c, h, w):
        raise ValueError(f"frames of shape {images.shape}: the model expects "
                         f"[N, {model.timesteps}, {c}, {h}, {w}] binary")
    if images.max(initial=0) > 1:
        raise ValueError("temporal input frames must be binary (0/1)")


def encode_input(model: Model, images: np.ndarray) -> np.ndarray:
    """Dataset frames -> layer-0 input [T or 1, N, H, W, C] (int): k-bit pixels (static, T axis 1) or
    binary frames (temporal: images uint8 [N, T, C, H, W])."""
    check_frames(model, images)
    if model.in_kind == spec.IN_STATIC:
        return spec.quantize_input(images, model.in_bits).transpose(0, 2, 3, 1)[None]
    return images.transpose(1, 0, 3, 4, 2)


def forward(model: Model, images: np.ndarray, stats=None, trace: Trace | None = None) -> np.ndarray:
    """Run one batch. Returns the readout accumulators [N, classes] (int64); class = argmax."""
    x = encode_input(model, images)                        # [T|1, N, H, W, C]
    T, n = model.timesteps, x.shape[1]
    for i, layer in enumerate(model.layers):
        s = layer.shape
        dtype = np.float32 if layer.widths.acc <= 24 else np.float64
        wmat = layer.flat.T.astype(dtype)                  # [K, co]
        tin = x.shape[0]
        cols = im2col(x.reshape(tin * n, *x.shape[2:]), s.kh, s.kw, s.stride, s.pad, dtype)
        cur = _current(cols, wmat, layer.bias).reshape(tin, n, *cols.shape[1:3], s.co)
        if stats is not None:
            st = stats[i]
            ones = (cols.reshape(-1, cols.shape[-1]).sum(0, dtype=np.float64) if i or model.in_kind
                    else sum(((cols.astype(np.int64) >> b) & 1).reshape(-1, cols.shape[-1]).sum(0)
                             for b in range(model.in_bits)))
            pairs = ((layer.flat != 0) @ ones).round().astype(np.int64)      # [co] matched pairs
            st.matched_pairs += int(pairs.sum())
            st.bias_ops += int(cur.size)
            cw = pairs + cur.size // s.co
            st.channel_work = cw if st.channel_work is None else st.channel_work + cw
        del cols
        if tin == 1:                                       # static layer 0: computed once, reused over T
            cur = np.broadcast_to(cur, (T, *cur.shape[1:]))
        if s.readout:
            acc = cur.sum(0).reshape(n, s.co)
            if trace is not None:
                trace.currents.append(cur)
                trace.membranes.append(np.cumsum(cur, 0))
                trace.spikes.append(None)
            return acc
        v = np.zeros(cur.shape[1:], np.int64)
        spikes = np.empty(cur.shape, np.uint8)
        mems = np.empty(cur.shape, np.int64) if trace is not None else None
        for t in range(T):
            h = (v + cur[t]) >> 1 if s.leak else v + cur[t]
            fire = h > layer.vth
            spikes[t] = fire
            v = np.where(fire, 0, h)
            if mems is not None:
                mems[t] = v
        x = _pool(spikes) if s.pool else spikes
        if stats is not None:
            stats[i].spikes_out += int(x.sum())
            stats[i].neurons_out += int(x.size)
        if trace is not None:
            trace.currents.append(cur)
            trace.membranes.append(mems)
            trace.spikes.append(x)
    raise AssertionError("unreachable: the last layer is the readout")


def predict(readout: np.ndarray) -> np.ndarray:
    """argmax over classes, ties to the lowest index."""
    return readout.argmax(axis=1)


def run(model: Model, images: np.ndarray, batch: int = BATCH, progress: bool = False):
    """All frames in batches. Returns (predictions [N], readout [N, classes], [LayerStats])."""
    stats = [LayerStats() for _ in model.layers]
    outs = []
    it = range(0, len(images), batch)
    if progress:
        from tqdm import tqdm
        it = tqdm(it, desc="golden", unit="batch", total=len(it))
    for a in it:
        outs.append(forward(model, images[a:a + batch], stats))
    readout = np.concatenate(outs) if outs else np.zeros((0, model.num_classes), np.int64)
    return predict(readout), readout, stats


def report(model: Model, preds, labels, stats, n: int) -> dict:
    layers = []
    for i, (l, st) in enumerate(zip(model.layers, stats)):
        layers.append({"index": i, "layer": l.shape.token(), "matched_pairs": st.matched_pairs,
                       "bias_ops": st.bias_ops, "work": st.work,
                       "work_per_frame": st.work / n if n else 0.0,
                       "spike_density": None if l.shape.readout else st.spike_density})
    acc = float((preds == labels).mean()) if n else 0.0
    return {"n": n, "accuracy": acc, "predictions": preds.tolist(), "labels": labels.tolist(),
            "layers": layers}


def main(argv=None):
    ap = OneLineParser(prog="python -m sw.golden", description="Integer golden-model inference.")
    ap.add_argument("--model", required=True, help="model artifact (.ffs)")
    ap.add_argument("--dataset", required=True, choices=["mnist", "fashion-mnist", "cifar10", "dvs-gesture"])
    ap.add_argument("--split", default="test", choices=["train", "test"])
    ap.add_argument("--offset", type=int, default=0, help="first frame index")
    ap.add_argument("--limit", type=int, default=None, help="number of frames (default: all)")
    ap.add_argument("--json", help="write the result JSON here")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    if args.offset < 0 or (args.limit is not None and args.limit < 1):
        ap.error("--offset must be >= 0 and --limit >= 1")
    if output_problem(args.json):
        ap.error(f"--json {output_problem(args.json)}")
    try:
        model, images, labels = load_frames(args.model, args.dataset, args.split, args.offset, args.limit)
        t0 = time.perf_counter()
        preds, _, stats = run(model, images, progress=not args.no_progress)
        dt = time.perf_counter() - t0
        rep = report(model, preds, labels, stats, len(images))
        rep.update({"model": args.model, "dataset": args.dataset, "split": args.split, "offset": args.offset,
                    "seconds": dt, "frames_per_second": len(images) / dt if dt else None})
        print(f"golden: {len(images)} frames of {args.dataset}/{args.split} in {dt:.1f} s, "
              f"accuracy {100 * rep['accuracy']:.2f}%")
        for L in rep["layers"]:
            dens = "" if L["spike_density"] is None else f", spike density {100 * L['spike_density']:.1f}%"
            print(f"  layer {L['index']} {L['layer']:<12} work/frame {L['work_per_frame']:>10.0f}{dens}")
        if args.json:
            write_output(args.json, json.dumps(rep, indent=1))
    except (CLIError, ValueError) as e:
        ap.exit(1, f"error: {e}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
