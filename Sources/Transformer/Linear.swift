// Linear layer, y = x · Wᵀ + b with W stored (out, in) as in torch; forward and backward together.
import TensorCore

extension LinearSlots {
    /// y (N, out) = x (N, in) · Wᵀ + b.
    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, params p: UnsafeMutablePointer<Float>,
                 threads: Int, probe: StepProbe) {
        sgemm(.none, .transposed, m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
              b: p + weight, ldb: inFeatures, c: y, ldc: outFeatures, threads: threads)
        probe.phaseEnded(.gemm)
        Kernels.addBias(y, p + bias, rows: rows, cols: outFeatures)
        probe.phaseEnded(.other)
    }

    /// Accumulates dW (out, in) += dyᵀ · x and db += Σ dy; writes dx (N, in) = dy · W, or adds it when
    /// `accumulate` is true (for inputs that feed several branches). `dx` nil skips the input gradient.
    func backward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>?,
                  accumulate: Bool = false, rows: Int, params p: UnsafeMutablePointer<Float>, grads g: UnsafeMutablePointer<Float>,
                  threads: Int, probe: StepProbe) {
        sgemm(.transposed, .none, m: outFeatures, n: inFeatures, k: rows, a: dy, lda: outFeatures,
              b: x, ldb: inFeatures, beta: 1, c: g + weight, ldc: inFeatures, threads: threads)
        probe.phaseEnded(.gemm)
        Kernels.biasBackward(dy, g + bias, rows: rows, cols: outFeatures)
        probe.phaseEnded(.other)
        if let dx {
            sgemm(.none, .none, m: rows, n: inFeatures, k: outFeatures, a: dy, lda: outFeatures,
                  b: p + weight, ldb: inFeatures, beta: accumulate ? 1 : 0, c: dx, ldc: inFeatures, threads: threads)
            probe.phaseEnded(.gemm)
        }
    }
}

extension NormSlots {
    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                 rstd: UnsafeMutablePointer<Float>, rows: Int, eps: Float, params p: UnsafeMutablePointer<Float>, threads: Int) {
        Kernels.layerNormForward(x, p + weight, p + bias, y, mean: mean, rstd: rstd, rows: rows, cols: size, eps: eps,
                                 threads: threads)
    }

    func backward(_ x: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                  _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, rows: Int,
                  params p: UnsafeMutablePointer<Float>, grads g: UnsafeMutablePointer<Float>, threads: Int) {
        Kernels.layerNormBackward(x, p + weight, mean: mean, rstd: rstd, dy, dx, dgamma: g + weight, dbeta: g + bias,
                                  rows: rows, cols: size, threads: threads)
    }
}
