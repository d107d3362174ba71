// The languages a job's data source has, checked by `plan`, `run` and `coordinator` before anything starts: a
// language the data lacks is a configuration error, known before any task runs and not cured by a retry.
import Foundation

/// A job whose data section cannot serve its languages: which are missing, from what, and what is there.
package struct DataLanguageError: Error, CustomStringConvertible, Sendable {
    package var description: String
    package init(_ description: String) { self.description = description }
}

package enum DataLanguages {
    /// Checks `spec`'s languages against its data section. `synthetic` lists the embedded corpus's languages
    /// (they live in TextData, which Experiment does not import). A `masakhaner` source must have, for every
    /// language, the folder `ner/<lang>/` with `train.txt`, `dev.txt` and `test.txt` (fine-tuning) and the file
    /// `text/<lang>.txt` (pretraining). Relative folders are read from the current directory, as local workers
    /// read them. With `requireFolders` false (a coordinator whose workers may read data on other hosts), a
    /// folder absent on this host is not checked. Noop tasks read no data: a noop job is not checked.
    package static func check(_ spec: JobSpec, synthetic: [String], requireFolders: Bool = true) throws {
        guard spec.noop == nil, spec.execution.executor == "engine" else { return }
        let source = spec.data["source"]?.stringValue ?? "synthetic"
        if source == "synthetic" {
            try require(spec.languages, in: synthetic, from: "the embedded synthetic corpus")
            return
        }
        let ner = spec.data["ner"]?.stringValue ?? "", text = spec.data["text"]?.stringValue ?? ""
        guard !text.isEmpty else {
            throw DataLanguageError("data.source \(source) needs data.text: a folder of <lang>.txt files to pretrain on")
        }
        for (key, path, list) in [("data.ner", ner, nerLanguages), ("data.text", text, textLanguages)] {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                if requireFolders { throw DataLanguageError("\(key) \(path) is not a folder") }
                continue
            }
            try require(spec.languages, in: list(path), from: "\(key) \(path)")
        }
    }

    static func require(_ languages: [String], in available: [String], from source: String) throws {
        let missing = languages.filter { !available.contains($0) }
        guard !missing.isEmpty else { return }
        let have = available.isEmpty ? "none" : available.joined(separator: ", ")
        throw DataLanguageError("\(missing.count == 1 ? "language" : "languages") \(missing.joined(separator: ", ")) "
            + "not in \(source) (it has: \(have))")
    }

    /// The sub-folders of a MasakhaNER-style tree that hold all three splits, sorted.
    package static func nerLanguages(_ path: String) -> [String] {
        let fm = FileManager.default
        return ((try? fm.contentsOfDirectory(atPath: path)) ?? []).filter { language in
            ["train", "dev", "test"].allSatisfy { fm.fileExists(atPath: "\(path)/\(language)/\($0).txt") }
        }.sorted()
    }

    /// The `<lang>.txt` files of a raw-text folder, as language codes, sorted.
    package static func textLanguages(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".txt") && $0.count > 4 }
            .map { String($0.dropLast(4)) }.sorted()
    }
}
