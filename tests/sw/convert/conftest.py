"""Shared pieces of the sw.convert tests: a few hundred real MNIST frames, the convert CLI run in-process,
and golden == RTL on a few frames (one Verilator build per converted model, small parallelism)."""
import json

import numpy as np
import pytest
import torch

N_TRAIN, N_TEST = 1000, 300


@pytest.fixture(scope="session")
def mnist():
    from sw.datasets import load
    tr, te = load("mnist", "train"), load("mnist", "test")
    return tr.images[:N_TRAIN], tr.labels[:N_TRAIN], te.images[:N_TEST], te.labels[:N_TEST]


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def convert(args, out):
    """python -m sw.convert ARGS --out OUT on the test's frames; returns (exit code, report or None)."""
    from sw.convert.__main__ import main
    rc = main(list(args) + ["--dataset", "mnist", "--out", str(out), "--train-limit", str(N_TRAIN),
                            "--test-limit", str(N_TEST), "--calib-frames", "256", "--threads", "1"])
    rep = out / "report.json"
    return rc, (json.loads(rep.read_text()) if rep.exists() else None)


def rtl_check(model_path, images):
    """Run the converted artifact on the Verilated accelerator; assert readouts == golden's. Returns the
    simulation result."""
    from sw import frames, golden
    from sw.artifact import Model
    from soc.accel import loadimage
    from soc.accel.config import AccelConfig
    from soc.accel.rtlsim import simulate
    m = Model.load(model_path)
    par = [(min(2, l.shape.co), min(9, l.shape.fan_in)) for l in m.layers]
    cfg = AccelConfig.from_model(m, par)
    r = simulate(cfg, loadimage.build(m, cfg), frames.pack(images, m.in_kind, m.timesteps))
    preds, readout, _ = golden.run(m, images)
    assert r.status == 0, f"simulation status {r.status}, load error {r.load_error}"
    assert np.array_equal(r.readout, readout), "RTL readout accumulators differ from the golden model"
    assert np.array_equal(r.predictions, preds)
    return r


def imported_float_predictions(net_ir, images, timesteps=4):
    """The imported float SpikingNet's predictions (before any quantization)."""
    from spikingjelly.activation_based import functional
    from sw.convert import mapping
    from sw.training.export import torch_input
    snet = mapping.to_net(net_ir, timesteps)
    with torch.no_grad():
        logits, _ = snet(torch_input(images, snet))
        functional.reset_net(snet)
    return logits.argmax(1).numpy()


@pytest.fixture(scope="session")
def run_convert():
    return convert


@pytest.fixture(scope="session")
def rtl():
    return rtl_check


@pytest.fixture(scope="session")
def float_preds():
    return imported_float_predictions
