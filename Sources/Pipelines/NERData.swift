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
/// robustness sets (perturbed test, out-of-distribution test), built once per task whatever models it scores,
/// and reused by the next tasks of the process that need the same (`NERData.prepared`).
struct NERData: Sendable {
    let splits: NERSplits
    let train, dev, test: [AlignedWindow]
    let evaluator: NEREvaluator
    var robustness: RobustnessSets

    init(_ splits: NERSplits, tokenizer: XLMRTokenizer, labels: LabelSet, maxLength: Int, evaluation: Pipelines.EvaluationInputs,
         log: PipelineLog) throws {
        self.splits = splits
        train = try tokenizer.align(splits.train, labels: labels, maxLength: maxLength)
        dev = try tokenizer.align(splits.dev, labels: labels, maxLength: maxLength)
        test = try tokenizer.align(splits.test, labels: labels, maxLength: maxLength)
        evaluator = NEREvaluator(tokenizer: tokenizer, labels: labels, maxLength: maxLength, batchSize: 32,
                                 decoding: Decoding(rawValue: evaluation.settings.decode) ?? .argmax,
                                 trainingTags: splits.train.map(\.tags))
        robustness = try Self.robustnessSets(splits, evaluation: evaluation, evaluator: evaluator, log: log)
        log.write("\(splits.language): train \(splits.train.count) sentences (\(train.count) windows), dev \(splits.dev.count), test \(splits.test.count)\(splits.synthetic ? " [synthetic]" : "")")
    }
}

extension NERData {
    /// `NERData(splits, …)`, or the one an earlier task of this process built from equal splits with the same
    /// tokenizer file (by content), labels, length and evaluation settings. A worker scores a language's dense
    /// model and then each of its compressed variants: they all see the same windows and the same perturbed and
    /// out-of-distribution sets, so these are aligned and perturbed once per language and tokenizer, not once per
    /// model. A reused value carries no preparation time (`robust.prepare_seconds` 0): the task that built it paid it.
    static func prepared(_ splits: NERSplits, tokenizer: XLMRTokenizer, tokenizerFile: URL, labels: LabelSet, maxLength: Int,
                         evaluation: Pipelines.EvaluationInputs, log: PipelineLog, cache: NERDataCache = .shared) throws -> NERData {
        let (digest, _) = try permanent("reading \(tokenizerFile.path)") { try ArtifactStore.sha256(of: tokenizerFile.resolvingSymlinksInPath()) }
        // The out-of-distribution file is read while building: its size and time join the key, so a file changed or
        // removed since is read again (and a missing one fails the task as it would have).
        var oodFile = "none"
        if let folder = evaluation.ood {
            let path = JobSpec.oodTestFile(folder.path, language: splits.language).path
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            oodFile = "\(path) \(attributes?[.size] ?? "absent") \(attributes?[.modificationDate] ?? "")"
        }
        let key = [splits.language, digest, String(reflecting: labels), String(maxLength), String(reflecting: evaluation), oodFile]
            .joined(separator: "\u{1F}")
        if var reused = cache.value(for: key, splits: splits) {
            reused.robustness.seconds = 0
            log.write("\(splits.language): windows and robustness sets reused from an earlier task of this process")
            return reused
        }
        let built = try NERData(splits, tokenizer: tokenizer, labels: labels, maxLength: maxLength, evaluation: evaluation, log: log)
        cache.insert(built, for: key)
        return built
    }
}

/// The last few `NERData` this process built (`NERData.prepared`), found by key and then compared sentence by
/// sentence with the splits asked for, so a hit is exact. Bounded: a grid's tasks of one language and seed run
/// close together, and a MasakhaNER language's windows take tens of megabytes.
final class NERDataCache: @unchecked Sendable {
    static let shared = NERDataCache(capacity: 3)

    private let lock = NSLock()
    private let capacity: Int
    /// Most recently used last.
    private var entries: [(key: String, data: NERData)] = []

    init(capacity: Int) { self.capacity = capacity }

    func value(for key: String, splits: NERSplits) -> NERData? {
        lock.withLock {
            guard let i = entries.firstIndex(where: { $0.key == key && $0.data.splits.sameSentences(as: splits) }) else { return nil }
            let entry = entries.remove(at: i)
            entries.append(entry)
            return entry.data
        }
    }

    func insert(_ data: NERData, for key: String) {
        lock.withLock {
            entries.removeAll { $0.key == key && $0.data.splits.sameSentences(as: data.splits) }
            entries.append((key, data))
            if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
        }
    }
}

extension NERSplits {
    func sameSentences(as other: NERSplits) -> Bool {
        language == other.language && train == other.train && dev == other.dev && test == other.test
    }
}
