"""Soak run in litex_sim: many consecutive real test frames through the console firmware and the
accelerator, with `reset` + `load` reloads of the model in between, every prediction checked against
the golden model (issue 14).

    rep = soak("artifacts/mnist-scnn5/model.ffs", "mnist", frames=200, reloads=1)
    rep["mismatches"] == 0

The frames sit in main RAM from the start (the RAM init); the firmware runs them in `run` batches of
`chunk` frames. Only one model fits a generated accelerator (Fashion-MNIST's SCNN5 has other widths and
T = 6), so each reload resets the accelerator and loads the same artifact again.
"""
from __future__ import annotations

import time

import numpy as np

from soc.sim_build import SimError, Simulation, build
from soc.sim_session import ram_layout


def plan(frames: int, chunk: int, reloads: int) -> list[tuple[int, int, bool]]:
    """[(first frame, count, reload before it)]: `reloads` reloads spread evenly, batches <= chunk."""
    cuts = sorted({frames * (i + 1) // (reloads + 1) for i in range(reloads)} - {0, frames})
    if len(cuts) != reloads:
        raise ValueError(f"{reloads} reloads do not fit between {frames} frames")
    out, edges = [], [0, *cuts, frames]
    for a, b in zip(edges, edges[1:]):
        for s in range(a, b, chunk):
            out.append((s, min(chunk, b - s), s == a and a > 0))
    return out


def soak(model_path, dataset: str = "mnist", frames: int = 200, reloads: int = 1, chunk: int = 100,
         offset: int = 0, cfg=None, timeout: float = 3600.0, log=print) -> dict:
    """Run the soak and return its report (frames, mismatches, agreement, accuracy, wall time, ...)."""
    from soc.accel_options import accel_config
    from sw import golden
    from sw.cli import load_frames
    from sw.host import session
    from sw.host.frames import frame_bytes, pack

    model, images, labels = load_frames(model_path, dataset, "test", offset, frames)
    if len(images) < frames:
        raise SimError(f"the {dataset} test split has only {len(images)} frames from --offset {offset}")
    steps = plan(frames, chunk, reloads)
    gold = np.asarray(golden.run(model, images)[0])
    cfg = cfg or accel_config(model)
    b = build(cfg, log=log)
    regions, model_addr, frames_addr = ram_layout(b, model.to_bytes(), pack(model, images))
    fb = frame_bytes(model)
    t0 = time.monotonic()
    preds, cycles, done_reloads = [], [], 0
    with Simulation(b, regions, log=None) as sim:
        con = sim.console
        boot = time.monotonic() - t0
        log(f"[soak] booted in {boot:.0f} s; {session.load(con, model_addr, timeout)}")
        for first, n, reload in steps:
            if reload:
                con.command("reset", alive=sim.alive)
                log(f"[soak] reload at frame {first}: {session.load(con, model_addr, timeout)}")
                done_reloads += 1
            p, _, per = session.run(con, frames_addr + first * fb, n, timeout)
            preds += p
            cycles.append(per)
            bad = int((np.asarray(preds) != gold[:len(preds)]).sum())
            log(f"[soak] {len(preds)}/{frames} frames, {per} cycles/frame in this batch, "
                f"{bad} mismatches so far, {time.monotonic() - t0:.0f} s")
        retried = con.retried
    preds = np.asarray(preds)
    return {"model": str(model_path), "dataset": dataset, "offset": offset, "frames": frames,
            "reloads": done_reloads, "batches": len(steps), "mismatches": int((preds != gold).sum()),
            "agreement": float((preds == gold).mean()), "accuracy": float((preds == labels).mean()),
            "cycles_per_frame": int(np.median(cycles)), "config": cfg.describe(), "boot_s": round(boot, 1),
            "seconds": round(time.monotonic() - t0, 1), "console_retries": retried, "sim_build": b.key}
