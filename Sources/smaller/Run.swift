// `smaller run JOB.yaml`: the main job: a coordinator in this process plus N local `smaller worker` children
// (restarted if they crash), then the aggregated table. Ctrl-C stops cleanly and leaves a resumable run dir.
import ArgumentParser
import Coordinator
import Dashboard
import Experiment
import Foundation
import Worker

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a job file: a coordinator plus local workers over the whole grid.")

    @Argument(help: "The job file (YAML), e.g. jobs/quickstart.yaml.")
    var job: String
    @Option(help: "Local worker processes (default: the core count).") var workers: Int?
    @Option(help: "Engine threads of each local worker (default: cores ÷ workers, at least 1).") var threadsPerWorker: Int?
    @Option(help: "Run directory (default runs/<job name>); reusing one resumes it.") var out: String?
    @Option(help: "Endpoint to bind (loopback; use `smaller coordinator` to serve other hosts).") var bind: String = "tcp://127.0.0.1:*"
    @Flag(help: "Give failed and skipped tasks fresh attempts.") var retryFailed = false
    @OptionGroup(title: "Dashboard") var dashboard: HTTPOptions
    @OptionGroup(title: "Disk") var disk: DiskReserveOptions
    @Option(help: "Real NER data instead of the job's: a MasakhaNER-style tree DIR/<lang>/{train,dev,test}.txt (with --text; give both again to resume).") var data: String?
    @Option(help: "Raw pretraining text instead of the job's: DIR/<lang>.txt (with --data).") var text: String?
    @Option(help: GemmSetup.help) var gemm: String?

    func validate() throws {
        guard FileManager.default.fileExists(atPath: job) else { throw ValidationError("no job file at \(job)") }
        if let workers, workers < 0 || workers > 256 { throw ValidationError("--workers must be in 0...256") }
        if let threadsPerWorker, threadsPerWorker < 1 || threadsPerWorker > 1024 { throw ValidationError("--threads-per-worker must be in 1...1024") }
        guard isLoopback(bind) else { throw ValidationError("`smaller run` binds loopback only; use `smaller coordinator --keys` for other hosts") }
        if let gemm { _ = try GemmSetup.parse(gemm) }
        for (flag, path) in [("--data", data), ("--text", text)] {
            var isDirectory: ObjCBool = false
            if let path, !(FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue) {
                throw ValidationError("\(flag) \(path) is not a folder")
            }
        }
        if (data == nil) != (text == nil) {
            throw ValidationError("--data and --text go together: fine-tuning reads the NER tree, pretraining the raw text")
        }
    }

    /// The job's data section with --data/--text applied (absolute paths, so workers in other folders read them).
    func overridingData(_ spec: JobSpec) -> JobSpec {
        guard let data, let text else { return spec }
        var spec = spec
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        spec.data["source"] = .string("masakhaner")
        spec.data["ner"] = .string(URL(fileURLWithPath: data, relativeTo: cwd).standardizedFileURL.path)
        spec.data["text"] = .string(URL(fileURLWithPath: text, relativeTo: cwd).standardizedFileURL.path)
        return spec
    }

    func run() throws {
        Signals.install()
        let spec = overridingData(try loadJob(job))
        guard WorkerExecutors.names.contains(spec.execution.executor) else {
            throw refuse("\(job): execution.executor '\(spec.execution.executor)' is not available in this build's workers (have: \(WorkerExecutors.names.joined(separator: ", ")))")
        }
        try checkLanguages(spec, job: job)
        let runDir = URL(fileURLWithPath: out ?? "runs/\(spec.name)")
        try keepJobFile(job, in: runDir)
        if let data, let text {
            let note = "--data \(spec.data["ner"]?.stringValue ?? data) --text \(spec.data["text"]?.stringValue ?? text)\n"
            try note.write(to: runDir.appendingPathComponent("data-override.txt"), atomically: true, encoding: .utf8)
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let count = workers ?? cores
        let pool = LocalWorkers(runDirectory: runDir)
        pool.threads = threadsPerWorker ?? max(1, cores / max(1, count))
        if let gemm { pool.extraArguments += ["--gemm", gemm] }
        pool.extraArguments += ["--min-free-disk", String(disk.minFreeDisk)]
        if count > 0 { printErr("\(count) local workers, --threads \(pool.threads) each (\(cores) cores)") }
        var options = CoordinatorOptions(runDirectory: runDir, bind: bind)
        options.diskReserve = disk.bytes
        options.retryFailed = retryFailed
        options.shouldStop = { Signals.stopRequested }
        options.onBound = { endpoint in pool.start(count: count, endpoint: endpoint) }
        let live = dashboard.liveRun()
        options.observer = live
        let server = try CoordinatorServer(job: spec, options: options)
        // The coordinator's port before the dashboard's: a dashboard on port 0 can then never be handed it.
        let http: DashboardServer?
        do { try server.bind(); http = try dashboard.serve(live, runDirectory: runDir) } catch { pool.stop(); throw error }
        defer { http?.stop() }
        let outcome: CoordinatorOutcome
        do { outcome = try server.run() } catch { pool.stop(); throw error }
        pool.stop()
        let rows = try printReport(spec, runDir)
        try RunExit.finish(outcome, rows: rows, runDir: runDir, resume: "smaller run \(job) --out \(runDir.path)")
    }
}

/// N `smaller worker` child processes on this machine; one that dies unexpectedly is started again.
final class LocalWorkers: @unchecked Sendable {
    let runDirectory: URL
    let lock = NSLock()
    var processes: [Int: Process] = [:]
    var stopping = false
    var restarts = 0
    var endpoint = ""
    /// Each worker's `--threads` (engine threads).
    var threads = 1
    /// Appended to every worker's command line (`--profile` for `smaller bench cluster --profile`).
    var extraArguments: [String] = []
    /// A command and its options that run each worker (`setsid -w` for the scaling runs of
    /// `smaller bench cluster`), or none. The pid we hold is then the launcher's.
    var launcher: [String] = []
    static let maxRestarts = 1000

    init(runDirectory: URL) { self.runDirectory = runDirectory }

    func start(count: Int, endpoint: String) {
        lock.lock()
        self.endpoint = endpoint
        lock.unlock()
        for index in 0..<count { spawn(index) }
    }

    func spawn(_ index: Int) {
        lock.lock()
        defer { lock.unlock() }
        guard !stopping else { return }
        let dir = runDirectory.appendingPathComponent("workers/\(index)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let logURL = dir.appendingPathComponent("worker.log")
        if !FileManager.default.fileExists(atPath: logURL.path) { _ = FileManager.default.createFile(atPath: logURL.path, contents: nil) }
        let logHandle = try? FileHandle(forWritingTo: logURL)
        _ = try? logHandle?.seekToEnd()
        let process = Process()
        let arguments = ["worker", "--connect", endpoint, "--dir", dir.path, "--threads", String(threads)] + extraArguments
        process.executableURL = URL(fileURLWithPath: launcher.first ?? SelfExecutable.path)
        process.arguments = launcher.isEmpty ? arguments : Array(launcher.dropFirst()) + [SelfExecutable.path] + arguments
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { [weak self] p in
            try? logHandle?.close()
            self?.exited(index, p)
        }
        do {
            try process.run()
            processes[index] = process
        } catch {
            printErr("could not start worker \(index): \(error)")
        }
    }

    func exited(_ index: Int, _ process: Process) {
        lock.lock()
        let again = !stopping && process.terminationStatus != 0 && restarts < Self.maxRestarts
        if again { restarts += 1 }
        lock.unlock()
        if again {
            printErr("local worker \(index) (pid \(process.processIdentifier)) exited with status \(process.terminationStatus); starting another")
            spawn(index)
        }
    }

    /// SIGKILLs the local worker whose id (host-pid-random) names one of our children.
    func killWorker(id workerID: String) {
        lock.lock()
        let target = processes.values.first { workerID.contains("-\($0.processIdentifier)-") }
        lock.unlock()
        if let target { Glibc.kill(target.processIdentifier, SIGKILL) }
    }

    /// Waits a little for workers to leave on their own (they were told BYE), then terminates the rest. Behind a
    /// launcher the pid we hold is the launcher's (`setsid` forks when it leads its process group), so the
    /// workers it started are signalled too: otherwise a worker that never got its BYE outlives us.
    func stop() {
        lock.lock()
        stopping = true
        let all = Array(processes.values)
        let launched = launcher.isEmpty ? [] : all.filter(\.isRunning).flatMap { Self.children(of: $0.processIdentifier) }
        lock.unlock()
        func running() -> Bool { all.contains(where: \.isRunning) || launched.contains { kill($0, 0) == 0 } }
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline, running() { Thread.sleep(forTimeInterval: 0.02) }
        for p in all where p.isRunning { p.terminate() }
        for pid in launched { kill(pid, SIGTERM) }
        let hard = Date().addingTimeInterval(2)
        while Date() < hard, running() { Thread.sleep(forTimeInterval: 0.02) }
        for p in all where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        for pid in launched { kill(pid, SIGKILL) }
    }

    /// A process's children, from /proc (empty when it has none or is gone).
    static func children(of pid: pid_t) -> [pid_t] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
