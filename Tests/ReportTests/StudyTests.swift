// The full report on hand-made records: Δ in points and %, the long CSV, ranks, the Pareto frontier, claims,
// the SVG charts, well-formed HTML, and bad input (no records, a truncated results.jsonl, missing metrics).
import Experiment
import Foundation
import FoundationXML
import Testing
@testable import Report

@Suite struct StudyTests {
    static func setting(_ family: String, _ fields: [String: Value], _ label: String) -> CompressionSetting {
        CompressionSetting(family: family, fields: fields, label: label)
    }
    static let prune50 = setting("prune", ["sparsity": .double(0.5), "when": .string("after")], "prune sparsity=0.5 when=after")
    static let prune90 = setting("prune", ["sparsity": .double(0.9), "when": .string("after")], "prune sparsity=0.9 when=after")
    static let dynamic = setting("quantize", ["scheme": .string("dynamic")], "quantize scheme=dynamic")

    static func record(_ kind: TaskKind, _ lang: String, _ seed: Int, _ metrics: [String: Value],
                       setting: CompressionSetting? = nil) -> ResultRecord {
        let spec = TaskSpec(kind: kind, executor: "engine", seed: seed, language: lang, setting: setting, params: [:])
        return ResultRecord(taskID: spec.id, spec: spec, status: "done", metrics: metrics, engineVersion: "t", host: "h",
                            worker: "w", threads: 1, attempt: 1, startedAt: 0, endedAt: 1)
    }

    static func f1(_ f1: Double, bytes: Int = 1000, latency: Double = 10) -> [String: Value] {
        ["test.f1": .double(f1), "bytes": .int(bytes), "latency.p50_ms": .double(latency), "params": .int(100)]
    }

    /// Two languages, two seeds: dense, 50 % and 90 % pruning, dynamic int8.
    static var records: [ResultRecord] {
        var out: [ResultRecord] = []
        for (lang, dense, p50, p90, q) in [("hau", [0.80, 0.90], [0.795, 0.895], [0.50, 0.60], [0.70, 0.74]),
                                          ("yor", [0.60, 0.62], [0.62, 0.64], [0.40, 0.44], [0.61, 0.61])] {
            for seed in [1, 2] {
                out.append(record(.finetune, lang, seed, f1(dense[seed - 1])))
                out.append(record(.compress, lang, seed, f1(p50[seed - 1], bytes: 600, latency: 9), setting: prune50))
                out.append(record(.compress, lang, seed, f1(p90[seed - 1], bytes: 200, latency: 8), setting: prune90))
                out.append(record(.compress, lang, seed, f1(q[seed - 1], bytes: 360, latency: 4), setting: dynamic))
            }
        }
        return out
    }

    @Test func cellsShowDeltaInPointsAndPercent() throws {
        let study = Study(job: "j", records: Self.records)
        let f1 = try #require(MetricInfo.info("test.f1"))
        let q = try #require(study.row("hau", Self.dynamic.label))
        // dense 85 ± 7.07, dynamic 72 ± 2.83 points: Δ −13 points, −13 / 85 = −15.29 %.
        #expect(study.cell(q, f1) == Cell(value: "72.0 ± 2.8", delta: "-13.0 (-15.3%)"))
        let dense = try #require(study.row("hau", "dense"))
        #expect(study.cell(dense, f1) == Cell(value: "85.0 ± 7.1", delta: ""))
        let bytes = try #require(MetricInfo.info("bytes"))
        // 360 bytes = 0.00036 MB, −64 % of the dense model's.
        #expect(study.cell(q, bytes)?.delta.hasSuffix("(-64.0%)") == true)
        #expect(study.columns.map(\.group) == [.accuracy, .efficiency])
        // One seed: a score that is whole in points keeps the column's digits (25.00, not 25), and so does its Δ.
        let one = Study(job: "j", records: [Self.record(.finetune, "hau", 1, Self.f1(0.2613)),
                                            Self.record(.compress, "hau", 1, Self.f1(0.25), setting: Self.dynamic)])
        #expect(one.cell(try #require(one.row("hau", Self.dynamic.label)), f1) == Cell(value: "25.00", delta: "-1.13 (-4.3%)"))
        #expect(one.cell(try #require(one.row("hau", "dense")), f1)?.value == "26.13")
    }

    @Test func tidyCSVHasOneRowPerRecordAndNumericMetric() {
        var records = Self.records
        records[0].metrics["isa"] = .string("avx2")  // not numeric: no row
        let study = Study(job: "j", records: records)
        let lines = study.tidyCSV.split(separator: "\n")
        #expect(lines[0] == "task,kind,language,setting,seed,metric,value")
        #expect(lines.count - 1 == records.count * 4)
        #expect(lines.contains { $0.hasSuffix(",compress,yor,prune sparsity=0.9 when=after,2,test.f1,0.44") })
    }

    @Test func spearmanAndRanksMatchScipy() throws {
        // scipy.stats.spearmanr([-3.1, -0.4, 1.2, -0.4, -7.9], [5.1e6, 2.0e6, 9.9e6, 3.3e6, 0.8e6]) = 0.6668859288553503
        #expect(Stats.ranks([-3.1, -0.4, 1.2, -0.4, -7.9]) == [2, 3.5, 5, 3.5, 1])
        let rho = try #require(Stats.spearman([-3.1, -0.4, 1.2, -0.4, -7.9], [5.1e6, 2.0e6, 9.9e6, 3.3e6, 0.8e6]))
        #expect(abs(rho - 0.6668859288553503) < 1e-12)
        #expect(abs(Stats.spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])! - 0.8207826816681233) < 1e-12)
        #expect(Stats.spearman([1, 1, 1], [1, 2, 3]) == nil)
    }

    @Test func paretoFrontierKeepsOnlyUndominatedPoints() {
        let points: [(cost: Double, score: Double)] = [(10, 80), (4, 70), (6, 70), (2, 50), (8, 85), (3, 40)]
        #expect(Stats.paretoFrontier(points).map(\.cost) == [2, 4, 8])
    }

    @Test func disparitiesRankLanguagesAndCorrelateWithText() throws {
        var study = Study(job: "j", records: Self.records)
        let q = try #require(study.disparities.first { $0.setting == Self.dynamic.label })
        // hau: 72 − 85 = −13; yor: 61 − 61 = 0.
        #expect(q.ranking.map(\.language) == ["hau", "yor"])
        #expect(abs(q.worst!.delta + 13) < 1e-9 && abs(q.spread! - 13) < 1e-9)
        #expect(q.textCorrelation == nil)
        study.textBytes = ["hau": 100, "yor": 50]
        #expect(study.disparities.first?.textCorrelation == nil)  // two languages: too few for a rank correlation
    }

    @Test func claimsGiveVerdictsWithEvidence() {
        let claims = Study(job: "j", records: Self.records).claims
        // 50 %: hau −0.5 (kept: ≥ −1 point), yor +2.0; 90 % loses > 1 point in both: holds to 50 % in both.
        #expect(claims[0].verdict == .holds)
        #expect(claims[0].evidence.contains("hau: holds to 50 %"))
        #expect(claims[1].verdict == .notMeasured)  // no distillation
        #expect(claims[2].verdict == .holds)  // size −64 %, latency −60 %
        #expect(claims[3].verdict == .notMeasured)  // no llm-int8
        #expect(claims[4].verdict == .holds)  // yor improves under 50 % pruning; spreads > 1 point
        #expect(claims[4].evidence.contains("Above the dense model by 0.5 pts or more (1, largest first): yor under prune sparsity=0.5 when=after (+2.0 pts)."),
                "\(claims[4].evidence)")
    }

    /// LLM.int8() against dynamic int8: a tie (equal to the two decimals shown) is no "holds".
    @Test func llmInt8ClaimTieIsUndecided() {
        let llm = Self.setting("quantize", ["scheme": .string("llm-int8")], "quantize scheme=llm-int8")
        func claim(dense: Double, llmF1: Double, dynamicF1: Double) -> Claim {
            let records = [Self.record(.finetune, "hau", 1, Self.f1(dense)),
                           Self.record(.compress, "hau", 1, Self.f1(llmF1), setting: llm),
                           Self.record(.compress, "hau", 1, Self.f1(dynamicF1), setting: Self.dynamic)]
            return Study(job: "j", records: records).llmInt8Claim
        }
        let tie = claim(dense: 0.8, llmF1: 0.79, dynamicF1: 0.79)
        #expect(tie.verdict == .undecided && tie.evidence.contains("llm-int8 -1.00 pts, dynamic -1.00 pts") && tie.evidence.contains("tie"))
        #expect(claim(dense: 0.8, llmF1: 0.79, dynamicF1: 0.79 - 4e-7).verdict == .undecided)  // 0.00004 pts apart
        #expect(claim(dense: 0.8, llmF1: 0.795, dynamicF1: 0.79).verdict == .holds)
        #expect(claim(dense: 0.8, llmF1: 0.78, dynamicF1: 0.79).verdict == .doesNotHold)
    }

    /// Only students within the claim's size range (at most 40 % smaller) decide the distillation claim.
    @Test func distillationClaimJudgesStudentsOfTheClaimsSize() {
        let layers = Self.setting("distill", ["layers": .int(2)], "distill layers=2")
        let narrow = Self.setting("distill", ["layers": .int(2), "hidden": .int(64)], "distill layers=2 hidden=64")
        func claim(_ students: [(CompressionSetting, Double, Int)]) -> Claim {
            var records = [Self.record(.finetune, "hau", 1, Self.f1(0.8))]
            for (s, f1, params) in students {
                var m = Self.f1(f1)
                m["params"] = .int(params)
                records.append(Self.record(.compress, "hau", 1, m, setting: s))
            }
            return Study(job: "j", records: records).distillationClaim
        }
        // 30 % smaller losing 0.5 points holds; a 70 % smaller student losing 7.5 points is shown but not judged.
        let both = claim([(layers, 0.795, 70), (narrow, 0.725, 30)])
        #expect(both.verdict == .holds && both.evidence.contains("not judged"))
        #expect(claim([(layers, 0.77, 70)]).verdict == .doesNotHold)  // 3 points lost at 30 % smaller
        #expect(claim([(narrow, 0.725, 30)]).verdict == .notMeasured)
    }

    @Test func backtickedNamesBecomeCodeInHTML() {
        #expect(Study.prose("lacks `test.f1` & <x>") == "lacks <code>test.f1</code> &amp; &lt;x&gt;")
        #expect(Study.prose("one ` only") == "one ` only")
    }

    @Test func categoryLabelsAreShortenedToTheirShareOfTheAxis() throws {
        let names = (1...4).map { "setting number \($0) with a long label" }
        var chart = Chart(title: "t", xLabel: "x", yLabel: "y", series: [ChartSeries(name: "a", points: (0..<4).map { ChartPoint(x: Double($0), y: 1) }, line: false, color: 0)])
        chart.categories = names
        let doc = try XMLDocument(xmlString: chart.svg, options: [])
        let labels = try doc.nodes(forXPath: "//*[local-name()='text'][@font-size='9']").compactMap { $0.children?.first?.stringValue }
        // 348 px of plot for 4 categories at about 5.5 px per character: at most 15 characters each.
        #expect(labels.count >= 4 && labels.allSatisfy { $0.count <= 15 }, "\(labels)")
    }

    /// Ten languages, ten colours (the study's plots drew amh and wol alike); past the palette, hollow marks.
    @Test func tenSeriesGetTenColoursAndMoreGetHollowMarks() throws {
        let series = (0..<12).map { ChartSeries(name: "s\($0)", points: [ChartPoint(x: Double($0), y: 1)], line: false, color: $0) }
        let doc = try XMLDocument(xmlString: Chart(title: "t", xLabel: "x", yLabel: "y", series: series).svg, options: [])
        let marks = try doc.nodes(forXPath: "//*[local-name()='circle'][@class='mark']")
        func attribute(_ node: XMLNode, _ name: String) throws -> String { try node.nodes(forXPath: "@\(name)").first?.stringValue ?? "" }
        #expect(marks.count == 12)
        let looks = try marks.map { "\(try attribute($0, "fill")) \(try attribute($0, "stroke"))" }
        #expect(Set(looks.prefix(10)).count == 10 && Set(looks).count == 12, "\(looks)")
        #expect(try marks.suffix(2).allSatisfy { try attribute($0, "fill") == "#ffffff" })
    }

    /// The study's settings, compacted for legends and axes, stay apart within a legend's 20 characters (cut to 20,
    /// the four settings at 50 % sparsity read alike: "prune sparsity=0.5 …").
    @Test func compactSettingLabelsStayApartInALegend() {
        let labels = ["prune sparsity=0.5 when=after", "prune sparsity=0.5 when=before", "prune sparsity=0.5 structure=heads",
                      "prune sparsity=0.5 structure=neurons", "distill layers=2 epochs=4", "distill layers=1 epochs=4",
                      "quantize scheme=dynamic", "quantize scheme=llm-int8", "quantize scheme=dynamic embeddings=true",
                      "quantize scheme=llm-int8 embeddings=true", "quantize scheme=int4", "dense"]
        let shown = labels.map { Chart.short(Chart.compact($0), 20) }
        #expect(Set(shown).count == labels.count, "\(shown)")
        #expect(!shown.contains { $0.hasSuffix("…") }, "\(shown)")
        #expect(Chart.compact("prune sparsity=0.5 structure=heads") == "prune 0.5 heads")
        #expect(Chart.compact("quantize scheme=llm-int8 embeddings=true") == "quant llm-int8 +emb")
        #expect(Chart.compact("distill layers=2 epochs=4") == "distill 2L 4ep")
    }

    @Test func chartsHaveOneMarkPerPointAndRangesHoldTheData() throws {
        let series = [ChartSeries(name: "a", points: [ChartPoint(x: 0, y: 81, spread: 3), ChartPoint(x: 50, y: 77)], line: true, color: 0),
                      ChartSeries(name: "b & c", points: [ChartPoint(x: 90, y: 12.5)], line: false, color: 1)]
        let chart = Chart(title: "F1 <vs> sparsity", xLabel: "x", yLabel: "y", series: series)
        let (xr, yr) = chart.ranges
        #expect(xr.contains(0) && xr.contains(90) && yr.contains(84) && yr.contains(12.5))
        let doc = try XMLDocument(xmlString: chart.svg, options: [])
        let marks = try doc.nodes(forXPath: "//*[local-name()='circle'][@class='mark']")
        #expect(marks.count == 3)
        let map = Heatmap(title: "h", rows: ["a", "b"], columns: ["x", "y"], values: [[1, nil], [-2, 0]], unit: "pts")
        let cells = try XMLDocument(xmlString: map.svg, options: []).nodes(forXPath: "//*[local-name()='rect'][@class='cell']")
        #expect(cells.count == 3)
    }

    @Test func htmlIsWellFormedAndEveryFigureHasItsMarks() throws {
        let study = Study(job: "j", records: Self.records)
        let doc = try XMLDocument(xmlString: study.html(files: ["report.csv"]), options: [])
        let figures = try doc.nodes(forXPath: "//*[local-name()='figure']")
        func attribute(_ node: XMLNode, _ name: String) throws -> String? { try node.nodes(forXPath: "@\(name)").first?.stringValue }
        #expect(try figures.map { try attribute($0, "id") } ==
                ["fig-f1-vs-sparsity-hau", "fig-f1-vs-sparsity-yor", "fig-size-vs-f1", "fig-latency-vs-f1", "fig-delta-f1-heatmap"])
        for figure in figures {
            let expected = Int(try attribute(figure, "data-marks") ?? "") ?? -1
            let marks = try figure.nodes(forXPath: ".//*[@class='mark' or @class='cell']")
            #expect(marks.count == expected && expected > 0)
        }
        // dense + 3 settings at 0, 50, 90 %: 3 marks per sparsity curve.
        #expect(try attribute(figures[0], "data-marks") == "3")
        let accuracyRows = try doc.nodes(forXPath: "//*[@id='table-accuracy']/*[local-name()='tbody']/*[local-name()='tr']")
        #expect(accuracyRows.count == 8)
        #expect(try doc.nodes(forXPath: "//*[local-name()='script']").isEmpty)
    }

    @Test func reliabilityBinsArePooledAndDrawn() throws {
        func bins(_ acc: Double) -> Value {
            .array((0..<15).map { i in .object(["count": .int(i >= 13 ? 10 : 0), "confidence": .double((Double(i) + 0.5) / 15), "accuracy": .double(acc)]) })
        }
        var records = Self.records
        records[0].metrics["calibration.token.bins"] = bins(0.9)
        records[0].metrics["calibration.token.certain"] = .object(["count": .int(10), "confidence": .double(1), "accuracy": .double(0.5)])
        records[1].metrics["calibration.token.bins"] = bins(0.7)
        let study = Study(job: "j", records: records)
        let dense = try #require(study.reliability(setting: "dense"))
        // The last bin (10 at 0.9) merged with the certain bin (10 at 0.5): 20 positions, accuracy 0.7.
        #expect(dense[14].count == 20 && abs(dense[14].accuracy - 0.7) < 1e-12)
        let plot = try #require(study.plots.first { $0.id == "reliability" })
        #expect(plot.marks == 4)  // two non-empty bins each for dense and for the first seed of hau 50 %
    }

    @Test func badInputGivesAReportThatSaysWhatIsMissing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-old-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // An old run directory: records without robustness or calibration metrics, one lacking test.f1, a
        // truncated last line; no journal.
        var records = Self.records
        records[1].metrics["test.f1"] = nil
        let lines = try records.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let text = lines.joined(separator: "\n") + "\n" + lines[0].prefix(40)
        try Data(text.utf8).write(to: dir.appendingPathComponent("results.jsonl"))
        let read = try RecordFile.read(dir.appendingPathComponent("results.jsonl"))
        #expect(read.records.count == records.count && read.unreadable == 1)
        let study = Study(job: "old", records: read.records, notes: ["1 line unreadable"])
        #expect(study.notes.contains { $0.contains("lack `test.f1`") })
        let files = try study.write(to: dir)
        #expect(files.contains("report.html") && files.contains("report.tex") && files.contains("report-long.csv"))
        let html = try String(contentsOf: dir.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("1 line unreadable"))
        _ = try XMLDocument(xmlString: html, options: [])

        let empty = Study(job: "empty", records: [])
        #expect(empty.notes == ["No finished results yet: the run directory has no done records."])
        _ = try XMLDocument(xmlString: empty.html(), options: [])
        #expect(empty.claims.allSatisfy { $0.verdict == .notMeasured })
        #expect(empty.latex.contains("booktabs") && empty.markdown.contains("No compressed setting"))
    }
}

extension StudyTests {
    @Test func lossCorrelatesWithPretrainingTextByRank() throws {
        var records: [ResultRecord] = []
        for (lang, delta) in [("aaa", -0.05), ("bbb", -0.01), ("ccc", -0.03)] {
            records.append(Self.record(.finetune, lang, 1, Self.f1(0.8)))
            records.append(Self.record(.compress, lang, 1, Self.f1(0.8 + delta), setting: Self.dynamic))
        }
        let study = Study(job: "j", records: records, textBytes: ["aaa": 100, "bbb": 300, "ccc": 200])
        let d = try #require(study.disparities.first)
        // Loss order aaa < ccc < bbb is the text-size order: ρ = 1 over 3 languages.
        #expect(d.ranking.map(\.language) == ["aaa", "ccc", "bbb"])
        #expect(abs(d.textCorrelation!.rho - 1) < 1e-12 && d.textCorrelation!.n == 3)
    }

    @Test func pretrainingTextSizesComeFromTheJobsTextFolder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-text-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("text"), withIntermediateDirectories: true)
        try Data("hello".utf8).write(to: dir.appendingPathComponent("text/hau.txt"))
        try Data("abc".utf8).write(to: dir.appendingPathComponent("text/yor.txt"))
        let job = """
        name: t
        data: {source: masakhaner, ner: ner, text: text}
        seeds: [1]
        languages: [hau, yor]
        execution: {executor: engine}
        """
        try Data(job.utf8).write(to: dir.appendingPathComponent("job.yaml"))
        let spec = try JobSpec.load(path: dir.appendingPathComponent("job.yaml").path)
        let elsewhere = FileManager.default.temporaryDirectory
        #expect(PretrainingText.bytes(spec, bases: [elsewhere, dir]) == ["hau": 5, "yor": 3])
        #expect(PretrainingText.bytes(spec, override: dir.appendingPathComponent("text").path, bases: []) == ["hau": 5, "yor": 3])
        var synthetic = spec
        synthetic.data["source"] = .string("synthetic")
        #expect(PretrainingText.bytes(synthetic, bases: [dir]).isEmpty)
    }
}
