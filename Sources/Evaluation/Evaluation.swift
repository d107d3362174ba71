// Evaluation: entity-level F1 identical to seqeval (EntityF1.swift), then calibration, robustness, latency and size
// (the evaluation issue).
