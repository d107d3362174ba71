// Journal and ArtifactStore on disk: journaled changes restore exactly; uploads are verified and contained.
import Experiment
import Foundation
import Testing
import TestSupport
@testable import Coordinator

@Suite struct JournalTests {
    @Test func journaledChangesRestore() throws {
        let dir = try Fixtures.temporaryDirectory("journal")
        defer { try? FileManager.default.removeItem(at: dir) }
        let graph = try JobSpec.parse(yaml: "name: n\nseeds: [1]\nlanguages: [a]\ncompression:\n  - quantize: {scheme: dynamic}\nexecution: {executor: noop}\n").plan()
        let (pre, ft, cq) = (graph.tasks[0], graph.tasks[1], graph.tasks[2])
        let journal = try Journal(runDirectory: dir)
        try journal.register(graph, retryFailed: false, now: 1)
        let record = ResultRecord(taskID: pre.id, spec: pre.spec, status: "done", metrics: ["x": .double(0.5)],
                                  artifacts: [ArtifactRef(name: "noop.bin", sha256: String(repeating: "a", count: 64), bytes: 3)],
                                  engineVersion: "t", host: "h", worker: "w", threads: 1, attempt: 1, startedAt: 0, endedAt: 1)
        try journal.apply([.leased(task: pre.id, lease: "L1", worker: "w", attempt: 1), .done(task: pre.id, record: record),
                           .leased(task: ft.id, lease: "L2", worker: "w", attempt: 1),
                           .attemptFailed(task: ft.id, failures: 1, error: "e1", logTail: "t1"),
                           .leased(task: ft.id, lease: "L3", worker: "v", attempt: 2)], now: 2)
        var (tasks, leases) = try journal.restore(graph)
        #expect(tasks[pre.id]?.state == .done && tasks[pre.id]?.artifacts == record.artifacts)
        #expect(tasks[ft.id]?.state == .leased && tasks[ft.id]?.failures == 1 && tasks[ft.id]?.lease == "L3" && tasks[ft.id]?.worker == "v")
        #expect(tasks[ft.id]?.lastError == "e1" && tasks[ft.id]?.logTail == "t1")
        #expect(leases == ["L1": pre.id, "L2": ft.id, "L3": ft.id])
        #expect(try journal.results().map(\.taskID) == [pre.id])
        // `results.jsonl` is an export appended after the commit; once flushed it holds the record on one line.
        // Lost (a crash between the commit and the write), the next start appends it again from the journal.
        journal.flushResultFiles()
        let file = dir.appendingPathComponent("results.jsonl")
        let exported = try Data(contentsOf: file)
        #expect(exported.last == UInt8(ascii: "\n") && exported.filter { $0 == UInt8(ascii: "\n") }.count == 1)
        #expect(try ResultRecord.decode(exported.dropLast()) == record)
        try FileManager.default.removeItem(at: file)
        #expect(try journal.writeMissingResultFiles() == 1)
        #expect(try Data(contentsOf: file) == exported)
        #expect(try journal.writeMissingResultFiles() == 0)
        // A crash mid-append leaves a last line without its newline: the next start cuts it off and appends the
        // record whole. A line the export already holds is not appended twice, whatever its neighbours.
        let other = Data(#"{"status":"done","taskID":"not-in-this-journal"}"#.utf8) + Data("\n".utf8)
        for damaged in [exported.prefix(exported.count / 2), other + exported.prefix(7), other + exported.dropLast()] {
            try damaged.write(to: file)
            #expect(try journal.writeMissingResultFiles() == 1)
            let kept = damaged.lastIndex(of: UInt8(ascii: "\n")).map { damaged[...$0] } ?? Data()
            #expect(try Data(contentsOf: file) == kept + exported)
        }
        try (other + exported).write(to: file)
        #expect(try journal.writeMissingResultFiles() == 0)
        // A metric named like the record's own key does not confuse the reading of the record's task id.
        #expect(try ResultFileWriter.exportedTaskIDs(file.path) == [pre.id, "not-in-this-journal"])
        let tricky = #"{"metrics":{"taskID":"decoy"},"taskID":"real","threads":1,"worker":"w,\"taskID\":\"x"}"#
        try Data((tricky + "\n").utf8).write(to: file)
        #expect(try ResultFileWriter.exportedTaskIDs(file.path) == ["real"])
        // A record journaled by an older version in Foundation's pretty form is exported on one line all the same.
        let pretty = JSONEncoder()
        pretty.outputFormatting = [.prettyPrinted, .sortedKeys]
        try journal.db.write { try $0.execute(sql: "UPDATE results SET record = ?", arguments: [String(decoding: try pretty.encode(record), as: UTF8.self)]) }
        try FileManager.default.removeItem(at: file)
        #expect(try journal.writeMissingResultFiles() == 1)
        #expect(try Data(contentsOf: file) == exported)

        try journal.apply([.failed(task: ft.id, failures: 3, error: "e3", logTail: nil), .skipped(task: cq.id, reason: "input failed")], now: 3)
        (tasks, _) = try journal.restore(graph)
        #expect(tasks[ft.id]?.state == .failed && tasks[cq.id]?.state == .skipped)
        // Registering again keeps everything; with retryFailed, failed and skipped tasks start over.
        try journal.register(graph, retryFailed: false, now: 4)
        #expect(try journal.restore(graph).tasks[ft.id]?.state == .failed)
        try journal.register(graph, retryFailed: true, now: 5)
        (tasks, _) = try journal.restore(graph)
        #expect(tasks[ft.id]?.state == .pending && tasks[ft.id]?.failures == 0 && tasks[cq.id]?.state == .pending)
        #expect(tasks[pre.id]?.state == .done)
    }

    /// Recovery parses each line and takes its top-level `taskID` only: nested keys, text inside strings, lines
    /// that are not records (not JSON, no id, an id that is not a string, an array) are never taken for one.
    @Test func exportedTaskIDsAreReadFromEachParsedLine() throws {
        let dir = try Fixtures.temporaryDirectory("export-ids")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("results.jsonl")
        let lines = [
            #"{"spec":{"taskID":"nested"},"metrics":{"note":",\"taskID\":\"fake\""}}"#,
            #"{ "taskID" : "spaced" , "x" : [1, {"taskID": "inner"}] }"#,
            #"{"taskID":"esc\u0061ped"}"#,
            #"{"taskID":7}"#, #"["taskID","list"]"#, "not json", "", #"{"taskID":"#,
            #"{"status":"done","taskID":"last","worker":"w"}"#,
        ]
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: file)
        #expect(try ResultFileWriter.exportedTaskIDs(file.path) == ["spaced", "escaped", "last"])
        #expect(try ResultFileWriter.exportedTaskIDs(dir.appendingPathComponent("missing.jsonl").path) == [])
    }

    /// A grid of instant tasks commits without pause; the background checkpoint must still bound the WAL:
    /// once it is over the limit, a checkpoint empties it (a passive one alone never lets it restart).
    @Test func writeAheadLogStaysBoundedUnderContinuousCommits() throws {
        let dir = try Fixtures.temporaryDirectory("journal-wal")
        defer { try? FileManager.default.removeItem(at: dir) }
        let graph = try JobSpec.parse(yaml: "name: n\nnoop: {tasks: 4000, seconds: 0}\n").plan()
        let journal = try Journal(runDirectory: dir)
        journal.walLimitBytes = 256 << 10
        try journal.register(graph, retryFailed: false, now: 1)
        let wal = dir.appendingPathComponent("journal.sqlite-wal").path
        func walSize() -> Int { (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0 }
        var (previous, largest, written, resets) = (walSize(), 0, 0, 0)
        for start in stride(from: 0, to: graph.tasks.count, by: 8) {
            var entries: [JournalEntry] = []
            for task in graph.tasks[start..<min(start + 8, graph.tasks.count)] {
                let record = ResultRecord(taskID: task.id, spec: task.spec, status: "done", metrics: ["x": .double(1)], artifacts: [],
                                          engineVersion: "t", host: "h", worker: "w", threads: 1, attempt: 1, startedAt: 0, endedAt: 1)
                entries += [.leased(task: task.id, lease: "L\(task.id.prefix(8))", worker: "w", attempt: 1), .done(task: task.id, record: record)]
            }
            try journal.apply(entries, now: Double(start))
            // The checkpoint runs on its own queue; waiting for it makes the count independent of scheduling
            // (on a loaded machine it could otherwise start only after the last commit).
            journal.waitForCheckpoint()
            let size = walSize()
            if size < previous { resets += 1 } else { written += size - previous }
            (previous, largest) = (size, max(largest, size))
        }
        journal.flushResultFiles()
        // 500 commits, a checkpoint every 200: the WAL is emptied at least twice, so it never holds everything
        // written to it (~33 MB here, all of it, before the TRUNCATE checkpoint existed).
        #expect(resets >= 2, "the WAL was never reset (largest \(largest) bytes)")
        #expect(Double(largest) < 0.8 * Double(written), "WAL peaked at \(largest) of \(written) bytes written")
        #expect(try journal.results().count == graph.tasks.count)
    }

    @Test func chunkedUploadsAreVerifiedAndContained() throws {
        let dir = try Fixtures.temporaryDirectory("store")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try ArtifactStore(root: dir.appendingPathComponent("artifacts"))
        var rng = TestRandom(seed: 5)
        let bytes = (0..<2500).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let digest = ArtifactStore.sha256(of: bytes)
        // In order: complete only at the end, then readable by range.
        #expect(try store.receive(sha256: digest, offset: 0, total: 2500, bytes: Array(bytes[0..<1000])) == false)
        #expect(try store.receive(sha256: digest, offset: 1000, total: 2500, bytes: Array(bytes[1000..<2000])) == false)
        #expect(try store.receive(sha256: digest, offset: 2000, total: 2500, bytes: Array(bytes[2000...])) == true)
        #expect(store.has(digest) && store.size(digest) == 2500)
        #expect(store.read(digest, offset: 100, length: 10) == Array(bytes[100..<110]))
        // Wrong content for a digest is discarded; a gap is refused.
        var corrupt = bytes
        corrupt[7] ^= 1
        let other = ArtifactStore.sha256(of: Array(bytes.reversed()))
        #expect(throws: ArtifactError.self) { try store.receive(sha256: other, offset: 0, total: 2500, bytes: corrupt) }
        #expect(!store.has(other))
        #expect(throws: ArtifactError.self) { try store.receive(sha256: other, offset: 10, total: 2500, bytes: [1]) }
        // Only digests name files.
        for bad in ["../../etc/passwd", "/etc/passwd", "..", String(repeating: "A", count: 64)] {
            #expect(store.path(bad) == nil)
            #expect(store.read(bad, offset: 0, length: 1) == nil)
            #expect(throws: ArtifactError.self) { try store.receive(sha256: bad, offset: 0, total: 1, bytes: [0]) }
        }
        // put() of a local file gives the same address as its bytes.
        let file = dir.appendingPathComponent("x.bin")
        try Data(bytes).write(to: file)
        #expect(try store.put(file: file, name: "x.bin") == ArtifactRef(name: "x.bin", sha256: digest, bytes: 2500))
    }
}
