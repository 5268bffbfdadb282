"""A spikingjelly CSNN (conv-BN-LIF(tau=2)-max-pool, conv-IF-max-pool, linear readout) trained here on
1,000 real MNIST frames with spikingjelly's own multi-step loop, saved whole with torch.save, converted with
python -m sw.convert, and run on the golden model and the Verilated accelerator."""
import numpy as np
import pytest
import torch

from sw.convert import examples, pipeline


@pytest.fixture(scope="module")
def trained(mnist, tmp_path_factory):
    torch.set_num_threads(1)
    xtr, ytr, xte, yte = mnist
    net = examples.train(examples.spikingjelly_net("small"), xtr, ytr, epochs=4, lr=5e-3)
    path = tmp_path_factory.mktemp("sj") / "csnn.pt"
    torch.save(net, path)
    return path, examples.predict(net, xte)


def test_import_is_exact(trained, mnist, float_preds):
    path, src = trained
    net_ir, _ = pipeline.read_source(torch_path=path)
    assert net_ir.exact and pipeline.mapping_report(net_ir)["notation"] == "1x28x28-8c3p1-mp2-16c3p1-mp2-10fc"
    assert [l.leak for l in net_ir.layers[:2]] == [True, False]           # LIFNode, IFNode
    assert net_ir.layers[0].folded                                          # the BatchNorm
    ours = float_preds(net_ir, mnist[2])
    assert np.array_equal(ours, src), f"imported float differs from spikingjelly on {(ours != src).sum()} frames"


def test_deploy_and_rtl(trained, mnist, tmp_path, run_convert, rtl):
    path, src = trained
    yte = mnist[3]
    src_acc = float((src == yte).mean())
    rc, rep = run_convert(["--torch", str(path)], tmp_path)
    assert rc == 0
    assert rep["float"]["agreement"] == 1.0 and rep["float"]["source_acc"] == pytest.approx(src_acc)
    assert rep["whole_test_set"] is False and rep["export_check"] == {"frames": len(yte), "mismatches": 0}
    assert src_acc > 0.6, f"the source model itself learned too little ({src_acc:.3f})"
    assert rep["deployed_acc"] > 0.6 and rep["deployed_acc"] >= src_acc - 0.05, rep["deployed_acc"]
    rtl(tmp_path / "model.ffs", mnist[2][:8])
