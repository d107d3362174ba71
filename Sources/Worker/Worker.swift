// Worker: the worker state machine and loop, and Runner, the one place a TaskSpec becomes engine calls.
// Filled by the orchestrator issue.
