"""What python -m sw.convert refuses: every source layer that our LIF/IF + OR max-pool + fc readout cannot
compute exactly (or, with --approximate, within a stated approximation), bad files and bad options. Each is
one error line naming the layer and the reason, exit code 2, before any data is loaded. The networks are
untrained (refusal depends on the structure, not the weights)."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn

ROOT = Path(__file__).resolve().parents[3]


def refused(capsys, args, fragment, tmp_path):
    from sw.convert.__main__ import main
    with pytest.raises(SystemExit) as e:
        main(list(args) + ["--dataset", "mnist", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert e.value.code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert fragment in lines[0], lines[0]
    assert not (tmp_path / "out" / "model.ffs").exists()
    return lines[0]


def save(net, tmp_path, name="m.pt"):
    p = tmp_path / name
    torch.save(net, p)
    return p


def sj(*mods):
    from spikingjelly.activation_based import layer
    return nn.Sequential(layer.Conv2d(1, 4, 3, padding=1), *mods, layer.Flatten(), layer.Linear(4 * 28 * 28, 10))


def leaky(**kw):
    import snntorch as snn
    kw.setdefault("reset_mechanism", "zero")
    m = snn.Leaky(init_hidden=True, **kw)
    m.spike_grad = snn.surrogate.Heaviside.apply          # picklable
    return m


def snn_net(neuron):
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), neuron, nn.Flatten(), nn.Linear(4 * 28 * 28, 10))


def sj_cases():
    from spikingjelly.activation_based import neuron
    return [
        ("sj tau 3", lambda: sj(neuron.LIFNode(tau=3.0, v_reset=0.0)), "1 (LIFNode): LIFNode tau=3"),
        ("sj soft reset", lambda: sj(neuron.IFNode(v_reset=None)), "1 (IFNode): soft reset"),
        ("sj v_reset 0.5", lambda: sj(neuron.LIFNode(v_reset=0.5)), "v_reset=0.5"),
        ("sj PLIF", lambda: sj(neuron.ParametricLIFNode(v_reset=0.0)), "learnable time constant"),
        ("sj BN after the neuron", lambda: sj(neuron.IFNode(v_reset=0.0), nn.BatchNorm2d(4)),
         "2 (BatchNorm2d): batch norm not directly after"),
        ("sj avg-pool", lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), neuron.IFNode(v_reset=0.0),
                                              nn.AvgPool2d(2), nn.Flatten(), nn.Linear(4 * 14 * 14, 10)),
         "2 (AvgPool2d): average or sum pooling"),
        ("sj max-pool 3", lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), neuron.IFNode(v_reset=0.0),
                                                nn.MaxPool2d(3), nn.Flatten(), nn.Linear(4 * 9 * 9, 10)),
         "2 (MaxPool2d): max-pool kernel 3"),
        ("sj pool before neuron", lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.MaxPool2d(2),
                                                        neuron.IFNode(v_reset=0.0), nn.Flatten(),
                                                        nn.Linear(4 * 14 * 14, 10)),
         "1 (MaxPool2d): max-pool of membrane currents before the neuron"),
        ("sj output neuron", lambda: nn.Sequential(*sj(neuron.IFNode(v_reset=0.0)), neuron.IFNode(v_reset=0.0)),
         "4 (IFNode): output neuron"),
        ("sj no neuron", lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Flatten(),
                                               nn.Linear(4 * 28 * 28, 10)),
         "2 (Linear): follows 0 (Conv2d) without a spiking neuron"),
        ("sj dilation", lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=2, dilation=2), neuron.IFNode(v_reset=0.0),
                                              nn.Flatten(), nn.Linear(4 * 28 * 28, 10)), "dilated convolution"),
        ("sj ReLU", lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(),
                                          nn.Linear(4 * 28 * 28, 10)), "1 (ReLU): unsupported layer"),
        ("wrong input", lambda: nn.Sequential(nn.Conv2d(3, 4, 3), neuron.IFNode(v_reset=0.0), nn.Flatten(),
                                              nn.Linear(4 * 26 * 26, 10)), "takes 3 input channels, gets 1"),
    ]


def snn_cases():
    import snntorch as snn
    rl = snn.RLeaky(beta=0.5, linear_features=10, init_hidden=True, reset_mechanism="zero")
    rl.spike_grad = snn.surrogate.Heaviside.apply
    return [
        ("snn subtract", lambda: snn_net(leaky(beta=0.5, reset_mechanism="subtract")), "1 (Leaky): soft reset"),
        ("snn beta 0.9", lambda: snn_net(leaky(beta=0.9)), "1 (Leaky): beta=0.9"),
        ("snn per-neuron threshold", lambda: snn_net(leaky(beta=0.5, threshold=torch.rand(4, 28, 28) + 0.5)),
         "per-neuron threshold"),
        ("snn per-neuron beta", lambda: snn_net(leaky(beta=torch.rand(4, 28, 28))), "beta differs between neurons"),
        ("snn recurrent", lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 10), rl, nn.Linear(10, 10)),
         "2 (RLeaky): snnTorch RLeaky is not mapped (recurrent)"),
        ("snn negative threshold", lambda: snn_net(leaky(beta=0.5, threshold=-1.0)), "negative threshold"),
    ]


@pytest.mark.parametrize("case", range(13))
def test_spikingjelly_refusals(case, capsys, tmp_path):
    _, make, fragment = sj_cases()[case]
    refused(capsys, ["--torch", str(save(make(), tmp_path))], fragment, tmp_path)


@pytest.mark.parametrize("case", range(6))
def test_snntorch_refusals(case, capsys, tmp_path):
    _, make, fragment = snn_cases()[case]
    refused(capsys, ["--torch", str(save(make(), tmp_path))], fragment, tmp_path)


def test_approximations_are_named_and_accepted(tmp_path):
    """--approximate takes max-pool before the neuron and an output neuron, and names both."""
    from spikingjelly.activation_based import neuron
    from sw.convert import pipeline
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.MaxPool2d(2), neuron.IFNode(v_reset=0.0), nn.Flatten(),
                        nn.Linear(4 * 14 * 14, 10), neuron.IFNode(v_reset=0.0))
    p = save(net, tmp_path)
    net_ir, _ = pipeline.read_source(torch_path=p, approximate=True)
    assert not net_ir.exact and len(net_ir.notes) == 2
    assert "before the neuron" in net_ir.notes[0] and "output neuron" in net_ir.notes[1]
    assert net_ir.layers[0].pool and net_ir.layers[-1].neuron is None


def nir_graph(nodes, edges):
    import nir
    return nir.NIRGraph(nodes=nodes, edges=edges)


def nir_cases():
    import nir
    w = np.random.default_rng(0).normal(size=(4, 1, 3, 3)).astype(np.float32)
    conv = lambda s=1: nir.Conv2d(input_shape=(28, 28), weight=w, stride=s, padding=1, dilation=1, groups=1,  # noqa: E731
                                  bias=np.zeros(4, np.float32))
    S = (4, 28, 28)
    lif = lambda tau=2e-4, r=2.0: nir.LIF(tau=np.full(S, tau), r=np.full(S, r), v_leak=np.zeros(S),  # noqa: E731
                                          v_threshold=np.ones(S), v_reset=np.zeros(S))
    fc = lambda n: nir.Affine(weight=np.zeros((10, n), np.float32), bias=np.zeros(10, np.float32))  # noqa: E731
    inp, outp = nir.Input(input_type=np.array([1, 28, 28])), nir.Output(output_type=np.array([10]))
    chain = lambda *ns: [(a, b) for a, b in zip(ns, ns[1:])]  # noqa: E731
    cuba = nir.CubaLIF(tau_syn=np.full(S, 4e-4), tau_mem=np.full(S, 2e-4), r=np.full(S, 2.0), v_leak=np.zeros(S),
                       v_threshold=np.ones(S), v_reset=np.zeros(S), w_in=np.ones(S))
    return [
        ("avg-pool", {"input": inp, "c": conv(), "n": lif(), "p": nir.AvgPool2d(kernel_size=np.array([2, 2]),
                                                                                        stride=np.array([2, 2]),
                                                                                        padding=np.array([0, 0])),
                               "f": nir.Flatten(start_dim=0, input_type={"input": np.array([4, 14, 14])}), "l": fc(784),
                               "output": outp},
         chain("input", "c", "n", "p", "f", "l", "output"), "p (AvgPool2d): sum or average pooling"),
        ("recurrent", {"input": inp, "c": conv(), "n": lif(), "f": nir.Flatten(start_dim=0, input_type={"input": np.array([4, 28, 28])}),
                       "l": fc(3136), "output": outp},
         chain("input", "c", "n", "f", "l", "output") + [("n", "n")], "recurrent"),
        ("leak", {"input": inp, "c": conv(), "n": lif(tau=1e-3), "f": nir.Flatten(start_dim=0, input_type={"input": np.array([4, 28, 28])}),
                  "l": fc(3136), "output": outp},
         chain("input", "c", "n", "f", "l", "output"), "n (LIF): leak dt/tau = 0.1"),
        ("cuba", {"input": inp, "c": conv(), "n": cuba, "f": nir.Flatten(start_dim=0, input_type={"input": np.array([4, 28, 28])}),
                  "l": fc(3136), "output": outp},
         chain("input", "c", "n", "f", "l", "output"), "does not reduce to our LIF"),
    ]


@pytest.mark.parametrize("case", range(4))
def test_nir_refusals(case, capsys, tmp_path):
    import nir
    _, nodes, edges, fragment = nir_cases()[case]
    p = tmp_path / "g.nir"
    nir.write(str(p), nir_graph(nodes, edges))
    refused(capsys, ["--nir", str(p)], fragment, tmp_path)


def test_nir_cubalif_that_reduces_is_accepted(tmp_path):
    """A CubaLIF whose synapse passes its input through in one step (tau_syn = dt) is our LIF."""
    import nir
    from sw.convert import pipeline
    _, nodes, edges, _ = nir_cases()[3]
    n = nodes["n"]
    nodes["n"] = nir.CubaLIF(tau_syn=np.full((4, 28, 28), 1e-4), tau_mem=n.tau_mem, r=n.r, v_leak=n.v_leak,
                             v_threshold=n.v_threshold, v_reset=n.v_reset, w_in=n.w_in)
    p = tmp_path / "g.nir"
    nir.write(str(p), nir_graph(nodes, edges))
    net_ir, _ = pipeline.read_source(nir_path=p)
    assert net_ir.exact and net_ir.layers[0].leak
    assert np.allclose(net_ir.layers[0].weight, 2 * nodes["c"].weight)      # the gain 2 of v/2 + I


BAD_FILES = [
    ("missing", None, "no such file"),
    ("empty", b"", "empty file"),
    ("random", bytes(np.random.default_rng(1).integers(0, 256, 3000, dtype=np.uint8)), "not a saved torch module"),
]


@pytest.mark.parametrize("case", range(3))
def test_bad_torch_files(case, capsys, tmp_path):
    _, data, fragment = BAD_FILES[case]
    p = tmp_path / "bad.pt"
    if data is not None:
        p.write_bytes(data)
    refused(capsys, ["--torch", str(p)], fragment, tmp_path)


def test_state_dict_is_refused(capsys, tmp_path):
    p = tmp_path / "sd.pt"
    torch.save(nn.Linear(784, 10).state_dict(), p)
    refused(capsys, ["--torch", str(p)], "holds a state dict, not a module", tmp_path)


def test_bad_nir_file(capsys, tmp_path):
    p = tmp_path / "bad.nir"
    p.write_bytes(b"not hdf5 at all")
    refused(capsys, ["--nir", str(p)], "not a NIR graph", tmp_path)


@pytest.mark.parametrize("args,fragment", [
    (["--target-sparsity", "1"], "--target-sparsity 1.0: must be in [0, 1)"),
    (["--timesteps", "0"], "--timesteps 0: must be in 1..64"),
    (["--finetune-epochs", "-1"], "--finetune-epochs -1: must be >= 0"),
    (["--lr", "nan"], "--lr nan"),
    (["--nir", "x.nir"], "not allowed with argument"),
])
def test_bad_options(args, fragment, capsys, tmp_path):
    refused(capsys, ["--torch", "x.pt"] + args, fragment, tmp_path)


def test_the_real_command_prints_one_line(tmp_path):
    """As a subprocess: no traceback, one line, exit 2."""
    p = tmp_path / "bad.pt"
    p.write_bytes(b"\x00" * 100)
    r = subprocess.run([sys.executable, "-m", "sw.convert", "--torch", str(p), "--dataset", "mnist", "--out",
                        str(tmp_path / "o")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    lines = [l for l in r.stderr.splitlines() if "Triton" not in l]
    assert r.returncode == 2 and len(lines) == 1 and "not a saved torch module" in lines[0], r.stderr


def test_nir_mlp_with_a_flat_input(tmp_path):
    """An MLP graph whose Input is the flattened frame ([784]) maps onto 1x28x28-20fc-10fc."""
    import nir
    from sw.convert import pipeline
    S = (20,)
    rng = np.random.default_rng(2)
    g = nir.NIRGraph(nodes={
        "input": nir.Input(input_type=np.array([784])),
        "a": nir.Affine(weight=rng.normal(size=(20, 784)).astype(np.float32), bias=np.zeros(20, np.float32)),
        "n": nir.LIF(tau=np.full(S, 2e-4), r=np.full(S, 2.0), v_leak=np.zeros(S), v_threshold=np.ones(S),
                     v_reset=np.zeros(S)),
        "b": nir.Affine(weight=rng.normal(size=(10, 20)).astype(np.float32), bias=np.zeros(10, np.float32)),
        "output": nir.Output(output_type=np.array([10]))},
        edges=[("input", "a"), ("a", "n"), ("n", "b"), ("b", "output")])
    p = tmp_path / "mlp.nir"
    nir.write(str(p), g)
    net_ir, _ = pipeline.read_source(nir_path=p)
    assert net_ir.exact and pipeline.mapping_report(net_ir)["notation"] == "1x28x28-20fc-10fc"
