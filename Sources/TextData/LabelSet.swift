// IOB2 label sets with stable ids: `O` first, then B-/I- per entity type in the given type order, saved with a
// model as transformers does in config.json (`id2label` with string keys, `label2id`).
import Foundation

package struct LabelSet: Sendable, Equatable, Codable {
    /// Labels in id order.
    package let labels: [String]
    private let index: [String: Int]

    /// The ignored label id in the token-classification loss (PyTorch's CrossEntropyLoss default).
    package static let ignoreIndex = -100

    /// `O`, then `B-T`, `I-T` for each type in order.
    package init(entityTypes: [String]) {
        var labels = ["O"]
        for type in entityTypes { labels += ["B-\(type)", "I-\(type)"] }
        self.init(labels: labels)
    }

    /// Labels in a given id order (as read from a saved config).
    package init(labels: [String]) {
        precondition(Set(labels).count == labels.count, "labels must be distinct: \(labels)")
        self.labels = labels
        self.index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
    }

    /// MasakhaNER's nine labels: O, B-/I- of PER, ORG, LOC, DATE.
    package static let masakhaNER = LabelSet(entityTypes: ["PER", "ORG", "LOC", "DATE"])

    package var count: Int { labels.count }
    package func id(of label: String) -> Int? { index[label] }
    package func label(of id: Int) -> String { labels[id] }

    /// Entity types in first-appearance order.
    package var entityTypes: [String] {
        var seen: [String] = []
        for label in labels where label != "O" {
            let type = String(label.dropFirst(2))
            if !seen.contains(type) { seen.append(type) }
        }
        return seen
    }

    /// The label set of some data: O first, then types sorted by name, each with B- and I-. Stable whatever the data's order.
    package init(from sentences: [NERSentence]) {
        var types = Set<String>()
        for sentence in sentences {
            for tag in sentence.tags where tag != "O" && Self.isWellFormedIOB(tag) { types.insert(String(tag.dropFirst(2))) }
        }
        self.init(entityTypes: types.sorted())
    }

    package static func isWellFormedIOB(_ tag: String) -> Bool {
        tag == "O" || ((tag.hasPrefix("B-") || tag.hasPrefix("I-")) && tag.count > 2)
    }

    /// `id2label` as transformers writes it in config.json: keys are decimal strings.
    package var id2label: [String: String] {
        Dictionary(uniqueKeysWithValues: labels.enumerated().map { (String($0), $1) })
    }

    package var label2id: [String: Int] { index }

    /// Rebuilds from config.json's `id2label`; errors name the bad key.
    package init(id2label: [String: String]) throws {
        var pairs: [(Int, String)] = []
        for (key, label) in id2label {
            guard let id = Int(key) else { throw LabelSetError(message: "id2label key \(key.debugDescription) is not an integer") }
            pairs.append((id, label))
        }
        pairs.sort { $0.0 < $1.0 }
        for (position, pair) in pairs.enumerated() where pair.0 != position {
            throw LabelSetError(message: "id2label ids must be 0..<\(pairs.count) without gaps; found \(pair.0) at position \(position)")
        }
        guard Set(pairs.map(\.1)).count == pairs.count else { throw LabelSetError(message: "id2label has repeated labels") }
        self.init(labels: pairs.map(\.1))
    }

    enum CodingKeys: String, CodingKey { case id2label, label2id }

    package func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id2label, forKey: .id2label)
        try container.encode(label2id, forKey: .label2id)
    }

    package init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(id2label: try container.decode([String: String].self, forKey: .id2label))
        if let label2id = try container.decodeIfPresent([String: Int].self, forKey: .label2id), label2id != index {
            throw LabelSetError(message: "label2id does not invert id2label")
        }
    }

    package static func == (a: LabelSet, b: LabelSet) -> Bool { a.labels == b.labels }
}

package struct LabelSetError: Error, CustomStringConvertible {
    package let message: String
    package var description: String { "label set: \(message)" }
}
