// Static int8 calibration: run the fp32 inference encoder on given batches with an observer in front of every
// encoder linear, then turn each input's observed range (min-max, or the percentile pair of a uniform sample)
// into one activation scale and zero point.
import TensorCore
import Transformer

/// Watches the inputs of one linear layer, then runs it in fp32.
final class RangeObserver: LinearKernel {
    let inner: LinearKernel
    private(set) var lo = Float.infinity, hi = -Float.infinity
    /// A uniform sample (reservoir) of the inputs, for percentile calibration.
    private(set) var sample: [Float] = []
    private(set) var seen = 0
    let capacity: Int
    private var rng: Xoshiro256

    init(_ inner: LinearKernel, sampleCapacity: Int, seed: UInt64) {
        self.inner = inner; capacity = sampleCapacity; rng = Xoshiro256(seed: seed)
    }
    var inFeatures: Int { inner.inFeatures }
    var outFeatures: Int { inner.outFeatures }
    var byteCount: Int { inner.byteCount }

    func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        let n = rows * inFeatures
        for i in 0..<n {
            let v = x[i]
            lo = min(lo, v); hi = max(hi, v)
            if capacity > 0 {
                if sample.count < capacity { sample.append(v) } else {
                    let j = Int(rng.next() % UInt64(seen + 1))
                    if j < capacity { sample[j] = v }
                }
            }
            seen += 1
        }
        inner.apply(x, rows: rows, into: y)
    }

    /// The calibrated activation quantization for `method`.
    func quantization(_ method: CalibrationMethod, percentile: Double) -> ActivationQuantization {
        switch method {
        case .minmax: return ActivationQuantization(lo: lo, hi: hi)
        case .percentile:
            let sorted = sample.sorted()
            guard !sorted.isEmpty else { return ActivationQuantization(lo: 0, hi: 0) }
            func quantile(_ q: Double) -> Float { sorted[min(sorted.count - 1, max(0, Int((q * Double(sorted.count - 1)).rounded())))] }
            return ActivationQuantization(lo: quantile(1 - percentile / 100), hi: quantile(percentile / 100))
        }
    }
}

package enum Calibration {
    /// Samples kept per linear input for percentile calibration.
    package static let sampleCapacity = 1 << 19

    /// The activation quantization of every encoder linear's input, observed over `batches` in fp32.
    package static func ranges(_ model: XLMRModel, batches: [TokenBatch], method: CalibrationMethod,
                               percentile: Double) throws -> [String: ActivationQuantization] {
        guard !batches.isEmpty else { throw QuantizationError("static quantization needs calibration batches, got none") }
        var observers: [String: RangeObserver] = [:]
        for (i, linear) in LinearNames.encoderLinears(model.config).enumerated() {
            guard let dense = model.denseLinear(linear.name) else { throw QuantizationError("the model has no linear layer \(linear.name)") }
            observers[linear.name] = RangeObserver(dense, sampleCapacity: method == .percentile ? sampleCapacity : 0, seed: UInt64(i + 1))
        }
        let encoder = try InferenceEncoder(model: model, replacing: observers)
        for b in batches { _ = try encoder.forward(b) }
        return observers.mapValues { $0.quantization(method, percentile: percentile) }
    }
}
