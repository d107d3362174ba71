// Pruning while training: a fixed mask re-applied after every optimizer step (weights and AdamW moments), and
// gradual magnitude pruning on Zhu & Gupta's cubic schedule, which grows the mask every `frequency` steps.
import Foundation
import TensorCore
import Training
import Transformer

/// Zhu & Gupta (2017): s_t = s_f + (s_i − s_f)(1 − (t − t0)/(nΔt))³ for t in {t0, t0 + Δt, …, t0 + nΔt}, with
/// t0 = `start`, t0 + nΔt = `end` and Δt = `frequency`. Between pruning steps the sparsity stays at the last
/// pruning step's value; before `start` it is 0 (nothing pruned yet), from `end` on it is `final`.
package struct CubicSchedule: Sendable, Equatable, Codable {
    package var initial: Double
    package var final: Double
    package var start: Int
    package var end: Int
    package var frequency: Int

    package init(initial: Double = 0, final: Double, start: Int, end: Int, frequency: Int) throws {
        guard initial >= 0, initial < 1, final >= 0, final < 1, initial <= final else {
            throw PruningError(message: "cubic schedule sparsities must satisfy 0 ≤ initial (\(initial)) ≤ final (\(final)) < 1")
        }
        guard start >= 0, end >= start, frequency >= 1 else {
            throw PruningError(message: "cubic schedule needs 0 ≤ start (\(start)) ≤ end (\(end)) and frequency (\(frequency)) ≥ 1")
        }
        self.initial = initial; self.final = final; self.start = start; self.end = end; self.frequency = frequency
    }

    /// True when step `t` is one of the pruning steps t0, t0 + Δt, …, and `end` itself.
    package func isPruningStep(_ t: Int) -> Bool {
        t >= start && t <= end && ((t - start) % frequency == 0 || t == end)
    }

    /// The target sparsity at step `t`.
    package func sparsity(at t: Int) -> Double {
        if t < start { return 0 }
        if t >= end || end == start { return final }
        let last = start + (t - start) / frequency * frequency
        let progress = Double(last - start) / Double(end - start)
        let r = 1 - progress
        return final + (initial - final) * r * r * r
    }
}

/// A set of positions in the model's flat parameter buffer that must stay zero.
package final class ParameterMask {
    /// Flat offsets of the masked (zero) weights, ascending.
    package private(set) var zeros: [Int]

    package init(zeros: [Int]) { self.zeros = zeros }

    /// The mask of the weights that are zero now in `tensors`.
    package convenience init(zerosOf model: XLMRModel, tensors: [String]) {
        var out: [Int] = []
        for name in tensors {
            guard let e = model.layout.entry(name) else { continue }
            let p = model.parameters.pointer + e.offset
            for i in 0..<e.count where p[i] == 0 { out.append(e.offset + i) }
        }
        self.init(zeros: out.sorted())
    }

    package var count: Int { zeros.count }

    /// Sets the masked weights to zero, and the optimizer's moments there too (so no stale momentum remains).
    package func apply(to model: XLMRModel, optimizer: AdamW? = nil) {
        let p = model.parameters.pointer
        for i in zeros { p[i] = 0 }
        if let optimizer {
            let m = optimizer.m.pointer, v = optimizer.v.pointer
            for i in zeros { m[i] = 0; v[i] = 0 }
        }
    }

    /// Keeps the mask for the whole of training: installs it as the trainer's after-update hook.
    package func fix(on trainer: Trainer) {
        apply(to: trainer.model, optimizer: trainer.optimizer)
        trainer.afterUpdate = { [unowned trainer] _ in self.apply(to: trainer.model, optimizer: trainer.optimizer) }
    }
}

/// Gradual magnitude pruning during training: at each pruning step of the schedule, the smallest weights are
/// zeroed (over `tensors`, globally or per tensor) up to the schedule's sparsity, and the mask grows to match;
/// after every step the current mask is re-applied. Pruned weights never come back.
package final class GradualPruner {
    package let schedule: CubicSchedule
    package let tensors: [String]
    package let scope: PruningScope
    package private(set) var mask: ParameterMask
    package private(set) var lastSummary: PruningSummary? = nil

    package init(schedule: CubicSchedule, tensors: [String], scope: PruningScope, model: XLMRModel) {
        self.schedule = schedule; self.tensors = tensors; self.scope = scope
        mask = ParameterMask(zerosOf: model, tensors: tensors)
    }

    /// Handles update `t` (1-based count of optimizer updates done).
    package func afterUpdate(_ t: Int, model: XLMRModel, optimizer: AdamW?) throws {
        mask.apply(to: model, optimizer: optimizer)
        if schedule.isPruningStep(t) {
            lastSummary = try MagnitudePruning.prune(model, sparsity: schedule.sparsity(at: t), scope: scope, tensors: tensors)
            mask = ParameterMask(zerosOf: model, tensors: tensors)
            mask.apply(to: model, optimizer: optimizer)
        }
    }

    /// Installs the pruner on a trainer (errors from pruning, which are programmer errors here, stop the process).
    package func install(on trainer: Trainer) {
        trainer.afterUpdate = { [unowned trainer] t in
            do { try self.afterUpdate(t, model: trainer.model, optimizer: trainer.optimizer) } catch {
                preconditionFailure("gradual pruning at step \(t): \(error)")
            }
        }
    }
}
