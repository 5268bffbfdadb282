"""NeuroBench metrics of the trained SCNN5 (issue 16), through NeuroBench's TorchModel wrapper and its
Benchmark API, next to our own figures from the golden model and the artifact.

    python bench/neurobench.py [--frames N] [--json OUT] [--model M] [--batch B]

The torch model is built from the artifact with the integer semantics of docs/spec.md: integer weights,
biases and thresholds held in float32 (float64 if a layer's widths exceed 24 bits), the integer LIF
(H = floor((V + I) / 2), spike if H > Vth, hard reset) and the OR max-pool. Layer 0 is fed its k
bit-planes (one binary conv per plane, summed with weights 2^b), as the hardware computes it, so
NeuroBench counts its synapses as accumulates too. Its readout accumulators must equal the golden
model's on every frame used (else an error): the metrics are of the model the hardware runs.

What NeuroBench counts here (neurobench 2.3.0): synaptic operations zero the bias; the spiking module
(IntLIF) is the neuron plus its 2x2 OR pool, so activation sparsity counts each firing layer's output
spikes, as sw.golden's spike density does. Exact relations, checked on every run:
  Effective_ACs x frames = sum over layers of the golden model's matched pairs (bias operations: 0),
  Effective_MACs = 0,
  Dense x frames = the in-bounds synapses of every layer x its forward calls (T; k planes for layer 0),
  per-layer spikes and neuron slots = the golden model's.
A second run feeds layer 0 the k-bit pixels instead (NeuroBench's usual way for a static image): its pairs
become MACs, one per (non-zero pixel, non-zero weight), and the ACs are the matched pairs of layers 1.. .
"""
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

DEFAULT_MODEL = "artifacts/mnist-scnn5/model.ffs"
EXACT = 1 << 24     # float32 holds every integer below this: per-call counts and currents must stay below


def neurobench_api():
    """The neurobench package's classes. This file's name shadows the package when bench/ is on sys.path
    (python bench/neurobench.py, bench/run.py), so the package is imported with bench/ left out."""
    saved = sys.path[:]
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
    try:
        import neurobench
        from neurobench.benchmarks import Benchmark
        from neurobench.metrics import static, workload
        from neurobench.models import TorchModel
    finally:
        sys.path[:] = saved
    if not hasattr(neurobench, "__path__"):
        raise RuntimeError(f"'import neurobench' found {neurobench.__file__}, not the package")
    return neurobench, Benchmark, static, workload, TorchModel


def _torch():
    import torch
    torch.set_num_threads(1)
    return torch


def _wide(model):
    return max(max(l.widths.acc, l.widths.mem) for l in model.layers) > 24


def build_net(model, planes=True):
    """The artifact as a torch nn.Module taking pixel batches [N, C, H, W] (values 0..255) and returning
    the readout accumulators [N, classes] (integers in float). planes: layer 0 convolves each bit-plane
    (binary input, as the hardware); else it convolves the k-bit pixels (one call, non-binary input)."""
    torch = _torch()
    import snntorch as snn
    from torch import nn

    from sw import spec

    if model.in_kind != spec.IN_STATIC or len(model.layers) < 2:
        raise ValueError("only static-input models (MNIST-like frames) of two or more layers are supported")

    def _call(c, x):
        return c(x.flatten(1)) if isinstance(c, nn.Linear) else c(x)
    dtype = torch.float64 if _wide(model) else torch.float32

    class IntLIF(snn.SpikingNeuron):
        """docs/spec.md section 5 and 6: integer LIF (or IF), strict threshold, hard reset, then the OR
        pool. A snntorch SpikingNeuron, so NeuroBench hooks it as a spiking layer."""

        def __init__(self, vth, leak, pool, conv):
            shape = (-1, 1, 1) if conv else (-1,)
            super().__init__(threshold=torch.tensor(vth, dtype=dtype).reshape(shape), init_hidden=True,
                             output=False, reset_mechanism="zero")
            self.leak, self.pool = leak, pool
            self.mem = torch.zeros((), dtype=dtype)

        def reset_mem(self):
            self.mem = torch.zeros((), dtype=dtype)

        def forward(self, cur):
            h = self.mem + cur
            if self.leak:
                h = torch.floor(h / 2)
            spk = (h > self.threshold).to(dtype)
            self.mem = torch.where(spk > 0, torch.zeros_like(h), h)
            return nn.functional.max_pool2d(spk, 2) if self.pool else spk

    class SCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.k, self.T = model.in_bits, model.timesteps
            self.connections, self.neurons = nn.ModuleList(), nn.ModuleList()
            for i, lay in enumerate(model.layers):
                s = lay.shape
                w = torch.tensor(lay.weights.transpose(0, 3, 1, 2), dtype=dtype)     # [co, ci, kh, kw]
                if s.kind == "fc":
                    c = nn.Linear(s.ci * s.kh * s.kw, s.co, bias=True, dtype=dtype)
                    c.weight.data = w.reshape(s.co, -1)      # NCHW flatten order (ci, h, w)
                else:
                    c = nn.Conv2d(s.ci, s.co, (s.kh, s.kw), s.stride, s.pad, bias=i > 0 or not planes, dtype=dtype)
                    c.weight.data = w
                if i > 0 or not planes:
                    c.bias.data = torch.tensor(lay.bias, dtype=dtype)
                self.connections.append(c)
                if not s.readout:
                    self.neurons.append(IntLIF(lay.vth, s.leak, s.pool, s.kind != "fc"))
            if planes:       # layer 0 runs once per bit-plane: its bias is added once, after the sum
                self.bias0 = nn.Parameter(torch.tensor(model.layers[0].bias, dtype=dtype).reshape(-1, 1, 1))

        def forward(self, pixels):
            n = pixels.shape[0]
            q = pixels.to(torch.int64) >> (8 - self.k)                             # spec section 8
            if not planes:
                return self.steps(_call(self.connections[0], q.to(dtype)))
            planes_ = torch.stack([(q >> b) & 1 for b in range(self.k)]).to(dtype)  # [k, N, C, H, W]
            c0 = _call(self.connections[0], planes_.reshape(self.k * n, *planes_.shape[2:]))
            scale = (2.0 ** torch.arange(self.k, dtype=dtype)).reshape(-1, 1, 1, 1, 1)   # not a buffer: no footprint
            return self.steps((c0.reshape(self.k, n, *c0.shape[1:]) * scale).sum(0) + self.bias0)

        def steps(self, cur0):
            for nrn in self.neurons:
                nrn.reset_mem()
            acc = 0
            for _ in range(self.T):                       # layer 0's current is the same at every step
                x = self.neurons[0](cur0)
                for i in range(1, len(model.layers)):
                    c = self.connections[i]
                    cur = _call(c, x)
                    if i == len(model.layers) - 1:
                        acc = acc + cur
                    else:
                        x = self.neurons[i](cur)
            return acc

    return SCNN().eval(), IntLIF


def layer_bounds(model):
    """Per layer: (in-bounds synapses per forward call of one frame, forward calls per frame). In-bounds:
    pairs (output neuron, weight position) whose input is inside the map (not zero padding)."""
    out = []
    for i, lay in enumerate(model.layers):
        s = lay.shape
        ones = np.pad(np.ones((s.h, s.w)), s.pad)
        win = np.lib.stride_tricks.sliding_window_view(ones, (s.kh, s.kw))[::s.stride, ::s.stride]
        out.append((int(win.sum()) * s.ci * s.co, model.in_bits if i == 0 else model.timesteps))
    return out


def safe_batch(model):
    """The largest batch whose every per-call synaptic count stays below 2^24 (NeuroBench sums a call's
    counts in the model's float32), and at most 64."""
    per_call = max(syn * (calls if i == 0 else 1) for i, (syn, calls) in enumerate(layer_bounds(model)))
    return max(1, min(64, (EXACT - 1) // per_call))


def _bench(api, model, planes, images, labels, batch, progress):
    """One NeuroBench Benchmark run of the torch model (layer 0 on bit-planes or on the k-bit pixels).
    Returns (NeuroBench's results, the metrics' exact integer counts, the readout accumulators)."""
    torch = _torch()
    from torch.utils.data import DataLoader, TensorDataset
    from tqdm import tqdm
    neurobench, Benchmark, static, workload, TorchModel = api

    class ByLayer(workload.ActivationSparsityByLayer):
        """neurobench 2.3.0's ActivationSparsityByLayer skips WorkloadMetric.__init__, so the Benchmark
        cannot ask it requires_hooks; this sets it (and changes nothing else)."""

        def __init__(self):
            super().__init__()
            self._requires_hooks = True

    net, IntLIF = build_net(model, planes)
    wrapped = TorchModel(net)
    wrapped.add_activation_module(IntLIF)
    readouts = []
    bar = tqdm(total=len(images), desc="neurobench" + ("" if planes else " (8-bit pixels)"), unit="frame",
               disable=not progress)

    def keep(preds):          # postprocessor: keep the readout, hand NeuroBench the class
        readouts.append(preds.detach().to(torch.float64).numpy())
        bar.update(len(preds))
        return preds.argmax(1)

    loader = DataLoader(TensorDataset(torch.from_numpy(images).float(), torch.from_numpy(labels)),
                        batch_size=batch, shuffle=False)
    bench = Benchmark(wrapped, loader, [], [keep],
                      [[static.Footprint, static.ConnectionSparsity, static.ParameterCount],
                       [workload.ActivationSparsity, ByLayer, workload.SynapticOperations,
                        workload.ClassificationAccuracy]])
    with torch.no_grad():
        nb = bench.run(quiet=True)
    bar.close()
    syn = bench.workload_metric_manager.metrics["SynapticOperations"]
    bylayer = bench.workload_metric_manager.metrics["ByLayer"]
    names = [str(i) for i in range(len(net.neurons))]
    raw = {"AC": int(syn.AC), "MAC": int(syn.MAC), "dense": int(syn.total_synops), "samples": syn.total_samples,
           "layer_spikes": [int(bylayer.layer_spike_num[k]) for k in names],
           "layer_neurons": [int(bylayer.layer_neuro_num[k]) for k in names]}
    nb["ByLayer"] = [nb["ByLayer"][k] for k in names]
    bench.workload_metric_manager.cleanup_hooks(wrapped)
    import snntorch
    snntorch.SpikingNeuron.instances[:] = [x for x in snntorch.SpikingNeuron.instances if not isinstance(x, IntLIF)]
    return nb, raw, np.concatenate(readouts)


def pixel_pairs(model, images):
    """Layer 0 fed k-bit pixels: (non-zero pixel, non-zero weight) pairs, summed over output neurons."""
    from sw import golden, spec
    s, lay = model.layers[0].shape, model.layers[0]
    q = (spec.quantize_input(images, model.in_bits) != 0).transpose(0, 2, 3, 1)
    cols = golden.im2col(q, s.kh, s.kw, s.stride, s.pad, np.int64)
    return int(np.dot(cols.reshape(-1, cols.shape[-1]).sum(0), (lay.flat != 0).sum(0)))


def measure(model_path, n, batch=None, progress=True, pixels=True):
    """NeuroBench's Benchmark on the first n MNIST test frames (layer 0 on bit-planes; with `pixels`, a
    second run with layer 0 on the k-bit pixels), and the golden model on the same frames. Returns a dict
    (see the module docstring); raises RuntimeError if the torch model is not bit-exact."""
    torch = _torch()
    import snntorch

    from sw import golden
    from sw.artifact import Model
    from sw.datasets import load

    api = neurobench_api()
    model = Model.load(model_path)
    ds = load("mnist", "test")
    if n > len(ds.images):
        raise ValueError(f"--frames {n}: the MNIST test set has {len(ds.images)} frames")
    images, labels = ds.images[:n], np.asarray(ds.labels[:n])
    try:
        golden.check_frames(model, images)
    except ValueError as e:
        raise ValueError(f"mnist: {e}") from None
    n = len(images)
    batch = batch or safe_batch(model)
    if batch > safe_batch(model):
        raise ValueError(f"batch {batch}: above {safe_batch(model)}, a per-call count could exceed 2^24 in float32")
    t_start = t0 = time.perf_counter()
    nb, raw, readout = _bench(api, model, True, images, labels, batch, progress)
    t_nb = time.perf_counter() - t0
    t0 = time.perf_counter()
    g_preds, g_readout, stats = golden.run(model, images)
    t_golden = time.perf_counter() - t0
    variants = [("bit-planes", readout)]
    if pixels:
        t0 = time.perf_counter()
        nbp, rawp, readout_p = _bench(api, model, False, images, labels, batch, progress)
        t_px = time.perf_counter() - t0
        variants.append(("8-bit pixels", readout_p))
    for name, r in variants:
        if not np.array_equal(r, g_readout.astype(np.float64)):
            bad = int(np.sum(np.any(r != g_readout, axis=1)))
            raise RuntimeError(f"the torch model (layer 0 on {name}) differs from sw.golden on {bad} of {n} frames")
    pairs = [st.matched_pairs for st in stats]
    bias_ops = [st.bias_ops for st in stats]
    dense = sum(syn_ * calls for syn_, calls in layer_bounds(model)) * n
    firing = [st for st, l in zip(stats, model.layers) if not l.shape.readout]
    spikes, slots = sum(st.spikes_out for st in firing), sum(st.neurons_out for st in firing)
    tot_w = sum(l.weights.size for l in model.layers)
    weight_sparsity = 1 - sum(l.nnz for l in model.layers) / tot_w
    checks = {
        "readout_equal_golden": True,
        "predictions_equal_golden": bool(np.array_equal(readout.argmax(1), g_preds)),
        "acs_equal_matched_pairs": raw["AC"] == sum(pairs) and raw["MAC"] == 0,
        "dense_equal_in_bounds_synapses_x_calls": raw["dense"] == dense,
        "layer_spikes_equal_golden": raw["layer_spikes"] == [st.spikes_out for st in firing]
        and raw["layer_neurons"] == [st.neurons_out for st in firing],
        "connection_sparsity_equal_artifact": nb["ConnectionSparsity"] == round(weight_sparsity, 4),
    }
    out = {
        "frames": n, "batch": batch, "model": model_path, "dataset": "mnist test, first frames",
        "versions": {"neurobench": getattr(api[0], "__version__", None), "snntorch": snntorch.__version__,
                     "torch": torch.__version__},
        "dtype": "float64" if _wide(model) else "float32",
        "neurobench_seconds": t_nb, "golden_seconds": t_golden,
        "neurobench": {"footprint_bytes": nb["Footprint"], "parameter_count": nb["ParameterCount"],
                       "connection_sparsity": nb["ConnectionSparsity"],
                       "activation_sparsity": nb["ActivationSparsity"],
                       "activation_sparsity_by_layer": nb["ByLayer"],
                       "effective_acs_per_frame": nb["SynapticOperations"]["Effective_ACs"],
                       "effective_macs_per_frame": nb["SynapticOperations"]["Effective_MACs"],
                       "dense_synops_per_frame": nb["SynapticOperations"]["Dense"],
                       "classification_accuracy": nb["ClassificationAccuracy"], "raw": raw},
        "ours": {"artifact_bytes": os.path.getsize(model_path), "weights": tot_w,
                 "nonzero_weights": sum(l.nnz for l in model.layers), "weight_sparsity": weight_sparsity,
                 "matched_pairs_per_frame": sum(pairs) / n, "bias_ops_per_frame": sum(bias_ops) / n,
                 "work_per_frame": (sum(pairs) + sum(bias_ops)) / n,
                 "in_bounds_synapses_x_calls_per_frame": dense / n,
                 "spike_density": spikes / slots, "accuracy": float(np.mean(g_preds == labels)),
                 "layers": [{"layer": i, "token": l.shape.token(), "matched_pairs_per_frame": p / n,
                             "bias_ops_per_frame": b / n, "weight_sparsity": l.sparsity,
                             "spike_density": None if l.shape.readout else st.spike_density}
                            for i, (l, p, b, st) in enumerate(zip(model.layers, pairs, bias_ops, stats))]},
        "checks": checks,
    }
    if pixels:
        pp = pixel_pairs(model, images)
        out["neurobench_pixels_seconds"] = t_px
        out["neurobench_pixels"] = {"effective_acs_per_frame": nbp["SynapticOperations"]["Effective_ACs"],
                                    "effective_macs_per_frame": nbp["SynapticOperations"]["Effective_MACs"],
                                    "dense_synops_per_frame": nbp["SynapticOperations"]["Dense"],
                                    "footprint_bytes": nbp["Footprint"], "raw": rawp}
        out["ours"]["layer0_pixel_pairs_per_frame"] = pp / n
        checks["pixels_acs_equal_pairs_of_layers_1_on"] = rawp["AC"] == sum(pairs[1:])
        checks["pixels_macs_equal_nonzero_pixel_pairs"] = rawp["MAC"] == pp
    out["seconds"] = time.perf_counter() - t_start
    return out


def main(argv=None):
    from accel_common import check_args, fail, parser

    from sw.artifact import ArtifactError
    from sw.cli import CLIError, write_output
    from sw.datasets import DatasetError

    ap = parser(__file__, __doc__)
    ap.add_argument("--frames", type=int, default=1000, help="first N MNIST test frames (default 1000)")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--batch", type=int, help="frames per NeuroBench batch (default: the largest exact one)")
    args = ap.parse_args(argv)
    check_args(ap, args, positive=("frames", "batch"), json=args.json)
    if not os.path.exists(args.model):
        fail(ap, f"--model {args.model}: cannot read: no such file")
    try:
        r = measure(args.model, args.frames, args.batch)
    except (ArtifactError, DatasetError, CLIError, ValueError, RuntimeError) as e:
        fail(ap, str(e).splitlines()[0] if str(e) else type(e).__name__)
    r["command"] = "python bench/neurobench.py " + " ".join(sys.argv[1:] if argv is None else argv)
    nb, ours = r["neurobench"], r["ours"]
    print(f"neurobench {r['versions']['neurobench']} on {r['frames']} MNIST test frames ({r['seconds']:.0f} s in all):")
    print(f"  footprint {nb['footprint_bytes']:,} B (artifact {ours['artifact_bytes']:,} B); connection sparsity "
          f"{nb['connection_sparsity']:.4f} (artifact {ours['weight_sparsity']:.4f}); activation sparsity "
          f"{nb['activation_sparsity']:.4f} (golden spike density {ours['spike_density']:.4f})")
    print(f"  effective ACs/frame {nb['effective_acs_per_frame']:,.1f} (golden matched pairs {ours['matched_pairs_per_frame']:,.1f}, "
          f"+ {ours['bias_ops_per_frame']:,.0f} bias ops not counted by NeuroBench); MACs {nb['effective_macs_per_frame']:g}; "
          f"dense {nb['dense_synops_per_frame']:,.0f}")
    print("  checks: " + ", ".join(f"{k} {'ok' if v else 'FAILED'}" for k, v in r["checks"].items()))
    if args.json:
        import json
        write_output(args.json, json.dumps(r, indent=1))
    return 0 if all(r["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
