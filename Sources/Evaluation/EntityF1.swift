// Entity-level precision, recall and F1 exactly as seqeval 1.2.2 computes them, from label sequences only:
// `.default` is seqeval's default (conlleval-compatible) chunking, where an I- after O or another type starts a
// chunk; `.strict` is seqeval's mode="strict" with scheme=IOB2, where only B-X I-X* is an entity. Micro averages
// pool true positives over types; per-type scores carry their support (gold entity count). Token accuracy too.
import Foundation

package enum ChunkMode: String, Sendable, CaseIterable, Codable {
    case `default`
    case strict
}

/// An entity: sentence, type and its word span [start, end).
package struct EntitySpan: Hashable, Sendable {
    package let sentence: Int
    package let type: String
    package let start: Int
    package let end: Int
}

package struct TypeScore: Sendable, Equatable, Codable {
    package let precision: Double
    package let recall: Double
    package let f1: Double
    package let support: Int
}

package struct EntityScores: Sendable, Equatable, Codable {
    /// Micro averages over every type.
    package let precision: Double
    package let recall: Double
    package let f1: Double
    package let truePositives: Int
    package let predicted: Int
    package let gold: Int
    /// Per type, for every type seen in gold or predictions.
    package let perType: [String: TypeScore]
    /// Fraction of words whose predicted label equals the gold label.
    package let tokenAccuracy: Double

    enum CodingKeys: String, CodingKey {
        case precision, recall, f1, truePositives = "true_positives", predicted, gold, perType = "per_type"
        case tokenAccuracy = "token_accuracy"
    }
}

package struct ScoringError: Error, CustomStringConvertible, Equatable {
    package let message: String
    package var description: String { message }
    package init(message: String) { self.message = message }
}

package enum EntityF1 {
    /// Scores predictions against gold, sentence by sentence; the shapes must match exactly.
    package static func score(gold: [[String]], predicted: [[String]], mode: ChunkMode = .default) throws -> EntityScores {
        if let mismatch = firstMismatch(gold: gold.map(\.count), predicted: predicted.map(\.count)) {
            throw ScoringError(message: mismatch)
        }
        let goldEntities = try entities(gold, mode: mode)
        let predEntities = try entities(predicted, mode: mode)
        var goldByType: [String: Set<EntitySpan>] = [:], predByType: [String: Set<EntitySpan>] = [:]
        for e in goldEntities { goldByType[e.type, default: []].insert(e) }
        for e in predEntities { predByType[e.type, default: []].insert(e) }
        var perType: [String: TypeScore] = [:]
        var tp = 0, nPred = 0, nGold = 0
        for type in Set(goldByType.keys).union(predByType.keys) {
            let g = goldByType[type] ?? [], p = predByType[type] ?? []
            let t = g.intersection(p).count
            tp += t; nPred += p.count; nGold += g.count
            let (pr, re, f) = prf(tp: t, predicted: p.count, gold: g.count)
            perType[type] = TypeScore(precision: pr, recall: re, f1: f, support: g.count)
        }
        let (pr, re, f) = prf(tp: tp, predicted: nPred, gold: nGold)
        var correct = 0, total = 0
        for (g, p) in zip(gold, predicted) {
            for (a, b) in zip(g, p) where a == b { correct += 1 }
            total += g.count
        }
        return EntityScores(precision: pr, recall: re, f1: f, truePositives: tp, predicted: nPred, gold: nGold,
                            perType: perType, tokenAccuracy: total == 0 ? 0 : Double(correct) / Double(total))
    }

    /// Each gold entity, in `entities` order, and whether the predictions hold exactly it (same span and type), the
    /// per-entity outcome behind the report's compression-identified entities. The shapes must match exactly.
    package static func goldOutcomes(gold: [[String]], predicted: [[String]], mode: ChunkMode = .default) throws -> [(entity: EntitySpan, found: Bool)] {
        if let mismatch = firstMismatch(gold: gold.map(\.count), predicted: predicted.map(\.count)) {
            throw ScoringError(message: mismatch)
        }
        let predictedSet = Set(try entities(predicted, mode: mode))
        return try entities(gold, mode: mode).map { ($0, predictedSet.contains($0)) }
    }

    /// seqeval's arithmetic: a zero denominator gives 0 (its zero_division="warn" value), F1 = (2·p)·r / (p + r).
    static func prf(tp: Int, predicted: Int, gold: Int) -> (Double, Double, Double) {
        let p = predicted == 0 ? 0 : Double(tp) / Double(predicted)
        let r = gold == 0 ? 0 : Double(tp) / Double(gold)
        let denominator = p + r
        let f = denominator == 0 ? 0 : 2 * p * r / denominator
        return (p, r, f)
    }

    /// Where two shapes first differ, in words, or nil when they are equal.
    package static func firstMismatch(gold: [Int], predicted: [Int]) -> String? {
        for (s, (g, p)) in zip(gold, predicted).enumerated() where g != p {
            return "sentence \(s + 1) has \(g) tokens in the gold file but \(p) in the predictions"
        }
        if gold.count != predicted.count {
            return "the gold file has \(gold.count) sentences but the predictions have \(predicted.count) "
                + "(they agree up to sentence \(min(gold.count, predicted.count)))"
        }
        return nil
    }

    package static func entities(_ sequences: [[String]], mode: ChunkMode) throws -> [EntitySpan] {
        var out: [EntitySpan] = []
        for (s, tags) in sequences.enumerated() {
            switch mode {
            case .default: out += conllChunks(tags, sentence: s)
            case .strict: out += try strictIOB2Chunks(tags, sentence: s)
            }
        }
        return out
    }

    /// seqeval's get_entities: the prefix is the first character, the type what follows the first "-" ("_" if none).
    static func conllChunks(_ tags: [String], sentence: Int) -> [EntitySpan] {
        var chunks: [EntitySpan] = []
        var prevTag: Character = "O", prevType = "", begin = 0
        for (i, chunk) in (tags + ["O"]).enumerated() {
            let tag = chunk.first ?? "O"
            let rest = chunk.dropFirst()
            let type: String = {
                let t = rest.firstIndex(of: "-").map { String(rest[rest.index(after: $0)...]) } ?? String(rest)
                return t.isEmpty ? "_" : t
            }()
            if endOfChunk(prevTag, tag, prevType, type) {
                chunks.append(EntitySpan(sentence: sentence, type: prevType, start: begin, end: i))
            }
            if startOfChunk(prevTag, tag, prevType, type) { begin = i }
            prevTag = tag
            prevType = type
        }
        return chunks
    }

    static func endOfChunk(_ prevTag: Character, _ tag: Character, _ prevType: String, _ type: String) -> Bool {
        if prevTag == "E" || prevTag == "S" { return true }
        if (prevTag == "B" || prevTag == "I") && (tag == "B" || tag == "S" || tag == "O") { return true }
        return prevTag != "O" && prevTag != "." && prevType != type
    }

    static func startOfChunk(_ prevTag: Character, _ tag: Character, _ prevType: String, _ type: String) -> Bool {
        if tag == "B" || tag == "S" { return true }
        if (prevTag == "E" || prevTag == "S" || prevTag == "O") && (tag == "E" || tag == "I") { return true }
        return tag != "O" && tag != "." && prevType != type
    }

    /// seqeval's strict IOB2: an entity is B-X followed by the longest run of I-X; a stray I- is no entity.
    static func strictIOB2Chunks(_ tags: [String], sentence: Int) throws -> [EntitySpan] {
        func parse(_ t: String) throws -> (Character, String) {
            guard let prefix = t.first, prefix == "B" || prefix == "I" || prefix == "O" else {
                throw ScoringError(message: "strict IOB2 allows only O, B- and I- tags; found \(t.debugDescription) in sentence \(sentence + 1)")
            }
            var type = Substring(t.dropFirst())
            while type.first == "-" { type = type.dropFirst() }
            while type.last == "-" { type = type.dropLast() }
            return (prefix, type.isEmpty ? "_" : String(type))
        }
        let parsed = try tags.map(parse)
        var chunks: [EntitySpan] = []
        var i = 0
        while i < parsed.count {
            guard parsed[i].0 == "B" else { i += 1; continue }
            var end = i + 1
            while end < parsed.count, parsed[end].0 == "I", parsed[end].1 == parsed[i].1 { end += 1 }
            chunks.append(EntitySpan(sentence: sentence, type: parsed[i].1, start: i, end: end))
            i = end
        }
        return chunks
    }
}
