// Students and the Distiller on tiny models: layer maps and their errors, copied layers, the whole student's
// gradient (logit distillation + hidden-state MSE through Model.backward's seam) against finite differences,
// cached teacher logits against on-the-fly ones, and a short run that really lowers the KL.
import Foundation
import Testing
import TestSupport
import TensorCore
import TextData
import Training
import Transformer
@testable import Compression

@Suite struct DistillerTests {
    static let labels = 3
    static let config = XLMRConfig(vocabSize: 20, hiddenSize: 8, numHiddenLayers: 4, numAttentionHeads: 2, intermediateSize: 12,
                                   maxPositionEmbeddings: 12, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0,
                                   initializerRange: 0.3)

    static func teacher(seed: UInt64 = 8) throws -> XLMRModel {
        let m = try XLMRModel(config: config, head: .tokenClassification(labels: labels))
        m.initializeWeights(seed: seed)
        var noise = Xoshiro256(seed: seed + 1)
        for e in m.layout.entries where e.shape.count == 1 {
            let t = m.parameter(e.name)!
            for i in 0..<t.count { t[i] += 0.1 * noise.normal() }
        }
        return m
    }

    static let batch = TokenBatch(batch: 2, tokens: 5, ids: [0, 5, 9, 13, 2, 0, 17, 4, 2, 1],
                                  attentionMask: [1, 1, 1, 1, 1, 1, 1, 1, 1, 0],
                                  labels: [-100, 1, 0, 2, -100, 2, 1, 0, 1, -100])

    static func training(steps: Int = 10) -> TrainerSettings {
        TrainerSettings(steps: steps, peakLearningRate: 1e-2, warmupSteps: 0, seed: 3)
    }

    @Test func defaultLayerMapsKeepEveryOtherLayerAndTheTop() throws {
        #expect(try Student.defaultLayerMap(teacher: 4, student: 2) == [1, 3])
        #expect(try Student.defaultLayerMap(teacher: 4, student: 1) == [3])
        #expect(try Student.defaultLayerMap(teacher: 6, student: 3) == [1, 3, 5])
        #expect(try Student.defaultLayerMap(teacher: 4, student: 3) == [0, 1, 3])
        #expect(try Student.defaultLayerMap(teacher: 4, student: 4) == [0, 1, 2, 3])
        #expect(try Student.layerMap(" 0, 2", teacher: 4, student: 2) == [0, 2])
        #expect(try Student.layerMap("", teacher: 4, student: 2) == [1, 3])
    }

    @Test func badMapsAndLabelsAreClearErrors() throws {
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        #expect(message { _ = try Student.defaultLayerMap(teacher: 4, student: 5) }.contains("student depth 5 is deeper than the teacher's 4 layers"))
        #expect(message { _ = try Student.layerMap("0,4", teacher: 4, student: 2) }.contains("layer 4 is outside the teacher's layers 0..<4"))
        #expect(message { _ = try Student.layerMap("1", teacher: 4, student: 2) }.contains("has 1 entries, expected one per student layer (2)"))
        #expect(message { _ = try Student.layerMap("1,x", teacher: 4, student: 2) }.contains("\"x\" is not an integer"))
        let teacher = try Self.teacher()
        #expect(message { try Student.checkLabels(teacher: teacher, data: .masakhaNER) }.contains("differ from the data's"))
        try Student.checkLabels(teacher: teacher, data: LabelSet(entityTypes: ["PER"]))  // 3 unnamed labels: count matches
        var narrow = Self.config
        narrow.hiddenSize = 4; narrow.numHiddenLayers = 2
        let student = try XLMRModel(config: narrow, head: teacher.head)
        #expect(message { _ = try Distiller(teacher: teacher, student: student, settings: DistillationSettings(hiddenMSE: true, layerMap: [1, 3]),
                                            training: Self.training(), maxBatch: 2, maxTokens: 5) }
            .contains("the same hidden width, but the teacher has 8 and the student 4"))
    }

    @Test func studentCopiesTheMappedLayersAndTheFullMapIsTheTeacher() throws {
        let teacher = try Self.teacher()
        let student = try Student.fromTeacher(teacher, map: [0, 2])
        #expect(student.config.numHiddenLayers == 2)
        for (name, from) in [("roberta.encoder.layer.1.attention.self.query.weight", "roberta.encoder.layer.2.attention.self.query.weight"),
                             ("roberta.encoder.layer.0.output.LayerNorm.bias", "roberta.encoder.layer.0.output.LayerNorm.bias"),
                             ("classifier.weight", "classifier.weight"),
                             ("roberta.embeddings.word_embeddings.weight", "roberta.embeddings.word_embeddings.weight")] {
            #expect(student.parameter(name)!.array == teacher.parameter(from)!.array, "\(name) is the teacher's \(from)")
        }
        let whole = try Student.fromTeacher(teacher, map: [0, 1, 2, 3])
        #expect(try whole.logits(Self.batch) == teacher.logits(Self.batch), "the identity map rebuilds the teacher")
        // The student saves in transformers' layout and loads back unchanged.
        let dir = try Fixtures.temporaryDirectory("distill-student")
        try student.save(dir)
        let loaded = try XLMRModel.load(dir)
        #expect(loaded.config.numHiddenLayers == 2 && loaded.parameters.array == student.parameters.array)
    }

    @Test func narrowerStudentFromItsOwnPretrainingGetsAFreshClassifierAndTheTeachersLabels() throws {
        var teacherConfig = Self.config
        teacherConfig.id2label = ["0": "O", "1": "B-X", "2": "I-X"]
        let teacher = try XLMRModel(config: teacherConfig, head: .tokenClassification(labels: Self.labels))
        teacher.initializeWeights(seed: 1)
        var narrow = Self.config
        narrow.hiddenSize = 4; narrow.intermediateSize = 6; narrow.numHiddenLayers = 2
        let mlm = try XLMRModel(config: narrow, head: .maskedLM)
        mlm.initializeWeights(seed: 2)
        let dir = try Fixtures.temporaryDirectory("distill-narrow")
        try mlm.save(dir)
        let a = try Student.fromPretrained(dir, teacher: teacher, seed: 5), b = try Student.fromPretrained(dir, teacher: teacher, seed: 5)
        #expect(a.head == teacher.head && a.config.hiddenSize == 4 && a.config.id2label == teacherConfig.id2label)
        #expect(a.parameter("roberta.encoder.layer.1.output.dense.weight")!.array == mlm.parameter("roberta.encoder.layer.1.output.dense.weight")!.array)
        #expect(a.parameter("classifier.weight")!.array == b.parameter("classifier.weight")!.array, "the fresh classifier is seeded")
        #expect(a.parameter("classifier.weight")!.array.contains { $0 != 0 })
        // Logit distillation works across widths.
        let d = try Distiller(teacher: teacher, student: a, settings: DistillationSettings(), training: Self.training(), maxBatch: 2, maxTokens: 5)
        #expect(try d.loss(Self.batch, gradients: true).total.isFinite)
        // Another vocabulary, or a deeper student, is refused.
        var otherVocab = narrow
        otherVocab.vocabSize = 30
        let wrong = try XLMRModel(config: otherVocab, head: .maskedLM)
        let wrongDir = try Fixtures.temporaryDirectory("distill-vocab")
        try wrong.save(wrongDir)
        #expect { _ = try Student.fromPretrained(wrongDir, teacher: teacher, seed: 0) } throws: { "\($0)".contains("vocab_size 30, the teacher 20") }
        var deep = narrow
        deep.numHiddenLayers = 5
        let deepDir = try Fixtures.temporaryDirectory("distill-deep")
        try XLMRModel(config: deep, head: .maskedLM).save(deepDir)
        #expect { _ = try Student.fromPretrained(deepDir, teacher: teacher, seed: 0) } throws: { "\($0)".contains("deeper than the teacher's 4 layers") }
    }

    @Test(arguments: [false, true])
    func wholeStudentGradientMatchesFiniteDifferences(hiddenMSE: Bool) throws {
        let teacher = try Self.teacher()
        let student = try Student.fromTeacher(teacher, map: [1, 3])
        // Move the student away from the teacher so every term has a gradient.
        var noise = Xoshiro256(seed: 21)
        for i in 0..<student.layout.totalCount { student.parameters.pointer[i] += 0.05 * noise.normal() }
        let settings = DistillationSettings(alpha: 0.6, temperature: 2, hiddenMSE: hiddenMSE, hiddenWeight: 0.7, layerMap: [1, 3])
        let distiller = try Distiller(teacher: teacher, student: student, settings: settings, training: Self.training(),
                                      maxBatch: 2, maxTokens: 5)
        let analytic = try distiller.loss(Self.batch, gradients: true)
        if hiddenMSE { #expect(analytic.hidden > 0) }
        func loss() -> Double { Double(try! distiller.loss(Self.batch, gradients: false).total) }
        #expect(abs(loss() - Double(analytic.total)) <= 1e-6, "dropout is off, so training and evaluation losses agree")
        var pick = Xoshiro256(seed: 10)
        // Every tensor but the key bias, whose gradient is exactly zero: softmax ignores a per-row constant.
        let tensors = student.layout.entries.filter { !$0.name.contains("attention.self.key.bias") }.map {
            FiniteDifferenceTensor(name: $0.name, values: student.parameter($0.name)!.pointer,
                                   gradients: student.gradient($0.name)!.pointer, count: $0.count)
        }
        let (checked, mismatches) = finiteDifferenceCheck(tensors, pick: { pick.below($0) }, loss: loss)
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        #expect(checked >= 3 * (student.layout.entries.count - 2))
    }

    @Test func cachedTeacherLogitsGiveTheSameLoss() throws {
        let teacher = try Self.teacher()
        let student = try Student.fromTeacher(teacher, map: [1, 3])
        var noise = Xoshiro256(seed: 4)
        for i in 0..<student.layout.totalCount { student.parameters.pointer[i] += 0.05 * noise.normal() }
        let fly = try Distiller(teacher: teacher, student: student, settings: DistillationSettings(), training: Self.training(),
                                maxBatch: 2, maxTokens: 5)
        let cached = try Distiller(teacher: teacher, student: student, settings: DistillationSettings(cacheTeacherLogits: true),
                                   training: Self.training(), maxBatch: 2, maxTokens: 5)
        // Fill the cache from the rows one at a time (another batch shape), then read the two-row batch from it.
        for b in 0..<2 {
            let n = Self.batch.attentionMask[b * 5 ..< b * 5 + 5].reduce(0) { $0 + Int($1) }
            let row = TokenBatch(batch: 1, tokens: n, ids: Array(Self.batch.ids[b * 5 ..< b * 5 + n]),
                                 labels: Array(Self.batch.labels![b * 5 ..< b * 5 + n]))
            try cached.loss(row, gradients: false)
        }
        #expect(cached.cache.count == 2 && cached.cacheHits == 0)
        let a = try fly.loss(Self.batch, gradients: false), b = try cached.loss(Self.batch, gradients: false)
        #expect(cached.cacheHits == 1)
        #expect(abs(a.total - b.total) <= Tolerance.kernelRelative * max(1, abs(a.total)), "on the fly \(a.total) vs cached \(b.total)")
        #expect(a.logits.count == b.logits.count)
    }

    @Test func aShortRunLowersTheKLAndKeepsTheBestEpoch() throws {
        let teacher = try Self.teacher()
        let student = try Student.fromTeacher(teacher, map: [3])
        struct Repeat: BatchSource { mutating func batch(step: Int, rng: inout Xoshiro256) -> TokenBatch { DistillerTests.batch } }
        let settings = DistillationSettings(alpha: 1, temperature: 1)
        let distiller = try Distiller(teacher: teacher, student: student, settings: settings, training: Self.training(steps: 40),
                                      maxBatch: 2, maxTokens: 5)
        let before = try distiller.loss(Self.batch, gradients: false).logits.kl
        var source = Repeat()
        var klByEpoch: [Float] = []
        let outcome = try distiller.train(epochs: 4, batchesPerEpoch: 10, source: &source) { _ in
            let kl = try distiller.loss(Self.batch, gradients: false).logits.kl
            klByEpoch.append(kl)
            return -Double(kl)
        }
        let after = try distiller.loss(Self.batch, gradients: false).logits.kl
        #expect(outcome.steps == 40 && outcome.scores.count == 4)
        #expect(after < 0.5 * before, "KL before \(before), after \(after)")
        #expect(after == klByEpoch.min()!, "the best epoch's parameters are restored")
    }
}
