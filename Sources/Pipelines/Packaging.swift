// The end every NER pipeline shares: score dev and test (and train, for a model trained here), save the
// checkpoint with its tokenizer (and label names), time it; and how typed scores and timings become a record's
// metrics (names in docs/results.md).
import Evaluation
import Experiment
import Foundation
import TextData
import Transformer

/// A finished model's scores and speed.
struct Evaluated {
    var dev: EntityScores
    var test: EntityScores
    var train: EntityScores?
    var timing: InferenceTiming.Result
    /// Perturbed and out-of-distribution test scores (RobustnessEvaluation.swift).
    var robustness: RobustnessScores? = nil
    /// Calibration and loyalty (Quality.metrics), `train.seconds` and `eval.seconds`.
    var quality: [String: Value] = [:]
    /// Which gold test entities the model found (`test.entity_outcomes`).
    var outcomes: EntityOutcomes? = nil

    /// `dev.*`, `test.*`, the latency and throughput keys, `train.f1` when the train split was scored, and
    /// `eval.added_seconds` (ResultRecord.addedEvaluationTimers).
    var metrics: [String: Value] {
        var m = Metrics.scores(dev, prefix: "dev").merging(Metrics.scores(test, prefix: "test")) { $1 }
        m.merge(Metrics.timing(timing)) { $1 }
        m.merge(quality) { $1 }
        if let train { m["train.f1"] = .double(train.f1) }
        if let robustness { m.merge(Metrics.robustness(robustness)) { $1 } }
        if let outcomes { m[EntityOutcomes.metric] = outcomes.value }
        m["eval.added_seconds"] = .double(ResultRecord.addedEvaluationSeconds(m))
        return m
    }
}

enum Packaging {
    /// Scores `model` on `data`'s dev and test windows (and train with `scoreTrain`), measures calibration and
    /// loyalty to `reference` on the test predictions, saves it to `out` with `save`, writes the label names (fp32
    /// NER checkpoints) and copies the tokenizer in, then times it.
    static func finish(_ model: TokenLogitsModel, vocab: Int, data: NERData, scoreTrain: Bool, save: (URL) throws -> Void,
                       labelNames: LabelSet?, tokenizer: URL, out: URL, run: PipelineRun, from: Double,
                       reference: DenseReference = .none) throws -> Evaluated {
        run.progress(from, "evaluating \(data.splits.language)")
        let evaluationStarted = Date()
        let evaluator = data.evaluator
        let dev = try evaluator.score(model, data.splits.dev, windows: data.dev)
        let testPredictions = try evaluator.predictions(model, data.splits.test, windows: data.test, probabilities: true)
        let test = try evaluator.score(testPredictions, gold: data.splits.test)
        let outcomes = Metrics.outcomes(try evaluator.outcomes(testPredictions, gold: data.splits.test))
        // Train F1 beside dev/test shows how much of the gap is generalisation rather than fitting.
        let train = scoreTrain ? try evaluator.score(model, data.splits.train, windows: data.train) : nil
        let robustness = try evaluator.robustness(model, sets: data.robustness, clean: test, cleanPredictions: testPredictions)
        let scored = Date()
        try save(out)
        let saved = Date()
        var quality = try Quality.metrics(testPredictions, data: data, reference: reference, out: out, log: run.log)
        quality["train.seconds"] = .double(evaluationStarted.timeIntervalSince(run.started))
        quality["eval.seconds"] = .double(scored.timeIntervalSince(evaluationStarted) + Date().timeIntervalSince(saved))
        if let labelNames { try CheckpointFiles.writeLabelNames(labelNames, into: out) }
        try CheckpointFiles.copyTokenizer(tokenizer, into: out)
        run.progress(from + (1 - from) * 0.6, "timing \(data.splits.language)")
        let timing = try InferenceTiming.measure(model, vocab: vocab, maxLength: evaluator.maxLength, threads: run.compute.threads)
        return Evaluated(dev: dev, test: test, train: train, timing: timing, robustness: robustness, quality: quality,
                         outcomes: outcomes)
    }
}

package enum Metrics {
    /// Scores as open metrics under a prefix: `test.f1`, `test.precision`, `test.per_type.PER.f1`, …
    package static func scores(_ s: EntityScores, prefix: String) -> [String: Value] {
        var m: [String: Value] = [
            "\(prefix).precision": .double(s.precision), "\(prefix).recall": .double(s.recall), "\(prefix).f1": .double(s.f1),
            "\(prefix).entities": .int(s.gold), "\(prefix).token_accuracy": .double(s.tokenAccuracy),
        ]
        for (type, t) in s.perType {
            m["\(prefix).per_type.\(type).precision"] = .double(t.precision)
            m["\(prefix).per_type.\(type).recall"] = .double(t.recall)
            m["\(prefix).per_type.\(type).f1"] = .double(t.f1)
            m["\(prefix).per_type.\(type).support"] = .int(t.support)
        }
        return m
    }

    /// `latency.b1.p50_ms`, `latency.b1.p95_ms`, `throughput.b32` (sentences/s), `latency.b32.p50_ms`; and
    /// `latency.p50_ms`, `latency.p95_ms` and `throughput` repeating the batch-1 and batch-32 figures under the
    /// names the report's aggregation prefers.
    package static func timing(_ r: InferenceTiming.Result) -> [String: Value] {
        ["latency.b1.p50_ms": .double(r.b1P50Ms), "latency.b1.p95_ms": .double(r.b1P95Ms),
         "throughput.b32": .double(r.throughput), "latency.b32.p50_ms": .double(r.b32MedianMs),
         "latency.p50_ms": .double(r.b1P50Ms), "latency.p95_ms": .double(r.b1P95Ms), "throughput": .double(r.throughput)]
    }

    /// Per-entity outcomes as a record stores them, each entity keyed `sentence start end type` for the digest.
    static func outcomes(_ o: [(entity: EntitySpan, found: Bool)]) -> EntityOutcomes {
        EntityOutcomes(found: o.map(\.found), entities: o.map { "\($0.entity.sentence) \($0.entity.start) \($0.entity.end) \($0.entity.type)" })
    }

    /// Non-zero values in the model's parameters (counted the same way for every fp32 record, so Δ non-zeros
    /// compares like with like).
    static func nonZeros(_ model: XLMRModel) -> Int {
        UnsafeBufferPointer(start: model.parameters.pointer, count: model.layout.totalCount).reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
    }
}
