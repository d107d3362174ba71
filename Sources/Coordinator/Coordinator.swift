// Coordinator: the scheduling state machine, its SQLite journal and the artifact store. Filled by the
// orchestrator issue.
