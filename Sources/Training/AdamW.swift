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

package final class AdamW: PartsBody {
    package let settings: AdamWSettings
    /// First and second moments, laid out like the parameters (pruning masks zero them with the weights).
    package let m: FloatBuffer, v: FloatBuffer
    /// Ranges of the flat buffer with their weight-decay factor (0 or settings.weightDecay).
    let groups: [(offset: Int, count: Int, decay: Float)]
    package private(set) var step = 0
    /// One update's arguments while its parts run (`runPart`), so a split update allocates nothing.
    private var pending: (p: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>, lr: Float, stepSize: Float, bc2Sqrt: Float,
                          gradientScale: Float, parts: Int)?
    /// The flat buffer's length (the end of its last range).
    private let count: Int

    package init(model: XLMRModel, settings: AdamWSettings = AdamWSettings()) {
        self.settings = settings
        m = FloatBuffer(count: model.parameters.count)
        v = FloatBuffer(count: model.parameters.count)
        groups = model.layout.entries.map { e in
            let noDecay = settings.excludeBiasAndNormFromDecay
                && (e.shape.count == 1 || e.name.contains("LayerNorm") || e.name.contains("layer_norm"))
            return (e.offset, e.count, noDecay ? 0 : settings.weightDecay)
        }
        count = groups.map { $0.offset + $0.count }.max() ?? 0
    }

    /// Below this many floats per thread the update runs on the calling thread (a hand-over costs a few µs).
    static let splitFloats = 1 << 16

    /// One update with learning rate `lr`, from the gradients in the model's gradient buffer multiplied by
    /// `gradientScale` (the clipping coefficient, fused here to save a pass over the gradients; the product is
    /// rounded exactly as a separate scaling would round it). Split over the model's compute threads by contiguous
    /// stretches of the flat buffer: every element's update is the same arithmetic wherever a stretch starts, so the
    /// result is the same bits for any thread count.
    package func update(_ model: XLMRModel, lr: Float, gradientScale: Float = 1) {
        update(model, lr: lr, gradientScale: gradientScale, threads: model.compute.threads)
    }

    /// `update(_:lr:gradientScale:)` on up to `threads` threads.
    package func update(_ model: XLMRModel, lr: Float, gradientScale: Float = 1, threads: Int) {
        step += 1
        let s = settings
        let bc1 = 1 - powf(s.beta1, Float(step))
        let bc2Sqrt = (1 - powf(s.beta2, Float(step))).squareRoot()
        let parts = max(1, min(threads, count / Self.splitFloats))
        pending = (model.parameters.pointer, model.gradients.pointer, lr, lr / bc1, bc2Sqrt, gradientScale, parts)
        Parallel.parts(parts, self)
        pending = nil
    }

    /// Elements count·part/parts ..< count·(part+1)/parts of the pending update, range by range.
    package func runPart(_ part: Int) {
        guard let u = pending else { return }
        let lo = count * part / u.parts, hi = count * (part + 1) / u.parts
        let mp = m.pointer, vp = v.pointer
        for group in groups {
            let start = max(lo, group.offset), end = min(hi, group.offset + group.count)
            guard start < end else { continue }
            Self.update(u.p + start, u.g + start, mp + start, vp + start, end - start, decay: 1 - u.lr * group.decay,
                        stepSize: u.stepSize, bc2Sqrt: u.bc2Sqrt, gradientScale: u.gradientScale, settings)
        }
    }

    /// The update over one range, eight lanes at a time, then a scalar tail; each lane does exactly the
    /// scalar arithmetic in the same order, so the result is bit-identical to the plain loop.
    @inline(__always)
    static func update(_ p: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ mp: UnsafeMutablePointer<Float>,
                       _ vp: UnsafeMutablePointer<Float>, _ count: Int, decay: Float, stepSize: Float, bc2Sqrt: Float,
                       gradientScale: Float, _ s: AdamWSettings) {
        let b1 = s.beta1, b2 = s.beta2, eps = s.eps, c1 = 1 - b1, c2 = 1 - b2
        typealias V = SIMD8<Float>
        var i = 0
        let scaled = gradientScale != 1
        while i + 8 <= count {
            var gi = UnsafeRawPointer(g + i).loadUnaligned(as: V.self)
            if scaled { gi = gi * gradientScale }
            let mi = b1 * UnsafeRawPointer(mp + i).loadUnaligned(as: V.self) + c1 * gi
            let vi = b2 * UnsafeRawPointer(vp + i).loadUnaligned(as: V.self) + c2 * gi * gi
            let pi = UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
            let updated = pi * decay - stepSize * mi / (vi.squareRoot() / bc2Sqrt + eps)
            UnsafeMutableRawPointer(mp + i).storeBytes(of: mi, as: V.self)
            UnsafeMutableRawPointer(vp + i).storeBytes(of: vi, as: V.self)
            UnsafeMutableRawPointer(p + i).storeBytes(of: updated, as: V.self)
            i += 8
        }
        while i < count {
            var gi = g[i]
            if scaled { gi = gi * gradientScale }
            let mi = b1 * mp[i] + c1 * gi
            let vi = b2 * vp[i] + c2 * gi * gi
            mp[i] = mi; vp[i] = vi
            p[i] = p[i] * decay - stepSize * mi / (vi.squareRoot() / bc2Sqrt + eps)
            i += 1
        }
    }
}

package enum GradientClipping {
    /// Scales the gradients so that their global L2 norm is at most `maxNorm` (torch: coefficient
    /// maxNorm / (norm + 1e-6), applied only when below 1). Returns the norm before clipping.
    @discardableResult
    package static func clip(_ model: XLMRModel, maxNorm: Float) -> Float {
        let (norm, scale) = coefficient(model, maxNorm: maxNorm)
        if scale != 1 { Kernels.scale(model.gradients.pointer, scale, model.gradients.count) }
        return norm
    }

    /// The gradients' global L2 norm and the factor clipping would scale them by (1 when within `maxNorm`),
    /// without scaling: the trainer passes the factor to `AdamW.update(_:lr:gradientScale:)`.
    package static func coefficient(_ model: XLMRModel, maxNorm: Float) -> (norm: Float, scale: Float) {
        let norm = Float(Kernels.sumOfSquares(model.gradients.pointer, model.gradients.count).squareRoot())
        let coefficient = maxNorm / (norm + 1e-6)
        return (norm, coefficient < 1 ? coefficient : 1)
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
