// report.html: one self-contained XHTML page (inline CSS and SVG; no scripts, fonts or network): the summary,
// the job and environment, the tables, the figures, the disparities and the study's claims checked.
import Foundation

extension Study {
    /// The summary's lines: best and worst setting per language by ΔF1, the largest losses, the verdicts.
    package var summary: [String] {
        var lines: [String] = []
        for l in languages {
            let ds: [(String, Double)] = settings.compactMap { s in row(l, s)?.delta["test.f1"].map { (s, 100 * $0) } }
            guard let best = ds.max(by: { $0.1 < $1.1 }), let worst = ds.min(by: { $0.1 < $1.1 }) else { continue }
            var dense = "no dense F1"
            if let d = row(l, "dense")?.metrics["test.f1"] {
                let sd: Double? = d.std.map { 100 * $0 }
                dense = "dense F1 " + NumberFormat.meanSD(100 * d.mean, sd)
            }
            let bestText = best.0 + " (" + NumberFormat.signed(best.1, places: 1) + " pts)"
            let worstText = worst.0 + " (" + NumberFormat.signed(worst.1, places: 1) + " pts)"
            lines.append(l + " (" + dense + "): best " + bestText + ", worst " + worstText)
        }
        var all: [(String, String, Double)] = []
        for l in languages { for s in settings { if let d = row(l, s)?.delta["test.f1"] { all.append((l, s, 100 * d)) } } }
        let losses = all.filter { $0.2 < 0 }.sorted { $0.2 < $1.2 }.prefix(3)
        if !losses.isEmpty {
            lines.append("Largest losses: " + losses.map { "\($0.0) under \($0.1) (\(NumberFormat.signed($0.2, places: 1)) pts)" }.joined(separator: "; "))
        }
        let verdicts = claims
        lines.append("Claims: \(verdicts.filter { $0.verdict == .holds }.count) hold, \(verdicts.filter { $0.verdict == .doesNotHold }.count) do not, \(verdicts.filter { $0.verdict == .undecided }.count) undecided (tie), \(verdicts.filter { $0.verdict == .notMeasured }.count) not measured in this run")
        return lines
    }

    package func html(files: [String] = []) -> String {
        var h = "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head><meta charset=\"utf-8\"/>"
        h += "<title>\(esc(report.job)): smaller report</title><style>\(Self.css)</style></head><body>"
        h += "<h1>\(esc(report.job)): what compression did, per language</h1>"
        h += "<section id=\"summary\"><h2>Summary</h2><ul>" + summary.map { "<li>\(esc($0))</li>" }.joined() + "</ul>"
        if !notes.isEmpty { h += "<div class=\"notes\"><strong>Missing or unreadable:</strong><ul>" + notes.map { "<li>\(Self.prose($0))</li>" }.joined() + "</ul></div>" }
        if report.failed > 0 || report.skipped > 0 {
            h += "<p class=\"notes\">\(report.failed) task(s) failed and \(report.skipped) were skipped (see <code>smaller status</code>); their cells are absent.</p>"
        }
        h += "</section>"
        h += "<section id=\"job\"><h2>Job and environment</h2><table class=\"env\"><tbody>"
        h += "<tr><th>job</th><td>\(esc(report.job))</td></tr>"
        h += "<tr><th>languages</th><td>\(esc(languages.joined(separator: ", ")))</td></tr>"
        h += "<tr><th>settings</th><td>\(esc((["dense"] + settings).joined(separator: "; ")))</td></tr>"
        h += "<tr><th>seeds</th><td>\(esc(Set(records.compactMap(\.spec.seed)).sorted().map(String.init).joined(separator: ", ")))</td></tr>"
        for (k, v) in environment { h += "<tr><th>\(esc(k))</th><td>\(esc(v))</td></tr>" }
        h += "</tbody></table>"
        if !files.isEmpty { h += "<p>Files: " + files.map { "<a href=\"\(esc($0))\">\(esc($0))</a>" }.joined(separator: " · ") + "</p>" }
        h += "</section>"
        h += "<section id=\"tables\"><h2>Tables</h2><p>Mean ± sample sd over seeds (n seeds), the sd to two significant digits. Scores (F1, ECE, loyalty, flips) are in points (×100). Δ is the change from the dense (fine-tuned, uncompressed) model of the same language, in points for scores and the column's unit otherwise, and in percent of the dense value.</p>"
        h += htmlTables + "</section>"
        h += "<section id=\"plots\"><h2>Figures</h2>"
        let figures = plots
        if figures.isEmpty { h += "<p>No figure: the records carry no test F1 yet.</p>" }
        for p in figures { h += "<figure id=\"fig-\(esc(p.id))\" data-marks=\"\(p.marks)\">\(p.svg)<figcaption>\(esc(p.caption))</figcaption></figure>" }
        h += "</section>"
        h += htmlDisparities
        h += "<section id=\"claims\"><h2>The study's claims, checked</h2><table><thead><tr><th>claim (Awobade et al. 2024)</th><th>verdict here</th><th>evidence from this run</th></tr></thead><tbody>"
        for c in claims {
            h += "<tr><td>\(esc(c.claim))</td><td class=\"verdict \(c.verdict == .holds ? "yes" : c.verdict == .doesNotHold ? "no" : "na")\">\(esc(c.verdict.rawValue))</td><td>\(Self.prose(c.evidence))</td></tr>"
        }
        h += "</tbody></table></section>"
        h += "<footer>Written by <code>smaller report</code> from the run's records; rerun it at any time (also while the grid runs).</footer>"
        return h + "</body></html>\n"
    }

    var htmlTables: String {
        var h = ""
        for (group, metrics) in columns {
            let rows = modelRows.filter { r in metrics.contains { r.metrics[$0.name] != nil } }
            guard !rows.isEmpty else { continue }
            h += "<h3>\(esc(group.rawValue.capitalized))</h3><table class=\"data\" id=\"table-\(group.rawValue)\"><thead><tr><th>language</th><th>setting</th><th>n</th>"
            for m in metrics { h += "<th>\(esc(Self.header(m)))</th>" + (m.hasDelta ? "<th>Δ \(esc(m.label))</th>" : "") }
            h += "</tr></thead><tbody>"
            for r in rows {
                h += "<tr\(r.setting == "dense" ? " class=\"dense\"" : "")><td>\(esc(r.language))</td><td>\(esc(r.setting))</td><td>\(r.n)</td>"
                for m in metrics {
                    let c = cell(r, m)
                    let cls = c.flatMap { $0.delta.hasPrefix("-") ? "neg" : $0.delta.hasPrefix("+") ? "pos" : nil }
                    h += "<td>\(esc(c?.value ?? "–"))</td>"
                    if m.hasDelta { h += "<td\(cls.map { " class=\"\($0)\"" } ?? "")>\(esc(c.map { $0.delta.isEmpty ? "–" : $0.delta } ?? "–"))</td>" }
                }
                h += "</tr>"
            }
            h += "</tbody></table>"
        }
        return h.isEmpty ? "<p>No table: no fine-tuned or compressed model has finished yet.</p>" : h
    }

    var htmlDisparities: String {
        var h = "<section id=\"disparities\"><h2>Disparities across languages</h2>"
        let ds = disparities
        if ds.isEmpty { h += "<p>No compressed setting has a test-F1 Δ yet.</p>" } else {
            h += "<table><thead><tr><th>setting</th><th>languages</th><th>most loss</th><th>least loss</th><th>spread (pts)</th><th>ranking by loss (ΔF1 pts)</th><th>Spearman ρ of ΔF1 with pretraining text bytes</th></tr></thead><tbody>"
            for d in ds {
                let rho = d.textCorrelation.map { "\(NumberFormat.signed($0.rho, places: 2)) (n = \($0.n) languages)" }
                    ?? (textBytes.isEmpty ? "no pretraining text sizes (synthetic data)" : "fewer than 3 languages with text")
                h += "<tr><td>\(esc(d.setting))</td><td>\(d.ranking.count)</td><td>\(esc(d.worst.map { "\($0.language) \(NumberFormat.signed($0.delta, places: 1))" } ?? "–"))</td>"
                h += "<td>\(esc(d.best.map { "\($0.language) \(NumberFormat.signed($0.delta, places: 1))" } ?? "–"))</td><td>\(esc(d.spread.map { NumberFormat.fixed($0, 1) } ?? "–"))</td>"
                h += "<td>\(esc(d.ranking.map { "\($0.language) \(NumberFormat.signed($0.delta, places: 1))" }.joined(separator: " < ")))</td><td>\(esc(rho))</td></tr>"
            }
            h += "</tbody></table>"
        }
        if !textBytes.isEmpty {
            h += "<p>Pretraining text per language: " + esc(textBytes.sorted { $0.key < $1.key }.map { "\($0.key) \(NumberFormat.value(Double($0.value) / 1e6)) MB" }.joined(separator: ", ")) + ". A positive ρ means languages with more pretraining text lose less.</p>"
        }
        return h + "</section>" + htmlIdentifiedEntities
    }

    var htmlIdentifiedEntities: String {
        let (rows, notes) = identifiedEntities
        var h = "<section id=\"entities\"><h2>Compression-identified entities</h2><p>Gold test entities whose majority outcome (found / missed) over a compressed setting's seeds differs from that over the dense model's seeds (after Hooker et al.). \(esc(EntityMajority.tieRule)) \(esc(EntityMajority.recallNote))</p>"
        if rows.isEmpty, notes.isEmpty { h += "<p>No compressed setting to compare yet.</p>" }
        if !rows.isEmpty {
            h += "<table class=\"data\" id=\"table-entities\"><thead><tr>" + Self.identifiedEntitiesHeader.map { "<th>\(esc($0))</th>" }.joined() + "</tr></thead><tbody>"
            for r in rows { h += "<tr>" + identifiedEntitiesCells(r).map { "<td>\(esc($0))</td>" }.joined() + "</tr>" }
            h += "</tbody></table>"
        }
        if !notes.isEmpty { h += "<ul class=\"notes\">" + notes.map { "<li>\(Self.prose($0))</li>" }.joined() + "</ul>" }
        return h + "</section>"
    }

    /// Escaped text whose `backticked` names (written for Markdown) become <code>; an odd backtick stays as it is.
    static func prose(_ text: String) -> String {
        let parts = text.split(separator: "`", omittingEmptySubsequences: false).map { esc(String($0)) }
        guard parts.count % 2 == 1 else { return esc(text) }
        return parts.enumerated().map { $0.offset % 2 == 1 ? "<code>\($0.element)</code>" : $0.element }.joined()
    }

    static let css = """
    body{font-family:system-ui,sans-serif;max-width:1200px;margin:1em auto;padding:0 1em;color:#222}\
    table{border-collapse:collapse;margin:.5em 0 1.2em;font-size:13px}th,td{padding:3px 7px;border-bottom:1px solid #ddd;text-align:left}\
    table.data{display:block;overflow-x:auto}table.data td{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}table.data td:nth-child(-n+2){text-align:left}\
    tr.dense{background:#f3f6fa}td.neg{color:#B34700}td.pos{color:#005A8C}.verdict.yes{color:#007A55;font-weight:bold}\
    .verdict.no{color:#B34700;font-weight:bold}.verdict.na{color:#777}.notes{background:#fff6e0;padding:.4em .8em}\
    figure{display:inline-block;margin:.5em;vertical-align:top;max-width:580px}figcaption{font-size:12px;color:#555}\
    footer{margin-top:2em;font-size:12px;color:#777}
    """
}
