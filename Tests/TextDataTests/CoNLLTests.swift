// The CoNLL reader: hand-made edge cases, and every MasakhaNER file in ../shared/data against the README's tables.
import Foundation
import Testing
import TestSupport
@testable import TextData

@Suite struct CoNLLTests {
    @Test func harmlessThingsAreAccepted() throws {
        let text = "\u{FEFF}-DOCSTART- O\n\nAda\tB-PER\nwent   O\r\nto O\nLagos B-LOC\n\n\n\nIn O\n2019 B-DATE\n"
        let doc = try CoNLL.parse(text, file: "t.conll")
        #expect(doc.sentences == [
            NERSentence(words: ["Ada", "went", "to", "Lagos"], tags: ["B-PER", "O", "O", "B-LOC"]),
            NERSentence(words: ["In", "2019"], tags: ["O", "B-DATE"]),
        ])
        #expect(doc.skipped.isEmpty)
        // Extra middle columns (CoNLL-2003 style): the first is the token, the last the tag.
        let wide = try CoNLL.parse("EU NNP B-NP B-ORG\n", file: "w", labels: nil)
        #expect(wide.sentences == [NERSentence(words: ["EU"], tags: ["B-ORG"])])
        // A token starting with a combining mark is still split from its tag.
        let combining = try CoNLL.parse("\u{301}x O\n", file: "c")
        #expect(combining.sentences[0].words == ["\u{301}x"])
    }

    @Test func errorsNameFileAndLine() throws {
        #expect(throws: CoNLLError(file: "bad.txt", line: 3, problem: "a tag `O` with no token before it")) {
            try CoNLL.parse("a O\nb O\n O\n", file: "bad.txt")
        }
        #expect(throws: CoNLLError(file: "bad.txt", line: 2, problem: "a token `b` with no tag after it")) {
            try CoNLL.parse("a O\nb\n", file: "bad.txt")
        }
        do {
            _ = try CoNLL.parse("a O\n\nb B-MISC\n", file: "x.txt")
            Issue.record("B-MISC should be rejected")
        } catch let error as CoNLLError {
            #expect(error.line == 3 && error.description.contains("x.txt:3") && error.description.contains("B-MISC"))
        }
        // Lenient: the bad lines are skipped and counted.
        let doc = try CoNLL.parse("a O\n O\nb B-MISC\nc O\n", file: "x.txt", lenient: true)
        #expect(doc.sentences == [NERSentence(words: ["a", "c"], tags: ["O", "O"])])
        #expect(doc.skipped.map(\.line) == [2, 3])
        #expect(doc.warning(file: "x.txt")?.contains("skipped 2") == true)
    }

    @Test func writeThenReadRoundTrips() throws {
        let sentences = [
            NERSentence(words: ["Ọlá", "ń", "lọ"], tags: ["B-PER", "O", "O"]),
            NERSentence(words: ["Kampala"], tags: ["B-LOC"]),
        ]
        let text = CoNLL.format(sentences)
        #expect(text == "Ọlá B-PER\nń O\nlọ O\n\nKampala B-LOC\n\n")
        #expect(try CoNLL.parse(text, file: "rt").sentences == sentences)
    }

    /// (sentences, tokens) per split from ../shared/data/README.md (counted there with python3 over the files).
    typealias Counts = (train: (Int, Int), dev: (Int, Int), test: (Int, Int))
    static let masakhaNER1: [String: Counts] = [
        "amh": ((1750, 25819), (250, 3749), (500, 7449)),
        "hau": ((1912, 55010), (276, 8301), (552, 16841)),
        "ibo": ((2235, 42719), (320, 6304), (638, 12645)),
        "kin": ((2116, 47912), (302, 6711), (605, 14196)),
        "lug": ((1428, 33003), (200, 3771), (407, 9841)),
        "luo": ((644, 18577), (92, 2567), (186, 5159)),
        "pcm": ((2124, 52604), (306, 7728), (600, 15731)),
        "swa": ((2109, 56599), (300, 7263), (604, 15409)),
        "wol": ((1871, 36805), (267, 4384), (539, 11682)),
        "yor": ((2171, 56274), (305, 7115), (645, 19896)),
    ]
    static let masakhaNER2: [String: Counts] = [
        "bam": ((4462, 106998), (638, 16502), (1274, 32024)),
        "bbj": ((3384, 47239), (483, 7262), (966, 14958)),
        "ewe": ((3505, 60657), (501, 9320), (1001, 20442)),
        "fon": ((4343, 118853), (623, 17539), (1228, 36415)),
        "hau": ((5716, 153238), (816, 21537), (1633, 44848)),
        "ibo": ((7634, 238783), (1090, 33510), (2181, 71802)),
        "kin": ((7825, 171147), (1118, 22502), (2235, 52284)),
        "lug": ((4942, 86308), (706, 11480), (1412, 22329)),
        "luo": ((5161, 163382), (737, 22270), (1474, 44275)),
        "mos": ((4532, 123879), (648, 16562), (1294, 27700)),
        "nya": ((6250, 186533), (893, 25479), (1785, 51610)),
        "pcm": ((5646, 142757), (806, 21887), (1613, 41760)),
        "sna": ((6207, 137240), (887, 20080), (1773, 38460)),
        "swa": ((6593, 175160), (942, 25251), (1883, 51179)),
        "tsn": ((3489, 99973), (499, 14389), (996, 26705)),
        "twi": ((4240, 112160), (605, 14804), (1211, 28996)),
        "wol": ((4593, 123225), (656, 19676), (1312, 38127)),
        "xho": ((5718, 86647), (817, 14246), (1633, 26326)),
        "yor": ((6876, 175835), (983, 22787), (1964, 45653)),
        "zul": ((5848, 89355), (836, 13245), (1670, 26086)),
    ]

    /// The README counts token lines, so the two malformed `" O"` lines of 2.0/xho/train are in its total:
    /// strict mode rejects that file at line 44520, lenient mode loads it with those two lines skipped.
    @Test(.enabled(if: Fixtures.sharedData != nil, "../shared/data is absent, so the MasakhaNER count check cannot run"))
    func everyMasakhaNERFileLoadsWithTheREADMECounts() throws {
        let shared = try #require(Fixtures.sharedData)
        var files = 0
        for (version, table) in [("1.0", Self.masakhaNER1), ("2.0", Self.masakhaNER2)] {
            for (lang, counts) in table.sorted(by: { $0.key < $1.key }) {
                for (split, expected) in [("train", counts.train), ("dev", counts.dev), ("test", counts.test)] {
                    let url = shared.appendingPathComponent("masakhaner/\(version)/\(lang)/\(split).txt")
                    let malformed = version == "2.0" && lang == "xho" && split == "train"
                    if malformed {
                        #expect(throws: CoNLLError.self) { try CoNLL.read(contentsOf: url) }
                    }
                    let doc = try CoNLL.read(contentsOf: url, lenient: malformed)
                    #expect(doc.sentences.count == expected.0, "\(version)/\(lang)/\(split) sentences")
                    #expect(doc.tokenCount + doc.skipped.count == expected.1, "\(version)/\(lang)/\(split) tokens")
                    #expect(doc.skipped.map(\.line) == (malformed ? [44520, 74513] : []), "\(version)/\(lang)/\(split)")
                    files += 1
                }
            }
        }
        #expect(files == 90)
        // The BOM of 1.0/luo/train.txt is stripped.
        let luo = try CoNLL.read(contentsOf: shared.appendingPathComponent("masakhaner/1.0/luo/train.txt"))
        #expect(luo.sentences[0].words[0] == "Jii")
    }
}
