// Named tolerances for the engine's tests (TensorCore, Transformer, Training).

extension Tolerance {
    /// Logits against transformers, relative to the largest |logit| of the batch (the 1e-4).
    public static let logitsRelative: Float = 1e-4
    /// Loss against transformers, relative.
    public static let lossRelative: Float = 1e-5
    /// Every gradient against torch's autograd, relative to the largest |gradient| of that tensor.
    public static let gradientRelative: Float = 1e-4
    /// Gradients that are exactly zero in exact arithmetic (the attention key bias: softmax ignores a constant
    /// per row) are float rounding noise in both engines; errors are measured against at least this fraction
    /// of the model's largest gradient.
    public static let gradientNoiseFloor: Float = 1e-3
    /// The 10-step AdamW loss curve against torch, absolute per step (the 1e-3).
    public static let lossCurveAbsolute: Float = 1e-3
    /// Float32 kernels against float64 references, relative.
    public static let kernelRelative: Float = 1e-5
    /// Vectorised exp against libm, relative (GELU's Φ and φ have their stated bound, `GeluErrorBound`).
    public static let fastExpRelative: Double = 1e-6
    /// Central finite differences in float32 against analytic gradients: |fd − an| ≤ relative · max(|fd|, |an|) + absolute.
    public static let finiteDifferenceRelative: Float = 2e-2
    public static let finiteDifferenceAbsolute: Float = 2e-3
    /// Step for central finite differences in float32.
    public static let finiteDifferenceStep: Float = 1e-3
}
