// Skip-gram n-gram vectors (pretrain.ngram_vectors): the text's words without edge punctuation; on a corpus where
// two groups of names with disjoint letters keep different company, names of one group end up closer to each
// other than to the other group's (a property of the training, not of the spelling); the same seed gives the
// same table; the table is scaled to the target size.
import Foundation
@testable import Pipelines
import Testing
import TextData

@Suite struct NgramVectorsTests {
    @Test func wordsLoseTheirEdgePunctuation() {
        #expect(NgramVectors.words("“Ada,” said (Musa) -- in Lagos.") == ["Ada", "said", "Musa", "in", "Lagos"])
        #expect(NgramVectors.words("COVID-19 ọmọ") == ["COVID-19", "ọmọ"])
    }

    static func corpus() -> [String] {
        // Group A names (letters b-h) keep company with "mister" and "said", group B names (letters p-w) with "city of".
        let a = ["bedge", "chabe", "debbe", "fegha", "gedde", "hebbc"], b = ["pursw", "quvst", "rustv", "stwpu", "tuvrs", "wustp"]
        var rng = SeededRandom(seed: 11)
        var lines: [String] = []
        for _ in 0..<1500 {
            lines.append(rng.chance(0.5) ? "yesterday mister \(rng.pick(a)) said so and left" : "the city of \(rng.pick(b)) is near the road")
        }
        return lines
    }

    static func meanVector(_ word: String, table: [Float], buckets: Int, C: Int) -> [Float] {
        let rows = CharNgrams.hashes(word).map { Int($0 % UInt32(buckets)) }
        var v = [Float](repeating: 0, count: C)
        for r in rows { for j in 0..<C { v[j] += table[r * C + j] / Float(rows.count) } }
        return v
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        let dot = zip(a, b).map(*).reduce(0, +)
        return dot / ((a.map { $0 * $0 }.reduce(0, +)).squareRoot() * (b.map { $0 * $0 }.reduce(0, +)).squareRoot())
    }

    static func trained(seed: UInt64) -> [Float] {
        let (buckets, C) = (4096, 16)
        var rng = SeededRandom(seed: 3)
        var table = (0..<(buckets * C)).map { _ in Float(rng.unit() - 0.5) * 0.04 }
        var settings = NgramVectors.Settings(epochs: 3, dimension: C, buckets: buckets)
        settings.subsample = 1  // 24 word types: subsampling would drop most of every line
        _ = table.withUnsafeMutableBufferPointer { NgramVectors.train($0.baseAddress!, lines: corpus(), settings: settings, seed: seed) }
        return table
    }

    @Test func namesThatKeepTheSameCompanyEndUpClose() {
        let table = Self.trained(seed: 1)
        let a = ["bedge", "chabe", "debbe", "fegha", "gedde", "hebbc"], b = ["pursw", "quvst", "rustv", "stwpu", "tuvrs", "wustp"]
        // Centred on the names' mean: skip-gram vectors share a common direction (every word predicts the frequent
        // words), which says nothing about which company a name keeps.
        let vocabulary = Set(Self.corpus().flatMap(NgramVectors.words)).sorted()
        var centre = [Float](repeating: 0, count: 16)
        for w in a + b { for (j, x) in Self.meanVector(w, table: table, buckets: 4096, C: 16).enumerated() { centre[j] += x / 12 } }
        func v(_ w: String) -> [Float] { zip(Self.meanVector(w, table: table, buckets: 4096, C: 16), centre).map(-) }
        var within: [Float] = [], across: [Float] = []
        for i in a.indices {
            for j in a.indices where j > i { within.append(Self.cosine(v(a[i]), v(a[j]))); within.append(Self.cosine(v(b[i]), v(b[j]))) }
            for j in b.indices { across.append(Self.cosine(v(a[i]), v(b[j]))) }
        }
        let w = within.reduce(0, +) / Float(within.count), x = across.reduce(0, +) / Float(across.count)
        #expect(w > x + 0.3, "mean cosine within a group \(w), across groups \(x)")
        // The same seed, the same table; the words' mean vectors have the target size.
        #expect(Self.trained(seed: 1) == table)
        #expect(Self.trained(seed: 2) != table)
        let words = vocabulary
        let rms = words.map { w in let m = Self.meanVector(w, table: table, buckets: 4096, C: 16); return (m.map { $0 * $0 }.reduce(0, +) / 16).squareRoot() }.reduce(0, +) / Float(words.count)
        #expect(abs(rms - 0.04) < 1e-3, "mean RMS \(rms)")
    }

    /// Progress goes to the coordinator: a report per line (4,500 here) would flood it, so at most four a second.
    @Test func progressIsReportedAtMostFourTimesASecond() {
        var table = [Float](repeating: 0.01, count: 4096 * 16)
        var calls = 0
        let started = Date()
        _ = table.withUnsafeMutableBufferPointer {
            NgramVectors.train($0.baseAddress!, lines: Self.corpus(), settings: NgramVectors.Settings(epochs: 3, dimension: 16, buckets: 4096),
                               seed: 1) { _ in calls += 1 }
        }
        let seconds = Date().timeIntervalSince(started)
        #expect(Double(calls) <= 4 * seconds + 1, "\(calls) reports in \(seconds) s")
    }
}
