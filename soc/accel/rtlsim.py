"""Run the generated accelerator RTL under Verilator on real data and compare with the golden model.

    python -m soc.accel.rtlsim --model M.ffs --dataset mnist --split test [--offset K] [--limit N]
                               [--parallelism 8x9,16x72,...] [--stall PCT] [--pgo auto|on|off] --json OUT

The Verilator model is built once per (generated Verilog + harness + compile command) hash under build/rtlsim/. The C++
harness (soc/accel/harness/tb.cpp) streams the load image and all frames from a file with valid/ready
and writes every result word to a file; Python only packs the inputs and reads the outputs.

--pgo (default: auto, on from PGO_MIN_FRAMES frames) builds the model with gcc's profile-guided
optimization: an instrumented build runs the first PROFILE_FRAMES frames, then the model is compiled again
with that profile. It simulates the same cycles in about 40 % less time for one extra compile, cached like the plain
build (under its own hash), so it pays on long runs such as the 10k test set.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from migen import Array, Module, Signal

from sw import frames as framepack
from sw import golden
from sw.artifact import ArtifactError
from sw.cli import CLIError, OneLineParser, load_frames, output_problem, write_output

from . import loadimage
from .balance import PARTS, SIM_PART, Budget, configure
from .config import AccelConfig, ConfigError
from .core import AccelCore
from .verilog import convert

ROOT = Path(__file__).resolve().parents[2]
HARNESS = Path(__file__).with_name("harness") / "tb.cpp"
BUILD = ROOT / "build" / "rtlsim"
IN_MAGIC = 0x49534646
COUNTERS = ("busy", "stall", "pairs", "empty")
MAX_JOBS = 4 * (os.cpu_count() or 1)     # each job is a Verilator process
PGO_MIN_FRAMES = 1000                    # --pgo auto: profile-guided builds for runs of this many frames or more
PROFILE_FRAMES = 16                      # frames the instrumented build runs to make the profile
VERILATOR = ["verilator", "--cc", "--exe", "--build", "-j", "2", "-O2", "--x-assign", "fast", "--x-initial", "fast",
             "-Wno-fatal", "-Wno-lint", "-Wno-style", "-Wno-WIDTH", "--top-module", "top",
             "-MAKEFLAGS", "OPT_FAST=-O3 OPT_SLOW=-O1 OPT_GLOBAL=-O2"]
PLAIN = ["-CFLAGS", "-march=native"]
# gcc: instrument (single-threaded harness), then use the profile; functions it did not reach stay optimized
PGO_GENERATE = ["-CFLAGS", "-march=native -fprofile-generate -fprofile-update=single", "-LDFLAGS", "-fprofile-generate"]
PGO_USE = ["-CFLAGS", "-march=native -fprofile-use -fprofile-partial-training -Wno-missing-profile"]


class SimTop(Module):
    """The core with plainly named top-level ports and a counter read mux (cnt_sel -> cnt_data)."""

    def __init__(self, cfg: AccelConfig):
        self.submodules.core = core = AccelCore(cfg)
        io = {}
        for name, w in [("load_valid", 1), ("load_first", 1), ("load_data", 32), ("frames_valid", 1),
                        ("frames_last", 1), ("frames_data", 32), ("results_ready", 1), ("clear_counters", 1),
                        ("cnt_sel", 8), ("load_ready", 1), ("frames_ready", 1), ("results_valid", 1),
                        ("results_last", 1), ("results_data", 32), ("load_done", 1), ("load_error", 8),
                        ("idle", 1), ("cycles", 64), ("cnt_data", 32)]:
            io[name] = Signal(w, name=name)
        self.io = set(io.values())
        c = core
        flat = [getattr(c, k)[l] for l in range(len(cfg.layers)) for k in COUNTERS]
        self.comb += [
            c.load.valid.eq(io["load_valid"]), c.load.first.eq(io["load_first"]), c.load.data.eq(io["load_data"]),
            io["load_ready"].eq(c.load.ready),
            c.frames.valid.eq(io["frames_valid"]), c.frames.last.eq(io["frames_last"]),
            c.frames.data.eq(io["frames_data"]), io["frames_ready"].eq(c.frames.ready),
            io["results_valid"].eq(c.results.valid), io["results_last"].eq(c.results.last),
            io["results_data"].eq(c.results.data), c.results.ready.eq(io["results_ready"]),
            c.clear_counters.eq(io["clear_counters"]),
            io["load_done"].eq(c.load_done), io["load_error"].eq(c.load_error), io["idle"].eq(c.idle),
            io["cycles"].eq(c.cycles), io["cnt_data"].eq(Array(flat)[io["cnt_sel"]]),
        ]


def verilog(cfg: AccelConfig) -> str:
    top = SimTop(cfg)
    return convert(top, ios=top.io, name="top")


_built: dict = {}          # (repr(cfg), trace, pgo) -> executable, for this process: no second Verilog conversion


def build(cfg: AccelConfig, trace: bool = False, profile=None) -> Path:
    """Verilate the core for `cfg` (cached by hash of the Verilog on disk, and by config in this process,
    so repeated calls, e.g. one per shard, convert the design once); returns the simulator executable.
    trace=True adds VCD support (the harness then writes $TB_VCD). profile=(load_words, frame_words) makes a
    profile-guided build trained on those frames (cached apart; which frames trained it changes its speed,
    not what it computes)."""
    memo = (repr(cfg), trace, profile is not None)
    if memo in _built and _built[memo].exists():
        return _built[memo]
    exe = _build(cfg, trace, profile)
    _built[memo] = exe
    return exe


def _verilate(tmp: Path, trace: bool, flags: list) -> None:
    cmd = VERILATOR + flags + ["top.v", str(HARNESS)] + (["--trace"] if trace else [])
    out = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"verilator failed in {tmp}:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")


def _build(cfg: AccelConfig, trace: bool, profile) -> Path:
    src = verilog(cfg)
    flags = PLAIN if profile is None else PGO_USE
    # the compile command is part of the key: a change of flags is a new build
    key = hashlib.sha256(src.encode() + HARNESS.read_bytes() + bytes([trace])
                         + repr(VERILATOR + flags).encode()).hexdigest()[:16]
    d = BUILD / key
    exe = d / "obj_dir" / "Vtop"
    if exe.exists():
        return exe
    tmp = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=BUILD.mkdir(parents=True, exist_ok=True) or BUILD))
    (tmp / "top.v").write_text(src)
    if profile is None:
        _verilate(tmp, trace, PLAIN)
    else:
        # gcc writes the .gcda profile next to each object file, so both builds happen in this folder
        _verilate(tmp, trace, PGO_GENERATE)
        load_words, frame_words = profile
        _write_input(tmp / "profile.bin", load_words, frame_words[:PROFILE_FRAMES], cfg)
        out = subprocess.run([str(tmp / "obj_dir" / "Vtop"), str(tmp / "profile.bin"), str(tmp / "profile.out")],
                             cwd=tmp, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"the instrumented simulator failed in {tmp}:\n{out.stderr[-3000:]}")
        for f in [tmp / "obj_dir" / "Vtop"] + list((tmp / "obj_dir").glob("*.[oa]")):
            f.unlink()
        _verilate(tmp, trace, PGO_USE)
    if d.exists():
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.rename(d)
    return exe


def _write_input(path: Path, load_words, frame_words: np.ndarray, cfg: AccelConfig, stall_pct: int = 0,
                 seed: int = 1, max_cycles_per_frame: int = 2_000_000) -> None:
    """The harness's input file: header, load image, frames (soc/accel/harness/tb.cpp reads it)."""
    n, fw = frame_words.shape
    hdr = np.array([IN_MAGIC, len(load_words), n, fw, cfg.result_words, len(cfg.layers), stall_pct, seed,
                    max_cycles_per_frame], np.uint32)
    path.write_bytes(hdr.tobytes() + np.asarray(load_words, np.uint32).tobytes()
                     + np.ascontiguousarray(frame_words, np.uint32).tobytes())


@dataclass
class SimResult:
    status: int                 # 0 ok, 1 load error, 2 timeout
    load_error: int
    readout: np.ndarray         # [N, classes] int64
    predictions: np.ndarray     # [N]
    done: np.ndarray            # completion cycle per frame (since counters were cleared)
    counters: list              # per layer {busy, stall, pairs, empty}
    cycles: int
    start: int

    shard_cycles_per_frame: float | None = None   # set when merged from parallel shards
    shard_latency: int | None = None
    shard_sizes: tuple = ()                        # frames per shard, when merged (done is their concatenation)

    @property
    def mean_interval_cycles(self) -> float:
        """The mean completion interval over every frame but the first of each shard: unlike the steady
        state (second half of each shard), it covers the same frames, all but `jobs`, whatever --jobs is."""
        sizes = self.shard_sizes or (len(self.done),)
        heads = np.cumsum((0,) + tuple(sizes))[:-1]
        spans = [int(self.done[h + k - 1] - self.done[h]) for h, k in zip(heads, sizes) if k >= 2]
        steps = sum(k - 1 for k in sizes if k >= 2)
        return float(sum(spans)) / steps if steps else float(self.latency_cycles)

    @property
    def latency_cycles(self) -> int:
        if self.shard_latency is not None:
            return self.shard_latency
        return int(self.done[0] - self.start) if len(self.done) else 0

    @property
    def cycles_per_frame(self) -> float:
        """Steady state: the mean completion interval over the second half of the run."""
        if self.shard_cycles_per_frame is not None:
            return self.shard_cycles_per_frame
        n = len(self.done)
        if n < 2:
            return float(self.latency_cycles)
        a = n // 2 if n >= 4 else 0
        return float(self.done[-1] - self.done[a]) / (n - 1 - a)


def simulate(cfg: AccelConfig, load_words, frame_words: np.ndarray, stall_pct: int = 0, seed: int = 1,
             max_cycles_per_frame: int = 2_000_000, progress=None, pgo: bool = False) -> SimResult:
    """Stream `load_words` then frames [N, frame_words] through the Verilated core (pgo: a profile-guided
    build, trained on the first PROFILE_FRAMES of these frames)."""
    exe = build(cfg, profile=(load_words, frame_words) if pgo else None)
    n = len(frame_words)
    rw, nl = cfg.result_words, len(cfg.layers)
    with tempfile.TemporaryDirectory(dir=BUILD) as td:
        fin, fout = Path(td) / "in.bin", Path(td) / "out.bin"
        _write_input(fin, load_words, frame_words, cfg, stall_pct, seed, max_cycles_per_frame)
        proc = subprocess.Popen([str(exe), str(fin), str(fout)], stdout=subprocess.PIPE, text=True)
        for line in proc.stdout:
            if line.startswith("progress") and progress is not None:
                progress(int(line.split()[1]))
        if proc.wait() != 0:
            raise RuntimeError(f"simulator {exe} exited with {proc.returncode}")
        out = np.frombuffer(fout.read_bytes(), np.uint32)
    status, lerr, nres = int(out[0]), int(out[1]), int(out[2])
    res = out[3:3 + nres].astype(np.int32).astype(np.int64)
    pos = 3 + nres
    done = out[pos:pos + 2 * n].astype(np.uint64)
    done = (done[0::2] | (done[1::2] << np.uint64(32))).astype(np.int64)
    pos += 2 * n
    cnt = out[pos:pos + 4 * nl].reshape(nl, 4)
    pos += 4 * nl
    cycles = int(out[pos]) | int(out[pos + 1]) << 32
    start = int(out[pos + 2]) | int(out[pos + 3]) << 32
    k = nres // rw
    rows = res[:k * rw].reshape(k, rw)
    return SimResult(status, lerr, rows[:, 1:], rows[:, 0], done[:k],
                     [dict(zip(COUNTERS, map(int, c))) for c in cnt], cycles, start)


def simulate_sharded(cfg, load_words, frame_words, jobs: int, progress=None, **kw) -> SimResult:
    """simulate() over `jobs` contiguous shards of the frames in parallel processes, merged."""
    from concurrent.futures import ThreadPoolExecutor
    jobs = max(1, min(jobs, len(frame_words)))
    shards = np.array_split(np.arange(len(frame_words)), jobs)
    done = [0] * jobs

    def run(i):
        def prog(k):
            done[i] = k
            if progress is not None:
                progress(sum(done))
        return simulate(cfg, load_words, frame_words[shards[i]], progress=prog, **kw)
    build(cfg, profile=(load_words, frame_words) if kw.get("pgo") else None)
    with ThreadPoolExecutor(jobs) as ex:
        parts = list(ex.map(run, range(jobs)))
    if jobs == 1:
        return parts[0]
    cpf = float(np.mean([p.cycles_per_frame for p in parts]))
    merged = SimResult(max(p.status for p in parts), max(p.load_error for p in parts),
                       np.concatenate([p.readout for p in parts]), np.concatenate([p.predictions for p in parts]),
                       np.concatenate([p.done for p in parts]),
                       [{k: sum(p.counters[l][k] for p in parts) for k in COUNTERS} for l in range(len(cfg.layers))],
                       sum(p.cycles for p in parts), parts[0].start)
    merged.shard_cycles_per_frame = cpf
    merged.shard_latency = parts[0].latency_cycles
    merged.shard_sizes = tuple(len(p.done) for p in parts)
    return merged


def parse_parallelism(text: str):
    try:
        par = [tuple(int(v) for v in item.split("x")) for item in text.split(",")]
    except ValueError:
        par = None
    if not par or any(len(p) != 2 or min(p) < 1 for p in par):
        raise ValueError(f"--parallelism {text!r}: expected PCOxPCI (positive integers) per layer, comma-separated")
    return par


def main(argv=None):
    ap = OneLineParser(prog="python -m soc.accel.rtlsim", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="model artifact (.ffs)")
    ap.add_argument("--dataset", required=True, choices=["mnist", "fashion-mnist", "cifar10", "dvs-gesture"])
    ap.add_argument("--split", default="test", choices=["train", "test"])
    ap.add_argument("--offset", type=int, default=0)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--parallelism", help="PCOxPCI per layer, e.g. 8x9,16x72 (default: balance() for --part)")
    ap.add_argument("--part", default=SIM_PART, choices=sorted(PARTS),
                    help=f"size the accelerator for this FPGA (default {SIM_PART}, like the litex_sim SoC)")
    ap.add_argument("--stall", type=int, default=0, help="random valid/ready stall percentage")
    ap.add_argument("--jobs", type=int, default=1, help=f"simulate this many frame shards in parallel (1..{MAX_JOBS})")
    ap.add_argument("--pgo", default="auto", choices=["auto", "on", "off"],
                    help=f"profile-guided Verilator build (auto: for {PGO_MIN_FRAMES} frames or more)")
    ap.add_argument("--json", help="write the result JSON here")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    for bad, why in ((args.offset < 0, f"--offset {args.offset}: must be >= 0"),
                     (args.limit is not None and args.limit < 1, f"--limit {args.limit}: must be >= 1"),
                     (not 0 <= args.stall < 100, f"--stall {args.stall}: must be in 0..99"),
                     (not 1 <= args.jobs <= MAX_JOBS, f"--jobs {args.jobs}: must be in 1..{MAX_JOBS}"),
                     (output_problem(args.json), f"--json {output_problem(args.json)}")):
        if bad:
            ap.error(why)
    try:
        par = parse_parallelism(args.parallelism) if args.parallelism else None
    except ValueError as e:
        ap.error(str(e))
    # artifact, data set and frame shape before the (minutes long) Verilator build
    try:
        model, images, labels = load_frames(args.model, args.dataset, args.split, args.offset, args.limit)
    except CLIError as e:
        ap.exit(1, f"error: {e}\n")
    try:
        # balanced on a few training frames of the same data set
        cfg = configure(model, par, budget=Budget.for_part(args.part), dataset=args.dataset)
    except (ArtifactError, ConfigError, ValueError) as e:
        ap.exit(1, f"error: {e}\n")
    words = framepack.pack(images, model.in_kind, model.timesteps)
    load_words = loadimage.build(model, cfg)
    pgo = args.pgo == "on" or (args.pgo == "auto" and len(images) >= PGO_MIN_FRAMES)
    print(f"rtlsim: parallelism {cfg.parallelism}; building{' with PGO' if pgo else ''} (cached under {BUILD})",
          flush=True)
    t0 = time.perf_counter()
    build(cfg, profile=(load_words, words) if pgo else None)
    t_build = time.perf_counter() - t0
    gp, gread, gstats = golden.run(model, images)
    bar = None
    if not args.no_progress:
        from tqdm import tqdm
        bar = tqdm(total=len(images), desc="rtl", unit="frame")
    last = [0]

    def progress(k):
        if bar is not None:
            bar.update(k - last[0])
            last[0] = k
    t1 = time.perf_counter()
    r = simulate_sharded(cfg, load_words, words, args.jobs, progress=progress, stall_pct=args.stall, pgo=pgo)
    t_sim = time.perf_counter() - t1
    if bar is not None:
        bar.update(len(r.predictions) - last[0])
        bar.close()
    n = len(images)
    ok = len(r.predictions) == n and r.status == 0
    agree = float(np.mean(r.predictions == gp)) if ok else 0.0
    exact = bool(ok and np.array_equal(r.readout, gread))
    from .balance import Stats, predict
    bounds = predict(model, cfg, gstats, n)
    pred = dict(predict(model, cfg, Stats(model, images[:16])), bound=bounds["bound"],
                detector_bound=bounds["detector_bound"])
    rep = {"model": args.model, "dataset": args.dataset, "split": args.split, "offset": args.offset, "n": n,
           "status": r.status, "load_error": r.load_error, "parallelism": cfg.parallelism,
           "predictions": r.predictions.tolist(), "agreement": agree, "readout_exact": exact,
           "accuracy": float(np.mean(r.predictions == labels)) if ok else 0.0,
           "cycles_per_frame": r.cycles_per_frame, "mean_interval_cycles": r.mean_interval_cycles,
           "latency_cycles": r.latency_cycles,
           "bound_cycles_per_frame": pred["bound"], "detector_bound_cycles_per_frame": pred["detector_bound"],
           "predicted_cycles_per_frame": pred["cycles"],
           "layers": [dict(c, layer=l.shape.token(), pairs_golden=s.matched_pairs, work_golden=s.work)
                      for c, l, s in zip(r.counters, cfg.layers, gstats)],
           "jobs": args.jobs, "pgo": pgo, "build_seconds": t_build, "sim_seconds": t_sim}
    print(f"rtlsim: {n} frames, status {r.status}, agreement {100 * agree:.2f}%, readout exact {exact}, "
          f"cycles/frame {r.cycles_per_frame:.0f} (bound {pred['bound']:.0f}, busiest detector "
          f"{pred['detector_bound']:.0f}; mean interval over all frames "
          f"{r.mean_interval_cycles:.0f}), latency {r.latency_cycles}, "
          f"sim {t_sim:.1f} s")
    if args.json:
        try:
            write_output(args.json, json.dumps(rep, indent=1))
        except CLIError as e:
            ap.exit(1, f"error: {e}\n")
    return 0 if ok and agree == 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
