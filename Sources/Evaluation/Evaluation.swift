// Evaluation: entity-level F1 identical to seqeval, calibration, robustness, latency and size. Filled by the
// text-data issue (F1) and the evaluation issue (the rest).
