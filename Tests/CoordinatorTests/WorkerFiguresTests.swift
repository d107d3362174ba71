// A worker's HEARTBEAT figures in the coordinator's worker state: the latest kept, the cores used between two
// heartbeats derived from them, and no derived figure across a counter that went back.
import Experiment
import Testing
@testable import Coordinator
@testable import Wire

@Suite struct WorkerFiguresTests {
    static let yaml = "name: figs\nnoop: {tasks: 2, seconds: 0}\n"

    @Test func theLatestFiguresAndTheCoresBetweenTwoHeartbeatsAreKept() throws {
        var h = try Harness(Self.yaml)
        h.join("w")
        #expect(h.state.workers["w"]?.figures == nil, "nothing before the first HEARTBEAT with figures")
        h.now = 1
        h.from("w", .workerHeartbeat(WorkerFigures(cpuSeconds: 2, residentBytes: 100 << 20)))
        #expect(h.state.workers["w"]?.figures == WorkerFigures(cpuSeconds: 2, residentBytes: 100 << 20))
        #expect(h.state.workers["w"]?.cpuCores == nil, "one reading is no interval")
        h.now = 1.5
        h.from("w", .workerHeartbeat(WorkerFigures(cpuSeconds: 2.75, residentBytes: 120 << 20)))
        #expect(h.state.workers["w"]?.cpuCores == 1.5, "0.75 CPU seconds in 0.5 s: one and a half cores")
        #expect(h.state.workers["w"]?.figures?.residentBytes == 120 << 20)
        #expect(h.state.workers["w"]?.lastSeen == 1.5, "a HEARTBEAT with figures is a sign of life like any other")
        // An empty HEARTBEAT keeps the last figures.
        h.now = 2
        h.from("w", .heartbeat)
        #expect(h.state.workers["w"]?.figures?.cpuSeconds == 2.75)
        // A counter that went back (another process under the same id) gives no rate until the next interval.
        h.now = 2.5
        h.from("w", .workerHeartbeat(WorkerFigures(cpuSeconds: 0.1, residentBytes: 50 << 20)))
        #expect(h.state.workers["w"]?.cpuCores == nil && h.state.workers["w"]?.figures?.cpuSeconds == 0.1)
    }

    @Test func aStrangersFiguresAreNotKept() throws {
        var h = try Harness(Self.yaml)
        h.from("stranger", .workerHeartbeat(WorkerFigures(cpuSeconds: 1, residentBytes: 1)))
        #expect(h.state.workers["stranger"] == nil)
    }
}
