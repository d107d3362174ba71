// The disk reserve on a real filesystem that is nearly full: `smaller run` on a 64 MB tmpfs (mounted in a mount
// namespace of the test's own, gone with it) that a 52 MB file fills past the reserve. The coordinator grants
// nothing while the file is there, says why, and grants again once the file is deleted; the grid completes and
// no task started before the deletion. Root only (mount); skipped with the reason otherwise.
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

    @Test(.enabled(if: runnable, skipReason)) func aFullDiskPausesTheGridUntilSpaceIsFreed() throws {
        let dir = try Fixtures.temporaryDirectory("disk-reserve")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fs = dir.appendingPathComponent("fs"), out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: fs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
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
        let deletedText = (try? String(contentsOf: out.appendingPathComponent("deleted-at"), encoding: .utf8)) ?? ""
        let deletedAt = try #require(Double(deletedText.trimmingCharacters(in: .whitespacesAndNewlines)))
        let records = try RunDir(url: out).exportedRecords()  // the copy of results.jsonl
        #expect(records.count == 3)
        for r in records { #expect(r.startedAt >= deletedAt, "\(r.taskID) started at \(r.startedAt), before the filler went at \(deletedAt)") }
    }
}
