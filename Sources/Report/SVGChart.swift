// A small SVG chart module (no plotting library exists for Swift on Linux): scatter/line charts with error bands,
// nice axis ticks, a legend, and heatmaps. Output is well-formed XML, inline-able in XHTML; every data point is
// one mark (`class="mark"`, heatmap cells `class="cell"`) so tests and the DOM check can count them.
import Foundation

/// Okabe–Ito (distinguishable with the common colour-vision deficiencies), then grey and Tol's wine, so that the
/// ten MasakhaNER 1.0 languages get ten colours. Series past the palette repeat its colours with hollow marks.
package let palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000", "#999999", "#882255"]

/// A mark's fill: its colour in the palette's first round, white (a hollow mark) after it.
func markFill(_ color: Int) -> String { color % (2 * palette.count) < palette.count ? palette[color % palette.count] : "#ffffff" }

package struct ChartPoint: Sendable, Equatable {
    package var x: Double
    package var y: Double
    /// Half-width of the ± band around the line (sample sd), when known.
    package var spread: Double? = nil
    /// Tooltip text.
    package var label: String = ""
}

package struct ChartSeries: Sendable {
    package var name: String
    package var points: [ChartPoint]
    /// Joined by a line (in ascending x) or marks only.
    package var line: Bool
    package var dashed: Bool = false
    /// Colour index into the palette.
    package var color: Int
}

/// For charts drawn outside this module (the live dashboard's F1 vs sparsity).
extension ChartPoint {
    package init(x: Double, y: Double, label: String) { self.x = x; self.y = y; self.label = label }
}

extension ChartSeries {
    package init(name: String, points: [ChartPoint], line: Bool, color: Int) {
        self.name = name; self.points = points; self.line = line; self.color = color
    }
}

package struct Chart: Sendable {
    package var title: String
    package var xLabel: String
    package var yLabel: String
    package var series: [ChartSeries]
    /// Lines that are not data (a Pareto frontier, the diagonal of a reliability diagram): no marks.
    package var guides: [ChartSeries] = []
    /// Names for integer x positions (a categorical axis) instead of numeric ticks.
    package var categories: [String]? = nil
    /// Fixed axis ranges (e.g. 0...1 for a reliability diagram), else the data's, padded to nice ticks.
    package var xRange: ClosedRange<Double>? = nil
    package var yRange: ClosedRange<Double>? = nil
    package var width = 560.0, height = 340.0

    package init(title: String, xLabel: String, yLabel: String, series: [ChartSeries]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    static let margin = (left: 62.0, right: 150.0, top: 30.0, bottom: 52.0)

    /// The axis ranges: the given ones or the data's (bands included) extended to nice ticks.
    package var ranges: (x: ClosedRange<Double>, y: ClosedRange<Double>) {
        let pts = (series + guides).flatMap(\.points)
        let xs = pts.map(\.x), ys = pts.flatMap { p in [p.y - (p.spread ?? 0), p.y + (p.spread ?? 0)] }
        let x = xRange ?? (categories.map { _ in -0.5...(Double(max(1, categories!.count)) - 0.5) } ?? Self.niceRange(xs))
        return (x, yRange ?? Self.niceRange(ys))
    }

    /// A range that contains the values, widened to tick steps of 1, 2 or 5 × 10^k; a single value gets room around it.
    package static func niceRange(_ values: [Double]) -> ClosedRange<Double> {
        let finite = values.filter(\.isFinite)
        guard var lo = finite.min(), var hi = finite.max() else { return 0...1 }
        if lo == hi { let pad = lo == 0 ? 1 : abs(lo) * 0.1; lo -= pad; hi += pad }
        let step = tickStep(hi - lo)
        return (floor(lo / step) * step)...(ceil(hi / step) * step)
    }

    /// About five ticks over a span: 1, 2 or 5 × 10^k.
    package static func tickStep(_ span: Double) -> Double {
        guard span > 0, span.isFinite else { return 1 }
        let raw = span / 5, p = pow(10, floor(log10(raw)))
        return [1.0, 2, 5, 10].map { $0 * p }.first { $0 >= raw } ?? 10 * p
    }

    package var svg: String {
        let (xr, yr) = ranges
        let m = Self.margin
        let plotW = width - m.left - m.right, plotH = height - m.top - m.bottom
        func px(_ x: Double) -> Double { m.left + (x - xr.lowerBound) / max(1e-300, xr.upperBound - xr.lowerBound) * plotW }
        func py(_ y: Double) -> Double { m.top + plotH - (y - yr.lowerBound) / max(1e-300, yr.upperBound - yr.lowerBound) * plotH }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" role=\"img\" font-family=\"sans-serif\" font-size=\"11\">"
        s += "<title>\(esc(title))</title>"
        s += "<text x=\"\(f(m.left))\" y=\"18\" font-size=\"13\" font-weight=\"bold\">\(esc(title))</text>"
        s += "<rect x=\"\(f(m.left))\" y=\"\(f(m.top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#999\"/>"
        // Axes: ticks, grid, labels.
        let yStep = Self.tickStep(yr.upperBound - yr.lowerBound)
        for t in stride(from: (yr.lowerBound / yStep).rounded(.up) * yStep, through: yr.upperBound + yStep * 1e-9, by: yStep) {
            s += "<line x1=\"\(f(m.left))\" x2=\"\(f(m.left + plotW))\" y1=\"\(f(py(t)))\" y2=\"\(f(py(t)))\" stroke=\"#e5e5e5\"/>"
            s += "<text x=\"\(f(m.left - 5))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(esc(Self.tick(t, yStep)))</text>"
        }
        if let categories {
            // About 5.5 px per character at font size 9: neighbouring labels must not run into each other.
            let fits = max(6, min(24, Int(plotW / Double(max(1, categories.count)) / 5.5)))
            for (i, c) in categories.enumerated() {
                for (k, line) in Self.twoLines(Self.compact(c)).enumerated() {
                    s += "<text x=\"\(f(px(Double(i))))\" y=\"\(f(m.top + plotH + 13 + 11 * Double(k)))\" text-anchor=\"middle\" font-size=\"9\">\(esc(Self.short(line, fits)))<title>\(esc(c))</title></text>"
                }
            }
        } else {
            let xStep = Self.tickStep(xr.upperBound - xr.lowerBound)
            for t in stride(from: (xr.lowerBound / xStep).rounded(.up) * xStep, through: xr.upperBound + xStep * 1e-9, by: xStep) {
                s += "<line x1=\"\(f(px(t)))\" x2=\"\(f(px(t)))\" y1=\"\(f(m.top + plotH))\" y2=\"\(f(m.top + plotH + 4))\" stroke=\"#999\"/>"
                s += "<text x=\"\(f(px(t)))\" y=\"\(f(m.top + plotH + 15))\" text-anchor=\"middle\">\(esc(Self.tick(t, xStep)))</text>"
            }
        }
        s += "<text x=\"\(f(m.left + plotW / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\">\(esc(xLabel))</text>"
        s += "<text transform=\"translate(14 \(f(m.top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(esc(yLabel))</text>"
        for g in guides where g.points.count >= 2 {
            s += "<polyline class=\"guide\" fill=\"none\" stroke=\"\(palette[g.color % palette.count])\" stroke-width=\"1\" stroke-dasharray=\"2 3\" points=\"\(g.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " "))\"/>"
        }
        for ser in series {
            let color = palette[ser.color % palette.count]
            let pts = ser.line ? ser.points.sorted { $0.x < $1.x } : ser.points
            if ser.line, pts.count >= 2, pts.contains(where: { $0.spread != nil }) {
                let upper = pts.map { "\(f(px($0.x))),\(f(py($0.y + ($0.spread ?? 0))))" }
                let lower = pts.reversed().map { "\(f(px($0.x))),\(f(py($0.y - ($0.spread ?? 0))))" }
                s += "<polygon class=\"band\" fill=\"\(color)\" fill-opacity=\"0.15\" stroke=\"none\" points=\"\((upper + lower).joined(separator: " "))\"/>"
            }
            if ser.line, pts.count >= 2 {
                s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\"\(ser.dashed ? " stroke-dasharray=\"6 3\"" : "") points=\"\(pts.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " "))\"/>"
            }
            for p in pts {
                if !ser.line, let sd = p.spread, sd > 0 {
                    s += "<line x1=\"\(f(px(p.x)))\" x2=\"\(f(px(p.x)))\" y1=\"\(f(py(p.y - sd)))\" y2=\"\(f(py(p.y + sd)))\" stroke=\"\(color)\"/>"
                }
                s += "<circle class=\"mark\" cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3.5\" fill=\"\(markFill(ser.color))\" stroke=\"\(color)\" stroke-width=\"1.5\"><title>\(esc(ser.name + (p.label.isEmpty ? "" : ": " + p.label)))</title></circle>"
            }
        }
        // Legend, right of the plot.
        for (i, ser) in series.enumerated() {
            let y = m.top + 8 + Double(i) * 16
            s += "<line x1=\"\(f(width - m.right + 10))\" x2=\"\(f(width - m.right + 28))\" y1=\"\(f(y))\" y2=\"\(f(y))\" stroke=\"\(palette[ser.color % palette.count])\" stroke-width=\"2\"\(ser.dashed ? " stroke-dasharray=\"6 3\"" : "")/>"
            s += "<circle cx=\"\(f(width - m.right + 19))\" cy=\"\(f(y))\" r=\"3\" fill=\"\(markFill(ser.color))\" stroke=\"\(palette[ser.color % palette.count])\" stroke-width=\"1.5\"/>"
            s += "<text x=\"\(f(width - m.right + 33))\" y=\"\(f(y + 4))\">\(esc(Self.short(Self.compact(ser.name), 20)))<title>\(esc(ser.name))</title></text>"
        }
        return s + "</svg>"
    }

    static func tick(_ t: Double, _ step: Double) -> String {
        NumberFormat.fixed(t, NumberFormat.decimals(step, significant: 1))
    }

    /// A setting label on two lines: the family, then its fields (`prune` / `sparsity=0.5 when=after`).
    static func twoLines(_ label: String) -> [String] { label.split(separator: " ", maxSplits: 1).map(String.init) }

    static func short(_ s: String, _ n: Int = 16) -> String { s.count <= n ? s : String(s.prefix(n - 1)) + "…" }

    /// A setting's label as a chart can show it: the values of the usual keys without their names, so that
    /// settings differing in the last key stay apart once cut to a legend's width ("prune sparsity=0.5
    /// structure=heads" → "prune 0.5 heads", "distill layers=2 epochs=4" → "distill 2L 4ep", "quantize
    /// scheme=llm-int8 embeddings=true" → "quant llm-int8 +emb"). The full label stays in the mark's tooltip.
    package static func compact(_ label: String) -> String {
        label.split(separator: " ").map { token -> String in
            if token == "quantize" { return "quant" }
            guard let eq = token.firstIndex(of: "=") else { return String(token) }
            let key = token[..<eq], value = String(token[token.index(after: eq)...])
            switch key {
            case "sparsity", "when", "structure", "scheme", "schedule", "scope", "calibration": return value
            case "layers": return value + "L"
            case "epochs", "finetune_epochs": return value + "ep"
            case "embeddings", "classifier", "hidden_mse", "cache_teacher": return value == "true" ? "+" + (key == "embeddings" ? "emb" : String(key)) : "-" + key
            default: return String(token)
            }
        }.joined(separator: " ")
    }
}

/// A grid of coloured cells (rows × columns) on a diverging blue–orange scale centred on 0, each cell labelled.
package struct Heatmap: Sendable {
    package var title: String
    package var rows: [String]
    package var columns: [String]
    /// values[row][column]; nil for a missing cell.
    package var values: [[Double?]]
    package var unit: String

    package var svg: String {
        let cellW = 110.0, cellH = 26.0, left = 90.0, top = 52.0
        let width = left + cellW * Double(columns.count) + 20, height = top + cellH * Double(rows.count) + 36
        let limit = max(1e-9, values.flatMap { $0.compactMap { $0.map(abs) } }.max() ?? 1)
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart heatmap\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" role=\"img\" font-family=\"sans-serif\" font-size=\"11\">"
        s += "<title>\(esc(title))</title><text x=\"4\" y=\"16\" font-size=\"13\" font-weight=\"bold\">\(esc(title))</text>"
        for (j, c) in columns.enumerated() {
            for (k, line) in Chart.twoLines(Chart.compact(c)).enumerated() {
                s += "<text x=\"\(f(left + cellW * (Double(j) + 0.5)))\" y=\"\(f(top - 20 + 12 * Double(k)))\" text-anchor=\"middle\" font-size=\"9\">\(esc(Chart.short(line, 22)))<title>\(esc(c))</title></text>"
            }
        }
        for (i, r) in rows.enumerated() {
            let y = top + cellH * Double(i)
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y + cellH / 2 + 4))\" text-anchor=\"end\">\(esc(r))</text>"
            for (j, _) in columns.enumerated() {
                let x = left + cellW * Double(j)
                guard let v = values[i][j] else {
                    s += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(cellW - 2))\" height=\"\(f(cellH - 2))\" fill=\"#f4f4f4\"/>"
                    continue
                }
                s += "<rect class=\"cell\" x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(cellW - 2))\" height=\"\(f(cellH - 2))\" fill=\"\(Self.color(v / limit))\"><title>\(esc("\(r), \(columns[j]): \(NumberFormat.signed(v, places: 2)) \(unit)"))</title></rect>"
                s += "<text x=\"\(f(x + cellW / 2 - 1))\" y=\"\(f(y + cellH / 2 + 3))\" text-anchor=\"middle\">\(esc(NumberFormat.signed(v, places: 1)))</text>"
            }
        }
        s += "<text x=\"4\" y=\"\(f(height - 8))\" font-size=\"10\">blue: above the dense model, orange: below (\(esc(unit)); scale ±\(esc(NumberFormat.fixed(limit, 1))))</text>"
        return s + "</svg>"
    }

    /// −1 → orange (#E69F00-ish), 0 → white, +1 → blue (#0072B2-ish).
    static func color(_ t: Double) -> String {
        let c = max(-1, min(1, t))
        let (r, g, b) = c < 0 ? (230.0, 159.0, 0.0) : (0.0, 114.0, 178.0)
        let k = abs(c)
        func mix(_ v: Double) -> Int { Int((255 + (v - 255) * k).rounded()) }
        return String(format: "#%02X%02X%02X", mix(r), mix(g), mix(b))
    }
}

/// A coordinate with at most two decimals.
func f(_ x: Double) -> String { x.isFinite ? NumberFormat.fixed((x * 100).rounded() / 100, x == x.rounded() ? 0 : 2) : "0" }

/// Text escaped for XML content and attribute values.
package func esc(_ s: String) -> String {
    replacing(s, ["&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;"])
}

/// Each character that has an entry in `table` replaced by it.
func replacing(_ s: String, _ table: [Character: String]) -> String {
    var out = ""
    for ch in s { if let r = table[ch] { out += r } else { out.append(ch) } }
    return out
}
