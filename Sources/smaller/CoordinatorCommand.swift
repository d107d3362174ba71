// `smaller coordinator JOB.yaml --bind tcp://*:5555`: the coordinator alone; workers connect from anywhere.
import ArgumentParser
import Coordinator
import Experiment
import Foundation
import Report
import Wire

struct CoordinatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "coordinator",
        abstract: "Run the coordinator of a job; workers connect with `smaller worker --connect`.")

    @Argument(help: "The job file (YAML).") var job: String
    @Option(help: "Endpoint to bind; beyond loopback it needs --keys.") var bind: String = "tcp://127.0.0.1:5555"
    @Option(help: "Run directory (journal, artifacts, results); reusing one resumes it.") var dir: String?
    @Option(help: "CURVE keys directory (coordinator.key, allowed/*.pub).") var keys: String?
    @Flag(help: "Give failed and skipped tasks fresh attempts.") var retryFailed = false
    @OptionGroup(title: "Dashboard") var dashboard: HTTPOptions
    @OptionGroup(title: "Disk") var disk: DiskReserveOptions

    func validate() throws {
        if keys == nil, !isLoopback(bind) {
            throw ValidationError("binding \(bind) beyond loopback needs --keys DIR (CURVE with an allowlist); see `smaller keys generate`")
        }
    }

    func run() throws {
        Signals.install()
        let spec = try loadJob(job)
        // Workers on other hosts may read data folders this host lacks: only folders present here are checked.
        try checkLanguages(spec, job: job, requireFolders: false)
        let runDir = URL(fileURLWithPath: dir ?? "runs/\(spec.name)")
        try keepJobFile(job, in: runDir)
        var options = CoordinatorOptions(runDirectory: runDir, bind: bind)
        options.diskReserve = disk.bytes
        options.retryFailed = retryFailed
        options.shouldStop = { Signals.stopRequested }
        if let keys { options.curve = try CurveServerKeys.load(directory: URL(fileURLWithPath: keys)) }
        let live = dashboard.liveRun()
        options.observer = live
        let server = try CoordinatorServer(job: spec, options: options)
        // The coordinator's port before the dashboard's: a dashboard on port 0 can then never be handed it.
        try server.bind()
        let http = try dashboard.serve(live, runDirectory: runDir)
        defer { http?.stop() }
        let outcome = try server.run()
        let rows = try printReport(spec, runDir)
        try RunExit.finish(outcome, rows: rows, runDir: runDir, resume: "smaller coordinator \(job) --dir \(runDir.path)")
    }
}

/// A copy of the job file in the run directory, so `smaller results DIR` knows the current graph.
func keepJobFile(_ job: String, in runDir: URL) throws {
    try FileManager.default.createDirectory(at: runDir, withIntermediateDirectories: true)
    let copy = runDir.appendingPathComponent("job.yaml")
    if URL(fileURLWithPath: job).standardizedFileURL.path == copy.standardizedFileURL.path { return }
    try? FileManager.default.removeItem(at: copy)
    try FileManager.default.copyItem(at: URL(fileURLWithPath: job), to: copy)
}

/// Prints the aggregated table of the run directory's results for the job's current graph and writes the full report
/// once (`writeRunReport`: HTML, Markdown, CSV, JSON, LaTeX).
/// Returns the graph's task rows (every row without a job), in the graph's order.
@discardableResult
func printReport(_ spec: JobSpec?, _ runDir: URL) throws -> [Journal.TaskRow] {
    let journal = try Journal(runDirectory: runDir)
    let rows = try journal.taskRows()
    var ids: Set<String>? = nil
    var name = (try? journal.meta("job")) ?? "run"
    var relevant = rows
    if let spec {
        let order = spec.plan().tasks.map(\.id)
        ids = Set(order)
        name = spec.name
        let byID = Dictionary(rows.map { ($0.id, $0) }) { a, _ in a }
        relevant = order.compactMap { byID[$0] }
    }
    let records = try journal.results(of: ids)
    let report = Report(job: name, records: records, failed: relevant.filter { $0.state == "failed" }.count,
                        skipped: relevant.filter { $0.state == "skipped" }.count)
    print(report.markdown)
    writeRunReport(runDir)
    return relevant
}
