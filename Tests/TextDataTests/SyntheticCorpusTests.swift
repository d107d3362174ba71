// The embedded synthetic corpus: reproducible, the languages really differ as documented, the CoNLL it writes
// reads back, and a tokenizer trains on its text.
import Foundation
import Testing
import TestSupport
@testable import TextData

@Suite struct SyntheticCorpusTests {
    static let sizes = SyntheticSizes(text: 400, train: 200, dev: 50, test: 50)

    @Test func sameSeedSameCorpusOtherSeedOtherCorpus() {
        for spec in SyntheticCorpus.languages {
            let a = SyntheticCorpus.generate(spec, seed: 1, sizes: Self.sizes)
            let b = SyntheticCorpus.generate(spec, seed: 1, sizes: Self.sizes)
            let c = SyntheticCorpus.generate(spec, seed: 2, sizes: Self.sizes)
            #expect(a.text == b.text && a.train == b.train && a.dev == b.dev && a.test == b.test)
            #expect(a.train != c.train)
            #expect(a.text.count == 400 && a.train.count == 200 && a.dev.count == 50 && a.test.count == 50)
        }
    }

    @Test func languagesDifferWhereDocumented() throws {
        let data = SyntheticCorpus.languages.map { SyntheticCorpus.generate($0, seed: 3, sizes: Self.sizes) }
        func stats(_ d: SyntheticLanguageData) -> (types: Int, entities: Double, marks: Int, ethiopic: Int, meanLength: Double) {
            let words = d.train.flatMap(\.words)
            let entities = d.train.flatMap(\.tags).filter { $0.hasPrefix("B-") }.count
            let scalars = words.joined().decomposedStringWithCanonicalMapping.unicodeScalars
            return (Set(words).count, Double(entities) / Double(d.train.count),
                    scalars.filter { $0.properties.generalCategory == .nonspacingMark }.count,
                    scalars.filter { (0x1200...0x137F).contains($0.value) }.count,
                    Double(words.count) / Double(d.train.count))
        }
        let s = Dictionary(uniqueKeysWithValues: zip(data.map(\.spec.code), data.map(stats)))
        #expect(s["syn-agg"]!.types > 2 * s["syn-iso"]!.types)            // larger vocabulary and suffixes
        #expect(s["syn-ton"]!.marks > 1000 && s["syn-iso"]!.marks == 0)   // tone diacritics
        #expect(s["syn-eth"]!.ethiopic > 1000 && s["syn-iso"]!.ethiopic == 0) // non-Latin script
        #expect(s["syn-ton"]!.entities > 1.5 * s["syn-iso"]!.entities)   // entity density
        #expect(s["syn-eth"]!.meanLength < s["syn-agg"]!.meanLength)
        for d in data {
            // All four entity types occur; tags are valid IOB2 (every I- follows B-/I- of its type).
            let tags = d.train.flatMap(\.tags)
            #expect(Set(tags.filter { $0 != "O" }.map { String($0.dropFirst(2)) }) == ["PER", "ORG", "LOC", "DATE"])
            for sentence in d.train {
                for (i, tag) in sentence.tags.enumerated() where tag.hasPrefix("I-") {
                    #expect(i > 0 && sentence.tags[i - 1].dropFirst(2) == tag.dropFirst(2))
                }
            }
        }
    }

    @Test func writtenCorpusReadsBackThroughTheDataAndTextReaders() throws {
        let dir = try Fixtures.temporaryDirectory("syn")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = SyntheticCorpus.languages.map { SyntheticCorpus.generate($0, seed: 4, sizes: Self.sizes) }
        try SyntheticCorpus.write(data, to: dir, seed: 4)
        #expect(try Corpora.nerLanguages(in: dir.appendingPathComponent("ner")) == SyntheticCorpus.languages.map(\.code).sorted())
        #expect(try Corpora.textLanguages(in: dir.appendingPathComponent("text")) == SyntheticCorpus.languages.map(\.code).sorted())
        for d in data {
            let splits = try Corpora.loadNER(from: dir.appendingPathComponent("ner"), language: d.spec.code)
            #expect(splits.train == d.train && splits.dev == d.dev && splits.test == d.test)
            #expect(try Corpora.loadText(from: dir.appendingPathComponent("text"), language: d.spec.code) == d.text)
        }
        #expect(try String(contentsOf: dir.appendingPathComponent("README.md"), encoding: .utf8).contains("SYNTHETIC"))
        // The Runner's entry points give the same data from either source.
        let folders = DataSource.folders(ner: dir.appendingPathComponent("ner"), text: dir.appendingPathComponent("text"), lenient: false)
        let embedded = DataSource.synthetic(seed: 4, sizes: Self.sizes)
        #expect(try Corpora.languages(folders) == Corpora.languages(embedded).sorted())
        #expect(try Corpora.ner(folders, language: "syn-eth").test == Corpora.ner(embedded, language: "syn-eth").test)
        #expect(try Corpora.text(folders, language: "syn-eth") == Corpora.text(embedded, language: "syn-eth"))
        #expect(try Corpora.ner(embedded, language: "syn-eth").synthetic && !Corpora.ner(folders, language: "syn-eth").synthetic)
        let noText = DataSource.folders(ner: dir.appendingPathComponent("ner"), text: nil, lenient: false)
        #expect(try Corpora.text(noText, language: "syn-iso").count == Self.sizes.train)
        // A tokenizer trains on the synthetic text; NER words rarely hit <unk> (character coverage 0.9995 drops the rarest).
        let tok = try XLMRTokenizer.train(textFiles: [dir.appendingPathComponent("text/syn-ton.txt")], vocabularySize: 300,
                                          output: dir.appendingPathComponent("syn.model"))
        let windows = try tok.align(data[2].test, labels: .masakhaNER, maxLength: 128)
        let ids = windows.flatMap(\.inputIds)
        #expect(ids.filter { $0 == XLMRTokenizer.unkId }.count * 100 < ids.count)
        // Unknown languages and missing folders are errors that name what exists.
        #expect(throws: DataError.self) { try Corpora.synthetic(language: "xyz", seed: 1) }
        do { _ = try Corpora.loadNER(from: dir.appendingPathComponent("ner"), language: "hau"); Issue.record("expected an error") }
        catch let error as DataError { #expect(error.description.contains("syn-agg")) }
    }

    @Test(.enabled(if: Fixtures.sharedData != nil, "../shared/data is absent, so the --data/--text readers cannot be tried on it"))
    func masakhaNERTreeAndTextLoadFromSharedData() throws {
        let shared = try #require(Fixtures.sharedData)
        let ner = shared.appendingPathComponent("masakhaner/2.0")
        #expect(try Corpora.nerLanguages(in: ner).count == 20)
        let splits = try Corpora.loadNER(from: ner, language: "xho", lenient: true)
        #expect(splits.train.count == 5718 && splits.dev.count == 817 && splits.test.count == 1633 && splits.warnings.count == 1)
        #expect(try Corpora.textLanguages(in: shared.appendingPathComponent("text")).count == 21)
        #expect(try Corpora.loadText(from: shared.appendingPathComponent("text"), language: "kin").count == 1464)
    }
}
