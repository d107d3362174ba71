// `smaller worker --connect tcp://HOST:5555`: one worker process; it reconnects by itself until told BYE.
import ArgumentParser
import Foundation
import Wire
import Worker
#if canImport(Glibc)
import Glibc
#endif

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "worker", abstract: "Run one worker that connects to a coordinator.")

    @Option(help: "The coordinator's endpoint, e.g. tcp://10.0.0.1:5555.") var connect: String
    @Option(help: "Engine threads for this worker.") var threads: Int = 1
    @Option(help: "Working directory (artifact cache, per-task logs).") var dir: String?
    @Option(help: "CURVE keys directory (coordinator.pub and <key-name>.key).") var keys: String?
    @Option(help: "Which key pair in --keys this worker uses.") var keyName: String = "worker-1"
    @Option(help: "Leases this worker holds at once; it runs one, the rest wait (the coordinator uses more than one only for task kinds shorter than 5 ms).")
    var prefetch: Int = ProtocolConstants.defaultPrefetch
    @Option(help: GemmSetup.help) var gemm: String?
    @OptionGroup(title: "Disk") var disk: DiskReserveOptions
    @Flag(help: .hidden) var profile = false

    /// Exit status of a worker the coordinator refused (another build): EX_CONFIG, so scripts can tell it apart.
    static let refusedStatus: Int32 = 78

    func validate() throws {
        guard threads >= 1, threads <= 1024 else { throw ValidationError("--threads must be in 1...1024") }
        guard prefetch >= 1, prefetch <= ProtocolConstants.maxPrefetch else {
            throw ValidationError("--prefetch must be in 1...\(ProtocolConstants.maxPrefetch)")
        }
        if let gemm { _ = try GemmSetup.parse(gemm) }
        if keys == nil, !isLoopback(connect) {
            throw ValidationError("connecting to \(connect) beyond loopback needs --keys DIR (CURVE); see `smaller keys generate`")
        }
    }

    func run() throws {
        Signals.install()
        if let gemm { GemmSetup.configure(forced: try GemmSetup.parse(gemm)) }
        let workDir = URL(fileURLWithPath: dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("smaller-worker-\(getpid())").path)
        var options = WorkerOptions(endpoint: connect, workDirectory: workDir, threads: threads,
                                    engineVersion: SmallerVersion.current,
                                    executors: WorkerExecutors.all)
        // Test-only: announce another build in HELLO (the version-skew tests); never set in production.
        let env = ProcessInfo.processInfo.environment
        if let v = env["SMALLER_TEST_ANNOUNCE_ENGINE"] { options.engineVersion = v }
        if let c = env["SMALLER_TEST_ANNOUNCE_COMMIT"] { options.commit = c }
        if let keys { options.curve = try CurveClientKeys.load(directory: URL(fileURLWithPath: keys), name: keyName) }
        options.shouldStop = { Signals.stopRequested }
        let profile = self.profile ? WorkerProfile() : nil
        if let profile { options.probe = profile }
        options.prefetch = prefetch
        options.diskReserve = disk.bytes
        let client = try WorkerClient(options: options)
        let reason: String
        do { reason = try client.run() } catch let refused as WorkerRefused {
            printErr("worker \(client.workerID): \(refused)")
            fflush(nil)
            _exit(WorkerCommand.refusedStatus)
        } catch {
            // Refused handshakes (HandshakeRefused) or a socket failure: say why and exit 1, as below.
            printErr("Error: worker \(client.workerID): \(error)")
            fflush(nil)
            _exit(1)
        }
        printErr("worker \(client.workerID) finished: \(reason)")
        if let profile { printErr("worker \(client.workerID): " + profile.table) }
        // A task thread may still be training when the worker is told to stop. A normal exit would tear down
        // globals (and the memory that thread uses) under it and crash; nothing is left to flush, so leave now.
        fflush(nil)
        _exit(0)
    }
}

/// The executors this build's workers have. The engine's (pretrain, finetune, compress) joins this list when
/// it is wired in; a job whose executor is missing here is refused by `smaller run`.
enum WorkerExecutors {
    static var all: [any TaskExecutor] { [NoopExecutor(crash: { _exit(70) }), EngineExecutor()] }
    static var names: [String] { all.map(\.name) }
}
