// Report: aggregation (mean ± std over seeds, deltas to the dense baseline), tables and plots.
// Filled by the orchestrator issue (tables) and the reporting issue (plots, HTML).
