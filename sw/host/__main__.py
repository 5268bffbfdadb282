"""Host tool for the FireFly-S console firmware, over any pyserial URL.

    python -m sw.host --port socket://127.0.0.1:P console           # interactive (sim: serial2tcp)
    python -m sw.host --port /dev/ttyUSB1 run --build-dir build/arty/B --model M.ffs --limit 100 --upload
    python -m sw.host --port URL run --build-dir D --model M.ffs --limit 20      # data already in RAM
    python -m sw.host --port URL upload --build-dir D --model M.ffs --limit 20   # BIOS serial boot only

`--build-dir` is a SoC build (csr.json + firmware/firmware.{bin,elf}): main RAM's base comes from
csr.json and the first free byte after the firmware from its ELF, so no address is typed by hand.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from .console import Console, HostError


def layout(build_dir: Path, blob_len: int):
    """(firmware bytes, main RAM base, model address, frames address) of a SoC build."""
    from soc.firmware_build import CROSS_PREFIX, _symbol  # noqa: F401
    csr = json.loads((build_dir / "csr.json").read_text())
    base = csr["memories"]["main_ram"]["base"]
    fw = build_dir / "firmware" / "firmware.bin"
    if not fw.exists():
        raise HostError(f"{fw} missing: build the SoC (and its firmware) first")
    end = _symbol(build_dir / "firmware" / "firmware.elf", "_end_of_image")
    model_addr = (end + 4095) // 4096 * 4096
    frames_addr = (model_addr + blob_len + 4095) // 4096 * 4096
    return fw.read_bytes(), base, model_addr, frames_addr


def _data(args):
    from sw.artifact import Model
    from sw.datasets import load
    from .frames import pack
    model = Model.load(args.model)
    ds = load(args.dataset, "test")
    if not 0 <= args.offset < len(ds.images):
        raise HostError(f"--offset {args.offset}: the test split has {len(ds.images)} frames")
    images = ds.images[args.offset:args.offset + args.limit]
    labels = np.asarray(ds.labels[args.offset:args.offset + args.limit])
    return model, images, labels, pack(model, images)


def cmd_upload(args, con: Console):
    from .upload import serial_boot
    model, images, labels, frames = _data(args)
    blob = model.to_bytes()
    fw, base, model_addr, frames_addr = layout(Path(args.build_dir), len(blob))
    serial_boot(con, [(base, fw), (model_addr, blob), (frames_addr, frames)], base, wait=args.timeout)
    con.wait_prompt(timeout=args.timeout, boot=True)
    return model, images, labels, model_addr, frames_addr


def cmd_run(args, con: Console) -> int:
    from sw import golden
    from . import session
    if args.upload:
        model, images, labels, model_addr, frames_addr = cmd_upload(args, con)
    else:
        model, images, labels, _ = _data(args)
        _, _, model_addr, frames_addr = layout(Path(args.build_dir), len(model.to_bytes()))
        con.write_line("")
        con.wait_prompt(timeout=args.timeout)
    res = session.batch(con, model_addr, frames_addr, len(images), args.selftest, args.bench, args.timeout)
    gold, _, _ = golden.run(model, images)
    preds = np.asarray(res.predictions)
    out = {"n": len(images), "accuracy": float((preds == labels).mean()),
           "agreement": float((preds == gold).mean()), "cycles_per_frame": res.cycles_per_frame,
           "cpu_cycles_per_frame": res.bench.get("cpu_cycles_per_frame"), "selftest": res.selftest,
           "predictions": preds.tolist(), "layer_counters": res.stats}
    print(f"accuracy {100 * out['accuracy']:.2f}%, agreement with golden {100 * out['agreement']:.2f}%, "
          f"{res.cycles_per_frame} cycles/frame")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0 if out["agreement"] == 1.0 else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sw.host", description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", required=True, help="pyserial URL: socket://127.0.0.1:P (sim) or /dev/ttyUSB1")
    ap.add_argument("--baudrate", type=int, default=115200)
    ap.add_argument("--timeout", type=float, default=600.0, help="longest wait for any reply, seconds")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("console", help="interactive console")
    for name in ("run", "upload"):
        p = sub.add_parser(name, help="run a data set slice" if name == "run" else "serial-boot firmware + data")
        p.add_argument("--build-dir", required=True, help="SoC build directory (csr.json, firmware/)")
        p.add_argument("--model", required=True, help="model artifact (.ffs)")
        p.add_argument("--dataset", default="mnist")
        p.add_argument("--offset", type=int, default=0)
        p.add_argument("--limit", type=int, default=20)
        if name == "run":
            p.add_argument("--upload", action="store_true", help="serial-boot firmware, model and frames first")
            p.add_argument("--selftest", type=int, default=1, help="frames for the selftest (0: skip)")
            p.add_argument("--bench", type=int, default=0, help="frames for an extra CPU bench (default 0: the selftest times the CPU reference)")
            p.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)
    if getattr(args, "limit", 1) < 1:
        ap.error(f"--limit {args.limit}: must be >= 1")
    try:
        with Console(args.port, args.baudrate) as con:
            if args.cmd == "console":
                con.interact()
                return 0
            if args.cmd == "upload":
                cmd_upload(args, con)
                return 0
            return cmd_run(args, con)
    except HostError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
