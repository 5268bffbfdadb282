"""Automatic parallelism: choose (PCo, PCi) per layer from the golden model's measured work.

    b = balance(model, budget=Budget(), images=None)   # images: calibration frames (default: random)
    b.parallelism, b.cycles, b.bound, b.luts, b.brams

The cost model follows the micro-architecture (docs/accelerator.md). Per layer and frame:
  tokens  = positions * G * sum_planes max(1, chunks of PCi bits holding a spike)   (scanner, 1/cycle;
            a static layer skips bit-planes without any set bit)
  det     = tokens + 0.65 * pairs / PCo, at least pairs / PCo x imbalance             (detector)
  loader  = positions * (kh*min(stride,kw) + 1) + row starts                       (window reads)
  neuron  = positions * G * T for a static first layer                             (T steps per current)
and cycles_l = max(tokens, pairs_d, loader, neuron). Stages run concurrently, so cycles/frame =
max_l cycles_l. The bound reported beside it is the issue's max_l work_l / PCo_l (work = golden matched
pairs + bias operations). Resources come from a linear LUT/BRAM model fitted to yosys synth_xilinx runs. The budget for a part
is its LUTs x the fill the whole SoC may reach (PARTS: 85% on the A7-35T, 80% on the A7-100T, room for
Vivado to route and close timing) minus what the SoC around the accelerator takes.

    cfg = configure(model, parallelism=None, budget=Budget.for_part("a7-100"))   # AccelConfig
    python -m soc.accel.balance --model M.ffs [--dataset mnist] [--luts N --brams N]
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np

from sw import golden, spec

from .config import MAX_PCI, AccelConfig, LayerConfig

# The widest chunk balance() offers (the hardware takes up to MAX_PCI): the detector's extract loop
# steps PCi bits a cycle (soc.accel.bitops.minus_one, 32-bit blocks) and holds 4 LUT levels up to 64
# bits; a 128-bit chunk timed 4.54 ns logic-only on xc7 (bench/timing_random.py, issue 12).
BALANCE_MAX_PCI = min(64, MAX_PCI)

IMBALANCE = 1.15            # detectors of a group see different numbers of pairs
PAIR_OVERLAP = 0.65         # fraction of a detector's pair cycles not hidden behind token cycles
# yosys synth_xilinx LUTs (logic LUT1..LUT6 plus the LUTs used as distributed RAM: RAM32M/RAM64M = 4)
# per unit of the linear model below, fitted on the trained SCNN5 accelerator of the previous model
# (parallelism 2x9,8x16,7x24,4x48,6x56,1x8: 8,838 units; 19,417 logic + 2,748 memory LUTs)
LUT_SCALE = 2.5

# Target parts: (LUTs, RAMB36, fill) of the FPGA. `fill` is the share of the part's LUTs and RAMB36 the
# whole SoC may use, the margin left for place and route and timing closure (issue 12: <= 85% on the
# A7-35T, <= 80% on the A7-100T).
# ECP5 parts count LUT4 sites (TRELLIS_COMB) and DP16KD: (LUT4, DP16KD, fill), 70% for nextpnr: at 80% (74.6%
# packed) HeAP's legaliser never placed the full SoC; at 70% (66.0% packed) it placed in 682 s (docs/soc.md).
PARTS = {"a7-35": (20_800, 50.0, 0.85), "a7-100": (63_400, 135.0, 0.80),
         "lfe5u-45": (43_848, 108.0, 0.70), "lfe5u-85": (83_640, 208.0, 0.70)}
FAMILIES = {"a7-35": "xc7", "a7-100": "xc7", "lfe5u-45": "ecp5", "lfe5u-85": "ecp5"}
# What the LiteX SoC around the accelerator takes (yosys, whole Arty SoC: DDR3, VexRiscv, UART, timer,
# the accelerator's CSR/DMA/clock-crossing shell): 19,545 LUTs with a 12,800-LUT accelerator (A7-35T
# build, docs/measured.md), so ~6,750; rounded up for the clock-domain-crossing FIFOs.
SOC_LUTS, SOC_BRAMS = 7_000, 20.5
# ECP5 LUT4 sites (TRELLIS_COMB, what nextpnr counts against the device) = ECP5_LUT4_PER_LUT x the xc7 LUT
# model + ECP5_LUT4_PER_LAYER per layer; least squares over three measured accelerators: synth_ecp5 -abc9
# + nextpnr --pack-only (`python -m soc.accel.synth --part lfe5u-85 --parallelism P`) of a 3-layer test
# model at 1x9,1x24,1x24 (2,924 model LUTs -> 6,806) and SCNN5 at 1x2,1x8,1x16,1x24,1x24,1x24 (11,122 ->
# 22,829), and the whole ULX3S SoC with SCNN5 at 3x9,16x16,10x32,9x29,13x52,1x24 (31,868 -> 73,769
# TRELLIS_COMB - ECP5_SOC_LUT4 = 66,024). Residuals -9.2%, +1.7%, -0.1%. The ratio is ~2x, more than
# LUT4 vs LUT6 logic cells alone (14,343 vs 8,980 at 1x2,...: 1.6x): carries are CCU2C pairs, and ECP5
# LUT RAM is 16x4 per slice pair, so FIFOs and small memories take many LUT4 sites.
ECP5_LUT4_PER_LUT, ECP5_LUT4_PER_LAYER = 2.059, 52.7
# memory_libmap's choice between 16x4 LUT RAM and DP16KD, and the DP16KD aspect ratios (depth, width)
ECP5_LUTRAM_PER_BLOCK = 24
ECP5_BRAM_SHAPES = ((512, 36), (1024, 18), (2048, 9), (4096, 4), (8192, 2), (16384, 1))
# What the ULX3S LiteX SoC around the accelerator takes: the whole SoC with a small accelerator (nextpnr,
# 14,551 TRELLIS_COMB, 47 DP16KD; soc/targets/ulx3s.py, tests/soc/targets/test_ulx3s.py) minus that
# accelerator alone (6,806 TRELLIS_COMB, 4 DP16KD)
ECP5_SOC_LUT4, ECP5_SOC_DP16KD = 7_745, 43.0
# The part the simulation flows (litex_sim, rtlsim, synth, benches) size the accelerator for by default:
# the Arty A7-100T. The A7-35T build (the API default) trades several times the cycles for the small part.
SIM_PART = "a7-100"


def family(part: str) -> str:
    """"xc7" (LUT6 + RAMB36 budgets) or "ecp5" (LUT4 + DP16KD) for a PARTS key."""
    if part not in FAMILIES:
        raise ValueError(f"unknown part {part!r}: one of {', '.join(PARTS)}")
    return FAMILIES[part]


@dataclass(frozen=True)
class Budget:
    """Accelerator share of the target FPGA: the part x its fill, minus the SoC. `family` "xc7" counts
    yosys LUT cells and RAMB36, "ecp5" LUT4 sites and DP16KD. Default: Arty A7-35T."""
    luts: int = int(PARTS["a7-35"][0] * PARTS["a7-35"][2]) - SOC_LUTS
    brams: float = PARTS["a7-35"][1] * PARTS["a7-35"][2] - SOC_BRAMS
    family: str = "xc7"

    @classmethod
    def for_part(cls, part: str) -> "Budget":
        fam = family(part)
        luts, brams, fill = PARTS[part]
        soc_luts, soc_brams = (ECP5_SOC_LUT4, ECP5_SOC_DP16KD) if fam == "ecp5" else (SOC_LUTS, SOC_BRAMS)
        return cls(int(luts * fill) - soc_luts, brams * fill - soc_brams, fam)


@dataclass
class Balanced:
    parallelism: list
    cycles: float                   # predicted steady-state cycles per frame
    bound: float                    # max_l work_l / PCo_l
    per_layer: list = field(default_factory=list)   # predicted cycles per layer
    luts: int = 0
    brams: float = 0.0


def layer_inputs(model, images):
    """Per layer, the binary input planes [P, N, H, W, C] the hardware scans."""
    tr = golden.Trace()
    golden.forward(model, images, trace=tr)
    x0 = golden.encode_input(model, images)
    if model.in_kind == spec.IN_STATIC:
        x0 = spec.bit_planes(x0[0].astype(np.uint8), model.in_bits)
    ins = [x0]
    ins += [s for s in tr.spikes[:-1]]
    return ins


def chunk_counts(x, layer, pci, static=False):
    """Mean over frames of the scanner's tokens per output position and group: per plane the PCi
    chunks holding a spike, at least one (a static layer skips empty planes but the last)."""
    s = layer.shape
    P, n = x.shape[:2]
    cols = golden.im2col(x.reshape(P * n, *x.shape[2:]).astype(np.uint8), s.kh, s.kw, s.stride, s.pad,
                          np.uint8)
    cols = cols.reshape(P, n, -1, cols.shape[-1])
    k = cols.shape[-1]
    kch = -(-k // pci)
    pad = np.zeros((*cols.shape[:-1], kch * pci - k), np.uint8)
    ch = np.concatenate([cols, pad], -1).reshape(*cols.shape[:-1], kch, pci).any(-1).sum(-1)
    if static:
        return float((ch[:-1].sum() + np.maximum(ch[-1], 1).sum()) / n)
    return float(np.maximum(ch, 1).sum() / n)


class Stats:
    """Measured per-layer statistics of a model on calibration frames."""

    def __init__(self, model, images):
        self.model = model
        self.n = len(images)
        _, _, st = golden.run(model, images)
        self.pairs = [s.matched_pairs / self.n for s in st]
        self.work = [s.work / self.n for s in st]
        self.channel_work = [s.channel_work / self.n for s in st]
        self._inputs = layer_inputs(model, images)
        self._cache = {}

    def tokens_per_group(self, i, pci):
        key = (i, pci)
        if key not in self._cache:
            static = i == 0 and self.model.in_kind == spec.IN_STATIC
            self._cache[key] = chunk_counts(self._inputs[i], self.model.layers[i], pci, static)
        return self._cache[key]


def loader_cycles(lc: LayerConfig) -> float:
    """Window reads per frame (LayerConfig.window_reads), +1 per position for the hand-over."""
    return lc.window_reads + lc.positions


def layer_cycles(lc: LayerConfig, pairs: float, tokens_per_group: float) -> float:
    s = lc.shape
    tokens = lc.groups * tokens_per_group
    per_det = pairs / lc.pco
    # a token costs a detector one cycle, a chunk with m pairs m cycles; empty chunks overlap with the
    # extraction of earlier ones only in part (PAIR_OVERLAP fitted to Verilator runs)
    det = max(tokens + PAIR_OVERLAP * per_det, per_det * (IMBALANCE if lc.pco > 1 else 1.0))
    loader = loader_cycles(lc)
    neuron = lc.positions * lc.groups * lc.timesteps if lc.static else 0
    if not lc.double_buffer:          # a single window: loading and scanning take turns
        return max(det + loader, neuron)
    return max(tokens, det, loader, neuron)


def layer_luts(lc: LayerConfig) -> float:
    """Linear LUT model (fitted to yosys synth_xilinx on generated engines)."""
    w = lc.widths
    det = 3.0 * lc.pci + 2.0 * w.acc + 2.0 * w.mem + 2.0 * lc.base_width + 40
    scan = lc.fan_in * lc.planes / 3.0 + lc.pci * lc.chunks / 2.0 + 4.0 * lc.chunks + 80
    return LUT_SCALE * (scan + lc.pco * det)


def layer_brams(lc: LayerConfig) -> float:
    """RAMB36 equivalents: value memories of >= 64 words map to block RAM (one RAMB18 per 512 words)."""
    per = 0.5 * -(-lc.val_depth // 512) if lc.val_depth >= 64 else 0.0
    return lc.pco * per


def layer_lut4(lc: LayerConfig) -> float:
    """ECP5 LUT4 sites (yosys synth_ecp5: LUT4 + 2 per CCU2C + 4 per TRELLIS_DPR16X4): a linear map of
    the xc7 model, fitted to synth_ecp5 of the SCNN5 accelerator (ECP5_LUT4_PER_LUT, _PER_LAYER)."""
    return ECP5_LUT4_PER_LUT * layer_luts(lc) + ECP5_LUT4_PER_LAYER


def dp16kd_blocks(width: int, depth: int) -> int:
    """DP16KD for one memory as yosys' memory_libmap maps it on ECP5: block RAM in its cheapest aspect
    ratio (512x36 ... 16384x1), unless 16x4 distributed RAM takes at most ECP5_LUTRAM_PER_BLOCK cells
    per block it would save (then 0)."""
    blocks = min(-(-depth // d) * -(-width // w) for d, w in ECP5_BRAM_SHAPES)
    lutram = -(-depth // 16) * -(-width // 4)
    return 0 if lutram <= ECP5_LUTRAM_PER_BLOCK * blocks else blocks


def layer_dp16kd(lc: LayerConfig) -> float:
    """DP16KD of a layer: per detector its chunk records (PCi mask + base bits, as detector.py's
    chunk_record_width), values (32 bits) and parameters (bias + threshold), plus the window buffer."""
    det = (dp16kd_blocks(lc.pci + lc.base_width, max(2, lc.chunk_depth)) + dp16kd_blocks(32, max(2, lc.val_depth))
           + dp16kd_blocks(lc.widths.bias + lc.widths.vth, max(2, lc.groups)))
    return lc.pco * det + dp16kd_blocks(lc.in_width, lc.buffer_depth)


def layer_cost(lc: LayerConfig, fam: str = "xc7") -> tuple:
    """(LUTs, block RAMs) of a layer in the family's units (Budget.family)."""
    if fam == "ecp5":
        return layer_lut4(lc), layer_dp16kd(lc)
    return layer_luts(lc), layer_brams(lc)


def detector_work(channel_work, pco: int) -> float:
    """The busiest detector's work: detector d serves channels d, PCo + d, 2 PCo + d, ... (one per group)."""
    cw = np.asarray(channel_work, np.float64)
    groups = -(-len(cw) // pco)
    return float(np.pad(cw, (0, groups * pco - len(cw))).reshape(groups, pco).sum(0).max())


def predict(model, cfg: AccelConfig, stats_or_golden, n=None, images=None) -> dict:
    """Predicted cycles/frame and the bounds for `cfg`; stats_or_golden: a Stats, or golden LayerStats + n.
    bound: max_l work_l / PCo_l (work spread evenly over a layer's detectors); detector_bound: max_l of the
    busiest detector's work (channels carry unequal work, and a channel never splits across detectors)."""
    if isinstance(stats_or_golden, Stats):
        st = stats_or_golden
        per = [layer_cycles(lc, st.pairs[i], st.tokens_per_group(i, lc.pci)) for i, lc in enumerate(cfg.layers)]
        work, channel_work = st.work, st.channel_work
    else:
        work = [s.work / n for s in stats_or_golden]
        channel_work = [s.channel_work / n for s in stats_or_golden]
        per = [max(w / lc.pco, loader_cycles(lc)) for w, lc in zip(work, cfg.layers)]
    bound = max(w / lc.pco for w, lc in zip(work, cfg.layers))
    det_bound = max(detector_work(cw, lc.pco) for cw, lc in zip(channel_work, cfg.layers))
    return {"cycles": max(per), "per_layer": per, "bound": bound, "detector_bound": det_bound}


def _candidates(shape):
    k = shape.fan_in
    pcis = sorted({min(k, v, BALANCE_MAX_PCI) for v in (8, 16, 24, 32, 48, 64, 72, 96, 128, 144, 192, shape.ci,
                                                2 * shape.ci)})
    pcos = sorted({-(-shape.co // g) for g in range(1, shape.co + 1)})   # fewest detectors per group count
    return pcos, pcis


def calibration_frames(model, dataset: str | None = None, n: int = 16):
    """The frames balance() measures work on: the first n training frames of `dataset` (None: MNIST
    for a 1x28x28 static model), or None when there is no such data set here or it does not fit."""
    from sw.datasets import DatasetError, load
    if dataset is None:
        s = model.shapes[0]
        if (model.in_kind, s.ci, s.h, s.w) != (spec.IN_STATIC, 1, 28, 28):
            return None
        dataset = "mnist"
    try:
        images = load(dataset, "train", timesteps=model.timesteps).images[:n]
    except DatasetError:
        return None
    s = model.shapes[0]
    return images if tuple(images.shape[-3:]) == (s.ci, s.h, s.w) else None


def balance(model, budget: Budget = Budget(), images=None, seed: int = 0, dataset: str | None = None) -> Balanced:
    """Greedy: repeatedly speed up the bottleneck layer by the upgrade with the best cycles saved per
    LUT, until the budget is exhausted or nothing helps. images: calibration frames (None:
    calibration_frames(model, dataset), else random frames)."""
    if images is None:
        images = calibration_frames(model, dataset)
    if images is None:
        from sw.random_model import random_inputs
        images = random_inputs(np.random.default_rng(seed), model.shapes, 8, model.timesteps, model.in_kind)
    st = Stats(model, images)
    cands = [_candidates(l.shape) for l in model.layers]

    def cfg_of(ch):
        return AccelConfig.from_model(model, [(c[0][a], c[1][b]) for c, (a, b) in zip(cands, ch)])

    # start from the cheapest configuration: one detector group per layer at its cheapest chunk width
    # (a narrow PCi is not the cheapest: the scanner's chunk muxes grow with the number of chunks)
    choice = [[0, 0] for _ in model.layers]
    for i in range(len(model.layers)):
        costs = []
        for b in range(len(cands[i][1])):
            trial = [list(c) for c in choice]
            trial[i] = [0, b]
            costs.append(layer_cost(cfg_of(trial).layers[i], budget.family)[0])
        choice[i][1] = int(np.argmin(costs))

    def cost(cfg):
        per = [layer_cost(l, budget.family) for l in cfg.layers]
        return sum(p[0] for p in per), sum(p[1] for p in per)

    cfg = cfg_of(choice)
    while True:
        pred = predict(model, cfg, st)
        per = pred["per_layer"]
        worst = int(np.argmax(per))
        best = None
        luts0, _ = cost(cfg)
        a, b = choice[worst]
        for na, nb in ((a + 1, b), (a, b + 1), (a + 1, b + 1)):
            if na >= len(cands[worst][0]) or nb >= len(cands[worst][1]):
                continue
            trial = [list(c) for c in choice]
            trial[worst] = [na, nb]
            tc = cfg_of(trial)
            tl, tb = cost(tc)
            if tl > budget.luts or tb > budget.brams:
                continue
            lc = tc.layers[worst]
            gain = per[worst] - layer_cycles(lc, st.pairs[worst], st.tokens_per_group(worst, lc.pci))
            if gain <= 0:
                continue
            score = gain / max(1.0, tl - luts0)
            if best is None or score > best[0]:
                best = (score, trial, tc)
        if best is None:
            break
        choice, cfg = best[1], best[2]
    pred = predict(model, cfg, st)
    luts, brams = cost(cfg)
    return Balanced(list(cfg.parallelism), pred["cycles"], pred["bound"], pred["per_layer"], int(luts), brams)


def configure(model, parallelism=None, budget: Budget | None = None, dataset: str | None = None, **kw) -> AccelConfig:
    """AccelConfig for `model`: the given [(PCo, PCi)], or balance()'s choice under `budget` (None: the
    Arty A7-35T default) calibrated on `dataset` (calibration_frames)."""
    if parallelism is None:
        parallelism = balance(model, budget or Budget(), dataset=dataset).parallelism
    return AccelConfig.from_model(model, parallelism, **kw)


def main(argv=None):
    from sw.artifact import ArtifactError, Model
    from sw.cli import OneLineParser
    ap = OneLineParser(prog="python -m soc.accel.balance", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--dataset", help="calibration frames from this data set's train split "
                    "(default: MNIST for 1x28x28 models, else random frames)")
    ap.add_argument("--part", choices=sorted(PARTS), default="a7-35", help="budget: this part minus the SoC")
    ap.add_argument("--luts", type=int, help="accelerator LUT-cell budget, LUT4 on ECP5 (overrides --part)")
    ap.add_argument("--brams", type=float, help="accelerator RAMB36 budget, DP16KD on ECP5 (overrides --part)")
    args = ap.parse_args(argv)
    for name in ("luts", "brams"):
        v = getattr(args, name)
        if v is not None and not v > 0:
            ap.error(f"--{name} {v:g}: must be > 0")
    try:
        model = Model.load(args.model)
    except ArtifactError as e:
        ap.exit(1, f"error: {e}\n")
    if args.dataset is not None:
        from sw.datasets import DatasetError, load
        try:
            load(args.dataset, "train")
        except (DatasetError, ValueError, KeyError) as e:
            ap.exit(1, f"error: --dataset {args.dataset}: {e}\n")
    part = Budget.for_part(args.part)
    budget = Budget(part.luts if args.luts is None else args.luts,
                    part.brams if args.brams is None else args.brams, part.family)
    lut, bram = ("LUT4", "DP16KD") if budget.family == "ecp5" else ("LUT", "RAMB36")
    b = balance(model, budget, dataset=args.dataset)
    for i, (l, (pco, pci), c) in enumerate(zip(model.layers, b.parallelism, b.per_layer)):
        print(f"  layer {i} {l.shape.token():<12} PCo {pco:>3} PCi {pci:>3}  predicted {c:>8.0f} cycles/frame")
    print(f"parallelism {','.join(f'{a}x{b}' for a, b in b.parallelism)}")
    print(f"predicted {b.cycles:.0f} cycles/frame, bound max_l work_l/PCo_l = {b.bound:.0f}, "
          f"~{b.luts} {lut}, ~{b.brams:.1f} {bram} (budget {budget.luts} {lut}, {budget.brams:g} {bram})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
