// Character n-grams of a word (model.char_ngrams): the word lowercased and bracketed, "<ade>", cut into every
// n-gram of 3 to 5 Unicode scalars, each hashed (FNV-1a over its UTF-8 bytes). Every piece of the word carries
// its word's hashes; the model adds the mean of their rows in a hashed table (hash mod the table's size) to the
// piece's embedding, so that a name the vocabulary splits into rare pieces shares what it spells with the names
// seen in training (fastText's subword vectors, on whole words).

package enum CharNgrams {
    /// The n-gram lengths, in Unicode scalars of the bracketed word.
    package static let lengths = 3...5
    /// At most this many n-grams per word (the shorter ones first): a token's row of `Batch.charNgrams`.
    package static let perToken = 32
    /// The hash of "no n-gram" (an unused slot): never a real n-gram's hash (`hash` clears the top bit).
    package static let none = UInt32.max

    /// The word's n-gram hashes, shortest n-grams first, at most `perToken`; a word of one or two scalars still
    /// has its one bracketed trigram or more ("<a>").
    package static func hashes(_ word: some StringProtocol) -> [UInt32] {
        let scalars: [Unicode.Scalar] = ["<"] + word.lowercased().unicodeScalars + [">"]
        var out: [UInt32] = []
        out.reserveCapacity(min(perToken, scalars.count * lengths.count))
        for n in lengths where scalars.count >= n {
            for start in 0...(scalars.count - n) {
                guard out.count < perToken else { return out }
                out.append(hash(scalars[start..<(start + n)]))
            }
        }
        return out
    }

    /// The table row of a hash in a table of `buckets` rows; -1 for `none` (an unused slot).
    package static func row(_ hash: UInt32, buckets: Int) -> Int32 {
        hash == none ? -1 : Int32(hash % UInt32(buckets))
    }

    /// FNV-1a (32 bits) over the scalars' UTF-8 bytes, top bit cleared.
    static func hash(_ scalars: ArraySlice<Unicode.Scalar>) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for scalar in scalars {
            _ = Unicode.UTF8.encode(scalar) { byte in h = (h ^ UInt32(byte)) &* 16_777_619 }
        }
        return h & 0x7FFF_FFFF
    }
}
