// The dense model's test predictions as an artifact (`predictions.safetensors`): the fine-tune task writes it
// beside its checkpoint, and every compress task started from that checkpoint reads it to measure loyalty.
// Format: safetensors with metadata `format` = `smaller-predictions-v1` and `labels` (the label names, comma
// separated); tensors `words` (I32, (S)) words per test sentence, `labels` (I32, (N)) the predicted label per
// scored word and `probabilities` (F32, (N, NL)) its label distribution, N = Σ words, in sentence order.
import Evaluation
import Experiment
import Foundation
import TensorCore
import TextData

package enum DensePredictions {
    package static let file = "predictions.safetensors"
    static let format = "smaller-predictions-v1"

    /// Writes `p` (with its probabilities) into `folder`.
    static func write(_ p: NERPredictions, labels: LabelSet, into folder: URL) throws {
        let n = p.labels.reduce(0) { $0 + $1.count }
        let words = p.labels.map { Int32($0.count) }, ids = p.labels.flatMap { $0.map { Int32($0) } }
        let probabilities = p.probabilities.flatMap { $0.flatMap { $0 } }
        precondition(probabilities.count == n * labels.count, "dense predictions need every word's distribution")
        try Safetensors.write([
            SafetensorsTensor(name: "words", dtype: .I32, shape: [words.count], bytes: int32Bytes(words)),
            SafetensorsTensor(name: "labels", dtype: .I32, shape: [n], bytes: int32Bytes(ids)),
            .f32("probabilities", [n, labels.count], probabilities),
        ], metadata: ["format": format, "labels": labels.labels.joined(separator: ",")],
        to: folder.appendingPathComponent(file))
    }

    /// The dense predictions in `folder`, checked against the test set `gold` and `labels`. A missing, corrupt or
    /// mismatched file is a `PermanentTaskError` naming the file and what is wrong.
    static func read(from folder: URL, gold: [NERSentence], labels: LabelSet) throws -> NERPredictions {
        let url = folder.appendingPathComponent(file)
        func corrupt(_ why: String) -> PermanentTaskError {
            PermanentTaskError("the dense predictions artifact \(url.path) is corrupt: \(why)")
        }
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw PermanentTaskError("the dense predictions artifact \(url.path) is missing (the fine-tune task that made "
                                     + "the parent checkpoint writes \(file); rerun it with this version)")
        }
        let (tensors, metadata): ([String: SafetensorsEntry], [String: String])
        do { (tensors, metadata) = try Safetensors.read(url) } catch { throw corrupt("\(error)") }
        guard metadata["format"] == format else { throw corrupt("format is \(metadata["format"] ?? "absent"), expected \(format)") }
        guard metadata["labels"] == labels.labels.joined(separator: ",") else {
            throw corrupt("its labels \(metadata["labels"] ?? "absent") are not \(labels.labels.joined(separator: ","))")
        }
        let words = try int32s(tensors["words"], "words", corrupt), ids = try int32s(tensors["labels"], "labels", corrupt)
        guard let pt = tensors["probabilities"] else { throw corrupt("no tensor probabilities") }
        let probabilities: [Float]
        do { probabilities = try pt.float32s("probabilities", file: url.path) } catch { throw corrupt("\(error)") }
        guard words == gold.map({ Int32($0.words.count) }) else {
            throw PermanentTaskError("the dense predictions artifact \(url.path) is for another test set "
                                     + "(\(words.count) sentences, this test set has \(gold.count))")
        }
        let L = labels.count, n = words.reduce(0) { $0 + Int($1) }
        guard pt.shape == [ids.count, L], ids.count == n else {
            throw corrupt("probabilities are \(pt.shape), labels \(ids.count), for \(n) words of \(L) labels")
        }
        guard ids.allSatisfy({ (0..<Int32(L)).contains($0) }), probabilities.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw corrupt("a label id is outside 0..<\(L) or a probability is negative or not finite")
        }
        var out = NERPredictions(labels: [], probabilities: [])
        var k = 0
        for count in words.map(Int.init) {
            out.labels.append(ids[k..<(k + count)].map(Int.init))
            out.probabilities.append((k..<(k + count)).map { Array(probabilities[($0 * L)..<(($0 + 1) * L)]) })
            k += count
        }
        return out
    }

    static func int32Bytes(_ values: [Int32]) -> Data {
        var data = Data(capacity: values.count * 4)
        for v in values { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    static func int32s(_ entry: SafetensorsEntry?, _ name: String, _ corrupt: (String) -> PermanentTaskError) throws -> [Int32] {
        guard let entry else { throw corrupt("no tensor \(name)") }
        guard entry.dtype == .I32, entry.shape.count == 1 else { throw corrupt("tensor \(name) is \(entry.dtype.rawValue) \(entry.shape)") }
        return entry.data.withUnsafeBytes { raw in
            (0..<entry.shape[0]).map { Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
        }
    }
}
