// Character n-gram vectors from raw text (pretrain.ngram_vectors): skip-gram with negative sampling (Mikolov et
// al. 2013) where a word's input vector is the mean of its n-grams' rows in the model's n-gram table (fastText,
// Bojanowski et al. 2017), trained on the language's unlabeled text before any MLM step. A name never seen in the
// NER training set then arrives with a vector that says which words it keeps company with, if the text has it,
// and otherwise what its spelling shares with words that do. Cheap where MLM is not: a pass over a few hundred
// thousand words takes seconds on one thread. Deterministic for a seed (one thread, its own random stream).
import Foundation
import TextData

enum NgramVectors {
    struct Settings {
        var epochs: Int
        var dimension: Int
        var buckets: Int
        var window = 5
        var negatives = 5
        var learningRate: Float = 0.05
        /// Frequent words are skipped with chance 1 − sqrt(t / f) (word2vec's subsampling).
        var subsample = 1e-3
        /// Context words (the output side) are the words seen at least this often, at most `maxContexts` of them.
        var minContextCount = 2
        var maxContexts = 100_000
        /// The table is scaled after training so that the mean over the text's words of their n-gram-mean vector
        /// has this root mean square per element (a fresh embedding row has 0.02).
        var targetRMS: Float = 0.04
    }

    struct Summary {
        var words: Int
        var types: Int
        var contexts: Int
        var pairs: Int
        var finalLoss: Double
        var seconds: Double
        var scale: Float
    }

    /// The text's words: whitespace-separated, with punctuation at either end cut off (MasakhaNER's words are
    /// tokenised so, raw text is not); empty results are dropped.
    static func words(_ line: String) -> [String] {
        let pieces: [Substring] = line.split(whereSeparator: { $0.isWhitespace })
        return pieces.compactMap { raw in
            let scalars = raw.unicodeScalars
            guard let first = scalars.firstIndex(where: { !isPunctuation($0) }),
                  let last = scalars.lastIndex(where: { !isPunctuation($0) }) else { return nil }
            return String(scalars[first...last])
        }
    }

    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    /// Trains `table` ((buckets, dimension), row-major, the model's n-gram table as initialised) in place on
    /// `lines`, then scales it (see `Settings.targetRMS`). `progress` hears the fraction done, at most 4 times a second.
    static func train(_ table: UnsafeMutablePointer<Float>, lines: [String], settings s: Settings, seed: UInt64,
                      progress: (Double) -> Void = { _ in }) -> Summary {
        let started = Date()
        let C = s.dimension
        // Word types, their counts and n-gram rows; the corpus as type indices, one array per line.
        var index: [String: Int32] = [:], counts: [Int] = [], rows: [[Int32]] = []
        var corpus: [[Int32]] = []
        for line in lines {
            var ids: [Int32] = []
            for word in words(line) {
                if let i = index[word] { ids.append(i); counts[Int(i)] += 1; continue }
                let i = Int32(counts.count)
                index[word] = i; counts.append(1)
                rows.append(CharNgrams.hashes(word).map { CharNgrams.row($0, buckets: s.buckets) })
                ids.append(i)
            }
            if ids.count > 1 { corpus.append(ids) }
        }
        let total = counts.reduce(0, +)
        // Context vocabulary: the most frequent types seen at least minContextCount times (ties by first sight).
        let contextTypes = counts.indices.filter { counts[$0] >= s.minContextCount }
            .sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : $0 < $1 }.prefix(s.maxContexts)
        var contextOf = [Int32](repeating: -1, count: counts.count)
        for (k, t) in contextTypes.enumerated() { contextOf[t] = Int32(k) }
        let K = contextTypes.count
        guard K > 1, total > 1, s.epochs > 0 else {
            return Summary(words: total, types: counts.count, contexts: K, pairs: 0, finalLoss: 0, seconds: 0, scale: 1)
        }
        var output = [Float](repeating: 0, count: K * C)
        // Negatives drawn from the contexts' unigram distribution to the power 0.75, through a table of 1e6 slots.
        let weights = contextTypes.map { pow(Double(counts[$0]), 0.75) }
        let weightSum = weights.reduce(0, +)
        var negativeTable = [Int32](); negativeTable.reserveCapacity(1_000_000)
        for (k, w) in weights.enumerated() {
            let n = max(1, Int((w / weightSum * 1_000_000).rounded()))
            negativeTable += [Int32](repeating: Int32(k), count: n)
        }
        let keep: [Double] = counts.map { c in
            let f = Double(c) / Double(total)
            return min(1, (s.subsample / f).squareRoot() + s.subsample / f)
        }
        var rng = SeededRandom(seed: seed).derived("ngram vectors")
        let totalSteps = Double(s.epochs) * Double(total)
        var processed = 0.0, pairs = 0, lossSum = 0.0, lossCount = 0
        var hidden = [Float](repeating: 0, count: C), grad = [Float](repeating: 0, count: C)
        var lastReport = Date().timeIntervalSinceReferenceDate
        func sigmoid(_ x: Float) -> Float { x > 8 ? 1 : (x < -8 ? 0 : 1 / (1 + expf(-x))) }
        for epoch in 0..<s.epochs {
            if epoch == s.epochs - 1 { lossSum = 0; lossCount = 0 }
            for line in corpus {
                // Subsampled line: frequent words dropped before windows are taken.
                let sampled = line.filter { rng.chance(keep[Int($0)]) }
                processed += Double(line.count)
                let lr = s.learningRate * Float(max(1e-4, 1 - processed / totalSteps))
                guard sampled.count > 1 else { continue }
                for (position, word) in sampled.enumerated() {
                    let ngrams = rows[Int(word)]
                    guard !ngrams.isEmpty else { continue }
                    // Input vector: mean of the word's n-gram rows.
                    for j in 0..<C { hidden[j] = 0 }
                    for r in ngrams { let e = table + Int(r) * C; for j in 0..<C { hidden[j] += e[j] } }
                    let inverse = 1 / Float(ngrams.count)
                    for j in 0..<C { hidden[j] *= inverse; grad[j] = 0 }
                    let reach = 1 + rng.below(s.window)
                    for other in max(0, position - reach)...min(sampled.count - 1, position + reach) where other != position {
                        let target = contextOf[Int(sampled[other])]
                        guard target >= 0 else { continue }
                        pairs += 1
                        for n in 0...s.negatives {
                            let k: Int32, label: Float
                            if n == 0 { k = target; label = 1 } else {
                                let drawn = negativeTable[rng.below(negativeTable.count)]
                                if drawn == target { continue }
                                k = drawn; label = 0
                            }
                            let u = Int(k) * C
                            var dot: Float = 0
                            output.withUnsafeBufferPointer { o in for j in 0..<C { dot += o[u + j] * hidden[j] } }
                            let p = sigmoid(dot)
                            lossCount += 1
                            lossSum -= Double(label == 1 ? logf(max(p, 1e-7)) : logf(max(1 - p, 1e-7)))
                            let g = lr * (label - p)
                            output.withUnsafeMutableBufferPointer { o in
                                for j in 0..<C { grad[j] += g * o[u + j]; o[u + j] += g * hidden[j] }
                            }
                        }
                    }
                    // Every n-gram row takes the input gradient times 1/count (the mean's derivative).
                    for r in ngrams { let e = table + Int(r) * C; for j in 0..<C { e[j] += grad[j] * inverse } }
                }
                // At most four reports a second: a report per line would flood the coordinator (it drops them).
                let now = Date().timeIntervalSinceReferenceDate
                if now - lastReport >= 0.25 { lastReport = now; progress(processed / totalSteps) }
            }
        }
        // Scale: the mean RMS of the text's words' n-gram means becomes targetRMS.
        var rmsSum = 0.0
        for r in rows where !r.isEmpty {
            for j in 0..<C { hidden[j] = 0 }
            for x in r { let e = table + Int(x) * C; for j in 0..<C { hidden[j] += e[j] } }
            var sq = 0.0
            for j in 0..<C { let v = Double(hidden[j]) / Double(r.count); sq += v * v }
            rmsSum += (sq / Double(C)).squareRoot()
        }
        let meanRMS = rmsSum / Double(max(1, rows.count))
        let scale = meanRMS > 0 ? Float(Double(s.targetRMS) / meanRMS) : 1
        for i in 0..<(s.buckets * C) { table[i] *= scale }
        return Summary(words: total, types: counts.count, contexts: K, pairs: pairs,
                       finalLoss: lossSum / Double(max(1, lossCount)), seconds: Date().timeIntervalSince(started), scale: scale)
    }
}
