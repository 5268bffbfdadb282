"""Host tool for the FireFly-S console firmware, over any pyserial URL.

    python -m sw.host --port socket://127.0.0.1:P console           # interactive (sim: serial2tcp)
    python -m sw.host --port /dev/ttyUSB1 run --build-dir build/arty/B --model M.ffs --limit 100 --upload
    python -m sw.host --port URL run --build-dir D --model M.ffs --limit 20      # data already in RAM
    python -m sw.host --port URL run --build-dir D --model M2.ffs --put          # send them to the firmware
    python -m sw.host --port URL upload --build-dir D --model M.ffs --limit 20   # BIOS serial boot only

`--build-dir` is a SoC build (csr.json + firmware/firmware.{bin,elf}): main RAM's base comes from
csr.json and the first free byte after the firmware from its ELF, so no address is typed by hand.

Every wait is bounded. The device's first answer (its prompt; with --upload the BIOS serial boot request,
so reset the board within it) must come within --answer-timeout (default 10 s); each later reply within
--timeout (default 600 s: a long batch), with a "still waiting" line on stderr every 30 s. A silent,
closed or foreign (HTTP, say) peer is one error line and exit 1; Ctrl-C exits 130; `console` ends at the
end of its input (Ctrl-D) with 0.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sw.cli import CLIError, OneLineParser, load_frames, output_problem, write_output

from .console import ANSWER_TIMEOUT, Console, HostError


def layout(build_dir: Path, blob_len: int):
    """(firmware bytes, main RAM base, model address, frames address) of a SoC build."""
    from soc.firmware_build import FirmwareError, elf_symbol
    try:
        csr = json.loads((build_dir / "csr.json").read_text())
        base = csr["memories"]["main_ram"]["base"]
    except OSError as e:
        raise HostError(f"{build_dir / 'csr.json'}: {e.strerror}: --build-dir must be a SoC build") from None
    except (ValueError, KeyError, TypeError):
        raise HostError(f"{build_dir / 'csr.json'}: not a LiteX csr.json with a main_ram") from None
    fw = build_dir / "firmware" / "firmware.bin"
    if not fw.exists():
        raise HostError(f"{fw} missing: build the SoC (and its firmware) first")
    try:
        end = elf_symbol(build_dir / "firmware" / "firmware.elf", "_end_of_image")
    except (FirmwareError, OSError) as e:
        raise HostError(str(e)) from None
    model_addr = (end + 4095) // 4096 * 4096
    frames_addr = (model_addr + blob_len + 4095) // 4096 * 4096
    return fw.read_bytes(), base, model_addr, frames_addr


@dataclass
class Prepared:
    """Everything of a run/upload that is checked before the port is opened."""
    model: object
    images: np.ndarray
    labels: np.ndarray
    frames: bytes
    firmware: bytes
    base: int
    model_addr: int
    frames_addr: int


def prepare(args) -> Prepared:
    """Artifact, data set, frame shapes, SoC build and --json path: the cheap checks, before any link."""
    from .frames import pack
    problem = output_problem(getattr(args, "json", None))
    if problem:
        raise HostError(f"--json {problem}")
    model, images, labels = load_frames(args.model, args.dataset, "test", args.offset, args.limit)
    fw, base, model_addr, frames_addr = layout(Path(args.build_dir), len(model.to_bytes()))
    return Prepared(model, images, labels, pack(model, images), fw, base, model_addr, frames_addr)


def cmd_upload(args, con: Console, p: Prepared) -> None:
    from .upload import serial_boot
    print(f"[host] waiting up to {args.answer_timeout:g} s for the BIOS serial boot request (reset the board)",
          file=sys.stderr)
    serial_boot(con, [(p.base, p.firmware), (p.model_addr, p.model.to_bytes()), (p.frames_addr, p.frames)], p.base,
                wait=args.answer_timeout)
    con.wait_prompt(timeout=args.timeout, boot=True)


def cmd_run(args, con: Console, p: Prepared) -> int:
    from sw import golden
    from . import session
    if args.upload:
        cmd_upload(args, con, p)
    else:
        con.write_line("")
        con.wait_prompt(timeout=args.answer_timeout)
    if args.put:
        from .upload import put
        for what, addr, data in (("model", p.model_addr, p.model.to_bytes()), ("frames", p.frames_addr, p.frames)):
            st = put(con, addr, data, timeout=args.timeout)
            print(f"[host] put {what}: {len(data)} bytes at 0x{addr:08x}, CRC-32 verified "
                  f"({st['resends']} frames resent, {st['attempts']} attempts)", file=sys.stderr)
    res = session.batch(con, p.model_addr, p.frames_addr, len(p.images), args.selftest, args.bench, args.timeout)
    gold, _, _ = golden.run(p.model, p.images)
    preds = np.asarray(res.predictions)
    out = {"n": len(p.images), "accuracy": float((preds == p.labels).mean()),
           "agreement": float((preds == gold).mean()), "cycles_per_frame": res.cycles_per_frame,
           "cpu_cycles_per_frame": res.bench.get("cpu_cycles_per_frame"), "selftest": res.selftest,
           "predictions": preds.tolist(), "layer_counters": res.stats}
    print(f"accuracy {100 * out['accuracy']:.2f}%, agreement with golden {100 * out['agreement']:.2f}%, "
          f"{res.cycles_per_frame} cycles/frame")
    if args.json:
        write_output(args.json, json.dumps(out, indent=1))
    return 0 if out["agreement"] == 1.0 else 1


def main(argv=None) -> int:
    ap = OneLineParser(prog="python -m sw.host", description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", required=True, help="pyserial URL: socket://127.0.0.1:P (sim) or /dev/ttyUSB1")
    ap.add_argument("--baudrate", type=int, default=115200)
    ap.add_argument("--answer-timeout", type=float, default=ANSWER_TIMEOUT,
                    help=f"longest wait for the device's first answer: its prompt, or with --upload the BIOS "
                         f"serial boot request (default {ANSWER_TIMEOUT:g} s)")
    ap.add_argument("--timeout", type=float, default=600.0,
                    help="longest wait for any later reply, e.g. a whole batch (default 600 s)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("console", help="interactive console, until the end of input (Ctrl-D)")
    for name in ("run", "upload"):
        p = sub.add_parser(name, help="run a data set slice" if name == "run" else "serial-boot firmware + data")
        p.add_argument("--build-dir", required=True, help="SoC build directory (csr.json, firmware/)")
        p.add_argument("--model", required=True, help="model artifact (.ffs)")
        p.add_argument("--dataset", default="mnist")
        p.add_argument("--offset", type=int, default=0)
        p.add_argument("--limit", type=int, default=20)
        if name == "run":
            how = p.add_mutually_exclusive_group()
            how.add_argument("--upload", action="store_true", help="serial-boot firmware, model and frames first")
            how.add_argument("--put", action="store_true", help="send model and frames to the running firmware "
                             "first (its `put`: CRC-checked frames with resends, no reboot)")
            p.add_argument("--selftest", type=int, default=1, help="frames for the selftest (0: skip)")
            p.add_argument("--bench", type=int, default=0, help="frames for an extra CPU bench (default 0: the selftest times the CPU reference)")
            p.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)
    if getattr(args, "limit", 1) < 1:
        ap.error(f"--limit {args.limit}: must be >= 1")
    if getattr(args, "offset", 0) < 0:
        ap.error(f"--offset {args.offset}: must be >= 0")
    if args.baudrate < 1 or not args.timeout > 0 or not args.answer_timeout > 0:
        ap.error("--baudrate, --timeout and --answer-timeout must be > 0")
    for name in ("selftest", "bench"):
        if getattr(args, name, 0) < 0:
            ap.error(f"--{name} {getattr(args, name)}: must be >= 0")
    try:
        prepared = None if args.cmd == "console" else prepare(args)
        with Console(args.port, args.baudrate, progress=lambda s: print(s, file=sys.stderr)) as con:
            if args.cmd == "console":
                con.interact(timeout=args.timeout, answer_timeout=args.answer_timeout)
                return 0
            if args.cmd == "upload":
                cmd_upload(args, con, prepared)
                return 0
            return cmd_run(args, con, prepared)
    except (HostError, CLIError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
