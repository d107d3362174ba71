// Writing the report's files into a directory: report.{html,md,csv,json,tex}, the long CSV and each figure as SVG.
import Experiment
import Foundation

package enum ReportFormat: String, CaseIterable, Sendable {
    case html, md, csv, json, tex
}

extension Study {
    /// Markdown: the compact per-row table, then one table per metric group, the disparities and the claims.
    package var markdown: String {
        var out = [report.markdown, "## Tables by group", "",
                   "Scores in points (×100); Δ to the dense model of the same language in points (or the unit) and in percent.", "",
                   markdownTables, "## Disparities across languages", ""]
        let ds = disparities
        if ds.isEmpty { out.append("No compressed setting has a test-F1 Δ yet.") }
        for d in ds {
            let rho = d.textCorrelation.map { "; Spearman ρ with pretraining text bytes \(NumberFormat.signed($0.rho, places: 2)) (n = \($0.n))" } ?? ""
            out.append("- \(d.setting): " + d.ranking.map { "\($0.language) \(NumberFormat.signed($0.delta, places: 1))" }.joined(separator: " < ")
                       + " pts\(d.spread.map { "; spread \(NumberFormat.fixed($0, 1)) pts" } ?? "")\(rho)")
        }
        out += ["", "## Compression-identified entities", "", markdownIdentifiedEntities, "## The study's claims, checked", ""]
        for c in claims { out.append("- **\(c.claim)** — \(c.verdict.rawValue). \(c.evidence)") }
        if !notes.isEmpty { out += ["", "## Missing", ""] + notes.map { "- \($0)" } }
        return out.joined(separator: "\n") + "\n"
    }

    /// Writes the chosen formats into `directory` (figures under `plots/` with html); returns the files written.
    @discardableResult
    package func write(to directory: URL, formats: Set<ReportFormat> = Set(ReportFormat.allCases)) throws -> [String] {
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        var files: [(String, String)] = []
        if formats.contains(.md) { files.append(("report.md", markdown)) }
        if formats.contains(.csv) {
            files += [("report.csv", report.csv), ("report-long.csv", tidyCSV), ("report-entities.csv", identifiedEntitiesCSV)]
        }
        if formats.contains(.json) { files.append(("report.json", String(decoding: try json(), as: UTF8.self))) }
        if formats.contains(.tex) { files.append(("report.tex", latex)) }
        if formats.contains(.html) {
            let figures = plots
            try fm.createDirectory(at: directory.appendingPathComponent("plots"), withIntermediateDirectories: true)
            for p in figures { files.append(("plots/\(p.id).svg", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + p.svg + "\n")) }
            let links = files.map(\.0).filter { !$0.hasPrefix("plots/") }
            files.append(("report.html", html(files: links)))
        }
        for (name, text) in files {
            try Data(text.utf8).write(to: directory.appendingPathComponent(name), options: .atomic)
        }
        return files.map(\.0)
    }

    /// Markdown of the compression-identified entities: the rule, then the table or why there is none.
    var markdownIdentifiedEntities: String {
        let (rows, notes) = identifiedEntities
        var out = [EntityMajority.tieRule + " " + EntityMajority.recallNote, ""]
        if rows.isEmpty, notes.isEmpty { out.append("No compressed setting to compare yet.") }
        if !rows.isEmpty {
            out.append("| " + Self.identifiedEntitiesHeader.joined(separator: " | ") + " |")
            out.append("|---|---|" + String(repeating: "---:|", count: Self.identifiedEntitiesHeader.count - 2))
            for r in rows { out.append("| " + identifiedEntitiesCells(r).joined(separator: " | ") + " |") }
        }
        out += notes.map { "- \($0)" }
        return out.joined(separator: "\n") + "\n"
    }

    /// report.json: the aggregated rows (as `Report` encodes them) plus the disparities, claims and notes.
    package func json() throws -> Data {
        try JSONWriter.encoder(pretty: true).encode(StudyJSON(study: self))
    }
}

struct StudyJSON: Encodable {
    let study: Study

    struct DisparityJSON: Encodable {
        var setting: String
        var ranking: [Rank]
        var spread: Double?
        var spearmanTextBytes: Double?
        var spearmanN: Int?
    }

    struct Rank: Encodable {
        var language: String
        var deltaPoints: Double
    }

    enum Keys: String, CodingKey { case disparities, claims, notes, textBytes, compressionIdentifiedEntities }

    struct IdentifiedJSON: Encodable {
        var tieRule = EntityMajority.tieRule
        var recallNote = EntityMajority.recallNote
        var rows: [IdentifiedEntities]
        var notes: [String]
    }

    func encode(to encoder: Encoder) throws {
        try study.report.encode(to: encoder)
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(study.disparities.map {
            DisparityJSON(setting: $0.setting, ranking: $0.ranking.map { Rank(language: $0.language, deltaPoints: $0.delta) },
                          spread: $0.spread, spearmanTextBytes: $0.textCorrelation?.rho, spearmanN: $0.textCorrelation?.n)
        }, forKey: .disparities)
        try c.encode(study.claims, forKey: .claims)
        try c.encode(study.notes, forKey: .notes)
        try c.encode(study.textBytes, forKey: .textBytes)
        let identified = study.identifiedEntities
        try c.encode(IdentifiedJSON(rows: identified.rows, notes: identified.notes), forKey: .compressionIdentifiedEntities)
    }
}
