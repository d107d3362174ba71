// Study: everything the full report is built from: the aggregated rows, the records themselves (for the tidy
// CSV, the environment and the reliability diagram), each language's pretraining text size, and what is missing.
import Experiment
import Foundation

package struct Study: Sendable {
    package var report: Report
    package var records: [ResultRecord]
    /// Bytes of each language's pretraining text file (`<lang>.txt`), when the job's data is real.
    package var textBytes: [String: Int]
    /// What the report could not use, said plainly at the top (unreadable lines, missing results, …).
    package var notes: [String]

    package init(job: String, records: [ResultRecord], failed: Int = 0, skipped: Int = 0, textBytes: [String: Int] = [:],
                 notes: [String] = []) {
        let done = records.filter { $0.status == "done" }
        report = Report(job: job, records: done, failed: failed, skipped: skipped)
        self.records = done
        self.textBytes = textBytes
        var notes = notes
        if done.isEmpty { notes.append("No finished results yet: the run directory has no done records.") }
        let evaluated = done.filter { $0.spec.kind == .finetune || $0.spec.kind == .compress }
        let lacking = evaluated.filter { $0.metrics["test.f1"]?.doubleValue == nil }
        if !lacking.isEmpty {
            notes.append("\(lacking.count) evaluated record(s) lack `test.f1` (\(lacking.prefix(3).map { String($0.taskID.prefix(12)) }.joined(separator: ", "))\(lacking.count > 3 ? ", …" : "")); they are left out of the F1 columns.")
        }
        self.notes = notes
    }

    /// Rows of fine-tuned and compressed models (no pretraining, no noops).
    package var modelRows: [ReportRow] {
        report.rows.filter { $0.setting != "pretrain" && !$0.setting.hasPrefix("pretrain ") && $0.setting != "noop" && $0.language != "-" }
    }

    package var languages: [String] { Array(Set(modelRows.map(\.language))).sorted() }

    /// Compression settings in first-seen order of the rows (dense excluded).
    package var settings: [String] {
        var seen: [String] = []
        for r in modelRows where r.setting != "dense" && !seen.contains(r.setting) { seen.append(r.setting) }
        return seen
    }

    package func row(_ language: String, _ setting: String) -> ReportRow? {
        report.rows.first { $0.language == language && $0.setting == setting }
    }

    /// The setting of a compress row's records (family and fields), by label.
    package func setting(labelled label: String) -> CompressionSetting? {
        records.first { $0.spec.setting?.label == label }?.spec.setting
    }

    /// Relative change of a row's mean to the dense mean of its language (mean / dense − 1), when both exist.
    package func relative(_ row: ReportRow, _ metric: String) -> Double? {
        guard row.setting != "dense", let dense = self.row(row.language, "dense")?.metrics[metric]?.mean, dense != 0,
              let m = row.metrics[metric]?.mean else { return nil }
        return m / dense - 1
    }

    /// Metric groups and their columns present in the model rows.
    package var columns: [(group: MetricGroup, metrics: [MetricInfo])] {
        MetricInfo.columns(present: Set(modelRows.flatMap(\.metrics.keys)))
    }

    /// Engine versions, ISAs, GEMM kernels, thread counts and hosts seen in the records.
    package var environment: [(String, String)] {
        func distinct(_ f: (ResultRecord) -> String?) -> String {
            let v = Set(records.compactMap(f)).sorted()
            return v.isEmpty ? "not recorded" : v.joined(separator: ", ")
        }
        return [("engine version", distinct { $0.engineVersion }),
                ("ISA", distinct { $0.metrics["isa"]?.stringValue }),
                ("GEMM kernel", distinct { $0.metrics["compute.gemm"]?.stringValue }),
                ("threads per task", distinct { String($0.threads) }),
                ("hosts", distinct { $0.host }),
                ("workers", String(Set(records.map(\.worker)).count)),
                ("records", String(records.count))]
    }

    /// A reliability diagram's bins pooled over a row's seeds (and over languages when `language` is nil):
    /// counts summed, confidence and accuracy count-weighted; the bin of confidence exactly 1 merged into the last.
    package func reliability(setting: String, language: String? = nil, level: String = "token") -> [ReliabilityBin]? {
        var pooled: [ReliabilityBin] = []
        for r in records where label(of: r) == setting && (language == nil || r.spec.language == language) {
            guard var bins = r.metrics["calibration.\(level).bins"]?.arrayValue?.compactMap(ReliabilityBin.init), !bins.isEmpty else { continue }
            if let certain = r.metrics["calibration.\(level).certain"].flatMap(ReliabilityBin.init) {
                bins[bins.count - 1] = bins[bins.count - 1].merged(certain)
            }
            if pooled.isEmpty { pooled = bins } else if pooled.count == bins.count {
                pooled = zip(pooled, bins).map { $0.merged($1) }
            }
        }
        return pooled.isEmpty ? nil : pooled
    }

    /// The row label a record is grouped under (`dense` for fine-tuning).
    package func label(of record: ResultRecord) -> String {
        switch record.spec.kind {
        case .finetune: "dense"
        case .compress: record.spec.setting?.label ?? "compress"
        default: "other"
        }
    }
}

package struct ReliabilityBin: Sendable, Equatable {
    package var count: Double
    package var confidence: Double
    package var accuracy: Double
}

extension ReliabilityBin {
    init?(_ value: Value) {
        guard let o = value.objectValue, let c = o["count"]?.doubleValue, let conf = o["confidence"]?.doubleValue,
              let acc = o["accuracy"]?.doubleValue, c >= 0 else { return nil }
        self.init(count: c, confidence: conf, accuracy: acc)
    }

    func merged(_ other: ReliabilityBin) -> ReliabilityBin {
        let n = count + other.count
        guard n > 0 else { return ReliabilityBin(count: 0, confidence: 0, accuracy: 0) }
        return ReliabilityBin(count: n, confidence: (confidence * count + other.confidence * other.count) / n,
                              accuracy: (accuracy * count + other.accuracy * other.count) / n)
    }
}
