// Mention replacement, a data augmentation for low-resource NER (Dai and Adel 2020, "An Analysis of Simple Data
// Augmentation for Named Entity Recognition"): each entity mention of a training sentence is, with a given
// probability, swapped for another mention of the same type drawn from the training set, so the same context is
// seen with many names. A model trained on 2,000 sentences otherwise learns the names it saw (train F1 0.99 on
// MasakhaNER pcm) rather than the contexts that mark a name it never saw (docs/study.md).

/// The training set's mentions by type, and how to rewrite sentences with them.
package struct MentionReplacement: Sendable {
    /// Per entity type, its distinct mentions (word sequences) in first-seen order.
    package let pool: [String: [[String]]]
    /// The chance that each mention is replaced.
    package let probability: Double

    /// The mentions of `sentences` (BIO chunks as seqeval's default reads them: a stray `I-X` starts a mention).
    package init(sentences: [NERSentence], probability: Double) {
        precondition(probability >= 0 && probability <= 1, "mention replacement: probability \(probability) outside [0, 1]")
        var pool: [String: [[String]]] = [:], seen: Set<[String]> = []
        for sentence in sentences {
            for m in Self.mentions(sentence.tags) {
                let words = Array(sentence.words[m.range])
                if seen.insert([m.type] + words).inserted { pool[m.type, default: []].append(words) }
            }
        }
        self.pool = pool
        self.probability = probability
    }

    /// `sentences` with each mention replaced, with `probability`, by a mention of its type drawn uniformly from
    /// the pool (possibly itself), tagged `B-` then `I-`. Words and tags outside mentions are kept.
    package func apply(_ sentences: [NERSentence], rng: inout SeededRandom) -> [NERSentence] {
        guard probability > 0 else { return sentences }
        return sentences.map { sentence in
            let mentions = Self.mentions(sentence.tags)
            guard !mentions.isEmpty else { return sentence }
            var words: [String] = [], tags: [String] = [], next = 0
            for m in mentions {
                words += sentence.words[next..<m.range.lowerBound]; tags += sentence.tags[next..<m.range.lowerBound]
                next = m.range.upperBound
                if let choices = pool[m.type], !choices.isEmpty, rng.chance(probability) {
                    let replacement = rng.pick(choices)
                    words += replacement
                    tags += ["B-" + m.type] + Array(repeating: "I-" + m.type, count: replacement.count - 1)
                } else {
                    words += sentence.words[m.range]; tags += sentence.tags[m.range]
                }
            }
            words += sentence.words[next...]; tags += sentence.tags[next...]
            return NERSentence(words: words, tags: tags)
        }
    }

    /// BIO chunks of one tag sequence: `B-X` starts a mention, `I-X` continues a mention of type X and starts one
    /// otherwise, anything else (`O`, unknown tags) ends it.
    static func mentions(_ tags: [String]) -> [(type: String, range: Range<Int>)] {
        var out: [(type: String, range: Range<Int>)] = []
        var open: (type: String, start: Int)? = nil
        for (i, tag) in tags.enumerated() {
            let prefix = tag.prefix(2), type = String(tag.dropFirst(2))
            let continues = prefix == "I-" && open?.type == type
            if !continues, let o = open { out.append((o.type, o.start..<i)); open = nil }
            if (prefix == "B-" || prefix == "I-") && !type.isEmpty && !continues { open = (type, i) }
        }
        if let o = open { out.append((o.type, o.start..<tags.count)) }
        return out
    }
}
