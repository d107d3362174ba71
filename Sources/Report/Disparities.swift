// Who loses most: per compression setting, ΔF1 across languages (spread, ranking) and its rank correlation
// with each language's amount of pretraining text.
import Foundation

package struct Disparity: Sendable, Equatable {
    package var setting: String
    /// (language, ΔF1 in points), most loss first.
    package var ranking: [(language: String, delta: Double)]
    /// Spearman's ρ between ΔF1 and pretraining text bytes over the languages that have both, and their count.
    package var textCorrelation: (rho: Double, n: Int)?

    package var worst: (language: String, delta: Double)? { ranking.first }
    package var best: (language: String, delta: Double)? { ranking.last }
    package var spread: Double? { best.flatMap { b in worst.map { b.delta - $0.delta } } }

    package static func == (a: Disparity, b: Disparity) -> Bool {
        a.setting == b.setting && a.ranking.map(\.language) == b.ranking.map(\.language)
            && a.ranking.map(\.delta) == b.ranking.map(\.delta) && a.textCorrelation?.rho == b.textCorrelation?.rho
    }
}

extension Study {
    /// One entry per compression setting with a test-F1 Δ in at least one language.
    package var disparities: [Disparity] {
        settings.compactMap { s in
            let deltas = languages.compactMap { l in row(l, s)?.delta["test.f1"].map { (language: l, delta: 100 * $0) } }
            guard !deltas.isEmpty else { return nil }
            let ranked = deltas.sorted { $0.delta != $1.delta ? $0.delta < $1.delta : $0.language < $1.language }
            let paired = ranked.compactMap { d in textBytes[d.language].map { (d.delta, Double($0)) } }
            let rho = paired.count >= 3 ? Stats.spearman(paired.map(\.0), paired.map(\.1)) : nil
            return Disparity(setting: s, ranking: ranked, textCorrelation: rho.map { ($0, paired.count) })
        }
    }
}

package enum Stats {
    /// Ranks from 1, ties sharing their average rank (as scipy.stats.rankdata's default).
    package static func ranks(_ x: [Double]) -> [Double] {
        let order = x.indices.sorted { x[$0] < x[$1] }
        var r = [Double](repeating: 0, count: x.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count, x[order[j + 1]] == x[order[i]] { j += 1 }
            let average = Double(i + j) / 2 + 1
            for k in i...j { r[order[k]] = average }
            i = j + 1
        }
        return r
    }

    /// Pearson's correlation; nil when either side is constant or the lengths differ or are < 2.
    package static func pearson(_ x: [Double], _ y: [Double]) -> Double? {
        guard x.count == y.count, x.count >= 2 else { return nil }
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
        guard sxx > 0, syy > 0 else { return nil }
        return sxy / (sxx * syy).squareRoot()
    }

    /// Spearman's rank correlation (Pearson on average ranks, as scipy.stats.spearmanr).
    package static func spearman(_ x: [Double], _ y: [Double]) -> Double? {
        pearson(ranks(x), ranks(y))
    }

    /// Points not dominated by another: no other point at most as large in `cost` and at least as good in
    /// `score`, strictly better in one. Returned by ascending cost.
    package static func paretoFrontier(_ points: [(cost: Double, score: Double)]) -> [(cost: Double, score: Double)] {
        let sorted = points.sorted { $0.cost != $1.cost ? $0.cost < $1.cost : $0.score > $1.score }
        var frontier: [(cost: Double, score: Double)] = []
        for p in sorted where frontier.last.map({ p.score > $0.score }) ?? true { frontier.append(p) }
        return frontier
    }
}
