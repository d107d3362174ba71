// pretrain(seed): a SentencePiece tokenizer trained on every language's text (or, for a distillation student,
// the input checkpoint's), then multilingual MLM pretraining of a fresh XLM-R; the checkpoint (config, weights,
// tokenizer) is the task's artifact.
import Experiment
import Foundation
import TensorCore
import TextData
import Training
import Transformer

struct PretrainTask {
    let request: ExecutionRequest
    let settings: EngineSettings
    let progress: @Sendable (Double, String) -> Void

    func run() throws -> ExecutionOutput {
        let s = settings
        let log = request.log
        guard !s.languages.isEmpty else { throw ExecutionError("\(request.spec.title): no languages to pretrain on") }
        let started = Date()

        // 1. Text of every language, one file for the tokenizer trainer.
        let source = try TaskData.source(s, needsText: true)
        var lines: [String] = []
        for language in s.languages {
            let text = try Corpora.text(source, language: language)
            log.write("text \(language): \(text.count) lines")
            lines += text
        }
        let textFile = request.workDirectory.appendingPathComponent("pretrain-text.txt")
        try lines.joined(separator: "\n").write(to: textFile, atomically: true, encoding: .utf8)
        progress(0.01, "training the tokenizer")

        // 2. Tokenizer: the embedding table holds the pieces plus <pad> and <mask>, so ask for vocab − 2 pieces.
        //    A pretrain task with an input (a distillation student's) reuses that checkpoint's tokenizer instead,
        //    so that teacher and student read the same ids.
        let tokenizerFile = request.workDirectory.appendingPathComponent(Checkpoint.tokenizerFile)
        let tokenizer: XLMRTokenizer
        if let parent = request.spec.inputs.first {
            let source = try Checkpoint.folder(from: request, parent: parent).appendingPathComponent(Checkpoint.tokenizerFile)
            try? FileManager.default.removeItem(at: tokenizerFile)
            try FileManager.default.copyItem(at: source.resolvingSymlinksInPath(), to: tokenizerFile)
            tokenizer = try XLMRTokenizer(contentsOf: tokenizerFile.path)
            log.write("tokenizer: \(tokenizer.vocabularySize) ids, from task \(parent.prefix(12))")
        } else {
            tokenizer = try XLMRTokenizer.train(textFiles: [textFile], vocabularySize: s.vocab - 2, output: tokenizerFile,
                                                seed: UInt32(truncatingIfNeeded: s.seed), maxSentences: 200_000)
            log.write("tokenizer: \(tokenizer.vocabularySize) ids (asked for \(s.vocab))")
        }
        try? FileManager.default.removeItem(at: textFile)

        // 3. Model and MLM windows.
        let config = XLMRConfig(vocabSize: tokenizer.vocabularySize, hiddenSize: s.hidden, numHiddenLayers: s.layers,
                                numAttentionHeads: s.heads, intermediateSize: s.ffn,
                                maxPositionEmbeddings: s.maxLength + 2)
        let model = try XLMRModel(config: config, head: .maskedLM)
        model.initializeWeights(seed: UInt64(s.seed))
        let windows = try tokenizer.pretrainingWindows(lines, maxLength: s.maxLength)
        guard !windows.isEmpty else { throw ExecutionError("\(request.spec.title): the text gave no pretraining windows") }
        log.write("model: \(model.layout.totalCount) parameters; \(windows.count) windows of at most \(s.maxLength) tokens")

        // 4. MLM training.
        let steps = s.pretrainSteps
        var records: [StepRecord] = []
        if steps > 0 {
            let trainerSettings = TrainerSettings(
                steps: steps, peakLearningRate: Float(s.pretrainLR), warmupSteps: Int(Double(steps) * s.pretrainWarmup),
                optimizer: AdamWSettings(excludeBiasAndNormFromDecay: true), seed: UInt64(s.seed))
            let trainer = Trainer(model: model, settings: trainerSettings, maxBatch: s.pretrainBatch, maxTokens: s.maxLength,
                                  masking: MLMMasking(maskId: Int32(tokenizer.maskId), vocabSize: tokenizer.vocabularySize,
                                                      probability: Float(s.maskProbability)))
            trainer.observers.append(TaskProgress(label: "pretrain", log: log, progress: progress, span: 0.05...1.0))
            var source = EpochBatches(windows: windows, batchSize: s.pretrainBatch, seed: UInt64(s.seed))
            records = try trainer.run(&source)
        }

        // 5. Checkpoint.
        let out = request.workDirectory.appendingPathComponent("checkpoint")
        try model.save(out)
        try FileManager.default.copyItem(at: tokenizerFile, to: out.appendingPathComponent(Checkpoint.tokenizerFile))
        let seconds = Date().timeIntervalSince(started)
        var metrics: [String: Value] = [
            "params": .int(model.layout.totalCount),
            "tokenizer.vocab": .int(tokenizer.vocabularySize),
            "pretrain.steps": .int(steps),
            "pretrain.windows": .int(windows.count),
            "pretrain.seconds": .double(seconds),
        ]
        if let first = records.first, !records.isEmpty {
            let tail = records.suffix(max(1, records.count / 10))
            metrics["pretrain.first_loss"] = .double(Double(first.loss))
            metrics["pretrain.final_loss"] = .double(Double(tail.map(\.loss).reduce(0, +)) / Double(tail.count))
            let tokens = records.map(\.tokens).reduce(0, +)
            let trainSeconds = records.map(\.seconds).reduce(0, +)
            metrics["pretrain.tokens_per_second"] = .double(Double(tokens) / max(trainSeconds, 1e-9))
        }
        return ExecutionOutput(metrics: metrics, artifacts: try Checkpoint.artifacts(in: out))
    }
}
