// Singleton <unk> replacement (Lample et al. 2016, "Neural Architectures for Named Entity Recognition"): a word
// seen once in the training set has, with a given probability each epoch, its pieces replaced by <unk>, keeping
// its label, word shape and character n-grams. A name the model never saw reaches it at test time as rare pieces
// whose embeddings training barely moved; trained this way, the model learns to read such a word from its
// spelling (model.char_ngrams), its shape and its context instead of from its pieces' identities.

package struct SingletonUnk: Sendable {
    /// The words (as written) that occur exactly once in the training sentences.
    package let singletons: Set<String>
    /// The chance that each occurrence of a singleton is replaced.
    package let probability: Double

    package init(sentences: [NERSentence], probability: Double) {
        precondition(probability >= 0 && probability <= 1, "singleton unk: probability \(probability) outside [0, 1]")
        var counts: [String: Int] = [:]
        for sentence in sentences { for word in sentence.words { counts[word, default: 0] += 1 } }
        singletons = Set(counts.compactMap { $0.value == 1 ? $0.key : nil })
        self.probability = probability
    }

    /// `windows` (aligned from `sentences`) with every piece of each singleton word replaced by <unk>, each
    /// occurrence with `probability`; labels, word positions, shapes and n-grams unchanged. Draws one number per
    /// singleton occurrence, in window and word order.
    package func apply(_ windows: [AlignedWindow], sentences: [NERSentence], rng: inout SeededRandom) -> [AlignedWindow] {
        guard probability > 0, !singletons.isEmpty else { return windows }
        return windows.map { window in
            let words = sentences[window.sentence].words
            var ids = window.inputIds, changed = false
            for (k, start) in window.wordPositions.enumerated() {
                guard singletons.contains(words[window.firstWord + k]), rng.chance(probability) else { continue }
                let end = k + 1 < window.wordPositions.count ? window.wordPositions[k + 1] : window.length - 1
                for i in start..<end { ids[i] = XLMRTokenizer.unkId }
                changed = true
            }
            guard changed else { return window }
            return AlignedWindow(sentence: window.sentence, firstWord: window.firstWord, inputIds: ids, labels: window.labels,
                                 wordPositions: window.wordPositions, tokenTypes: window.tokenTypes, charNgrams: window.charNgrams)
        }
    }
}
