// Which gold entities of the test set a model found (exact span and type), stored compactly in a record's metrics
// (`test.entity_outcomes`): a bitmap in gold-entity order, the entity count and a digest of the gold entity list, so
// the report can form per-entity majorities over seeds (compression-identified entities) and check that two records
// index the same entities. Format in docs/results.md.
import Foundation

package struct EntityOutcomes: Sendable, Equatable {
    /// Per gold entity, in the order the scorer lists them (sentence, then position): found exactly or not.
    package var found: [Bool]
    /// The first 16 hex digits of SHA-256 over the gold entity list (`sentence start end type` lines).
    package var digest: String

    /// The metric's name in a record.
    package static let metric = "test.entity_outcomes"
    /// More entities than any test set has; a record claiming more is unreadable, not a reason to allocate.
    static let maxCount = 10_000_000

    package init(found: [Bool], digest: String) {
        self.found = found; self.digest = digest
    }

    /// Outcomes of the gold entities `entities` (one key each, e.g. `"3 4 6 PER"`), hashed into the digest.
    package init(found: [Bool], entities: [String]) {
        precondition(found.count == entities.count, "one outcome per gold entity")
        self.found = found
        digest = String(ArtifactStore.sha256(of: Array(entities.map { $0 + "\n" }.joined().utf8)).prefix(16))
    }

    package var count: Int { found.count }

    /// `{"count": n, "digest": "…", "found": "<base64 bitmap>"}`; bit i is byte i/8's bit i%8 (least significant first).
    package var value: Value {
        var bytes = [UInt8](repeating: 0, count: (found.count + 7) / 8)
        for (i, f) in found.enumerated() where f { bytes[i / 8] |= 1 << UInt8(i % 8) }
        return .object(["count": .int(found.count), "digest": .string(digest), "found": .string(Data(bytes).base64EncodedString())])
    }

    /// Reads `value`; nil when it is not a well-formed outcome object (wrong types, a bitmap of the wrong length,
    /// bits set past the count).
    package init?(_ value: Value) {
        guard let o = value.objectValue, let count = o["count"]?.intValue, count >= 0, count <= Self.maxCount,
              let digest = o["digest"]?.stringValue, let text = o["found"]?.stringValue,
              let data = Data(base64Encoded: text), data.count == (count + 7) / 8 else { return nil }
        let bytes = [UInt8](data)
        if count % 8 != 0, let last = bytes.last, last >> UInt8(count % 8) != 0 { return nil }
        self.digest = digest
        found = (0..<count).map { bytes[$0 / 8] & (1 << UInt8($0 % 8)) != 0 }
    }
}
