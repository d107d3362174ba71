// `smaller pretrain` (MLM) and `smaller finetune` (token classification) on integer-id files.
import ArgumentParser
import Foundation
import TensorCore
import Training
import Transformer

struct TrainingOptions: ParsableArguments {
    @Option(help: "Optimizer steps.") var steps: Int = 100
    @Option(help: "Sequences per batch.") var batch: Int = 8
    @Option(help: "Tokens per sequence (longer ones are truncated).") var tokens: Int = 128
    @Option(help: "Peak learning rate.") var lr: Float = 5e-4
    @Option(help: "Warmup steps (linear), then linear decay to 0.") var warmup: Int = 10
    @Option(help: "AdamW weight decay.") var weightDecay: Float = 0.01
    @Option(help: "Gradient-norm clipping.") var clip: Float = 1.0
    @Option(help: "Seed for initialisation, data order, masking and dropout.") var seed: UInt64 = 0
    @Option(help: "Write one JSON line per step to this file.") var log: String?
    @Option(help: "Threads for oneDNN.") var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "No progress bar on stderr.") var quiet = false

    func validate() throws {
        guard steps >= 1, batch >= 1, tokens >= 2, threads >= 1 else { throw ValidationError("--steps, --batch, --threads must be >= 1 and --tokens >= 2") }
        guard lr > 0, warmup >= 0, clip > 0 else { throw ValidationError("--lr and --clip must be > 0, --warmup >= 0") }
    }

    var settings: TrainerSettings {
        TrainerSettings(steps: steps, peakLearningRate: lr, warmupSteps: warmup, maxGradNorm: clip,
                        optimizer: AdamWSettings(weightDecay: weightDecay, excludeBiasAndNormFromDecay: true), seed: seed)
    }

    func run(_ trainer: Trainer, data: IdSequences, label: String) throws {
        ComputeInfo.setThreads(threads)
        if !quiet { trainer.observers.append(ProgressBar(label: label)) }
        if let log { trainer.observers.append(try JSONLinesLog(url: URL(fileURLWithPath: log))) }
        var source = ShuffledBatches(data: data, batchSize: batch, tokens: tokens, pad: Int32(trainer.model.config.padTokenId))
        try trainer.run(&source)
    }
}

struct Pretrain: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "MLM pretraining from scratch on a file of id sequences (one per line).")

    @Option(help: "Training data: one sequence of space-separated ids per line.") var ids: String
    @Option(help: "Output checkpoint folder.") var out: String
    @Option(help: "Model shape: tiny, small (4×256), afriberta-small (4×768).") var config: String = "small"
    @Option(help: "Vocabulary size (the <mask> id is vocab − 1).") var vocab: Int = 8000
    @OptionGroup var training: TrainingOptions

    func run() throws {
        var c: XLMRConfig
        switch config {
        case "tiny": c = XLMRConfig(vocabSize: vocab, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 256)
        case "small": c = .small(vocab: vocab)
        case "afriberta-small": c = .afribertaSmall(); c.vocabSize = vocab
        default: throw ValidationError("--config must be tiny, small or afriberta-small, not \(config)")
        }
        let model: XLMRModel
        let data: IdSequences
        do {
            model = try XLMRModel(config: c, head: .maskedLM)
            model.initializeWeights(seed: training.seed)
            data = try IdSequences.read(URL(fileURLWithPath: ids), vocabSize: vocab, withLabels: false)
        } catch { throw ValidationError("\(error)") }
        let trainer = Trainer(model: model, settings: training.settings, maxBatch: training.batch, maxTokens: training.tokens,
                              masking: MLMMasking(maskId: Int32(vocab - 1), vocabSize: vocab))
        try training.run(trainer, data: data, label: "pretrain")
        try model.save(URL(fileURLWithPath: out))
        print("saved \(out)")
    }
}

struct Finetune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Token classification from a checkpoint on a file of \"ids<TAB>labels\" lines (-100 = ignored).")

    @Option(help: "Starting checkpoint (MLM or token classification).") var model: String
    @Option(help: "Training data: space-separated ids, a tab, one label per id.") var data: String
    @Option(help: "Number of labels (a new classifier is initialised when the checkpoint has another head).") var labels: Int
    @Option(help: "Output checkpoint folder.") var out: String
    @OptionGroup var training: TrainingOptions

    func run() throws {
        let m: XLMRModel
        let sequences: IdSequences
        do {
            m = try XLMRModel.load(URL(fileURLWithPath: model), head: .tokenClassification(labels: labels), classifierSeed: training.seed)
            sequences = try IdSequences.read(URL(fileURLWithPath: data), vocabSize: m.config.vocabSize, withLabels: true, labelCount: labels)
        } catch { throw ValidationError("\(error)") }
        let trainer = Trainer(model: m, settings: training.settings, maxBatch: training.batch, maxTokens: training.tokens)
        try training.run(trainer, data: sequences, label: "finetune")
        try m.save(URL(fileURLWithPath: out))
        print("saved \(out)")
    }
}
