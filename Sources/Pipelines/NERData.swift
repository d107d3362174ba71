// Where a pipeline's data comes from (the embedded synthetic corpus, or a MasakhaNER tree and a raw-text folder
// named in the job), and a language's NER splits aligned to windows for one tokenizer, made once per run.
import Evaluation
import Experiment
import Foundation
import TextData
import Transformer

package enum PipelineData {
    /// The synthetic corpus is generated from this seed for every task, so all seeds of a job see the same data
    /// (the task's seed varies initialisation, data order, masking and dropout, not the corpus).
    package static let syntheticCorpusSeed: UInt64 = 20_240_404

    /// The synthetic corpus of `sentences` per language (as the job's `data.synthetic_sentences`).
    package static func synthetic(sentences n: Int) -> DataSource {
        .synthetic(seed: syntheticCorpusSeed, sizes: SyntheticSizes(text: n, train: max(10, n / 2), dev: max(10, n / 10), test: max(10, n / 5)))
    }

    /// The job's data section as a TextData source. Real data is read leniently: MasakhaNER's two malformed
    /// lines are skipped and logged as warnings.
    package static func source(_ d: DataSettings, needsText: Bool) throws -> DataSource {
        switch d.source {
        case .synthetic: return synthetic(sentences: d.syntheticSentences)
        case .masakhaner:
            if needsText && d.text.isEmpty {
                throw PermanentTaskError("data.source is \(d.source.rawValue) but data.text (a folder of <lang>.txt for pretraining) is not set")
            }
            if !needsText && d.ner.isEmpty {
                throw PermanentTaskError("data.source is \(d.source.rawValue) but data.ner (a folder of <lang>/{train,dev,test}.txt) is not set")
            }
            return .folders(ner: URL(fileURLWithPath: d.ner), text: d.text.isEmpty ? nil : URL(fileURLWithPath: d.text), lenient: true)
        }
    }

    /// A language's NER splits (a missing or malformed file is permanent), warnings logged.
    package static func ner(_ source: DataSource, language: String, log: PipelineLog) throws -> NERSplits {
        let splits = try permanent("reading the NER data of \(language)") { try Corpora.ner(source, language: language) }
        for warning in splits.warnings { log.write("data warning: \(warning)") }
        return splits
    }
}

/// A language's NER splits and their windows for one tokenizer, with the evaluator that scores them and the
/// robustness sets (perturbed test, out-of-distribution test), built once per task whatever models it scores.
struct NERData {
    let splits: NERSplits
    let train, dev, test: [AlignedWindow]
    let evaluator: NEREvaluator
    let robustness: RobustnessSets

    init(_ splits: NERSplits, tokenizer: XLMRTokenizer, labels: LabelSet, maxLength: Int, evaluation: Pipelines.EvaluationInputs,
         log: PipelineLog) throws {
        self.splits = splits
        train = try tokenizer.align(splits.train, labels: labels, maxLength: maxLength)
        dev = try tokenizer.align(splits.dev, labels: labels, maxLength: maxLength)
        test = try tokenizer.align(splits.test, labels: labels, maxLength: maxLength)
        evaluator = NEREvaluator(tokenizer: tokenizer, labels: labels, maxLength: maxLength, batchSize: 32)
        robustness = try Self.robustnessSets(splits, evaluation: evaluation, evaluator: evaluator, log: log)
        log.write("\(splits.language): train \(splits.train.count) sentences (\(train.count) windows), dev \(splits.dev.count), test \(splits.test.count)\(splits.synthetic ? " [synthetic]" : "")")
    }
}
