// The metrics the report shows, in column groups (accuracy, robustness, calibration, loyalty, efficiency), with
// the unit each is displayed in: fractions such as F1 are shown ×100 as points, bytes as MB.
import Foundation

package enum MetricGroup: String, CaseIterable, Codable, Sendable {
    case accuracy, robustness, calibration, loyalty, efficiency
}

package struct MetricInfo: Sendable, Equatable {
    package var name: String
    package var label: String
    package var group: MetricGroup
    /// Display scale: 100 for fractions shown as points, 1e-6 for bytes shown as MB, 1 otherwise.
    package var scale: Double
    /// The displayed unit (`pts` for fractions ×100).
    package var unit: String

    /// True when Δ is in points of a fraction (F1, ECE, loyalty, …), false when in the metric's own unit.
    package var isFraction: Bool { scale == 100 }
    /// Loyalty already compares with the dense model (which has none): its tables have no Δ column.
    package var hasDelta: Bool { group != .loyalty }
}

extension MetricInfo {
    /// The fixed catalogue, in display order; robustness typo rates are matched by prefix (`robust.typos@P.f1`).
    static let fixed: [MetricInfo] = [
        .init(name: "test.f1", label: "test F1", group: .accuracy, scale: 100, unit: "pts"),
        .init(name: "dev.f1", label: "dev F1", group: .accuracy, scale: 100, unit: "pts"),
        .init(name: "test.precision", label: "precision", group: .accuracy, scale: 100, unit: "pts"),
        .init(name: "test.recall", label: "recall", group: .accuracy, scale: 100, unit: "pts"),
        .init(name: "robust.diacritics.f1", label: "F1 no diacritics", group: .robustness, scale: 100, unit: "pts"),
        .init(name: "ood.f1", label: "OOD F1", group: .robustness, scale: 100, unit: "pts"),
        .init(name: "ood.gap", label: "OOD gap", group: .robustness, scale: 100, unit: "pts"),
        .init(name: "calibration.token.ece", label: "token ECE", group: .calibration, scale: 100, unit: "pts"),
        .init(name: "calibration.entity.ece", label: "entity ECE", group: .calibration, scale: 100, unit: "pts"),
        .init(name: "loyalty.label", label: "label loyalty", group: .loyalty, scale: 100, unit: "pts"),
        .init(name: "loyalty.probability", label: "prob. loyalty", group: .loyalty, scale: 100, unit: "pts"),
        .init(name: "loyalty.flips.correct_to_wrong", label: "flips ✓→✗", group: .loyalty, scale: 100, unit: "pts"),
        .init(name: "loyalty.flips.wrong_to_correct", label: "flips ✗→✓", group: .loyalty, scale: 100, unit: "pts"),
        .init(name: "params", label: "params", group: .efficiency, scale: 1, unit: ""),
        .init(name: "nonzeros", label: "non-zeros", group: .efficiency, scale: 1, unit: ""),
        .init(name: "bytes", label: "size", group: .efficiency, scale: 1e-6, unit: "MB"),
        .init(name: "latency.p50_ms", label: "latency p50", group: .efficiency, scale: 1, unit: "ms"),
        .init(name: "throughput", label: "throughput", group: .efficiency, scale: 1, unit: "sent/s"),
        .init(name: "memory.peak_bytes", label: "peak memory", group: .efficiency, scale: 1e-6, unit: "MB"),
    ]

    /// The catalogue entry for a metric name, or nil when the report does not show it as a column.
    package static func info(_ name: String) -> MetricInfo? {
        if let m = fixed.first(where: { $0.name == name }) { return m }
        if name.hasPrefix("robust.typos@"), name.hasSuffix(".f1") {
            let rate = name.dropFirst("robust.typos@".count).dropLast(".f1".count)
            return MetricInfo(name: name, label: "F1 typos \(rate)", group: .robustness, scale: 100, unit: "pts")
        }
        return nil
    }

    /// The shown metrics present in the records' names, grouped and in catalogue order (typo rates ascending).
    package static func columns(present: Set<String>) -> [(group: MetricGroup, metrics: [MetricInfo])] {
        let typos = present.filter { $0.hasPrefix("robust.typos@") && $0.hasSuffix(".f1") }
            .sorted { typoRate($0) ?? 0 < typoRate($1) ?? 0 }.compactMap(info)
        return MetricGroup.allCases.compactMap { g in
            var ms = fixed.filter { $0.group == g && present.contains($0.name) }
            if g == .robustness { ms.insert(contentsOf: typos, at: ms.first?.name == "robust.diacritics.f1" ? 1 : 0) }
            return ms.isEmpty ? nil : (g, ms)
        }
    }

    /// P of `robust.typos@P.f1`.
    package static func typoRate(_ name: String) -> Double? {
        guard name.hasPrefix("robust.typos@"), name.hasSuffix(".f1") else { return nil }
        return Double(name.dropFirst("robust.typos@".count).dropLast(".f1".count))
    }
}
