// Reading a run directory without the journal (`results.jsonl` of a copied run directory or another tool): every complete
// line that decodes is a record, a truncated or unreadable line is counted, never fatal; and the pretraining text sizes.
import Experiment
import Foundation

package enum RecordFile {
    /// The records of a JSON Lines file and how many of its non-empty lines could not be read.
    package static func read(_ url: URL) throws -> (records: [ResultRecord], unreadable: Int) {
        let data = try Data(contentsOf: url)
        var records: [ResultRecord] = []
        var unreadable = 0
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.allSatisfy({ $0 == 32 || $0 == 13 }) {
            if let r = try? ResultRecord.decode(Data(line)) { records.append(r) } else { unreadable += 1 }
        }
        return (records, unreadable)
    }
}

package enum PretrainingText {
    /// Bytes of `<text>/<lang>.txt` per language when the job reads real text (`data.source: masakhaner`), or
    /// `override` (the folder `smaller run --text` gave) instead of the job's; empty for synthetic data. A relative
    /// folder is looked up from each of `bases` in turn (the job's paths are relative to where the run started).
    package static func bytes(_ spec: JobSpec?, override: String? = nil, bases: [URL]) -> [String: Int] {
        guard let spec, override != nil || spec.data["source"]?.stringValue == "masakhaner",
              let folder = override ?? spec.data["text"]?.stringValue, !folder.isEmpty else { return [:] }
        for dir in folder.hasPrefix("/") ? [URL(fileURLWithPath: folder)] : bases.map({ $0.appendingPathComponent(folder) }) {
            var out: [String: Int] = [:]
            for l in spec.languages {
                let path = dir.appendingPathComponent("\(l).txt").path
                if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber { out[l] = size.intValue }
            }
            if !out.isEmpty { return out }
        }
        return [:]
    }
}
