"""An snnTorch CSNN (conv-Leaky(beta=0.5, reset 'zero')-max-pool x2, linear readout, init_hidden) trained
here on 1,000 real MNIST frames with snnTorch's own step loop, saved whole with torch.save, converted with
python -m sw.convert (pruned; and fine-tuned for one epoch), and run on the golden model and the
Verilated accelerator."""
import numpy as np
import pytest
import torch

from sw.convert import examples, pipeline


@pytest.fixture(scope="module")
def trained(mnist, tmp_path_factory):
    torch.set_num_threads(1)
    xtr, ytr, xte, yte = mnist
    net = examples.train(examples.snntorch_net("small"), xtr, ytr, epochs=4, lr=5e-3)
    path = tmp_path_factory.mktemp("snn") / "csnn.pt"
    torch.save(examples.picklable(net), path)
    return path, examples.predict(net, xte)


def test_import_is_exact(trained, mnist, float_preds):
    path, src = trained
    net_ir, _ = pipeline.read_source(torch_path=path)
    assert net_ir.exact and pipeline.mapping_report(net_ir)["notation"] == "1x28x28-8c3p1-mp2-16c3p1-mp2-10fc"
    ours = float_preds(net_ir, mnist[2])
    assert np.array_equal(ours, src), f"imported float differs from snnTorch on {(ours != src).sum()} frames"


def test_deploy_pruned_and_rtl(trained, mnist, tmp_path, run_convert, rtl):
    """One-shot magnitude pruning to 50 % (no fine-tuning), then golden == RTL."""
    path, src = trained
    src_acc = float((src == mnist[3]).mean())
    rc, rep = run_convert(["--torch", str(path), "--target-sparsity", "0.5"], tmp_path)
    assert rc == 0
    assert rep["float"]["agreement"] == 1.0
    assert src_acc > 0.6, f"the source model itself learned too little ({src_acc:.3f})"
    assert rep["weight_sparsity"] >= 0.5, rep["weight_sparsity"]
    assert rep["deployed_acc"] > 0.6, rep["deployed_acc"]
    rtl(tmp_path / "model.ffs", mnist[2][:8])


def test_finetune(trained, mnist, tmp_path, run_convert):
    """--finetune-epochs runs the joint LSQ + Grad R phase from the imported, quantized weights."""
    path, _ = trained
    rc, rep = run_convert(["--torch", str(path), "--finetune-epochs", "1", "--batch", "32"], tmp_path)
    assert rc == 0
    assert rep["finetune"]["epochs"] == 1 and len(rep["finetune"]["history"]) == 1
    assert rep["deployed_acc"] == rep["finetuned_acc"] > 0.6, rep


def test_tutorial_order_within_the_measured_tolerance(mnist, tmp_path, float_preds):
    """snnTorch's tutorial order (conv -> max-pool -> Leaky, and an output Leaky whose spike counts predict)
    is not ours: refused without --approximate, and with it the imported float net predicts the source's
    class on at least 90 % of the frames (measured on the full test set: 96.80 %, docs/convert.md)."""
    from sw.convert.ir import ConvertError
    xtr, ytr, xte, yte = mnist
    net = examples.train(examples.snntorch_net("tutorial"), xtr, ytr, epochs=4, lr=5e-3)
    src = examples.predict(net, xte)
    path = tmp_path / "tutorial.pt"
    torch.save(examples.picklable(net), path)
    with pytest.raises(ConvertError, match="--approximate"):
        pipeline.read_source(torch_path=path)
    net_ir, _ = pipeline.read_source(torch_path=path, approximate=True)
    assert len(net_ir.notes) == 3
    ours = float_preds(net_ir, xte)
    assert float((src == yte).mean()) > 0.6
    assert float((ours == src).mean()) >= 0.9, float((ours == src).mean())
