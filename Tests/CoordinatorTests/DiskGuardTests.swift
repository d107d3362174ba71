// The disk reserve: DiskGuard's hold / resume / projection rule on made-up free-space readings, the state
// machine granting nothing while held, and freeDiskBytes against df's own reading of the same filesystem.
import Foundation
import Testing
@testable import Coordinator
import Experiment
@testable import Wire

@Suite struct DiskGuardTests {
    static let mb: Int64 = 1_000_000

    @Test func holdsBelowTheReserveAndResumesOnlyAboveItsSlack() {
        var g = DiskGuard(reserve: 100 * Self.mb)
        #expect(g.resumeAbove == 100 * Self.mb + 16_777_216)  // + max(a tenth, 16 MiB)
        #expect(g.check(free: 500 * Self.mb, done: 0, remaining: 10, where: "/r").isEmpty)
        #expect(!g.holding)
        let hold = g.check(free: 99 * Self.mb, done: 1, remaining: 9, where: "/r")
        #expect(g.holding)
        guard case .hold(let why)? = hold.first else { Issue.record("no hold: \(hold)"); return }
        #expect(why.contains("99 MB free in /r") && why.contains("reserve of 100 MB"))
        // Freed to just above the reserve: still held (one finished task's files must not toggle it).
        #expect(g.check(free: 110 * Self.mb, done: 1, remaining: 9, where: "/r").allSatisfy { if case .resume = $0 { false } else { true } })
        #expect(g.holding)
        let resume = g.check(free: 117 * Self.mb, done: 1, remaining: 9, where: "/r")
        #expect(resume.contains { if case .resume = $0 { true } else { false } })
        #expect(!g.holding)
    }

    @Test func noReserveOrNoReadingChangesNothing() {
        var off = DiskGuard(reserve: 0)
        #expect(off.check(free: 0, done: 0, remaining: 5, where: "/r").isEmpty && !off.holding)
        var unknown = DiskGuard(reserve: 10 * Self.mb)
        #expect(unknown.check(free: nil, done: 0, remaining: 5, where: "/r").isEmpty && !unknown.holding)
        #expect(DiskGuard(reserve: -5).reserve == 0)
    }

    /// 10 MB per task over the first 4 tasks, 100 left: 1 GB needed, 500 MB above the reserve: warned once.
    @Test func projectsFromWhatFinishedTasksTookAndWarnsOnce() {
        var g = DiskGuard(reserve: 100 * Self.mb)
        #expect(g.check(free: 640 * Self.mb, done: 0, remaining: 104, where: "/r").isEmpty)
        #expect(g.check(free: 620 * Self.mb, done: 2, remaining: 102, where: "/r").isEmpty)  // too few tasks yet
        let events = g.check(free: 600 * Self.mb, done: 4, remaining: 100, where: "/r")
        guard case .warn(let text)? = events.first else { Issue.record("no warning: \(events)"); return }
        #expect(text.contains("100 tasks left may need about 1.0 GB") && text.contains("10 MB per task") && text.contains("500 MB are free above"))
        #expect(g.check(free: 590 * Self.mb, done: 5, remaining: 99, where: "/r").isEmpty)
        // Room enough: no warning.
        var roomy = DiskGuard(reserve: 100 * Self.mb)
        _ = roomy.check(free: 10_000 * Self.mb, done: 0, remaining: 104, where: "/r")
        #expect(roomy.check(free: 9_960 * Self.mb, done: 4, remaining: 100, where: "/r").isEmpty)
    }

    @Test func aHeldStateGrantsNothingUntilReleased() throws {
        var h = try Harness(CoordinatorStateTests.two)
        h.state.dispatchHold = "disk"
        h.join("w")
        #expect(h.ready("w") == nil)
        h.now = 0.1
        #expect(h.on(.tick).sent.allSatisfy { $0.1.command != "TASK" })
        h.state.dispatchHold = nil
        h.now = 0.2
        let granted = h.on(.tick).sent.filter { $0.0 == "w" && $0.1.command == "TASK" }
        #expect(granted.count == 1, "the credit the held READY gave is used once the hold ends")
    }

    /// statvfs's free bytes against `df --output=avail` (1-byte blocks) on the same path, read back to back.
    @Test func freeBytesAgreeWithDf() throws {
        let path = FileManager.default.temporaryDirectory.path
        let ours = try #require(freeDiskBytes(path))
        let df = Process()
        df.executableURL = URL(fileURLWithPath: "/bin/df")
        df.arguments = ["-B1", "--output=avail", path]
        let pipe = Pipe()
        df.standardOutput = pipe
        try df.run()
        df.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let theirs = try #require(text.split(separator: "\n").last.flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) })
        // Other processes write meanwhile (this machine runs tests in parallel): within 64 MB.
        #expect(abs(ours - theirs) < 64 * Self.mb, "statvfs \(ours), df \(theirs)")
        #expect(freeDiskBytes("/no/such/path/here") == nil)
    }
}
