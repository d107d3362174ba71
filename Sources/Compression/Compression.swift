// Compression: Pruning/, Distillation/ and Quantization/. Filled by the compression issue.
