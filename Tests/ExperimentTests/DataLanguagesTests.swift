// DataLanguages: a job's languages against its data section, on real folders in a temporary directory.
import Experiment
import Foundation
import Testing
import TestSupport

@Suite struct DataLanguagesTests {
    static let synthetic = ["syn-a", "syn-b"]

    func message(_ spec: JobSpec, requireFolders: Bool = true) -> String? {
        do {
            try DataLanguages.check(spec, synthetic: Self.synthetic, requireFolders: requireFolders)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func syntheticLanguagesAreCheckedAgainstTheEmbeddedList() throws {
        #expect(message(try JobSpec.parse(yaml: "name: a\nseeds: [1]\nlanguages: [syn-b, syn-a]\n")) == nil)
        let bad = try JobSpec.parse(yaml: "name: a\nseeds: [1]\nlanguages: [syn-a, xx, yy]\n")
        #expect(message(bad) == "languages xx, yy not in the embedded synthetic corpus (it has: syn-a, syn-b)")
    }

    @Test func noopJobsReadNoDataAndAreNotChecked() throws {
        #expect(message(try JobSpec.parse(yaml: "name: a\nseeds: [1]\nlanguages: [xx]\nexecution: {executor: noop}\n")) == nil)
        #expect(message(try JobSpec.parse(yaml: "name: a\nnoop: {tasks: 3}\n")) == nil)
    }

    @Test func foldersNeedAllThreeSplitsAndATextFile() throws {
        let dir = try Fixtures.temporaryDirectory("data-languages")
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        for (language, splits) in [("hau", ["train", "dev", "test"]), ("yor", ["train", "test"]), ("swa", ["train", "dev", "test"])] {
            try fm.createDirectory(at: dir.appendingPathComponent("ner/\(language)"), withIntermediateDirectories: true)
            for split in splits { fm.createFile(atPath: dir.appendingPathComponent("ner/\(language)/\(split).txt").path, contents: nil) }
        }
        try fm.createDirectory(at: dir.appendingPathComponent("text"), withIntermediateDirectories: true)
        for name in ["hau.txt", "yor.txt", "notes.md"] { fm.createFile(atPath: dir.appendingPathComponent("text/\(name)").path, contents: nil) }
        let ner = dir.appendingPathComponent("ner").path, text = dir.appendingPathComponent("text").path
        #expect(DataLanguages.nerLanguages(ner) == ["hau", "swa"])
        #expect(DataLanguages.textLanguages(text) == ["hau", "yor"])
        func job(_ languages: String, text textPath: String? = nil) throws -> JobSpec {
            try JobSpec.parse(yaml: "name: a\ndata: {source: masakhaner, ner: \(ner)\(textPath.map { ", text: \($0)" } ?? "")}\nseeds: [1]\nlanguages: [\(languages)]\n")
        }
        #expect(message(try job("hau", text: text)) == nil)
        #expect(message(try job("hau, yor", text: text)) == "language yor not in data.ner \(ner) (it has: hau, swa)")
        #expect(message(try job("swa", text: text)) == "language swa not in data.text \(text) (it has: hau, yor)")
        #expect(message(try job("hau")) == "data.source masakhaner needs data.text: a folder of <lang>.txt files to pretrain on")
        let absent = dir.appendingPathComponent("absent").path
        #expect(message(try job("hau", text: absent)) == "data.text \(absent) is not a folder")
        // A coordinator whose workers may hold the data elsewhere checks only the folders it has.
        #expect(message(try job("hau", text: absent), requireFolders: false) == nil)
        #expect(message(try job("yor", text: absent), requireFolders: false) == "language yor not in data.ner \(ner) (it has: hau, swa)")
    }
}
