// `smaller pretrain` (MLM) and `smaller finetune` (token classification) on integer-id files.
import ArgumentParser
import Foundation
import Pipelines

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

    var idTraining: Pipelines.IdTraining {
        Pipelines.IdTraining(steps: steps, learningRate: lr, warmup: warmup, weightDecay: weightDecay, clip: clip, seed: seed,
                             batch: batch, tokens: tokens, compute: ComputeContext(threads: threads), progressBar: !quiet,
                             stepLog: log.map { URL(fileURLWithPath: $0) })
    }
}

struct Pretrain: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "MLM pretraining from scratch on a file of id sequences (one per line).")

    @Option(help: "Training data: one sequence of space-separated ids per line.") var ids: String
    @Option(help: "Output checkpoint folder.") var out: String
    @Option(help: "Model shape: tiny, small (4×256), afriberta-small (4×768).") var config: String = "small"
    @Option(help: "Vocabulary size (the <mask> id is vocab − 1).") var vocab: Int = 8000
    @OptionGroup var training: TrainingOptions

    func validate() throws {
        guard Pipelines.ModelShape(rawValue: config) != nil else {
            throw ValidationError("--config must be \(Pipelines.ModelShape.allCases.map(\.rawValue).joined(separator: ", ")), not \(config)")
        }
    }

    func run() throws {
        try Pipelines.pretrainOnIds(shape: Pipelines.ModelShape(rawValue: config)!, vocab: vocab, ids: URL(fileURLWithPath: ids),
                                    training: training.idTraining, out: URL(fileURLWithPath: out))
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
        try Pipelines.finetuneOnIds(from: URL(fileURLWithPath: model), labels: labels, data: URL(fileURLWithPath: data),
                                    training: training.idTraining, out: URL(fileURLWithPath: out))
        print("saved \(out)")
    }
}
