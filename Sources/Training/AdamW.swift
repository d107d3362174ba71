// AdamW exactly as torch.optim.AdamW (decoupled weight decay, bias correction, eps outside the sqrt of the
// corrected second moment), over the model's one flat parameter buffer; and gradient-norm clipping as
// torch.nn.utils.clip_grad_norm_.
import TensorCore
import Transformer
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

package struct AdamWSettings: Sendable, Equatable {
    package var beta1: Float = 0.9
    package var beta2: Float = 0.999
    package var eps: Float = 1e-8
    package var weightDecay: Float = 0.01
    /// When true, biases and LayerNorm parameters get no weight decay (the usual fine-tuning recipe);
    /// when false every parameter decays, as `AdamW(model.parameters())` does.
    package var excludeBiasAndNormFromDecay = false
    package init(beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0.01,
                 excludeBiasAndNormFromDecay: Bool = false) {
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
        self.excludeBiasAndNormFromDecay = excludeBiasAndNormFromDecay
    }
}

package final class AdamW {
    package let settings: AdamWSettings
    /// First and second moments, laid out like the parameters (pruning masks zero them with the weights).
    package let m: FloatBuffer, v: FloatBuffer
    /// Ranges of the flat buffer with their weight-decay factor (0 or settings.weightDecay).
    let groups: [(offset: Int, count: Int, decay: Float)]
    package private(set) var step = 0

    package init(model: XLMRModel, settings: AdamWSettings = AdamWSettings()) {
        self.settings = settings
        m = FloatBuffer(count: model.parameters.count)
        v = FloatBuffer(count: model.parameters.count)
        groups = model.layout.entries.map { e in
            let noDecay = settings.excludeBiasAndNormFromDecay
                && (e.shape.count == 1 || e.name.contains("LayerNorm") || e.name.contains("layer_norm"))
            return (e.offset, e.count, noDecay ? 0 : settings.weightDecay)
        }
    }

    /// One update with learning rate `lr`, from the gradients in the model's gradient buffer.
    package func update(_ model: XLMRModel, lr: Float) {
        step += 1
        let s = settings
        let bc1 = 1 - powf(s.beta1, Float(step))
        let bc2Sqrt = (1 - powf(s.beta2, Float(step))).squareRoot()
        let stepSize = lr / bc1
        let p = model.parameters.pointer, g = model.gradients.pointer, mp = m.pointer, vp = v.pointer
        let b1 = s.beta1, b2 = s.beta2, eps = s.eps
        for group in groups {
            let decay = 1 - lr * group.decay
            let end = group.offset + group.count
            for i in group.offset..<end {
                let gi = g[i]
                let mi = b1 * mp[i] + (1 - b1) * gi
                let vi = b2 * vp[i] + (1 - b2) * gi * gi
                mp[i] = mi; vp[i] = vi
                p[i] = p[i] * decay - stepSize * mi / (vi.squareRoot() / bc2Sqrt + eps)
            }
        }
    }
}

package enum GradientClipping {
    /// Scales the gradients so that their global L2 norm is at most `maxNorm` (torch: coefficient
    /// maxNorm / (norm + 1e-6), applied only when below 1). Returns the norm before clipping.
    @discardableResult
    package static func clip(_ model: XLMRModel, maxNorm: Float) -> Float {
        let norm = Float(Kernels.sumOfSquares(model.gradients.pointer, model.gradients.count).squareRoot())
        let coefficient = maxNorm / (norm + 1e-6)
        if coefficient < 1 { Kernels.scale(model.gradients.pointer, coefficient, model.gradients.count) }
        return norm
    }
}

/// Linear warmup from 0 to the peak over `warmup` steps, then linear decay to 0 at `total` steps, as
/// transformers' get_linear_schedule_with_warmup (the first update uses step 0).
package struct LinearSchedule: Sendable, Equatable {
    package var peak: Float
    package var warmup: Int
    package var total: Int
    package init(peak: Float, warmup: Int, total: Int) { self.peak = peak; self.warmup = warmup; self.total = total }

    package func rate(at step: Int) -> Float {
        if step < warmup { return peak * Float(step) / Float(max(1, warmup)) }
        return peak * max(0, Float(total - step) / Float(max(1, total - warmup)))
    }
}
