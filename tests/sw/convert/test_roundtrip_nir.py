"""snnTorch to NIR: a CSNN that downsamples with stride-2 convolutions (NIR has no max-pool), trained here on
1,000 real MNIST frames with snnTorch, written with snntorch.export_to_nir + nir.write, converted with
python -m sw.convert --nir, and run on the golden model and the Verilated accelerator."""
import numpy as np
import pytest
import torch

from sw.convert import examples, pipeline


@pytest.fixture(scope="module")
def exported(mnist, tmp_path_factory):
    torch.set_num_threads(1)
    xtr, ytr, xte, yte = mnist
    net = examples.train(examples.snntorch_net("strided", per_neuron_params=True), xtr, ytr, epochs=4, lr=5e-3)
    path = tmp_path_factory.mktemp("nir") / "csnn.nir"
    examples.export_nir(net, path)
    return path, examples.predict(net, xte)


def test_import_is_exact(exported, mnist, float_preds):
    path, src = exported
    net_ir, source = pipeline.read_source(nir_path=path)
    assert source is None and net_ir.exact
    assert pipeline.mapping_report(net_ir)["notation"] == "1x28x28-8c3s2p1-16c3s2p1-10fc"
    ours = float_preds(net_ir, mnist[2])
    assert np.array_equal(ours, src), f"imported float differs from snnTorch on {(ours != src).sum()} frames"


def test_deploy_and_rtl(exported, mnist, tmp_path, run_convert, rtl):
    path, src = exported
    src_acc = float((src == mnist[3]).mean())
    rc, rep = run_convert(["--nir", str(path)], tmp_path)
    assert rc == 0 and rep["kind"] == "nir"
    assert rep["float"]["imported_float_acc"] == pytest.approx(src_acc)
    assert src_acc > 0.6, f"the source model itself learned too little ({src_acc:.3f})"
    assert rep["deployed_acc"] > 0.6 and rep["deployed_acc"] >= src_acc - 0.05, rep["deployed_acc"]
    rtl(tmp_path / "model.ffs", mnist[2][:8])


def test_spikingjelly_nir_exchange_is_exact(mnist, tmp_path, float_preds):
    """spikingjelly's own NIR export (activation_based.nir_exchange.export_to_nir, LIFNode(tau=2) and IFNode
    with stride-2 convolutions), trained here: the imported float net predicts as spikingjelly does."""
    from spikingjelly.activation_based import functional
    from spikingjelly.activation_based.nir_exchange import export_to_nir
    xtr, ytr, xte, yte = mnist
    net = examples.train(examples.spikingjelly_net("strided"), xtr, ytr, epochs=4, lr=5e-3)
    src = examples.predict(net, xte)
    path = tmp_path / "sj.nir"
    functional.set_step_mode(net, "s")
    export_to_nir(net, torch.zeros(1, 1, 28, 28), save_path=str(path))
    net_ir, _ = pipeline.read_source(nir_path=path)
    assert net_ir.exact and [l.leak for l in net_ir.layers[:2]] == [True, False]
    assert float((src == yte).mean()) > 0.6
    ours = float_preds(net_ir, xte)
    assert np.array_equal(ours, src), f"imported float differs from spikingjelly on {(ours != src).sum()} frames"
