// The disk reserve on a real filesystem that is nearly full: `smaller run` on a 64 MB tmpfs (mounted in a mount
// namespace of the test's own, gone with it) that a 52 MB file fills past the reserve. The coordinator grants
// nothing while the file is there, says why, and grants again once the file is deleted; the grid completes and
// no task started before the deletion. Then the same for a worker whose own directory is on the full tmpfs while
// the coordinator's disk has room: the worker asks for nothing until the file goes. Root only (mount); skipped with
// the reason otherwise.
import Experiment
import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct DiskReserveTests {
    static let hasUnshare = FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")
    static let runnable = getuid() == 0 && hasUnshare && Smaller.available
    static var skipReason: Comment {
        if !Smaller.available { return Smaller.unavailable }
        if getuid() != 0 { return "needs root (a tmpfs mounted in a mount namespace)" }
        return "/usr/bin/unshare is missing (util-linux)"
    }

    /// A scratch folder with `fs` (the tmpfs mount point) and `out` (what the namespace leaves behind) in it.
    static func folders(_ name: String) throws -> (dir: URL, fs: URL, out: URL) {
        let dir = try Fixtures.temporaryDirectory(name)
        let fs = dir.appendingPathComponent("fs"), out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: fs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        return (dir, fs, out)
    }

    /// The three noop tasks' records (`results.jsonl` in `records`) all started after the filler's deletion, whose
    /// time the script wrote to `out/deleted-at`.
    static func expectThreeStartedAfterTheDeletion(_ out: URL, records: URL) throws {
        let deletedText = (try? String(contentsOf: out.appendingPathComponent("deleted-at"), encoding: .utf8)) ?? ""
        let deletedAt = try #require(Double(deletedText.trimmingCharacters(in: .whitespacesAndNewlines)))
        let records = try RunDir(url: records).exportedRecords()
        #expect(records.count == 3)
        for r in records { #expect(r.startedAt >= deletedAt, "\(r.taskID) started at \(r.startedAt), before the filler went at \(deletedAt)") }
    }

    @Test(.enabled(if: runnable, skipReason)) func aFullDiskPausesTheGridUntilSpaceIsFreed() throws {
        let (dir, fs, out) = try Self.folders("disk-reserve")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = try writeJob("name: disk\nnoop: {tasks: 3, seconds: 0}\n", in: dir)
        // Free after the filler: about 12 MB, under the 20 MB reserve; after it is deleted: about 63 MB, above
        // the reserve and its 16.8 MB of slack. The deletion's time is written down first.
        let script = """
            set -e
            mount -t tmpfs -o size=64m tmpfs "$1"
            cd "$1"
            head -c 52000000 /dev/zero > filler
            ( sleep 3; date +%s.%N > "$2/deleted-at"; rm filler ) &
            set +e
            "$3" run "$4" --workers 1 --out run --min-free-disk 20 --no-http
            status=$?
            wait
            cp run/coordinator.log run/results.jsonl "$2/"
            exit $status
            """
        let child = try Child(["--mount", "--propagation", "private", "--fork", "--kill-child", "/bin/sh", "-c", script, "sh",
                               fs.path, out.path, Smaller.executable!.path, job],
                              in: dir, name: "run", executable: "/usr/bin/unshare")
        #expect(child.wait(seconds: 60, "smaller run on a nearly full tmpfs") == 0, "\(child.text.suffix(3000))")
        let log = (try? String(contentsOf: out.appendingPathComponent("coordinator.log"), encoding: .utf8)) ?? ""
        #expect(log.contains("below the reserve of 20 MB (--min-free-disk): no new task is granted"), "\(log.suffix(3000))")
        #expect(log.contains("tasks are granted again"), "\(log.suffix(3000))")
        try Self.expectThreeStartedAfterTheDeletion(out, records: out)  // the copy of results.jsonl
    }

    @Test(.enabled(if: runnable, skipReason)) func aWorkerOnAFullDiskAsksForNothingUntilSpaceIsFreed() throws {
        let (dir, fs, out) = try Self.folders("disk-reserve-worker")
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = try writeJob("name: diskw\nnoop: {tasks: 3, seconds: 0}\n", in: dir)
        let endpoint = "tcp://127.0.0.1:\(freePort())"
        // The coordinator's run directory is outside the tmpfs (and has no reserve); the worker's is inside it.
        let script = """
            set -e
            mount -t tmpfs -o size=64m tmpfs "$1"
            head -c 52000000 /dev/zero > "$1/filler"
            set +e
            "$3" coordinator "$4" --bind "$5" --dir "$2/run" --min-free-disk 0 --no-http > "$2/coordinator.out" 2>&1 &
            coordinator=$!
            "$3" worker --connect "$5" --dir "$1/worker" --min-free-disk 20 > "$2/worker.out" 2>&1 &
            sleep 3
            date +%s.%N > "$2/deleted-at"
            rm "$1/filler"
            wait $coordinator
            status=$?
            wait
            exit $status
            """
        let child = try Child(["--mount", "--propagation", "private", "--fork", "--kill-child", "/bin/sh", "-c", script, "sh",
                               fs.path, out.path, Smaller.executable!.path, job, endpoint],
                              in: dir, name: "grid", executable: "/usr/bin/unshare")
        let workerText = { (try? String(contentsOf: out.appendingPathComponent("worker.out"), encoding: .utf8)) ?? "" }
        #expect(child.wait(seconds: 60, "a grid whose worker's disk is nearly full") == 0, "\(child.text.suffix(2000)) \(workerText().suffix(2000))")
        #expect(workerText().contains("below the reserve of 20 MB (--min-free-disk): this worker asks for no new task"), "\(workerText().suffix(3000))")
        #expect(workerText().contains("this worker asks for tasks again"), "\(workerText().suffix(3000))")
        try Self.expectThreeStartedAfterTheDeletion(out, records: out.appendingPathComponent("run"))
    }
}
