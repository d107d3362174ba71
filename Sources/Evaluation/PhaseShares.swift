// Where a pass's time goes, as the pass's own StepProbe reports it, and the Amdahl bound that follows for a
// speed-up of one kind of work. `bench compress` bounds int8 by the measured share of the fp32 forward pass in linear
// products (issue #18 item 5); timing the products apart from the pass overstated that share (it came out 100 %).
import Foundation
import Transformer

/// Wall nanoseconds per phase, summed over the passes it watched. Allocation-free per call.
package final class StepTimer: StepProbe {
    package private(set) var nanos = [UInt64](repeating: 0, count: StepPhase.allCases.count)
    private var last: UInt64 = 0

    package init() {}

    /// The clock starts here: the next phase that ends gets the time since this call.
    package func start() { last = DispatchTime.now().uptimeNanoseconds }

    package func phaseEnded(_ phase: StepPhase) {
        let now = DispatchTime.now().uptimeNanoseconds
        nanos[phase.rawValue] &+= now &- last
        last = now
    }

    package func moved(_ nanos: UInt64, to phase: StepPhase) {
        // Never more than the stretch so far, so the next phase's time stays >= 0.
        let n = min(nanos, DispatchTime.now().uptimeNanoseconds &- last)
        self.nanos[phase.rawValue] &+= n
        last &+= n
    }
}

/// One watched measurement of a pass: its mean wall time and each phase's mean share of it.
package struct PhaseShares: Codable, Sendable, Equatable {
    /// Mean ms of one pass (wall clock around the whole pass).
    package var passMs: Double
    /// (phase, share of passMs) for every phase the probe reported time for, then `rest` (the pass minus them: time
    /// after the last report), so the shares add up to 1.
    package var shares: [Share]
    package struct Share: Codable, Sendable, Equatable { package var phase: String; package var share: Double }

    /// The share of the pass in the linear layers' products (`StepPhase.gemm`).
    package var linearShare: Double { share("\(StepPhase.gemm)") }

    /// The share of the pass in `phase` (a `StepPhase` name or "rest"); 0 when the probe reported none.
    package func share(_ phase: String) -> Double { shares.first { $0.phase == phase }?.share ?? 0 }

    package init(passes: Int, totalNanos: UInt64, phaseNanos: [UInt64]) {
        let total = Double(max(1, totalNanos))
        passMs = total / Double(max(1, passes)) / 1e6
        var named = 0.0
        shares = []
        for phase in StepPhase.allCases where phaseNanos[phase.rawValue] > 0 {
            let ns = Double(phaseNanos[phase.rawValue])
            named += ns
            shares.append(Share(phase: "\(phase)", share: ns / total))
        }
        shares.append(Share(phase: "rest", share: max(0, total - named) / total))
    }

    /// Runs `pass` `warmup` times with no probe, then `repeats` times handing it a StepTimer (the pass installs it
    /// where it reports, e.g. `InferenceEncoder.probe`).
    package static func measure(warmup: Int, repeats: Int, _ pass: (StepProbe) throws -> Void) rethrows -> PhaseShares {
        for _ in 0..<warmup { try pass(NoStepProbe.shared) }
        let timer = StepTimer()
        var total: UInt64 = 0
        for _ in 0..<max(1, repeats) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            timer.start()
            try pass(timer)
            total &+= DispatchTime.now().uptimeNanoseconds &- t0
        }
        return PhaseShares(passes: max(1, repeats), totalNanos: total, phaseNanos: timer.nanos)
    }

    /// "gemm 71.2 %, attention 9.0 %, …, rest 0.4 %".
    package var summary: String {
        shares.map { $0.phase + String(format: " %.1f %%", 100 * $0.share) }.joined(separator: ", ")
    }
}

package enum Amdahl {
    /// The speed-up of a whole when only a `share` of its time runs `ratio` times faster: 1 / ((1 − share) + share / ratio).
    package static func bound(share: Double, ratio: Double) -> Double { 1 / ((1 - share) + share / ratio) }
}
