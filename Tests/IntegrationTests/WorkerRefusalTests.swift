// Version skew on real processes: a worker announcing another build (the test-only SMALLER_TEST_ANNOUNCE_*
// variables) is refused, prints the refusal naming both builds and exits 78; with allow_mixed_engines it runs.
import Experiment
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .enabled(if: Smaller.available, Smaller.unavailable)) struct WorkerRefusalTests {
    /// A worker that announces `engine`/`commit` instead of its own (through /usr/bin/env, so Child stays as is).
    static func worker(_ grid: LoopbackGrid, _ name: String, engine: String? = nil, commit: String? = nil) throws -> Child {
        var env: [String] = []
        if let engine { env.append("SMALLER_TEST_ANNOUNCE_ENGINE=\(engine)") }
        if let commit { env.append("SMALLER_TEST_ANNOUNCE_COMMIT=\(commit)") }
        return try Child(env + [Smaller.executable!.path, "worker", "--connect", grid.endpoint, "--dir",
                                grid.dir.appendingPathComponent(name).path], in: grid.dir, name: name, executable: "/usr/bin/env")
    }

    @Test func aWorkerOfAnotherCommitIsRefusedAndExitsNonZero() throws {
        let dir = try Fixtures.temporaryDirectory("skew-refused")
        defer { try? FileManager.default.removeItem(at: dir) }
        let grid = try LoopbackGrid("name: skew\nnoop: {tasks: 6, seconds: 0}\n", in: dir)
        let coordinator = try grid.coordinator()
        let stranger = try Self.worker(grid, "stranger", commit: "0000000-other")
        #expect(stranger.wait(seconds: 30, "refused worker") == 78, "\(stranger.text.suffix(2000))")
        let ours = "\(BuildInfo.version) (\(BuildInfo.commit))"
        #expect(stranger.text.contains("refused this worker"), "\(stranger.text.suffix(2000))")
        #expect(stranger.text.contains("\(BuildInfo.version) (0000000-other)") && stranger.text.contains(ours),
                "\(stranger.text.suffix(2000))")
        #expect(grid.run.exportedIDs.isEmpty, "the refused worker ran tasks")
        // A worker of the coordinator's own build then runs the whole grid.
        let same = try grid.worker("same")
        try grid.finish(coordinator, [same])
        #expect(coordinator.text.contains("refused worker") || grid.run.coordinatorLog.contains("refused worker"))
    }

    @Test func aJobThatAllowsMixedEnginesRunsAnotherVersion() throws {
        let dir = try Fixtures.temporaryDirectory("skew-mixed")
        defer { try? FileManager.default.removeItem(at: dir) }
        let grid = try LoopbackGrid("name: skewm\nnoop: {tasks: 4, seconds: 0}\nexecution: {allow_mixed_engines: true}\n", in: dir)
        let coordinator = try grid.coordinator()
        let other = try Self.worker(grid, "other", engine: "9.9.9", commit: "0000000-other")
        try grid.finish(coordinator, [other])
        let records = try grid.run.exportedRecords()
        #expect(records.count == 4 && records.allSatisfy { $0.engineVersion == "9.9.9" && $0.gitCommit == "0000000-other" })
    }
}
