// Numbers as a reader wants them: mean ± sd with the sd to two significant digits and the mean to the same
// decimal place (`1102 ± 12`, not `1102.3 ± 11.8302`), signed deltas that never read `+0`, and percentages.
import Foundation

package enum NumberFormat {
    /// Decimal places that show `x` to `significant` significant digits (0 for |x| ≥ 10^(significant−1)), at most 6.
    package static func decimals(_ x: Double, significant: Int) -> Int {
        guard x.isFinite, x != 0 else { return 0 }
        let magnitude = Int(floor(log10(abs(x))))
        return min(6, max(0, significant - 1 - magnitude))
    }

    /// `x` with `places` decimals; `-0.0` and values that round to zero print without a sign.
    package static func fixed(_ x: Double, _ places: Int) -> String {
        guard x.isFinite else { return x.isNaN ? "NaN" : (x > 0 ? "∞" : "−∞") }
        let s = String(format: "%.\(places)f", x)
        return Double(s) == 0 ? String(format: "%.\(places)f", 0.0) : s
    }

    /// A lone value: integers as integers, others to 4 significant digits.
    package static func value(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
        return fixed(x, decimals(x, significant: 4))
    }

    /// Decimal places for a mean with this sd (the sd's second significant digit); nil sd or 0: the lone-value rule.
    package static func places(mean: Double, sd: Double?) -> Int {
        // An sd below 1e-9 of the mean is rounding noise of equal values: no spread.
        if let sd, sd.isFinite, sd > 1e-9 * abs(mean) { return decimals(sd, significant: 2) }
        if abs(mean - mean.rounded()) <= 1e-9 * max(1, abs(mean)) { return 0 }
        return decimals(mean, significant: 4)
    }

    /// `mean ± sd` (sd to two significant digits, the mean to the same place); the mean alone when sd is nil.
    package static func meanSD(_ mean: Double, _ sd: Double?) -> String {
        let p = places(mean: mean, sd: sd)
        guard let sd else { return value(mean) }
        // Equal values over seeds: the mean as a lone value, and a bare 0 (not `± 0.000000`).
        if p == decimals(sd, significant: 2), sd > 0 { return fixed(mean, p) + " ± " + fixed(sd, p) }
        return (p == 0 ? fixed(mean, 0) : value(mean)) + " ± 0"
    }

    /// A signed difference with `places` decimals: `+1.2`, `-0.4`; one that rounds to zero is `0.0` (no sign).
    package static func signed(_ x: Double, places: Int) -> String {
        let s = fixed(x, places)
        if Double(s) == 0 { return s }
        return x > 0 ? "+" + s : s
    }

    /// A ratio − 1 as a signed percentage with one decimal: `-64.0%`, `+3.1%`, `0.0%`.
    package static func percent(_ relative: Double) -> String {
        signed(100 * relative, places: 1) + "%"
    }
}
