// Transformer: the XLM-RoBERTa encoder (config, flat parameters with named views, layers as forward/backward
// pairs, MLM and token-classification heads, checkpoints). Filled by the engine issue; see docs/architecture.md.
