"""The conversion steps as functions (the CLI in __main__ and the tests call them).

    net_ir = read_source(torch_path=..., nir_path=..., in_shape=(1, 28, 28), approximate=False)
    snet = mapping.to_net(net_ir, timesteps=4)
    report = deploy(snet, data, ...)     # prune, PTQ, fine-tune, export + verify
"""
from __future__ import annotations

import time

import numpy as np

from ..training import export
from ..training.train import evaluate
from . import ir, mapping, quantize, walk_nir, walk_torch


def read_source(torch_path=None, nir_path=None, in_shape=(1, 28, 28), approximate=False, nir_dt=walk_nir.DT):
    """(ir.Network, source) with source the loaded torch module (None for NIR)."""
    if torch_path is not None:
        module = walk_torch.load_module(torch_path)
        ops = walk_torch.to_ops(module)
        source = module
    else:
        graph = walk_nir.read_graph(nir_path)
        shape = walk_nir.input_shape(graph)
        flat_ok = shape is not None and len(shape) == 1 and shape[0] == int(np.prod(in_shape))   # an MLP's input
        if shape is not None and not flat_ok and (len(shape) < 3 or tuple(shape[-3:]) != tuple(in_shape)):
            raise ir.ConvertError(f"NIR Input takes {'x'.join(map(str, shape))}, the data set's frames are "
                                  f"{'x'.join(map(str, in_shape))}")
        ops = walk_nir.to_ops(graph, nir_dt)
        source = None
    if not walk_torch.isfinite_all(ops):
        raise ir.ConvertError("the source has non-finite weights, biases or thresholds")
    return ir.assemble(ops, in_shape, approximate), source


def float_check(snet, source, x, y, timesteps, log=print) -> dict:
    """Accuracy of the imported float net; with a torch source, also the source's own accuracy and the
    agreement of the two (frame by frame)."""
    snet.integer = False
    fa = float(evaluate(snet, x, y)[0])
    rec = {"frames": int(len(x)), "imported_float_acc": fa}
    if source is not None:
        import torch
        from spikingjelly.activation_based import functional
        with torch.no_grad():
            preds = []
            for a in range(0, len(x), 500):
                logits, _ = snet(export.torch_input(x[a:a + 500], snet))
                functional.reset_net(snet)
                preds.append(logits.argmax(1).numpy())
        ours = np.concatenate(preds)
        src = walk_torch.SourceRunner(source).predict(x, timesteps)
        rec.update(source_acc=float((src == y).mean()), agreement=float((src == ours).mean()),
                   disagreeing_frames=int((src != ours).sum()))
        log(f"source model {100 * rec['source_acc']:.2f}%, imported float {100 * fa:.2f}%, same prediction on "
            f"{100 * rec['agreement']:.2f}% of {len(x)} test frames")
    else:
        log(f"imported float {100 * fa:.2f}% on {len(x)} test frames")
    return rec


def deploy(snet, dataset, x_train, y_train, x_test, y_test, target=0.0, finetune_epochs=0, calib_frames=1024,
           lr=1e-3, batch=128, seed=0, log=print, progress=False):
    """Quantize with calibration, fine-tune (epochs > 0), export and verify on every test frame. A sparsity
    target > 0 is reached by one-shot magnitude pruning before quantization without fine-tuning, and by
    the Grad R prior during fine-tuning otherwise (its controller ramps the sparsity to the target over
    the first `ramp` (40 %) of the fine-tuning steps, as in sw.training). Returns (artifact Model, report dict). Raises export.ExportError on a mismatch."""
    rep = {}
    rng = np.random.default_rng(seed)
    cal = rng.permutation(len(x_train))[:calib_frames]
    xc, yc = x_train[cal], y_train[cal]
    if target > 0 and not finetune_epochs:         # with fine-tuning, Grad R ramps the sparsity up instead
        rep["pruned_float_layers"] = quantize.prune(snet, target)
        snet.integer = False
        rep["pruned_float_acc"] = float(evaluate(snet, x_test, y_test)[0])
        log(f"magnitude-pruned to {100 * target:.1f}% per layer: float {100 * rep['pruned_float_acc']:.2f}%")
    rep["calibration"] = quantize.ptq(snet, xc, yc, log=log)
    rep["ptq_acc"] = float(evaluate(snet, x_test, y_test)[0])
    log(f"post-training 4-bit: {100 * rep['ptq_acc']:.2f}% on {len(x_test)} test frames")
    if finetune_epochs:
        t0 = time.time()
        ft = quantize.finetune(snet, dataset, x_train, y_train, xc, yc, finetune_epochs, target, lr, batch, seed,
                               log=log, progress=progress)
        rep["finetune"] = dict(ft["config"], seconds=time.time() - t0,
                               history=[{k: h[k] for k in ("epoch", "train_acc", "calibration_acc", "sparsity")}
                                        for h in ft["history"]])
        snet.integer = True
        rep["finetuned_acc"] = float(evaluate(snet, x_test, y_test)[0])
        log(f"fine-tuned {finetune_epochs} epoch(s): {100 * rep['finetuned_acc']:.2f}% on {len(x_test)} test frames")
    snet.cpu()
    model = export.to_artifact(snet)
    preds, stats = export.verify(snet, model, x_test)
    rep["deployed_acc"] = float((preds == y_test).mean())
    nnz = sum(l.nnz for l in model.layers)
    total = sum(s.co * s.fan_in for s in snet.shapes)
    rep.update(export_check={"frames": int(len(x_test)), "mismatches": 0}, nonzeros=int(nnz),
               weight_sparsity=1 - nnz / total,
               layer_sparsity=[float(l.sparsity) for l in model.layers],
               spike_density=[float(s.spike_density) for s in stats[:-1]],
               deployed_notation=" ".join(l.shape.token() for l in model.layers))
    log(f"deployed {100 * rep['deployed_acc']:.2f}% at {100 * rep['weight_sparsity']:.2f}% weight sparsity "
        f"({nnz} non-zeros); golden == torch on all {len(x_test)} test frames")
    return model, rep


def mapping_report(net_ir) -> dict:
    return {"notation": ir.notation(net_ir), "exact": net_ir.exact, "approximations": net_ir.notes,
            "layers": mapping.mapping_table(net_ir)}
