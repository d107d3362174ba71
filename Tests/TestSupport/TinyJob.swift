// The tiny synthetic job that the pipeline and executor tests plan and run: written once, so a test states only
// the fields it is about (its compression settings, the seed, how long it trains).
import Foundation

public struct TinyJob {
    public var name = "tiny"
    public var sentences = 200
    public var layers = 2
    public var heads = 2
    public var pretrainSteps = 10
    public var epochs = 1
    public var seed = 7
    public var language = "syn-ton"
    /// One `- family: {…}` entry per setting.
    public var compression: [String]

    public init(compression: [String]) { self.compression = compression }

    public var yaml: String {
        """
        name: \(name)
        data: {source: synthetic, synthetic_sentences: \(sentences)}
        model: {layers: \(layers), hidden: 32, heads: \(heads), ffn: 64, max_length: 32, vocab: 400}
        pretrain: {steps: \(pretrainSteps), batch: 8, learning_rate: 1.0e-3}
        finetune: {epochs: \(epochs), batch: 8, learning_rate: 1.0e-3}
        seeds: [\(seed)]
        languages: [\(language)]
        compression:
        \(compression.map { "  - \($0)" }.joined(separator: "\n"))
        """
    }
}
