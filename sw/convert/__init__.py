"""Deploy an SNN trained elsewhere (issue 18): spikingjelly / snnTorch modules and NIR graphs to a bit-exact
.ffs artifact.

    python -m sw.convert (--torch MODEL.pt | --nir GRAPH.nir) --dataset mnist --out DIR
                         [--target-sparsity S] [--finetune-epochs N] [--approximate]

Pipeline (docs/convert.md):
1. walk the source (`walk_torch`, `walk_nir`) into a list of generic operations (`ir.Op`);
2. `ir.assemble` maps them onto our layers (conv/fc + IF/LIF neuron + OR max-pool, fc readout), refusing
   with one line (`ConvertError`, naming the layer) whatever is not exactly ours (or, with --approximate,
   within a stated approximation);
3. `mapping.to_net` builds the equivalent float `sw.training.models.SpikingNet` and loads the weights;
4. `quantize`: optional magnitude pruning, post-training 4-bit quantization calibrated on training frames,
   optional fine-tuning with the joint LSQ + Grad R phase of `sw.training.train`;
5. export through `sw.training.export` (to_artifact + verify on the whole test set).
"""
