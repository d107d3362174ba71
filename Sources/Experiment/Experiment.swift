// Experiment: the contract between the CLI, the coordinator and the workers: JobSpec (YAML), grid expansion,
// TaskSpec, the task graph and ResultRecord. Filled by the orchestrator issue.
