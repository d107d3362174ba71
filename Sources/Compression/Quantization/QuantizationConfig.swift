// The one configuration type of quantization: scheme, LLM.int8() threshold, int8 embeddings, calibration,
// int4 group size. Validated; stored in a quantized checkpoint's config.json as `quantization_config`.
import Foundation

/// Bad quantization input (config, checkpoint, calibration data): names what is wrong and what was expected.
package struct QuantizationError: Error, CustomStringConvertible, Equatable {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

package enum QuantizationScheme: String, Codable, CaseIterable, Sendable {
    /// int8 weights (symmetric per output channel), activations quantized per token at run time.
    case dynamic
    /// As dynamic, but activation columns whose max |x| over the batch exceeds the threshold run in fp32.
    case llmInt8 = "llm-int8"
    /// int8 weights, activations with one calibrated scale and zero point per linear input.
    case staticInt8 = "static"
    /// Weight-only int4, symmetric per group of `groupSize` inputs; computed in fp32 after dequantization.
    case int4
}

package enum CalibrationMethod: String, Codable, CaseIterable, Sendable {
    /// The observed minimum and maximum of each linear's input.
    case minmax
    /// The `percentile` and 100 − `percentile` quantiles of each linear's input (clips rare outliers).
    case percentile
}

package struct QuantizationConfig: Codable, Equatable, Sendable {
    package var scheme: QuantizationScheme
    /// LLM.int8(): activation columns with max |x| above this stay in fp32 (the paper's 6.0 by default).
    package var threshold: Float = 6
    /// Also store the word embeddings in int8 (one scale per row), dequantized on lookup.
    package var embeddings: Bool = false
    package var calibration: CalibrationMethod = .minmax
    /// The upper percentile for `.percentile` calibration, in (50, 100].
    package var percentile: Double = 99.99
    /// Inputs per int4 scale group.
    package var groupSize: Int = 128

    enum CodingKeys: String, CodingKey {
        case scheme, threshold, embeddings, calibration, percentile, groupSize = "group_size"
    }

    package init(scheme: QuantizationScheme, threshold: Float = 6, embeddings: Bool = false,
                 calibration: CalibrationMethod = .minmax, percentile: Double = 99.99, groupSize: Int = 128) {
        self.scheme = scheme; self.threshold = threshold; self.embeddings = embeddings
        self.calibration = calibration; self.percentile = percentile; self.groupSize = groupSize
    }

    /// Throws a QuantizationError naming the field, its value and what is expected.
    package func validate() throws {
        guard threshold > 0, threshold.isFinite else { throw QuantizationError("quantization threshold is \(threshold), expected a number > 0") }
        guard percentile > 50, percentile <= 100 else { throw QuantizationError("calibration percentile is \(percentile), expected in (50, 100]") }
        guard groupSize >= 2, groupSize % 2 == 0 else { throw QuantizationError("int4 group size is \(groupSize), expected an even number >= 2") }
    }
}
