// Training on integer-id files (`smaller pretrain`, `smaller finetune`): MLM from scratch, or token classification
// from a checkpoint, with the CLI's trainer settings; the checkpoint is written to `out`.
import Experiment
import Foundation
import Training
import Transformer

extension Pipelines {
    /// The shape of a fresh model by name: tiny (2 × 64), small (4 × 256), afriberta-small (4 × 768).
    package enum ModelShape: String, CaseIterable, Sendable {
        case tiny, small, afribertaSmall = "afriberta-small"

        func config(vocab: Int) -> XLMRConfig {
            switch self {
            case .tiny: return XLMRConfig(vocabSize: vocab, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 256)
            case .small: return .small(vocab: vocab)
            case .afribertaSmall:
                var c = XLMRConfig.afribertaSmall()
                c.vocabSize = vocab
                return c
            }
        }
    }

    /// How an id-file training run steps: the trainer's settings, batch and window, and where steps are reported.
    package struct IdTraining {
        package var settings: TrainerSettings
        package var batch: Int
        package var tokens: Int
        package var compute: ComputeContext
        /// Show a progress bar on stderr; write one JSON line per step to this file.
        package var progressBar: Bool
        package var stepLog: URL?

        /// AdamW (bias and LayerNorm weights without decay) with `warmup` linear warmup steps, then linear decay.
        package init(steps: Int, learningRate: Float, warmup: Int, weightDecay: Float, clip: Float, seed: UInt64, batch: Int,
                     tokens: Int, compute: ComputeContext, progressBar: Bool, stepLog: URL?) {
            settings = TrainerSettings(steps: steps, peakLearningRate: learningRate, warmupSteps: warmup, maxGradNorm: clip,
                                       optimizer: AdamWSettings(weightDecay: weightDecay, excludeBiasAndNormFromDecay: true), seed: seed)
            self.batch = batch; self.tokens = tokens; self.compute = compute
            self.progressBar = progressBar; self.stepLog = stepLog
        }

        func run(_ trainer: Trainer, data: IdSequences, label: String) throws {
            compute.activate()
            if progressBar { trainer.observers.append(ProgressBar(label: label)) }
            if let stepLog { trainer.observers.append(try JSONLinesLog(url: stepLog)) }
            var source = ShuffledBatches(data: data, batchSize: batch, tokens: tokens, pad: Int32(trainer.model.config.padTokenId))
            try trainer.run(&source)
        }
    }

    /// MLM pretraining of a fresh model of `shape` on `ids` (one sequence of space-separated ids per line); the
    /// `<mask>` id is vocab − 1.
    package static func pretrainOnIds(shape: ModelShape, vocab: Int, ids: URL, training t: IdTraining, out: URL) throws {
        let model = try XLMRModel(config: shape.config(vocab: vocab), head: .maskedLM)
        model.compute = t.compute
        model.initializeWeights(seed: t.settings.seed)
        let data = try permanent("reading \(ids.path)") { try IdSequences.read(ids, vocabSize: vocab, withLabels: false) }
        let trainer = Trainer(model: model, settings: t.settings, maxBatch: t.batch, maxTokens: t.tokens,
                              masking: MLMMasking(maskId: Int32(vocab - 1), vocabSize: vocab))
        try t.run(trainer, data: data, label: "pretrain")
        try model.save(out)
    }

    /// Token classification with `labels` labels from the checkpoint `from` (a new classifier when it has another
    /// head) on `data` (`ids<TAB>labels` lines, −100 ignored).
    package static func finetuneOnIds(from: URL, labels: Int, data: URL, training t: IdTraining, out: URL) throws {
        let model = try permanent("loading \(from.path)") {
            try XLMRModel.load(from, head: .tokenClassification(labels: labels), classifierSeed: t.settings.seed)
        }
        guard !model.takesWordShapes else {
            throw PermanentTaskError("\(from.path) takes word-shape token types (config word_shape_types); id files carry no words to read them from")
        }
        guard model.charNgramBuckets == 0 else {
            throw PermanentTaskError("\(from.path) reads character n-grams (config smaller_char_ngram_buckets); id files carry no words to read them from")
        }
        model.compute = t.compute
        let sequences = try permanent("reading \(data.path)") {
            try IdSequences.read(data, vocabSize: model.config.vocabSize, withLabels: true, labelCount: labels)
        }
        let trainer = Trainer(model: model, settings: t.settings, maxBatch: t.batch, maxTokens: t.tokens)
        try t.run(trainer, data: sequences, label: "finetune")
        try model.save(out)
    }
}
