// The trainer loop end to end on a tiny model: loss falls on a learnable task, logs are JSON lines, the same
// seed reproduces the run bit for bit; and id files are parsed with clear errors.
import Foundation
import Testing
import TestSupport
@testable import TensorCore
@testable import Training
@testable import Transformer

@Suite struct TrainerTests {
    static let config = XLMRConfig(vocabSize: 24, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32,
                                   maxPositionEmbeddings: 20, hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1)

    /// Label = id mod 3: learnable from the token alone.
    static func data() -> IdSequences {
        var r = TestRandom(seed: 5)
        var seqs: [[Int32]] = [], labels: [[Int32]] = []
        for _ in 0..<40 {
            let n = 3 + r.below(8)
            let ids = [Int32(0)] + (0..<n).map { _ in Int32(4 + r.below(19)) } + [2]
            seqs.append(ids)
            labels.append([-100] + ids[1..<(ids.count - 1)].map { $0 % 3 } + [-100])
        }
        return IdSequences(sequences: seqs, labels: labels)
    }

    func train(seed: UInt64, log: URL?) throws -> [StepRecord] {
        let model = try XLMRModel(config: Self.config, head: .tokenClassification(labels: 3))
        model.initializeWeights(seed: seed)
        let trainer = Trainer(model: model, settings: TrainerSettings(steps: 60, peakLearningRate: 3e-3, warmupSteps: 5, seed: seed),
                              maxBatch: 8, maxTokens: 12)
        if let log { trainer.observers.append(try JSONLinesLog(url: log)) }
        var source = ShuffledBatches(data: Self.data(), batchSize: 8, tokens: 12, pad: 1)
        return try trainer.run(&source)
    }

    @Test func lossFallsLogsAreJSONLinesAndSeedsReproduce() throws {
        let dir = try Fixtures.temporaryDirectory("trainer")
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("steps.jsonl")
        let a = try train(seed: 3, log: log)
        let first = a.prefix(5).map(\.loss).reduce(0, +) / 5, last = a.suffix(5).map(\.loss).reduce(0, +) / 5
        #expect(last < 0.5 * first, "loss \(first) → \(last)")
        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 60)
        let decoded = try JSONDecoder().decode(StepRecord.self, from: Data(lines[9].utf8))
        #expect(decoded.step == 10 && decoded.loss == a[9].loss)
        let b = try train(seed: 3, log: nil)
        #expect(a.map(\.loss) == b.map(\.loss), "same seed, same losses bit for bit")
    }

    @Test func idFilesParseAndRejectBadLines() throws {
        let dir = try Fixtures.temporaryDirectory("ids")
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("good.txt")
        try "0 5 6 2\t-100 1 0 -100\n\n0 7 2\t-100 2 -100\n".write(to: good, atomically: true, encoding: .utf8)
        let parsed = try IdSequences.read(good, vocabSize: 10, withLabels: true, labelCount: 3)
        #expect(parsed.sequences == [[0, 5, 6, 2], [0, 7, 2]] && parsed.labels! == [[-100, 1, 0, -100], [-100, 2, -100]])
        let bad = dir.appendingPathComponent("bad.txt")
        try "0 5 2\n0 12 2\n".write(to: bad, atomically: true, encoding: .utf8)
        #expect { try IdSequences.read(bad, vocabSize: 10, withLabels: false) } throws: {
            "\($0)".contains("bad.txt:2") && "\($0)".contains("id 12 is outside the vocabulary 0..<10")
        }
        try "0 5 2\t-100 1\n".write(to: bad, atomically: true, encoding: .utf8)
        #expect { try IdSequences.read(bad, vocabSize: 10, withLabels: true, labelCount: 3) } throws: { "\($0)".contains("2 labels for 3 ids") }
    }
}
