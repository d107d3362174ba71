// JSONWriter's two number policies against hand-written expected bytes, and its output against Foundation's
// JSON parser as the reference reader: every string (escapes, control characters, non-ASCII) reads back as written.
import Foundation
import Testing
@testable import Experiment

@Suite struct JSONWriterTests {
    static let numbers: Value = .object(["one": .double(1), "half": .double(0.5), "big": .double(1e300), "nan": .double(.nan),
                                         "inf": .double(.infinity), "ninf": .double(-.infinity), "i": .int(-7),
                                         "huge": .double(9_007_199_254_740_992), "tiny": .double(-2.5e-7)])

    @Test func canonicalPolicyWritesIntegralDoublesAsIntegersAndNonFiniteAsNull() {
        #expect(JSONWriter(.canonical).json(Self.numbers)
            == #"{"big":1e+300,"half":0.5,"huge":9007199254740992.0,"i":-7,"inf":null,"nan":null,"ninf":null,"one":1,"tiny":-2.5e-07}"#)
        #expect(Self.numbers.canonicalJSON == JSONWriter(.canonical).json(Self.numbers))
    }

    @Test func recordPolicyKeepsDoublesAndSpellsNonFiniteAsStrings() {
        #expect(JSONWriter(.record).json(Self.numbers)
            == #"{"big":1e+300,"half":0.5,"huge":9007199254740992.0,"i":-7,"inf":"Infinity","nan":"NaN","ninf":"-Infinity","one":1.0,"tiny":-2.5e-07}"#)
    }

    @Test func keysAreInUTF8ByteOrder() {
        // "Z" (0x5A) < "a" (0x61) < "é" (0xC3 0xA9) < "😀" (0xF0 …); UTF-16 order would put "😀" (a surrogate pair) before "ｆ".
        let v: Value = .object(["ｆ": .int(5), "😀": .int(4), "é": .int(3), "a": .int(2), "Z": .int(1)])
        #expect(JSONWriter(.canonical).json(v) == #"{"Z":1,"a":2,"é":3,"ｆ":5,"😀":4}"#)
    }

    @Test func stringsReadBackThroughFoundation() throws {
        let samples = ["plain", "quote \" backslash \\ slash /", "newline \n cr \r tab \t", "bell \u{07} nul \u{00} us \u{1F} del \u{7F}",
                       "é ü 中文 🙂", ""]
        for s in samples {
            var out = ""
            JSONWriter.string(s, into: &out)
            #expect(!out.utf8.contains(where: { $0 < 0x20 }), "raw control character in \(out)")
            let parsed = try JSONSerialization.jsonObject(with: Data("[\(out)]".utf8)) as? [String]
            #expect(parsed == [s])
        }
        var escaped = ""
        JSONWriter.string("a\u{01}\n\"", into: &escaped)
        #expect(escaped == #""a\u0001\n\"""#)
    }

    @Test func nestedValuesReadBackAsTheSameValue() throws {
        let v: Value = .object(["list": .array([.int(1), .array([]), .string("x"), .bool(false)]),
                                "obj": .object(["k": .double(0.30172413793103448), "empty": .object([:])])])
        for policy in [JSONNumberPolicy.canonical, .record] {
            let decoded = try JSONDecoder().decode(Value.self, from: Data(JSONWriter(policy).json(v).utf8))
            #expect(decoded == v)
        }
    }

    @Test func codableEncoderFollowsTheRecordPolicy() throws {
        struct Numbers: Codable { var nan: Double; var inf: Double; var path: String }
        let text = try JSONWriter.text(Numbers(nan: .nan, inf: -.infinity, path: "a/b"))
        #expect(text == #"{"inf":"-Infinity","nan":"NaN","path":"a/b"}"#)
        let back = try JSONWriter.decoder().decode(Numbers.self, from: Data(text.utf8))
        #expect(back.nan.isNaN && back.inf == -.infinity && back.path == "a/b")
    }
}
