// Compact checkpoints for sparse models: each tensor with enough zeros is stored as a U8 bitmask plus its
// non-zero F32 values, inside an ordinary safetensors file; it loads back to a dense XLMRModel bit for bit.
//
// Layout of `model.sparse.safetensors` (beside the usual config.json):
//   metadata "format" = "smaller-sparse-v1"; for every compact tensor NAME, metadata "shape:NAME" = "d0,d1,…";
//   NAME.mask   U8  [ceil(n/8)]  bit (i & 7) (least significant first) of byte i >> 3 is 1 when element i ≠ 0;
//                                 padding bits after n are 0;
//   NAME.values F32 [nnz]        the non-zero elements in row-major order;
//   every other tensor as plain F32 under its own name (transformers' names, as in model.safetensors).
// A tensor goes compact when that is smaller: n/8 + 4·nnz < 4·n bytes.
import Foundation
import TensorCore
import Transformer

package enum SparseCheckpoint {
    package static let weightsFile = "model.sparse.safetensors"
    package static let format = "smaller-sparse-v1"

    /// Bytes one tensor of `count` elements with `nonZeros` non-zeros takes compactly (mask + values).
    package static func compactBytes(count: Int, nonZeros: Int) -> Int { (count + 7) / 8 + 4 * nonZeros }

    /// The safetensors tensors for `model`, compact where it pays.
    package static func tensors(of model: XLMRModel) throws -> (tensors: [SafetensorsTensor], metadata: [String: String]) {
        var out: [SafetensorsTensor] = []
        var metadata = ["format": format]
        for e in model.layout.entries {
            let values = UnsafeBufferPointer(start: model.parameters.pointer + e.offset, count: e.count)
            let nnz = values.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
            if compactBytes(count: e.count, nonZeros: nnz) < 4 * e.count {
                var mask = [UInt8](repeating: 0, count: (e.count + 7) / 8)
                var kept: [Float] = []
                kept.reserveCapacity(nnz)
                for (i, v) in values.enumerated() where v != 0 { mask[i >> 3] |= 1 << UInt8(i & 7); kept.append(v) }
                out.append(.u8(e.name + ".mask", [mask.count], mask))
                out.append(.f32(e.name + ".values", [nnz], kept))
                metadata["shape:" + e.name] = e.shape.map(String.init).joined(separator: ",")
            } else {
                out.append(.f32(e.name, e.shape, values))
            }
        }
        return (out, metadata)
    }

    /// Writes config.json and the compact weights into `directory`; returns the weights file's size in bytes.
    @discardableResult
    package static func save(_ model: XLMRModel, to directory: URL) throws -> Int {
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw ModelError("cannot create \(directory.path): \(error.localizedDescription)")
        }
        let config = directory.appendingPathComponent(XLMRModel.configFile)
        do { try model.configJSON().write(to: config, options: .atomic) } catch {
            throw ModelError("cannot write \(config.path): \(error.localizedDescription)")
        }
        let (tensors, metadata) = try tensors(of: model)
        let url = directory.appendingPathComponent(weightsFile)
        try Safetensors.write(tensors, metadata: metadata, to: url)
        return try fileSize(url)
    }

    package static func fileSize(_ url: URL) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        return (attributes[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Loads a checkpoint folder: the compact file when it is there and model.safetensors is not, else the dense one.
    package static func loadAny(_ directory: URL) throws -> XLMRModel {
        let fm = FileManager.default
        if !fm.fileExists(atPath: directory.appendingPathComponent(XLMRModel.weightsFile).path),
           fm.fileExists(atPath: directory.appendingPathComponent(weightsFile).path) {
            return try load(directory)
        }
        return try XLMRModel.load(directory)
    }

    /// Loads config.json + model.sparse.safetensors into a dense model (for inference or further training).
    package static func load(_ directory: URL) throws -> XLMRModel {
        var config = try XLMRModel.loadConfig(directory)
        let url = directory.appendingPathComponent(weightsFile)
        let (tensors, metadata) = try Safetensors.read(url)
        let file = url.path
        guard metadata["format"] == format else {
            throw ModelError("\(file): metadata format is \(metadata["format"] ?? "missing"), expected \(format)")
        }
        func shape(_ name: String) throws -> [Int]? {
            if let t = tensors[name] { return t.shape }
            guard let s = metadata["shape:" + name] else { return nil }
            let dims = s.split(separator: ",").compactMap { Int($0) }
            guard dims.count == s.split(separator: ",").count, dims.allSatisfy({ $0 >= 0 }) else {
                throw ModelError("\(file): metadata shape:\(name) is \"\(s)\", expected comma-separated sizes")
            }
            return dims
        }
        let head: ModelHead
        if let cls = try shape("classifier.weight") {
            guard cls.count == 2, cls[1] == config.hiddenSize else {
                throw ModelError("\(file): classifier.weight has shape \(cls), expected [labels, \(config.hiddenSize)]")
            }
            head = .tokenClassification(labels: cls[0])
            if config.id2label?.count != cls[0] {
                config.id2label = Dictionary(uniqueKeysWithValues: (0..<cls[0]).map { (String($0), "LABEL_\($0)") })
            }
        } else {
            head = .maskedLM
        }
        let model = try XLMRModel(config: config, head: head)
        for e in model.layout.entries {
            let dst = model.parameters.pointer + e.offset
            if let dense = tensors[e.name] {
                guard dense.shape == e.shape else { throw ModelError("\(file): tensor \(e.name) has shape \(dense.shape), expected \(e.shape)") }
                dst.update(from: dense.floats(), count: e.count)
                continue
            }
            guard let mask = tensors[e.name + ".mask"], let values = tensors[e.name + ".values"] else {
                throw ModelError("\(file) is missing tensor \(e.name) (neither dense nor \(e.name).mask + .values)")
            }
            guard try shape(e.name) == e.shape else {
                throw ModelError("\(file): metadata shape:\(e.name) is \(metadata["shape:" + e.name] ?? "missing"), expected \(e.shape)")
            }
            guard mask.dtype == .U8, mask.shape == [(e.count + 7) / 8] else {
                throw ModelError("\(file): \(e.name).mask is \(mask.dtype.rawValue) \(mask.shape), expected U8 [\((e.count + 7) / 8)]")
            }
            guard values.shape.count == 1 else { throw ModelError("\(file): \(e.name).values has shape \(values.shape), expected [non-zeros]") }
            let bits = [UInt8](mask.data)
            let set = bits.reduce(0) { $0 + $1.nonzeroBitCount }
            guard set == values.shape[0] else {
                throw ModelError("\(file): \(e.name).mask has \(set) bits set but \(e.name).values holds \(values.shape[0]) values")
            }
            if e.count % 8 != 0, bits.last! >> UInt8(e.count % 8) != 0 {
                throw ModelError("\(file): \(e.name).mask has bits set past its \(e.count) elements")
            }
            let v = values.floats()
            dst.update(repeating: 0, count: e.count)
            var j = 0
            for i in 0..<e.count where bits[i >> 3] & (1 << UInt8(i & 7)) != 0 { dst[i] = v[j]; j += 1 }
        }
        return model
    }
}
