// Version skew: a worker of another engine version or commit is refused (BYE `refused`, naming both builds)
// unless the job sets execution.allow_mixed_engines; the setting leaves task ids alone.
import Experiment
import Testing
@testable import Coordinator
@testable import Wire

@Suite struct VersionSkewTests {
    static let strict = "name: n\nnoop: {tasks: 2, seconds: 0}\n"
    static let mixed = "name: n\nnoop: {tasks: 2, seconds: 0}\nexecution: {allow_mixed_engines: true}\n"

    static func refusal(_ out: [CoordinatorAction], _ worker: String) -> Bye? {
        out.sent.lazy.compactMap { if $0.0 == worker, case .bye(let b) = $0.1 { b } else { nil } }.first
    }

    static func welcomed(_ out: [CoordinatorAction], _ worker: String) -> Bool {
        out.sent.contains { $0.0 == worker && $0.1.command == "HELLO" }
    }

    @Test(arguments: [("0.2.0", "c" as String?), ("t", "other"), ("t", nil)])
    func anotherBuildIsRefusedNamingBoth(engine: String, commit: String?) throws {
        var h = try Harness(Self.strict)
        let out = h.join("w", engine: engine, commit: commit)
        let bye = try #require(Self.refusal(out, "w"))
        #expect(bye.refused == true && !bye.again)
        #expect(bye.reason.contains("\(engine) (\(commit ?? "commit unknown"))"), "\(bye.reason)")
        #expect(bye.reason.contains("t (c)"), "\(bye.reason)")
        #expect(bye.reason.contains("allow_mixed_engines"))
        #expect(!Self.welcomed(out, "w"))
        #expect(h.state.liveWorkers.isEmpty)
        // Nothing is leased to it, and a worker of the same build still runs the grid.
        let granted = h.ready("w")
        #expect(granted == nil)
        h.join("same")
        let sameOpt = h.ready("same")
        let t = try #require(sameOpt)
        #expect(t.attempt == 1)
    }

    @Test func theSameBuildIsWelcomed() throws {
        var h = try Harness(Self.strict)
        let out = h.join("w")
        #expect(Self.welcomed(out, "w"))
        #expect(Self.refusal(out, "w") == nil)
    }

    @Test func aJobThatAllowsMixedEnginesWelcomesAnotherBuild() throws {
        var h = try Harness(Self.mixed)
        let out = h.join("w", engine: "0.2.0", commit: "other")
        #expect(Self.welcomed(out, "w"))
        #expect(Self.refusal(out, "w") == nil)
        let granted = h.ready("w")
        #expect(granted != nil)
    }

    @Test func aWorkerRefusedOnReconnectGivesItsLeaseBackUncharged() throws {
        var h = try Harness(Self.strict)
        h.join("w")
        let tOpt = h.ready("w")
        let t = try #require(tOpt)
        // The same worker id comes back from another build (reinstalled while the coordinator ran).
        let out = h.join("w", commit: "other")
        #expect(Self.refusal(out, "w")?.refused == true)
        #expect(out.journal.contains { if case .released(t.task) = $0 { true } else { false } })
        #expect(!out.journal.contains { if case .attemptFailed = $0 { true } else { false } })
        h.join("v")
        let again = h.ready("v")
        #expect(again?.task == t.task)
    }

    @Test func allowMixedEnginesParsesAndLeavesTaskIDsAlone() throws {
        let strict = try JobSpec.parse(yaml: Self.strict), mixed = try JobSpec.parse(yaml: Self.mixed)
        #expect(!strict.execution.allowMixedEngines && mixed.execution.allowMixedEngines)
        #expect(strict.plan().tasks.map(\.id) == mixed.plan().tasks.map(\.id))
        let pipeline = "name: p\nseeds: [1]\nlanguages: [a]\ncompression:\n  - quantize: {scheme: dynamic}\nexecution: {executor: noop"
        #expect(try JobSpec.parse(yaml: pipeline + "}\n").plan().tasks.map(\.id)
                == JobSpec.parse(yaml: pipeline + ", allow_mixed_engines: true}\n").plan().tasks.map(\.id))
        #expect(throws: (any Error).self) { try JobSpec.parse(yaml: "name: n\nnoop: {tasks: 1}\nexecution: {allow_mixed_engines: maybe}\n") }
    }
}
