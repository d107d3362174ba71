// pretrain(seed): a SentencePiece tokenizer trained on every language's text (or, for a distillation student,
// the parent checkpoint's), then multilingual MLM pretraining of a fresh XLM-R; the checkpoint (config, weights,
// tokenizer) is the outcome.
import Evaluation
import Experiment
import Foundation
import TensorCore
import TextData
import Training
import Transformer

extension Pipelines {
    /// What a pretraining run reads: the job's sections, its languages and seed, and optionally a checkpoint
    /// whose tokenizer it reuses (a narrower distillation student reads the teacher's ids).
    package struct PretrainInputs: Sendable {
        package var model: ModelSettings
        package var pretrain: PretrainSettings
        package var data: DataSettings
        package var languages: [String]
        package var seed: Int
        package var tokenizerFrom: URL?

        package init(model: ModelSettings, pretrain: PretrainSettings, data: DataSettings, languages: [String], seed: Int,
                     tokenizerFrom: URL? = nil) {
            self.model = model; self.pretrain = pretrain; self.data = data; self.languages = languages; self.seed = seed
            self.tokenizerFrom = tokenizerFrom
        }
    }

    package static func pretrain(_ p: PretrainInputs, out: URL, run: PipelineRun) throws -> PipelineOutcome {
        let (m, s, log) = (p.model, p.pretrain, run.log)
        guard !p.languages.isEmpty else { throw PermanentTaskError("no languages to pretrain on") }
        let started = Date()
        try FileManager.default.createDirectory(at: run.work, withIntermediateDirectories: true)

        // 1. Text of every language, one file for the tokenizer trainer.
        let source = try PipelineData.source(p.data, needsText: true)
        var lines: [String] = []
        for language in p.languages {
            let text = try permanent("reading the text of \(language)") { try Corpora.text(source, language: language) }
            log.write("text \(language): \(text.count) lines")
            lines += text
        }
        let textFile = run.work.appendingPathComponent("pretrain-text.txt")
        try lines.joined(separator: "\n").write(to: textFile, atomically: true, encoding: .utf8)
        run.progress(0.01, "training the tokenizer")

        // 2. Tokenizer: the embedding table holds the pieces plus <pad> and <mask>, so ask for vocab − 2 pieces.
        //    With `tokenizerFrom` (a distillation student's teacher) that checkpoint's tokenizer is reused instead,
        //    so that teacher and student read the same ids.
        let tokenizerFile = run.work.appendingPathComponent(CheckpointFiles.tokenizerFile)
        let tokenizer: XLMRTokenizer
        if let parent = p.tokenizerFrom {
            let (_, url) = try CheckpointFiles.tokenizer(of: parent)
            try? FileManager.default.removeItem(at: tokenizerFile)
            try FileManager.default.copyItem(at: url.resolvingSymlinksInPath(), to: tokenizerFile)
            tokenizer = try XLMRTokenizer(contentsOf: tokenizerFile.path)
            log.write("tokenizer: \(tokenizer.vocabularySize) ids, from \(parent.lastPathComponent)")
        } else {
            tokenizer = try XLMRTokenizer.train(textFiles: [textFile], vocabularySize: m.vocab - 2, output: tokenizerFile,
                                                seed: UInt32(truncatingIfNeeded: p.seed), maxSentences: 200_000)
            log.write("tokenizer: \(tokenizer.vocabularySize) ids (asked for \(m.vocab))")
        }
        try? FileManager.default.removeItem(at: textFile)

        // 3. Model and MLM windows.
        // With word shapes, every token's type is its word's shape class: one row of the type table per class.
        let config = XLMRConfig(vocabSize: tokenizer.vocabularySize, hiddenSize: m.hidden, numHiddenLayers: m.layers,
                                numAttentionHeads: m.heads, intermediateSize: m.ffn, maxPositionEmbeddings: m.maxLength + 2,
                                typeVocabSize: m.wordShape ? WordShape.count : 1,
                                hiddenDropoutProb: Float(m.dropout), attentionProbsDropoutProb: Float(m.dropout),
                                wordShapeTypes: m.wordShape, charNgramBuckets: m.charNgrams)
        let model = try XLMRModel(config: config, head: .maskedLM)
        model.compute = run.compute
        model.initializeWeights(seed: UInt64(p.seed))
        let windows = try tokenizer.pretrainingWindows(lines, maxLength: m.maxLength, wordShapes: m.wordShape)
        guard !windows.isEmpty else { throw PermanentTaskError("the text gave no pretraining windows") }
        log.write("model: \(model.layout.totalCount) parameters; \(windows.count) windows of at most \(m.maxLength) tokens")

        // 3b. Character n-gram vectors from the text (skip-gram), before any MLM step.
        var vectors: NgramVectors.Summary? = nil
        if s.ngramVectors > 0 {
            guard m.charNgrams > 0, let table = model.parameter(XLMRModel.charNgramTensor) else {
                throw PermanentTaskError("pretrain.ngram_vectors needs model.char_ngrams (a table to train)")
            }
            let settings = NgramVectors.Settings(epochs: s.ngramVectors, dimension: m.hidden, buckets: m.charNgrams)
            let summary = NgramVectors.train(table.pointer, lines: lines, settings: settings, seed: UInt64(p.seed)) { f in
                run.progress(0.02 + 0.03 * f, "n-gram vectors")
            }
            log.write(String(format: "n-gram vectors: %d epochs over %d words (%d types, %d context words), %d pairs, final loss %.4f, scale %.4f, %.1f s",
                             s.ngramVectors, summary.words, summary.types, summary.contexts, summary.pairs, summary.finalLoss,
                             summary.scale, summary.seconds))
            vectors = summary
        }

        // 4. MLM training.
        var records: [StepRecord] = []
        if s.steps > 0 {
            let trainerSettings = TrainerSettings(
                steps: s.steps, peakLearningRate: Float(s.learningRate), warmupSteps: Int(Double(s.steps) * s.warmup),
                optimizer: AdamWSettings(excludeBiasAndNormFromDecay: true), seed: UInt64(p.seed))
            let trainer = Trainer(model: model, settings: trainerSettings, maxBatch: s.batch, maxTokens: m.maxLength,
                                  masking: MLMMasking(maskId: Int32(tokenizer.maskId), vocabSize: tokenizer.vocabularySize,
                                                      probability: Float(s.maskProbability)))
            trainer.observers.append(TrainingProgress(label: "pretrain", log: log, progress: run.progress, span: 0.05...1.0))
            var batches = EpochBatches(windows: windows, batchSize: s.batch, seed: UInt64(p.seed), for: model)
            records = try trainer.run(&batches)
        }

        // 5. Checkpoint.
        try model.save(out)
        try CheckpointFiles.copyTokenizer(tokenizerFile, into: out)
        var metrics: [String: Value] = [
            "params": .int(model.layout.totalCount),
            "tokenizer.vocab": .int(tokenizer.vocabularySize),
            "pretrain.steps": .int(s.steps),
            "pretrain.windows": .int(windows.count),
            "pretrain.seconds": .double(Date().timeIntervalSince(started)),
        ]
        if let vectors {
            metrics["pretrain.ngram_vectors.loss"] = .double(vectors.finalLoss)
            metrics["pretrain.ngram_vectors.seconds"] = .double(vectors.seconds)
            metrics["pretrain.ngram_vectors.words"] = .int(vectors.words)
        }
        if let first = records.first {
            let tail = records.suffix(max(1, records.count / 10))
            metrics["pretrain.first_loss"] = .double(Double(first.loss))
            metrics["pretrain.final_loss"] = .double(Double(tail.map(\.loss).reduce(0, +)) / Double(tail.count))
            let tokens = records.map(\.tokens).reduce(0, +)
            let trainSeconds = records.map(\.seconds).reduce(0, +)
            metrics["pretrain.tokens_per_second"] = .double(Double(tokens) / max(trainSeconds, 1e-9))
        }
        return try outcome(out, metrics: metrics, run: run)
    }
}
