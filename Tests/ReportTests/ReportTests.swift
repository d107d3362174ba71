// Report: mean ± sample std per language × setting, n, and deltas to the dense baseline, checked by hand.
import Experiment
import Foundation
import Testing
@testable import Report

@Suite struct ReportTests {
    static let quant = CompressionSetting(family: "quantize", fields: ["scheme": .string("dynamic")], label: "quantize scheme=dynamic")

    static func record(_ kind: TaskKind, _ lang: String, _ seed: Int, _ f1: Double, setting: CompressionSetting? = nil,
                       params: Int = 100) -> ResultRecord {
        let spec = TaskSpec(kind: kind, executor: "engine", seed: seed, language: lang, setting: setting, params: [:])
        return ResultRecord(taskID: spec.id, spec: spec, status: "done", metrics: ["test.f1": .double(f1), "params": .int(params)],
                            engineVersion: "t", host: "h", worker: "w", threads: 1, attempt: 1, startedAt: 0, endedAt: 1)
    }

    @Test func aggregatesPerLanguageAndSettingWithDeltas() throws {
        let records = [
            Self.record(.finetune, "hau", 1, 0.80), Self.record(.finetune, "hau", 2, 0.90),
            Self.record(.compress, "hau", 1, 0.70, setting: Self.quant, params: 36),
            Self.record(.compress, "hau", 2, 0.74, setting: Self.quant, params: 36),
            Self.record(.finetune, "swa", 1, 0.60),
        ]
        let report = Report(job: "j", records: records)
        #expect(report.rows.map { "\($0.language)/\($0.setting)" } == ["hau/dense", "hau/quantize scheme=dynamic", "swa/dense"])
        let dense = report.rows[0].metrics["test.f1"]!
        // mean 0.85; sample std = sqrt(((0.05)^2 * 2) / 1) = 0.0707106...
        #expect(abs(dense.mean - 0.85) < 1e-12)
        #expect(abs(dense.std! - 0.07071067811865474) < 1e-12)
        #expect(dense.n == 2)
        let q = report.rows[1]
        #expect(abs(q.metrics["test.f1"]!.mean - 0.72) < 1e-12)
        #expect(abs(q.delta["test.f1"]! - (0.72 - 0.85)) < 1e-12)
        #expect(q.delta["params"] == -64)
        // Size and speed deltas are also relative to the dense value: 36 / 100 − 1; scores are not.
        #expect(abs(q.relative["params"]! - (-0.64)) < 1e-12 && q.relative["test.f1"] == nil)
        #expect(report.rows[2].metrics["test.f1"]!.std == nil)  // one seed: no spread
        #expect(report.columns == ["test.f1", "params"])
        #expect(report.markdown.contains("| hau | quantize scheme=dynamic | 2 | 0.720 ± 0.028 | -0.130 | 36 ± 0 | -64.0% |"))
        let csvLines = report.csv.split(separator: "\n")
        #expect(csvLines[0] == "language,setting,n,seeds,test.f1.mean,test.f1.std,test.f1.delta,params.mean,params.std,params.delta,params.relative")
        #expect(csvLines.count == 4)
        let decoded = try JSONDecoder().decode(Report.self, from: try report.json())
        #expect(decoded.rows == report.rows)
    }
}
