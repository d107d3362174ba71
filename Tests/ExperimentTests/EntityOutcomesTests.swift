// The per-entity outcome bitmap of a record: round trip through JSON, the bit order written out by hand, and
// malformed values read as nil (never a trap).
import Experiment
import Foundation
import Testing

@Suite struct EntityOutcomesTests {
    @Test func bitmapIsLeastSignificantBitFirstAndRoundTrips() throws {
        // Entities 0, 2 and 9 found of 10: byte 0 = 0b0000_0101 = 5, byte 1 = 0b0000_0010 = 2 → base64 "BQI=".
        let found = (0..<10).map { [0, 2, 9].contains($0) }
        let o = EntityOutcomes(found: found, entities: (0..<10).map { "0 \($0) \($0 + 1) PER" })
        #expect(o.value["found"] == .string("BQI=") && o.value["count"] == .int(10))
        #expect(o.digest.count == 16 && o.digest.allSatisfy(\.isHexDigit))
        let json = try JSONWriter.encoder(pretty: false).encode(o.value)
        let back = try #require(EntityOutcomes(try JSONDecoder().decode(Value.self, from: json)))
        #expect(back == o)
        // The digest follows the entity list: another list, another digest.
        #expect(EntityOutcomes(found: found, entities: (0..<10).map { "0 \($0) \($0 + 1) LOC" }).digest != o.digest)
        #expect(EntityOutcomes(.object(["count": .int(0), "digest": .string("x"), "found": .string("")]))?.count == 0)
    }

    @Test func malformedValuesReadAsNil() {
        func value(_ count: Int, _ found: String) -> Value {
            .object(["count": .int(count), "digest": .string("d"), "found": .string(found)])
        }
        #expect(EntityOutcomes(value(10, "BQI=")) != nil && EntityOutcomes(value(16, "BQI=")) != nil)
        #expect(EntityOutcomes(value(9, "BQI=")) == nil)  // bit 9 set, but only entities 0…8 exist
        #expect(EntityOutcomes(value(17, "BQI=")) == nil)  // 17 entities need 3 bytes
        #expect(EntityOutcomes(value(8, "BQI=")) == nil)  // one byte too many
        #expect(EntityOutcomes(value(10, "not base64!")) == nil)
        #expect(EntityOutcomes(value(-1, "")) == nil && EntityOutcomes(value(Int.max, "")) == nil)
        #expect(EntityOutcomes(.object(["count": .int(0), "found": .string("")])) == nil)  // no digest
        #expect(EntityOutcomes(.string("BQI=")) == nil && EntityOutcomes(.object(["count": .double(1.5), "digest": .string("d"), "found": .string("AQ==")])) == nil)
    }
}
