// PyTorch's pytorch_model.bin (torch.save of a state dict): a zip archive holding `<prefix>/data.pkl`, a pickle
// naming each tensor as a view into a storage, and `<prefix>/data/<key>`, each storage's raw little-endian bytes.
// The pickle is read by RestrictedPickle (nothing executes); the tensors come out as safetensors entries, so the
// model loader treats both weight formats alike.
import Foundation

package enum TorchCheckpoint {
    /// Reads a state dict saved by torch.save: tensor name → entry (contiguous, row-major, the storage's dtype).
    package static func read(_ url: URL) throws -> [String: SafetensorsEntry] {
        try tensors(in: try ZipArchive.open(url))
    }

    package static func tensors(in archive: ZipArchive) throws -> [String: SafetensorsEntry] {
        func fail(_ p: String) -> ZipError { ZipError(file: archive.file, problem: p) }
        guard let pickleName = archive.names.first(where: { $0 == "data.pkl" || $0.hasSuffix("/data.pkl") }),
              let pickle = archive.data(pickleName) else {
            throw fail("no data.pkl: not a torch.save archive")
        }
        let prefix = String(pickleName.dropLast("data.pkl".count))
        let root: PickleValue
        do { root = try RestrictedPickle.load(pickle) } catch let e as PickleError { throw fail("\(pickleName): \(e.description)") }
        guard case .dict(let dict) = root else { throw fail("\(pickleName) holds \(RestrictedPickle.describe(root)), not a state dict") }
        var out: [String: SafetensorsEntry] = [:]
        for (key, value) in dict.pairs {
            guard case .string(let name) = key else { throw fail("a state-dict key is \(RestrictedPickle.describe(key)), not a string") }
            guard case .tensor(let t) = value else { continue }  // non-tensor entries (extra state) are not weights
            guard let bytes = archive.data("\(prefix)data/\(t.storage.key)") else {
                throw fail("tensor \(name) names storage \(t.storage.key), which the archive lacks")
            }
            out[name] = try entry(t, storageBytes: bytes, name: name, file: archive.file)
        }
        return out
    }

    /// The tensor's elements gathered in row-major order from its storage, every index checked to lie inside it.
    static func entry(_ t: PickleTensor, storageBytes: Data, name: String, file: String) throws -> SafetensorsEntry {
        func fail(_ p: String) -> ZipError { ZipError(file: file, problem: "tensor \(name): \(p)") }
        let size = t.storage.dtype.byteSize
        guard t.storage.count <= storageBytes.count / size else {
            throw fail("its storage claims \(t.storage.count) elements but holds \(storageBytes.count) bytes (truncated?)")
        }
        var elements = 1, last = t.offset
        for (n, s) in zip(t.shape, t.strides) {
            let (e, o1) = elements.multipliedReportingOverflow(by: n)
            guard !o1, e < (1 << 46) else { throw fail("shape \(t.shape) is too large") }
            elements = e
            if n > 0 {
                let (step, o2) = (n - 1).multipliedReportingOverflow(by: s)
                let (sum, o3) = last.addingReportingOverflow(step)
                guard !o2, !o3 else { throw fail("strides \(t.strides) overflow") }
                last = sum
            }
        }
        guard elements == 0 || last < t.storage.count else {
            throw fail("shape \(t.shape), strides \(t.strides) and offset \(t.offset) reach past its storage of \(t.storage.count) elements")
        }
        var data = Data(count: elements * size)
        if elements > 0 {
            storageBytes.withUnsafeBytes { src in
                data.withUnsafeMutableBytes { dst in
                    var index = [Int](repeating: 0, count: t.shape.count)
                    // Copies runs along the last dimension when it is contiguous, element by element otherwise.
                    let lastDim = t.shape.last ?? 1, lastStride = t.strides.last ?? 1
                    let run = lastStride == 1 ? lastDim : 1
                    var written = 0
                    while written < elements {
                        var source = t.offset
                        for d in index.indices { source += index[d] * t.strides[d] }
                        dst.baseAddress!.advanced(by: written * size)
                            .copyMemory(from: src.baseAddress!.advanced(by: source * size), byteCount: run * size)
                        written += run
                        var d = index.count - 1
                        var step = run
                        while d >= 0 {
                            index[d] += step
                            step = 1
                            if index[d] < t.shape[d] { break }
                            index[d] = 0
                            d -= 1
                        }
                    }
                }
            }
        }
        return SafetensorsEntry(dtype: t.storage.dtype, shape: t.shape, data: data)
    }
}
