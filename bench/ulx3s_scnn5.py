"""Benchmark: the whole ULX3S SoC with the committed SCNN5 accelerator through the open ECP5 flow.

    .venv/bin/python bench/ulx3s_scnn5.py [--device LFE5U-85F] [--frames 20] [--json OUT] [--reuse] [--no-synth]

1. `soc/targets/ulx3s.py --model M --build` (default parallelism: soc.accel.balance for the device):
   bitstream + routed report (utilisation, routed Fmax of sys and accel, critical paths, wall time);
2. `python -m soc.accel.rtlsim --parallelism <that build's> --limit N`: steady-state cycles/frame on real
   MNIST test frames, agreement with the golden model;
3. `python -m soc.accel.synth --part <device> --parallelism <same>`: the accelerator alone in LUT4 sites
   (yosys synth_ecp5), for the area-time LUT4 x cycles/frame.
Then FPS at the routed accelerator clock. Each step runs as its own command (logged under the output
folder); --reuse keeps a step's JSON when it is already there. Hours at most on 2 cores; not a CI test.
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PART = {"LFE5U-85F": "lfe5u-85", "LFE5U-45F": "lfe5u-45"}


def step(name, cmd, out: Path, log: Path, reuse: bool):
    if reuse and out.exists():
        print(f"[bench] {name}: reusing {out}")
        return json.loads(out.read_text())
    print(f"[bench] {name}: {' '.join(cmd)} (log {log})", flush=True)
    t0 = time.perf_counter()
    with open(log, "w") as f:
        r = subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        sys.exit(f"error: {name} failed (exit {r.returncode}); see {log}")
    print(f"[bench] {name}: {time.perf_counter() - t0:.0f} s", flush=True)
    return json.loads(out.read_text())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="artifacts/mnist-scnn5/model.ffs")
    ap.add_argument("--device", default="LFE5U-85F", choices=sorted(PART))
    ap.add_argument("--frames", type=int, default=20, help="MNIST test frames through the RTL")
    ap.add_argument("--out", default=None, help="work folder (default build/ulx3s/<device>)")
    ap.add_argument("--reuse", action="store_true", help="keep the JSON of steps already done")
    ap.add_argument("--no-synth", action="store_true", help="skip step 3: the accelerator's LUT4 is then the "
                    "whole SoC's TRELLIS_COMB minus soc.accel.balance.ECP5_SOC_LUT4 (an estimate)")
    ap.add_argument("--json", default=None, help="write the summary here (default <out>/bench.json)")
    args = ap.parse_args()
    out = Path(args.out or ROOT / "build" / "ulx3s" / args.device)
    out.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    rep = step("build", [py, "soc/targets/ulx3s.py", "--model", args.model, "--device", args.device, "--build",
                         "--output-dir", str(out)], out / "ulx3s_report.json", out / "build.log", args.reuse)
    par = ",".join(f"{a}x{b}" for a, b in rep["parallelism"])
    sim = step("rtlsim", [py, "-m", "soc.accel.rtlsim", "--model", args.model, "--dataset", "mnist", "--parallelism",
                          par, "--limit", str(args.frames), "--json", str(out / "rtlsim.json")],
               out / "rtlsim.json", out / "rtlsim.log", args.reuse)
    cycles = sim["cycles_per_frame"]
    accel_mhz = rep["clocks"]["accel"]["fmax_mhz"]
    res = {"device": args.device, "parallelism": par, "report": rep, "frames": args.frames,
           "agreement": sim.get("agreement"), "readout_exact": sim.get("readout_exact"),
           "cycles_per_frame": cycles, "latency_cycles": sim.get("latency_cycles"),
           "fps_at_routed_accel_clock": accel_mhz * 1e6 / cycles}
    if args.no_synth:
        from soc.accel.balance import ECP5_SOC_DP16KD, ECP5_SOC_LUT4
        lut4 = rep["utilisation"]["lut4"]["used"] - ECP5_SOC_LUT4
        res.update(accel_lut4=lut4, accel_lut4_source=f"whole SoC TRELLIS_COMB - ECP5_SOC_LUT4 ({ECP5_SOC_LUT4})",
                   accel_dp16kd=rep["utilisation"]["dp16kd"]["used"] - ECP5_SOC_DP16KD)
    else:
        syn = step("synth", [py, "-m", "soc.accel.synth", "--model", args.model, "--part", PART[args.device],
                             "--parallelism", par, "--json", str(out / "accel_synth.json")],
                   out / "accel_synth.json", out / "accel_synth.log", args.reuse)
        res.update(accel_lut4=syn["trellis_comb"], accel_lut4_source="synth_ecp5 + nextpnr --pack-only",
                   accel_lut4_yosys=syn["lut4"], accel_dp16kd=syn["dp16kd"], accel_ff=syn["ff"])
    res["area_time_lut4_cycles"] = res["accel_lut4"] * cycles
    u = rep["utilisation"]
    print(f"{args.device} SoC, accelerator {par}: {u['lut4']['used']} / {u['lut4']['available']} TRELLIS_COMB "
          f"({u['lut4']['percent']}%), {u['ff']['used']} FF, {u['dp16kd']['used']} / {u['dp16kd']['available']} DP16KD, "
          f"{u['mult18']['used']} MULT18")
    for dom, c in rep["clocks"].items():
        print(f"  {dom}: routed Fmax {c['fmax_mhz']} MHz at target {c['target_mhz']} MHz: {c['verdict']}")
    print(f"RTL ({args.frames} MNIST frames): {cycles:.0f} cycles/frame, agreement {res['agreement']}; "
          f"{res['fps_at_routed_accel_clock']:.0f} FPS at the routed {accel_mhz} MHz")
    print(f"accelerator: {res['accel_lut4']} TRELLIS_COMB ({res['accel_lut4_source']}), {res['accel_dp16kd']} DP16KD; "
          f"area-time {res['area_time_lut4_cycles']:.3g} LUT4 x cycles/frame")
    Path(args.json or out / "bench.json").write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
