// Building a distillation student: fewer layers copied from the teacher through a layer map (embeddings and
// classifier copied too), or a narrower model from its own MLM checkpoint with a fresh classifier; and the
// checks that teacher, student and data agree (depth, layer indices, labels, vocabulary, widths).
import Foundation
import TensorCore
import TextData
import Transformer

package struct DistillationError: Error, CustomStringConvertible, Equatable {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { "distillation: \(message)" }
}

package enum Student {
    /// The default layer map for a student of `student` layers under a teacher of `teacher` layers: every other
    /// layer, anchored at the top, `map[i] = (i + 1)·teacher / student − 1` (4 → 2 takes [1, 3]; 4 → 1 takes [3];
    /// 6 → 3 takes [1, 3, 5]). The top layer is always kept because the copied classifier was trained on its
    /// output, so the student starts close to the teacher. DistilBERT's bottom-anchored [0, 2] is one `--map` away.
    package static func defaultLayerMap(teacher: Int, student: Int) throws -> [Int] {
        try checkDepth(teacher: teacher, student: student)
        return (0..<student).map { ($0 + 1) * teacher / student - 1 }
    }

    /// Parses "1,3" (spaces allowed) into a layer map; the empty string means the default map.
    package static func layerMap(_ text: String, teacher: Int, student: Int) throws -> [Int] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return try defaultLayerMap(teacher: teacher, student: student) }
        var map: [Int] = []
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            guard let i = Int(part.trimmingCharacters(in: .whitespaces)) else {
                throw DistillationError("layer map \"\(text)\": \"\(part)\" is not an integer (expected e.g. \"1,3\")")
            }
            map.append(i)
        }
        try check(map: map, teacher: teacher, student: student)
        return map
    }

    static func checkDepth(teacher: Int, student: Int) throws {
        guard student >= 1 else { throw DistillationError("student depth \(student), expected at least 1 layer") }
        guard student <= teacher else {
            throw DistillationError("student depth \(student) is deeper than the teacher's \(teacher) layers (expected 1...\(teacher))")
        }
    }

    /// A map needs one teacher layer per student layer, each in 0..<teacher.
    package static func check(map: [Int], teacher: Int, student: Int) throws {
        try checkDepth(teacher: teacher, student: student)
        guard map.count == student else {
            throw DistillationError("layer map \(map) has \(map.count) entries, expected one per student layer (\(student))")
        }
        for i in map where i < 0 || i >= teacher {
            throw DistillationError("layer map \(map): layer \(i) is outside the teacher's layers 0..<\(teacher)")
        }
    }

    /// (a) A student of `map.count` layers whose layer i is a copy of the teacher's layer map[i]; embeddings,
    /// the embedding LayerNorm and the classifier are copied; the config (labels, dropout, shapes) is the teacher's.
    package static func fromTeacher(_ teacher: XLMRModel, map: [Int]) throws -> XLMRModel {
        let tc = teacher.config
        try check(map: map, teacher: tc.numHiddenLayers, student: map.count)
        guard case .tokenClassification = teacher.head else {
            throw DistillationError("the teacher has an MLM head, expected a fine-tuned token-classification checkpoint")
        }
        var c = tc
        c.numHiddenLayers = map.count
        if let pruned = tc.prunedHeads {
            var kept: [String: [Int]] = [:]
            for (i, l) in map.enumerated() { if let heads = pruned[String(l)] { kept[String(i)] = heads } }
            c.prunedHeads = kept.isEmpty ? nil : kept
        }
        c.layerIntermediateSizes = tc.layerIntermediateSizes.map { sizes in map.map { sizes[$0] } }
        let student = try XLMRModel(config: c, head: teacher.head)
        student.compute = teacher.compute
        let prefix = "roberta.encoder.layer."
        for e in student.layout.entries {
            var source = e.name
            if e.name.hasPrefix(prefix) {
                let rest = e.name.dropFirst(prefix.count)
                let dot = rest.firstIndex(of: ".")!
                source = prefix + String(map[Int(rest[..<dot])!]) + String(rest[dot...])
            }
            guard let from = teacher.layout.entry(source), from.shape == e.shape else {
                throw DistillationError("the teacher has no tensor \(source) of shape \(e.shape) for the student's \(e.name)")
            }
            (student.parameters.pointer + e.offset).update(from: teacher.parameters.pointer + from.offset, count: e.count)
        }
        return student
    }

    /// (b) A narrower (or otherwise different) student from its own MLM pretraining checkpoint: the encoder loads,
    /// the classifier is fresh (seeded), and the label names are the teacher's. The vocabulary must be the
    /// teacher's, since both read the same token ids.
    package static func fromPretrained(_ folder: URL, teacher: XLMRModel, seed: UInt64) throws -> XLMRModel {
        let config = try XLMRModel.loadConfig(folder)
        guard config.vocabSize == teacher.config.vocabSize else {
            throw DistillationError("the student checkpoint \(folder.path) has vocab_size \(config.vocabSize), the teacher \(teacher.config.vocabSize): they must share a tokenizer")
        }
        try checkDepth(teacher: teacher.config.numHiddenLayers, student: config.numHiddenLayers)
        let student = try XLMRModel.load(folder, head: teacher.head, classifierSeed: seed)
        student.compute = teacher.compute
        return try relabelled(student, like: teacher)
    }

    /// The same model with the teacher's label names in its config (what `save` writes as id2label).
    static func relabelled(_ model: XLMRModel, like teacher: XLMRModel) throws -> XLMRModel {
        guard model.config.id2label != teacher.config.id2label else { return model }
        var c = model.config
        c.id2label = teacher.config.id2label
        let copy = try XLMRModel(config: c, head: model.head)
        copy.compute = model.compute
        copy.parameters.pointer.update(from: model.parameters.pointer, count: model.layout.totalCount)
        return copy
    }

    /// The teacher's labels must be the data's, in the same order: a teacher with another label set is an error
    /// naming both. Label names come from the checkpoint's id2label; a checkpoint without names (LABEL_i) is
    /// accepted when the count matches.
    package static func checkLabels(teacher: XLMRModel, data labels: LabelSet) throws {
        let n = teacher.outputCount
        let names = (0..<n).map { teacher.config.id2label?[String($0)] ?? "LABEL_\($0)" }
        let generic = names.enumerated().allSatisfy { $0.element == "LABEL_\($0.offset)" }
        guard n == labels.count, generic || names == labels.labels else {
            throw DistillationError("the teacher's labels \(names) (\(n)) differ from the data's \(labels.labels) (\(labels.count))")
        }
    }

    /// Hidden-state MSE compares student layer i with teacher layer map[i] feature by feature: same width only.
    package static func checkHiddenWidths(teacher: XLMRModel, student: XLMRModel, map: [Int]) throws {
        guard teacher.config.hiddenSize == student.config.hiddenSize else {
            throw DistillationError("hidden-state MSE needs the same hidden width, but the teacher has \(teacher.config.hiddenSize) and the student \(student.config.hiddenSize) (turn hidden_mse off for a narrower student)")
        }
        try check(map: map, teacher: teacher.config.numHiddenLayers, student: student.config.numHiddenLayers)
    }
}
