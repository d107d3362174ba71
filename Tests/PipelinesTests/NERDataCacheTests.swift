// A language's windows and robustness sets are built once per process for equal splits, tokenizer file, labels,
// length and evaluation settings, and rebuilt when any of them differs; a reused value is the built one (same
// windows, same perturbed text) and carries no preparation time.
import Evaluation
import Foundation
@testable import Pipelines
import Testing
import TestSupport
import TextData

@Suite struct NERDataCacheTests {
    final class Lines: PipelineLog, @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func write(_ line: String) { lock.withLock { lines.append(line) } }
        var reused: Int { lock.withLock { lines.filter { $0.contains("reused") }.count } }
    }

    @Test func builtOnceForTheSameInputsAndAgainWhenOneDiffers() throws {
        let dir = try Fixtures.temporaryDirectory("nerdata-cache")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (splits, text) = try Corpora.synthetic(language: "syn-ton", seed: 5,
                                                   sizes: SyntheticSizes(text: 300, train: 60, dev: 20, test: 40))
        let textFile = dir.appendingPathComponent("text.txt")
        try text.joined(separator: "\n").write(to: textFile, atomically: true, encoding: .utf8)
        let fileA = dir.appendingPathComponent("a.model"), fileB = dir.appendingPathComponent("b.model")
        let a = try XLMRTokenizer.train(textFiles: [textFile], vocabularySize: 300, output: fileA)
        let b = try XLMRTokenizer.train(textFiles: [textFile], vocabularySize: 200, output: fileB)
        let cache = NERDataCache(capacity: 3), log = Lines()
        let evaluation = Pipelines.EvaluationInputs.standard
        func prepared(_ s: NERSplits, _ t: XLMRTokenizer, _ f: URL, maxLength: Int = 64,
                      _ e: Pipelines.EvaluationInputs = evaluation) throws -> NERData {
            try NERData.prepared(s, tokenizer: t, tokenizerFile: f, labels: .masakhaNER, maxLength: maxLength, evaluation: e,
                                 log: log, cache: cache)
        }

        let first = try prepared(splits, a, fileA)
        #expect(log.reused == 0 && first.robustness.seconds > 0)
        let again = try prepared(splits, a, fileA)
        #expect(log.reused == 1 && again.robustness.seconds == 0)
        #expect(again.train == first.train && again.dev == first.dev && again.test == first.test)
        #expect(again.robustness.perturbed.map(\.text.sentences) == first.robustness.perturbed.map(\.text.sentences))
        #expect(again.robustness.perturbed.map(\.changed) == first.robustness.perturbed.map(\.changed))

        // Another tokenizer file, length, evaluation setting or other sentences of the same language: built anew.
        _ = try prepared(splits, b, fileB)
        _ = try prepared(splits, a, fileA, maxLength: 32)
        var other = evaluation
        other.settings.perturbationSeed += 1
        _ = try prepared(splits, a, fileA, other)
        let (changed, _) = try Corpora.synthetic(language: "syn-ton", seed: 6, sizes: SyntheticSizes(text: 300, train: 60, dev: 20, test: 40))
        #expect(changed.test != splits.test)
        _ = try prepared(changed, a, fileA)
        #expect(log.reused == 1)
        // Bounded: after four other entries (capacity 3), the first is gone.
        _ = try prepared(splits, a, fileA)
        #expect(log.reused == 1)
    }
}
