// The study's findings (docs/paper.md), each checked against this run's records: a verdict and its evidence.
// Thresholds are stated in the evidence so a reader can disagree with them.
import Foundation

package enum Verdict: String, Sendable, Codable {
    case holds = "holds"
    case doesNotHold = "does not hold"
    case notMeasured = "not measured in this run"
    /// Measured, but the numbers cannot tell the two sides apart (a tie at the precision shown).
    case undecided = "tie / cannot decide"
}

package struct Claim: Sendable, Codable, Equatable {
    package var claim: String
    package var verdict: Verdict
    package var evidence: String
}

extension Study {
    package var claims: [Claim] {
        [sparsityClaim, distillationClaim, int8Claim, llmInt8Claim, languagesClaim]
    }

    /// A caveat for verdicts drawn from one seed per cell.
    var seedCaveat: String {
        let n = modelRows.map(\.n).min() ?? 0
        return n < 2 ? " Only one seed per cell: differences this small cannot be told from seed noise." : ""
    }

    /// Pruning settings with a sparsity, each with its curve: the label without `sparsity=…` (`prune when=after`,
    /// `prune when=after finetune_epochs=1`), so settings that differ only in sparsity form one curve.
    func pruneSettings() -> [(label: String, sparsity: Double, curve: String)] {
        settings.compactMap { label in
            guard let s = setting(labelled: label), s.family == "prune", let sp = s.fields["sparsity"]?.doubleValue else { return nil }
            let curve = label.split(separator: " ").filter { !$0.hasPrefix("sparsity=") }.joined(separator: " ")
            return (label, sp, curve)
        }
    }

    /// The pruning curve with the most sparsities (the study's F1-vs-sparsity curve), and its settings.
    func mainPruneCurve() -> (name: String, settings: [(label: String, sparsity: Double, curve: String)])? {
        let prunes = pruneSettings()
        let curves = Dictionary(grouping: prunes, by: \.curve)
        guard let name = curves.keys.sorted().max(by: { curves[$0]!.count < curves[$1]!.count }) else { return nil }
        return (name, curves[name]!)
    }

    func meanDelta(_ setting: String, _ metric: String, relative: Bool = false) -> (value: Double, languages: Int)? {
        let values = languages.compactMap { l in row(l, setting).flatMap { r in relative ? self.relative(r, metric) : r.delta[metric] } }
        return values.isEmpty ? nil : (values.reduce(0, +) / Double(values.count), values.count)
    }

    var sparsityClaim: Claim {
        let text = "Pruning: F1 stays competitive up to about 50–60 % sparsity."
        guard let (curve, prunes) = mainPruneCurve() else {
            return Claim(claim: text, verdict: .notMeasured, evidence: "No pruning setting with a sparsity in this run.")
        }
        var parts: [String] = []
        var holding = 0, decided = 0
        for l in languages {
            let tested = prunes.compactMap { p in row(l, p.label)?.delta["test.f1"].map { (p.sparsity, 100 * $0) } }.sorted { $0.0 < $1.0 }
            guard !tested.isEmpty else { continue }
            // The largest sparsity up to which every tested sparsity keeps mean ΔF1 ≥ −1 point.
            var held: Double?
            for (s, d) in tested { if d >= -1 { held = s } else { break } }
            parts.append("\(l): \(held.map { "holds to \(NumberFormat.value(100 * $0)) %" } ?? "loses > 1 pt already at \(NumberFormat.value(100 * tested[0].0)) %")")
            if (held ?? 0) >= 0.5 { holding += 1; decided += 1 } else if tested.contains(where: { $0.0 <= 0.6 }) { decided += 1 }
        }
        let maxTested = prunes.map(\.sparsity).max() ?? 0
        let evidence = "Largest sparsity of `\(curve)` whose mean ΔF1 ≥ −1 point (and every smaller tested one), per language: " + parts.joined(separator: "; ") + "."
        if decided == 0 || maxTested < 0.5 {
            return Claim(claim: text, verdict: .notMeasured, evidence: evidence + " No sparsity of 50 % or more was tested." + seedCaveat)
        }
        return Claim(claim: text, verdict: 2 * holding > decided ? .holds : .doesNotHold,
                     evidence: evidence + " Holds when most languages keep F1 within 1 point at ≥ 50 %." + seedCaveat)
    }

    var distillationClaim: Claim {
        let text = "Distillation: students 22–33 % smaller lose about 1–2 points of F1."
        let distills = settings.filter { setting(labelled: $0)?.family == "distill" }
        guard !distills.isEmpty else { return Claim(claim: text, verdict: .notMeasured, evidence: "No distillation setting in this run.") }
        var parts: [String] = []
        var ok = true, judged = 0
        for s in distills {
            guard let d = meanDelta(s, "test.f1") else { continue }
            let size = meanDelta(s, "params", relative: true)
            // A student far smaller than the claim's (a narrower model) is shown but is no evidence for or against it.
            let inRange = size.map { $0.value >= -Self.maxDistillReduction } ?? true
            parts.append("\(s): ΔF1 \(NumberFormat.signed(100 * d.value, places: 1)) pts over \(d.languages) language(s), params \(size.map { NumberFormat.percent($0.value) } ?? "not recorded")\(inRange ? "" : " (smaller than the claim's students: not judged)")")
            if inRange { judged += 1; if d.value * 100 < -2 { ok = false } }
        }
        guard !parts.isEmpty else { return Claim(claim: text, verdict: .notMeasured, evidence: "Distillation records carry no test F1.") }
        let rule = ". Holds when every student at most \(NumberFormat.value(100 * Self.maxDistillReduction)) % smaller than its teacher (the claim's are 22–33 %) loses at most 2 points on average."
        guard judged > 0 else { return Claim(claim: text, verdict: .notMeasured, evidence: parts.joined(separator: "; ") + rule + " No student of that size in this run.") }
        return Claim(claim: text, verdict: ok ? .holds : .doesNotHold, evidence: parts.joined(separator: "; ") + rule + seedCaveat)
    }

    /// The largest parameter reduction of a student the distillation claim is judged on: its 22–33 % with a margin.
    static let maxDistillReduction = 0.4

    func quantizeSettings(scheme: String) -> [String] {
        settings.filter { let s = setting(labelled: $0); return s?.family == "quantize" && s?.fields["scheme"]?.stringValue == scheme }
    }

    var int8Claim: Claim {
        let text = "int8 quantization: about −64 % size and up to −52 % latency."
        let labels = quantizeSettings(scheme: "llm-int8") + quantizeSettings(scheme: "dynamic")
        guard !labels.isEmpty else { return Claim(claim: text, verdict: .notMeasured, evidence: "No int8 (dynamic or llm-int8) setting in this run.") }
        var parts: [String] = []
        var ok = true, any = false
        for s in labels {
            let size = meanDelta(s, "bytes", relative: true), latency = meanDelta(s, "latency.p50_ms", relative: true)
            parts.append("\(s): size \(size.map { NumberFormat.percent($0.value) } ?? "not recorded"), batch-1 latency \(latency.map { NumberFormat.percent($0.value) } ?? "not recorded")")
            if let size { any = true; if size.value > -0.5 { ok = false } }
            if let latency { any = true; if latency.value > -0.25 { ok = false } }
        }
        guard any else { return Claim(claim: text, verdict: .notMeasured, evidence: parts.joined(separator: "; ") + ".") }
        return Claim(claim: text, verdict: ok ? .holds : .doesNotHold,
                     evidence: parts.joined(separator: "; ") + " (mean over languages of each variant relative to its dense model). Holds when size falls by at least half and latency by at least a quarter.")
    }

    var llmInt8Claim: Claim {
        let text = "LLM.int8() loses less F1 than dynamic int8."
        let llm = quantizeSettings(scheme: "llm-int8").compactMap { meanDelta($0, "test.f1") }
        let dyn = quantizeSettings(scheme: "dynamic").compactMap { meanDelta($0, "test.f1") }
        guard let l = llm.first, let d = dyn.first else {
            return Claim(claim: text, verdict: .notMeasured, evidence: "Needs both llm-int8 and dynamic quantization; this run has \(llm.isEmpty ? "no llm-int8" : "no dynamic") setting.")
        }
        let evidence = "Mean ΔF1: llm-int8 \(NumberFormat.signed(100 * l.value, places: 2)) pts, dynamic \(NumberFormat.signed(100 * d.value, places: 2)) pts."
        // Equal to the two decimals shown is a tie: neither loses less, so the claim is not confirmed.
        if abs(100 * (l.value - d.value)) < Self.tiePoints {
            return Claim(claim: text, verdict: .undecided, evidence: evidence + " A tie: they differ by less than \(Self.tiePoints) pt, so neither loses less." + seedCaveat)
        }
        return Claim(claim: text, verdict: l.value > d.value ? .holds : .doesNotHold, evidence: evidence + seedCaveat)
    }

    /// A difference of mean ΔF1 below this many points reads as equal (it vanishes at the two decimals shown).
    static let tiePoints = 0.005
    /// A language "improves" under a setting when its mean ΔF1 is at least this many points: smaller gains are
    /// within the rounding of the one decimal shown and, with a few seeds, within their noise.
    static let improvementPoints = 0.5

    var languagesClaim: Claim {
        let text = "Effects differ by language, and some languages improve after compression."
        let ds = disparities
        guard !ds.isEmpty, languages.count >= 2 else {
            return Claim(claim: text, verdict: .notMeasured, evidence: "Needs compressed settings in at least two languages.")
        }
        // Largest first; a gain that would round to 0.0 at the precision shown is no improvement.
        let gains = ds.flatMap { d in d.ranking.filter { $0.delta >= Self.improvementPoints }.map { (d.setting, $0.language, $0.delta) } }
            .sorted { $0.2 != $1.2 ? $0.2 > $1.2 : ($0.0, $0.1) < ($1.0, $1.1) }
        let improved = gains.map { "\($0.1) under \($0.0) (\(NumberFormat.signed($0.2, places: 1)) pts)" }
        let widest = ds.max { ($0.spread ?? 0) < ($1.spread ?? 0) }
        let limit = NumberFormat.fixed(Self.improvementPoints, 1)
        var evidence = improved.isEmpty ? "No language beats its dense model by \(limit) pts or more under any setting."
            : "Above the dense model by \(limit) pts or more (\(improved.count), largest first): " + improved.joined(separator: "; ") + "."
        if let w = widest, let s = w.spread, let lo = w.worst, let hi = w.best {
            evidence += " Widest spread: \(w.setting), \(NumberFormat.fixed(s, 1)) pts from \(lo.language) (\(NumberFormat.signed(lo.delta, places: 1))) to \(hi.language) (\(NumberFormat.signed(hi.delta, places: 1)))."
        }
        let differ = (widest?.spread ?? 0) > 1
        return Claim(claim: text, verdict: differ && !improved.isEmpty ? .holds : .doesNotHold,
                     evidence: evidence + " Holds when some language improves by \(limit) pts or more and ΔF1 spreads over more than 1 point across languages." + seedCaveat)
    }
}
