// Report: aggregation of result records per language × setting (mean ± sample std over seeds, n, delta to
// the dense baseline of the same language), written as Markdown, CSV and JSON; Study builds the full report on it.
import Experiment
import Foundation

package struct Stat: Codable, Equatable, Sendable {
    package var mean: Double
    /// Sample standard deviation (n − 1); nil when n < 2.
    package var std: Double?
    package var n: Int

    package init(_ values: [Double]) {
        n = values.count
        mean = values.reduce(0, +) / Double(max(1, values.count))
        if values.count >= 2 {
            let m = mean
            std = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot()
        }
    }
}

package struct ReportRow: Codable, Equatable, Sendable {
    package var language: String
    /// `pretrain`, `dense` (the fine-tuned baseline), a compression setting's label, or `noop`.
    package var setting: String
    package var n: Int
    package var seeds: [Int]
    package var metrics: [String: Stat]
    /// Mean minus the dense baseline's mean for the same language, per metric both have.
    package var delta: [String: Double]
    /// For size and speed metrics (`Report.isRelative`): mean / dense mean − 1, e.g. −0.64 for a model
    /// 64% smaller. F1 and other scores stay in `delta` only (points, not percent).
    package var relative: [String: Double] = [:]
}

package struct Report: Codable, Sendable {
    package var job: String
    package var rows: [ReportRow]
    package var failed: Int
    package var skipped: Int
    /// Metrics shown as columns in Markdown/CSV, in order (every numeric metric when empty).
    package var columns: [String]

    /// Groups done records; only numeric top-level metrics are aggregated (nested objects stay in the records).
    package init(job: String, records: [ResultRecord], failed: Int = 0, skipped: Int = 0, preferred: [String] = Report.preferredMetrics) {
        self.job = job
        self.failed = failed
        self.skipped = skipped
        var groups: [String: (language: String, setting: String, order: Int, records: [ResultRecord])] = [:]
        for record in records where record.status == "done" {
            let (language, setting, order) = Self.group(record.spec)
            let key = "\(language)\u{1}\(setting)"
            groups[key, default: (language, setting, order, [])].records.append(record)
        }
        var rows: [ReportRow] = []
        for g in groups.values {
            var values: [String: [Double]] = [:]
            for r in g.records {
                for (k, v) in r.metrics { if let d = v.doubleValue { values[k, default: []].append(d) } }
            }
            rows.append(ReportRow(language: g.language, setting: g.setting, n: g.records.count,
                                  seeds: g.records.compactMap(\.spec.seed).sorted(),
                                  metrics: values.mapValues(Stat.init), delta: [:]))
        }
        let order = Dictionary(groups.values.map { ("\($0.language)\u{1}\($0.setting)", $0.order) }, uniquingKeysWith: { a, _ in a })
        rows.sort {
            if $0.language != $1.language { return $0.language < $1.language }
            let a = order["\($0.language)\u{1}\($0.setting)"]!, b = order["\($1.language)\u{1}\($1.setting)"]!
            return a != b ? a < b : $0.setting < $1.setting
        }
        for i in rows.indices {
            guard rows[i].setting != "dense", rows[i].setting != "pretrain",
                  let dense = rows.first(where: { $0.language == rows[i].language && $0.setting == "dense" }) else { continue }
            for (k, s) in rows[i].metrics {
                guard let d = dense.metrics[k] else { continue }
                rows[i].delta[k] = s.mean - d.mean
                if Self.isRelative(k), d.mean != 0 { rows[i].relative[k] = s.mean / d.mean - 1 }
            }
        }
        self.rows = rows
        let present = Set(rows.flatMap { $0.metrics.keys })
        let chosen = preferred.filter(present.contains)
        columns = chosen.isEmpty ? present.sorted() : chosen
    }

    /// The wide table's columns, each shown when some record has it: accuracy, then robustness, out-of-distribution
    /// F1, calibration and loyalty (issue #13's metrics; records before them simply lack the columns), then efficiency.
    package static let preferredMetrics = ["test.f1", "dev.f1", "robust.diacritics.f1", "robust.typos@0.1.f1", "ood.f1",
                                           "calibration.token.ece", "loyalty.label",
                                           "params", "nonzeros", "bytes", "latency.p50_ms", "throughput"]

    /// Size and speed metrics, whose Δ the Markdown table shows as a percentage of the dense model's.
    package static func isRelative(_ metric: String) -> Bool {
        ["params", "nonzeros"].contains(metric) || metric.hasPrefix("bytes") || metric.hasPrefix("latency.")
            || metric.hasPrefix("throughput")
    }

    static func group(_ spec: TaskSpec) -> (String, String, Int) {
        switch spec.kind {
        case .pretrain:
            // A distillation student's own pretraining (it reads the teacher's pretrain) is a row of its own.
            if spec.inputs.isEmpty { ("all", "pretrain", 0) } else {
                ("all", "pretrain student " + ["layers", "hidden", "heads", "ffn"].map { key in
                    "\(key)=\(spec.params["model"]?[key]?.intValue.map(String.init) ?? "?")" }.joined(separator: " "), 0)
            }
        case .finetune: (spec.language ?? "-", "dense", 1)
        case .compress: (spec.language ?? "-", spec.setting?.label ?? "compress", 2)
        case .noop: ("-", "noop", 3)
        }
    }

    package var markdown: String {
        var lines = ["# \(job): results", "",
                     "Mean ± sample standard deviation over seeds; Δ is the difference to the dense (fine-tuned, uncompressed) baseline of the same language: in points for scores, in percent of the dense value for size and speed (params, non-zeros, bytes, latency, throughput).", ""]
        var header = "| language | setting | n |"
        var rule = "|---|---|---|"
        for c in columns { header += " \(c) | Δ \(c) |"; rule += "---|---|" }
        lines += [header, rule]
        for row in rows {
            var line = "| \(row.language) | \(row.setting) | \(row.n) |"
            for c in columns {
                let places = row.metrics[c].map { NumberFormat.places(mean: $0.mean, sd: $0.std) } ?? 4
                line += row.metrics[c].map { " \(NumberFormat.meanSD($0.mean, $0.std)) |" } ?? " – |"
                if let r = row.relative[c] {
                    line += " \(NumberFormat.percent(r)) |"
                } else {
                    line += row.delta[c].map { " \(NumberFormat.signed($0, places: places)) |" } ?? " – |"
                }
            }
            lines.append(line)
        }
        if failed > 0 || skipped > 0 { lines += ["", "\(failed) tasks failed and \(skipped) were skipped (see `smaller status`)."] }
        return lines.joined(separator: "\n") + "\n"
    }

    package var csv: String {
        var header = ["language", "setting", "n", "seeds"]
        for c in columns {
            header += ["\(c).mean", "\(c).std", "\(c).delta"]
            if Self.isRelative(c) { header.append("\(c).relative") }
        }
        var lines = [header.joined(separator: ",")]
        for row in rows {
            var fields = [Self.csvField(row.language), Self.csvField(row.setting), String(row.n),
                          Self.csvField(row.seeds.map(String.init).joined(separator: " "))]
            for c in columns {
                let s = row.metrics[c]
                fields += [s.map { "\($0.mean)" } ?? "", s?.std.map { "\($0)" } ?? "", row.delta[c].map { "\($0)" } ?? ""]
                if Self.isRelative(c) { fields.append(row.relative[c].map { "\($0)" } ?? "") }
            }
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func csvField(_ s: String) -> String {
        s.contains(where: { ",\"\n".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    package func json() throws -> Data {
        try JSONWriter.encoder(pretty: true).encode(self)
    }

}
