// The `results.jsonl` export when writing fails: the records are kept and retried, the failure is reported
// while it lasts, and once writing works again every record is in the file once, in order.
import Foundation
import Testing
import TestSupport
@testable import Coordinator

@Suite struct ResultExportTests {
    @Test func aFailingExportIsReportedRetriedAndCompletesInOrder() throws {
        let dir = try Fixtures.temporaryDirectory("export")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent(ResultFileWriter.fileName)
        // A directory where the file should be: every open(2) for writing fails (EISDIR).
        try FileManager.default.createDirectory(at: file, withIntermediateDirectories: false)
        let writer = ResultFileWriter(runDirectory: dir)
        defer { writer.stop() }
        writer.enqueue(["{\"taskID\":\"a\"}", "{\"taskID\":\"b\"}"])
        #expect(waitFor { writer.failure != nil })
        writer.enqueue(["{\"taskID\":\"c\"}"])
        let failure = try #require(writer.failure)
        #expect(failure.message.contains("results.jsonl") && failure.message.contains("directory"), "\(failure.message)")
        #expect(failure.inARow >= 1)
        #expect(!writer.flush(timeout: 0.2))  // still failing: flush gives up instead of hanging
        try FileManager.default.removeItem(at: file)
        #expect(writer.flush(timeout: 20))
        #expect(writer.failure == nil)
        #expect(try String(contentsOf: file, encoding: .utf8) == "{\"taskID\":\"a\"}\n{\"taskID\":\"b\"}\n{\"taskID\":\"c\"}\n")
    }

    func waitFor(_ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline { if condition() { return true }; Thread.sleep(forTimeInterval: 0.01) }
        return condition()
    }
}
