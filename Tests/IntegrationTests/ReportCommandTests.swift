// `smaller report` as a user runs it: on a copied run directory of an older version (results.jsonl only, a
// truncated last line), on a folder that is no run directory, and with a format it does not know.
import Experiment
import Foundation
import Testing
import TestSupport

@Suite struct ReportCommandTests {
    @Test func reportsAnOldRunDirectoryAndRefusesWhatIsNone() throws {
        let dir = try Fixtures.temporaryDirectory("report-cli")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("old")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        // Records as an early version wrote them: F1 and sizes only, no robustness, calibration or loyalty.
        var lines: [String] = []
        for (kind, seed, f1, bytes) in [(TaskKind.finetune, 1, 0.8, 1000), (.finetune, 2, 0.9, 1000), (.compress, 1, 0.7, 360), (.compress, 2, 0.74, 360)] {
            let setting = kind == .compress ? CompressionSetting(family: "quantize", fields: ["scheme": .string("dynamic")], label: "quantize scheme=dynamic") : nil
            let spec = TaskSpec(kind: kind, executor: "engine", seed: seed, language: "hau", setting: setting, params: [:])
            let record = ResultRecord(taskID: spec.id, spec: spec, status: "done", metrics: ["test.f1": .double(f1), "bytes": .int(bytes)],
                                      engineVersion: "0.0.9", host: "h", worker: "w", threads: 1, attempt: 1, startedAt: 0, endedAt: 1)
            lines.append(String(decoding: try JSONEncoder().encode(record), as: UTF8.self))
        }
        try Data((lines.joined(separator: "\n") + "\n" + lines[0].prefix(30)).utf8).write(to: run.appendingPathComponent("results.jsonl"))
        let out = dir.appendingPathComponent("out")
        let child = try Child(["report", run.path, "--out", out.path], in: dir, name: "report")
        #expect(child.wait(seconds: 30) == 0, "\(child.text)")
        #expect(child.text.contains(out.appendingPathComponent("report.html").path))
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("72.0 ± 2.8") && html.contains("-13.0 (-15.3%)"))
        #expect(html.contains("1 line(s) of results.jsonl could not be read"))
        for file in ["report.md", "report.csv", "report-long.csv", "report.json", "report.tex", "plots/delta-f1-heatmap.svg"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file)")
        }

        let none = try Child(["report", dir.appendingPathComponent("nothing").path], in: dir, name: "none")
        #expect(none.wait(seconds: 30) == 1)
        #expect(none.text.contains("is not a run directory"))
        let badFormat = try Child(["report", run.path, "--format", "html,pdf"], in: dir, name: "badformat")
        #expect(badFormat.wait(seconds: 30) == 64)
        #expect(badFormat.text.contains("unknown format 'pdf'"))
    }
}
