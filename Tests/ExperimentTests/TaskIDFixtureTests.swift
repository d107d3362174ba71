// Task ids are the journal's keys: a run directory made by one build must resume under the next. The ids of every
// task of three committed jobs were written by the build before the typed-settings change (e62df50) and must
// never change unless a change means to rerun every grid. To rewrite them on purpose:
// SMALLER_WRITE_TASK_IDS=1 swift test --filter TaskIDFixtureTests
import Foundation
import Testing
import TestSupport
@testable import Experiment

@Suite struct TaskIDFixtureTests {
    static let jobs = ["quickstart", "masakhaner", "compression-curve"]

    /// One line per task, in plan order: the full id, then the title.
    static func listing(_ job: String) throws -> String {
        let path = Fixtures.repositoryRoot.appendingPathComponent("jobs/\(job).yaml").path
        let graph = try JobSpec.load(path: path).plan()
        return graph.tasks.map { "\($0.id) \($0.spec.title)\n" }.joined()
    }

    @Test(arguments: jobs) func taskIDsAreUnchanged(job: String) throws {
        let fixture = Fixtures.referenceFixtures.appendingPathComponent("task-ids/\(job).txt")
        let now = try Self.listing(job)
        if ProcessInfo.processInfo.environment["SMALLER_WRITE_TASK_IDS"] == "1" {
            try now.write(to: fixture, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: fixture, encoding: .utf8)
        #expect(!expected.isEmpty)
        let (a, b) = (expected.split(separator: "\n"), now.split(separator: "\n"))
        #expect(a.count == b.count, "task count changed for jobs/\(job).yaml")
        for (x, y) in zip(a, b) where x != y {
            Issue.record("jobs/\(job).yaml: expected \(x)\n got \(y)")
        }
    }
}
