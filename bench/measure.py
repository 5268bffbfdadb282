"""Measurements of bench/run.py: RTL runs (soc.accel.rtlsim's Python API) checked against the golden
model, the Pareto budgets, and the magnitude-pruned models of the sparsity sweep."""
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from sw import frames as framepack  # noqa: E402
from sw import golden, random_model  # noqa: E402
from sw.artifact import Model  # noqa: E402
from soc.accel import loadimage, rtlsim  # noqa: E402
from soc.accel.balance import Budget, balance  # noqa: E402
from soc.accel.config import AccelConfig  # noqa: E402


def par_text(par) -> str:
    return ",".join(f"{a}x{b}" for a, b in par)


def rtl_point(model, cfg, images, jobs=2, progress=None) -> dict:
    """One RTL run of `images` through the accelerator `cfg`: steady-state cycles/frame, latency, the
    bound max_l work_l / PCo_l from the golden model on the same frames, utilisation = bound / measured,
    per-layer counters per frame. Raises if any readout differs from the golden model."""
    n = len(images)
    t0 = time.perf_counter()
    rtlsim.build(cfg)
    t_build = time.perf_counter() - t0
    preds, readout, stats = golden.run(model, images)
    words = framepack.pack(images, model.in_kind, model.timesteps)
    t0 = time.perf_counter()
    r = rtlsim.simulate_sharded(cfg, loadimage.build(model, cfg), words, jobs, progress=progress)
    t_sim = time.perf_counter() - t0
    if r.status != 0 or not np.array_equal(r.readout, readout):
        raise RuntimeError(f"RTL differs from the golden model at {par_text(cfg.parallelism)} (status {r.status})")
    work = [s.work / n for s in stats]
    bound = max(w / lc.pco for w, lc in zip(work, cfg.layers))
    cpf = r.cycles_per_frame
    total = r.cycles           # summed over shards: the cycles the counters ran for
    layers = []
    for i, (c, s, lc) in enumerate(zip(r.counters, stats, cfg.layers)):
        layers.append({"layer": i, "pco": lc.pco, "pci": lc.pci, "work_per_frame": s.work / n,
                       "golden_pairs_per_frame": s.matched_pairs / n, "rtl_pairs_per_frame": c["pairs"] / n,
                       "work_per_detector": s.work / n / lc.pco,
                       "busy_per_frame": c["busy"] / n, "stall_per_frame": c["stall"] / n,
                       "empty_tokens_per_frame": c["empty"] / n,
                       "busy_fraction": c["busy"] / total, "stall_fraction": c["stall"] / total,
                       "idle_fraction": 1 - c["busy"] / total,
                       "spike_density_out": s.spike_density})
    return {"parallelism": par_text(cfg.parallelism), "frames": n, "cycles_per_frame": cpf,
            "latency_cycles": r.latency_cycles, "bound_cycles_per_frame": bound, "utilisation": bound / cpf,
            "matched_pairs_per_frame": sum(s.matched_pairs for s in stats) / n,
            "accuracy_frames": None, "readout_exact": True, "layers": layers,
            "build_seconds": t_build, "sim_seconds": t_sim, "jobs": jobs}


def synth_point(cfg, keep) -> dict:
    """yosys synth_xilinx of the accelerator `cfg` (soc.accel.synth, kept in `keep`): logic LUTs, LUTRAM,
    FF, RAMB36-equivalents, DSP and the logic-only critical path, labelled measured."""
    from soc.accel.synth import synthesize
    r = synthesize(cfg, keep=keep)
    t = r.get("timing") or {}
    return {"lut": r["lut"], "lut_mem": r["lut_mem"], "ff": r["ff"], "bram36": r["bram36_equiv"], "dsp": r["dsp"],
            "critical_ns": t.get("critical_ns"), "seconds": r["seconds"], "source": "measured",
            "command": f"python -m soc.accel.synth --model M.ffs --parallelism {par_text(cfg.parallelism)} "
                       "(yosys synth_xilinx -abc9, xc7)"}


def smallest_luts(model, dataset="mnist") -> int:
    """Predicted LUTs of the cheapest build balance() makes (a budget below it returns that build)."""
    return balance(model, Budget(1, 1e9), dataset=dataset).luts


def pareto_budgets(model, top_part="a7-100", n=8):
    """n LUT budgets, geometric from the smallest build that works to the part's accelerator budget."""
    top = Budget.for_part(top_part)
    lo = smallest_luts(model)
    return [int(round(v)) for v in np.geomspace(lo, top.luts, n)], top


def balanced(model, luts, brams):
    b = balance(model, Budget(int(luts), brams), dataset="mnist")
    return b, AccelConfig.from_model(model, b.parallelism)


def dense_of(model, seed=0):
    """The trained model with every pruned weight refilled with a random non-zero 4-bit value (biases and
    thresholds kept), and a mask per layer of the trained non-zeros."""
    rng = np.random.default_rng(seed)
    ws, kept = [], []
    for lay in model.layers:
        fill = random_model.random_weights(rng, lay.weights.shape, 1.0)
        ws.append(np.where(lay.weights != 0, lay.weights, fill))
        kept.append(lay.weights != 0)
    return rebuild(model, ws), kept


def rebuild(model, weights, widths=None):
    return Model.from_dense(model.shapes, weights, [l.bias for l in model.layers], [l.vth for l in model.layers],
                            model.timesteps, model.in_bits, model.in_kind, model.notation, widths=widths)


def magnitude_pruned(dense, kept, sparsity, seed=0):
    """Per layer, zero the `sparsity` fraction of weights with the lowest rank: refilled weights rank below
    every trained one (so they go first), then by |w|; ties in random order (seed)."""
    rng = np.random.default_rng(seed)
    ws = []
    for lay, k in zip(dense.layers, kept):
        w = lay.weights.copy()
        flat = w.reshape(-1)
        score = np.abs(flat).astype(np.float64) + 16.0 * k.reshape(-1) + rng.random(flat.size) * 0.5
        nz = int(round(sparsity * flat.size))
        flat[np.argsort(score, kind="stable")[:nz]] = 0
        ws.append(w)
    return rebuild(dense, ws)


def weight_sparsity(model) -> float:
    tot = sum(l.weights.size for l in model.layers)
    return 1 - sum(int(np.count_nonzero(l.weights)) for l in model.layers) / tot


# The model suite of bench/run.py's `models` stage: (label, artifact or preset, data set, random spec).
# Trained artifacts run on their data set's test frames; SCNN7 and SCNN9 have no trained artifact here,
# so they are random models at the paper's weight sparsity (Table VII: 93.26%, 86.12%), calibrated to
# ~15% spike density, on random input frames: hardware shape and speed only, no accuracy.
SUITE = [
    ("SCNN5 / MNIST", "artifacts/mnist-scnn5/model.ffs", "mnist", None),
    ("SCNN5 / Fashion-MNIST", "artifacts/fashion-mnist-scnn5/model.ffs", "fashion-mnist", None),
    ("SCNN7 / 2x48x48, untrained", "scnn7", None, {"sparsity": 0.9326, "in_kind": "temporal", "in_bits": 1}),
    ("SCNN9 / 3x32x32, untrained", "scnn9", None, {"sparsity": 0.8612, "in_kind": "static", "in_bits": 8}),
]
SUITE_PARTS = ("a7-35", "a7-100", "lfe5u-85")
SUITE_TIMESTEPS = 4


def suite_model(src, dataset, rand, n, seed=0):
    """(model, n input frames, calibration frames or None, note) of one SUITE entry."""
    from sw import spec
    from sw.datasets import load
    if rand is None:
        model = Model.load(src)
        return model, load(dataset, "test").images[:n], None, f"trained artifact {src}, {dataset} test frames"
    kind = spec.IN_TEMPORAL if rand["in_kind"] == "temporal" else spec.IN_STATIC
    model = random_model.make(src, rand["sparsity"], timesteps=SUITE_TIMESTEPS, in_bits=rand["in_bits"],
                              in_kind=kind, seed=seed)
    images = random_model.random_inputs(np.random.default_rng(seed + 1), model.shapes, n, SUITE_TIMESTEPS, kind)
    return model, images, images, (f"UNTRAINED random weights ({rand['sparsity']:.2%} sparse, seed {seed}), "
                                   f"T = {SUITE_TIMESTEPS}, random {rand['in_kind']} input frames")


def suite_point(model, images, calib, dataset, part, jobs=2) -> dict:
    """balance() for `part`, then the RTL run; `fits` says whether the build is within the part's budget
    (balance() returns its smallest build when even that exceeds it)."""
    budget = Budget.for_part(part)
    b = balance(model, budget, images=calib, dataset=dataset)
    cfg = AccelConfig.from_model(model, b.parallelism)
    p = rtl_point(model, cfg, images, jobs)
    del p["layers"]
    p.update(part=part, family=budget.family, predicted_luts=b.luts, predicted_brams=b.brams,
             budget_luts=budget.luts, budget_brams=budget.brams,
             fits=bool(b.luts <= budget.luts and b.brams <= budget.brams),
             predicted_cycles_per_frame=b.cycles)
    return p
