// StepProbe: what a forward or backward pass reports as each piece of its work ends (a GEMM, a softmax, a
// LayerNorm, …) to whoever injected the probe; `smaller bench engine --profile` times them. The model measures
// nothing itself, and by default nothing is measured.

/// The kinds of work in a training step or an inference pass. Every stretch of a pass's time ends in exactly one
/// of them, so the phases add up to the pass's whole time.
package enum StepPhase: Int, CaseIterable, Sendable {
    /// The linear layers' GEMMs (q, k, v, attention output, FFN in and out, the heads' dense and decoder), forward,
    /// dX and dW. For an int8 layer only its u8·s8→s32 product (with the hand-overs to the threads) and LLM.int8()'s
    /// fp32 outlier product.
    case gemm
    /// An int8 layer's activations turned into 7-bit codes: each row's range (dynamic) and the codes; LLM.int8()'s
    /// outlier-column search and split.
    case quantize
    /// An int8 layer's epilogue: the int32 accumulators back to fp32 through the scales, zero point and bias.
    case dequantize
    /// The batched attention GEMMs (q·kᵀ and probs·v, and their four backward products).
    case attention
    /// Softmax over the attention scores, forward and backward, with the padding-mask add.
    case softmax
    /// GELU forward and backward.
    case gelu
    /// LayerNorm forward and backward (γ and β gradients included).
    case layerNorm
    /// Dropout masks drawn and applied, forward and backward.
    case dropout
    /// The loss and ∂loss/∂logits.
    case crossEntropy
    /// Gradient clipping and the optimizer update (reported by the caller that runs them).
    case optimizer
    /// Everything else: checks, embedding gathers and scatters, bias adds and sums, residual adds, copies.
    case other
}

/// Called on the pass's calling thread only (after each multithreaded kernel returns). Implementations must not
/// allocate per call: the calls sit inside every training step.
package protocol StepProbe: AnyObject {
    /// The time since the previous phase ended went to `phase`.
    func phaseEnded(_ phase: StepPhase)
    /// `nanos` of the stretch now running went to `phase`: work a multithreaded kernel timed on its threads inside
    /// that stretch (wall time per thread, averaged over the threads that ran side by side). The next `phaseEnded`
    /// is charged that much less.
    func moved(_ nanos: UInt64, to phase: StepPhase)
}

extension StepProbe {
    package func moved(_ nanos: UInt64, to phase: StepPhase) {}
}

/// The default probe: measures nothing.
package final class NoStepProbe: StepProbe, Sendable {
    package static let shared = NoStepProbe()
    package init() {}
    package func phaseEnded(_ phase: StepPhase) {}
}
