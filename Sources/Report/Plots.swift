// The report's figures, each drawn only when the records carry what it needs: F1 vs sparsity, the size and
// latency frontiers, the ΔF1 heatmap, F1 under noise, calibration (ECE, reliability), loyalty and the OOD gap.
import Foundation

package struct Plot: Sendable {
    /// File name stem (`f1-vs-sparsity-hau`) and the figure's caption.
    package var id: String
    package var caption: String
    package var svg: String
    /// Data points drawn (marks or heatmap cells), for the DOM check.
    package var marks: Int
}

extension Study {
    package var plots: [Plot] {
        var out: [Plot] = []
        out += sparsityPlots
        for (metric, label, id) in [("bytes", "size (MB)", "size-vs-f1"), ("latency.p50_ms", "batch-1 latency p50 (ms)", "latency-vs-f1")] {
            if let p = frontierPlot(metric, label, id) { out.append(p) }
        }
        if let p = heatmap { out.append(p) }
        if let p = noisePlot { out.append(p) }
        if let p = categoricalPlot("calibration.token.ece", "Token ECE per setting", "ECE (pts)", "ece-per-setting") { out.append(p) }
        if let p = reliabilityPlot { out.append(p) }
        if let p = loyaltyPlot { out.append(p) }
        if let p = categoricalPlot("ood.gap", "Out-of-distribution gap per setting", "test F1 − OOD F1 (pts)", "ood-gap") { out.append(p) }
        return out
    }

    static func plot(_ id: String, _ caption: String, _ chart: Chart) -> Plot {
        Plot(id: id, caption: caption, svg: chart.svg, marks: chart.series.reduce(0) { $0 + $1.points.count })
    }

    func point(_ row: ReportRow, _ metric: String, x: Double, scale: Double = 100) -> ChartPoint? {
        row.metrics[metric].map { ChartPoint(x: x, y: $0.mean * scale, spread: $0.std.map { $0 * scale }, label: "\(row.setting): \(NumberFormat.meanSD($0.mean * scale, $0.std.map { $0 * scale }))") }
    }

    /// Per language: test F1 against sparsity, one line per pruning curve (before vs after fine-tuning, and other
    /// fields), from the dense model at 0 %, with a ± sd band.
    var sparsityPlots: [Plot] {
        let prunes = pruneSettings()
        guard !prunes.isEmpty else { return [] }
        return languages.compactMap { l in
            var curves: [String] = []
            for p in prunes where !curves.contains(p.curve) { curves.append(p.curve) }
            let series = curves.enumerated().compactMap { i, c -> ChartSeries? in
                var pts = prunes.filter { $0.curve == c }.compactMap { p in row(l, p.label).flatMap { point($0, "test.f1", x: 100 * p.sparsity) } }
                if let d = row(l, "dense").flatMap({ point($0, "test.f1", x: 0) }) { pts.append(d) }
                let name = c.replacingOccurrences(of: "prune ", with: "").replacingOccurrences(of: "when=", with: "")
                return pts.isEmpty ? nil : ChartSeries(name: name == "prune" ? "after" : name, points: pts, line: true, dashed: c.contains("when=before"), color: i)
            }
            guard !series.isEmpty else { return nil }
            var chart = Chart(title: "\(l): test F1 vs sparsity", xLabel: "sparsity (%)", yLabel: "test F1 (pts)", series: series)
            chart.xRange = 0...100
            return Self.plot("f1-vs-sparsity-\(l)", "Test F1 of \(l) against the share of prunable weights set to zero (0 % is the dense model), one line per pruning variant (after/before fine-tuning, …); lines are means over seeds, bands ± one sample sd.", chart)
        }
    }

    /// Cost (size or latency) against test F1, one colour per language, with each language's Pareto frontier.
    func frontierPlot(_ metric: String, _ label: String, _ id: String) -> Plot? {
        let scale = metric == "bytes" ? 1e-6 : 1
        var series: [ChartSeries] = [], guides: [ChartSeries] = []
        for (i, l) in languages.enumerated() {
            let pts = modelRows.filter { $0.language == l }.compactMap { r -> ChartPoint? in
                guard let c = r.metrics[metric]?.mean, let f1 = r.metrics["test.f1"] else { return nil }
                return ChartPoint(x: c * scale, y: f1.mean * 100, label: "\(r.setting): \(NumberFormat.value(c * scale)), F1 \(NumberFormat.meanSD(100 * f1.mean, f1.std.map { 100 * $0 }))")
            }
            guard !pts.isEmpty else { continue }
            series.append(ChartSeries(name: l, points: pts, line: false, color: i))
            let frontier = Stats.paretoFrontier(pts.map { ($0.x, $0.y) })
            guides.append(ChartSeries(name: "\(l) frontier", points: frontier.map { ChartPoint(x: $0.cost, y: $0.score) }, line: true, color: i))
        }
        guard !series.isEmpty else { return nil }
        var chart = Chart(title: "Test F1 vs \(label)", xLabel: label, yLabel: "test F1 (pts)", series: series)
        chart.guides = guides
        return Self.plot(id, "Every model (dense and compressed; means over seeds) by \(label) and test F1; dotted lines join each language's Pareto frontier (no other model of the language is both smaller/faster and better).", chart)
    }

    var heatmap: Plot? {
        let ls = languages, ss = settings
        let values = ls.map { l in ss.map { s in row(l, s)?.delta["test.f1"].map { 100 * $0 } } }
        let cells = values.flatMap { $0 }.compactMap { $0 }.count
        guard cells > 0 else { return nil }
        let map = Heatmap(title: "ΔF1 to the dense model, language × setting", rows: ls, columns: ss, values: values, unit: "pts")
        return Plot(id: "delta-f1-heatmap", caption: "Mean test-F1 change from each language's dense model, in points.", svg: map.svg, marks: cells)
    }

    /// Mean F1 over languages at each typo rate (0 = the clean test set), one line per setting.
    var noisePlot: Plot? {
        let typos = Set(modelRows.flatMap(\.metrics.keys)).compactMap { k in MetricInfo.typoRate(k).map { ($0, k) } }.sorted { $0.0 < $1.0 }
        guard !typos.isEmpty else { return nil }
        let metricByRate = [(0.0, "test.f1")] + typos
        let series = (["dense"] + settings).enumerated().compactMap { i, s -> ChartSeries? in
            let pts = metricByRate.compactMap { rate, metric -> ChartPoint? in
                let v = languages.compactMap { row($0, s)?.metrics[metric]?.mean }
                return v.isEmpty ? nil : ChartPoint(x: 100 * rate, y: 100 * v.reduce(0, +) / Double(v.count), label: "\(NumberFormat.value(100 * rate)) % typos")
            }
            return pts.count >= 2 ? ChartSeries(name: s, points: pts, line: true, dashed: s == "dense", color: i) : nil
        }
        guard !series.isEmpty else { return nil }
        let chart = Chart(title: "Test F1 under typos", xLabel: "words with a typo (% of words ≥ 4 characters)", yLabel: "test F1 (pts), mean over languages", series: series)
        return Self.plot("f1-under-typos", "F1 on the test set with one character edit at each typo rate; the mean over languages of each setting's mean over seeds.", chart)
    }

    /// A metric per setting (dense first) on a categorical axis, one colour per language, ± sd bars.
    func categoricalPlot(_ metric: String, _ title: String, _ yLabel: String, _ id: String) -> Plot? {
        let cats = ["dense"] + settings
        let series = languages.enumerated().compactMap { i, l -> ChartSeries? in
            let pts = cats.enumerated().compactMap { j, s in row(l, s).flatMap { point($0, metric, x: Double(j) + 0.08 * (Double(i) - Double(languages.count - 1) / 2)) } }
            return pts.isEmpty ? nil : ChartSeries(name: l, points: pts, line: false, color: i)
        }
        guard !series.isEmpty else { return nil }
        var chart = Chart(title: title, xLabel: "setting", yLabel: yLabel, series: series)
        chart.categories = cats
        return Self.plot(id, "\(title): mean over seeds per language, bars ± one sample sd.", chart)
    }

    /// Accuracy against confidence per bin, pooled over languages and seeds: dense and every compressed setting.
    var reliabilityPlot: Plot? {
        let series = (["dense"] + settings).enumerated().compactMap { i, s -> ChartSeries? in
            guard let bins = reliability(setting: s) else { return nil }
            let pts = bins.filter { $0.count > 0 }.map { ChartPoint(x: $0.confidence, y: $0.accuracy, label: "\(Int($0.count)) positions, confidence \(NumberFormat.fixed($0.confidence, 3)), accuracy \(NumberFormat.fixed($0.accuracy, 3))") }
            return pts.isEmpty ? nil : ChartSeries(name: s, points: pts, line: true, dashed: s != "dense", color: i)
        }
        guard !series.isEmpty else { return nil }
        var chart = Chart(title: "Reliability diagram (token level)", xLabel: "mean confidence in bin", yLabel: "accuracy in bin", series: series)
        chart.guides = [ChartSeries(name: "perfect calibration", points: [ChartPoint(x: 0, y: 0), ChartPoint(x: 1, y: 1)], line: true, color: 7)]
        chart.xRange = 0...1
        chart.yRange = 0...1
        return Self.plot("reliability", "Scored positions binned by the probability of the predicted label (15 equal bins; confidence exactly 1 joins the last), pooled over languages and seeds; on the dotted diagonal a model is perfectly calibrated, below it over-confident.", chart)
    }

    /// Label loyalty and the two flip rates against sparsity (means over languages), pruning after fine-tuning.
    var loyaltyPlot: Plot? {
        guard let (curve, prunes) = mainPruneCurve() else { return nil }
        let metrics = [("loyalty.label", "label loyalty"), ("loyalty.flips.correct_to_wrong", "flips found → missed"), ("loyalty.flips.wrong_to_correct", "flips missed → found")]
        let series = metrics.enumerated().compactMap { i, m -> ChartSeries? in
            let pts = prunes.compactMap { p -> ChartPoint? in
                let v = languages.compactMap { row($0, p.label)?.metrics[m.0]?.mean }
                return v.isEmpty ? nil : ChartPoint(x: 100 * p.sparsity, y: 100 * v.reduce(0, +) / Double(v.count), label: p.label)
            }
            return pts.isEmpty ? nil : ChartSeries(name: m.1, points: pts, line: true, color: i)
        }
        guard !series.isEmpty else { return nil }
        var chart = Chart(title: "Loyalty to the dense model vs sparsity (\(curve))", xLabel: "sparsity (%)", yLabel: "% of positions / of gold entities", series: series)
        chart.xRange = 0...100
        return Self.plot("loyalty-vs-sparsity", "Share of positions with the dense model's label, and gold entities that flip between found and missed, for the pruning curve with the most sparsities (means over languages and seeds; pruning before fine-tuning has no dense reference).", chart)
    }
}
