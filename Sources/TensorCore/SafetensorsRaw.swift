// Writing safetensors files whose tensors are given as raw little-endian bytes of any dtype (U8 bitmasks
// beside F32 values, for example), with the same header layout as `Safetensors.serialize`.
import Foundation

/// One tensor to write: dtype, shape and exactly shape × dtype size bytes.
package struct RawTensor: Sendable {
    package let name: String
    package let dtype: SafetensorsDType
    package let shape: [Int]
    package let bytes: Data

    /// Throws when the byte count does not match shape × dtype size.
    package init(name: String, dtype: SafetensorsDType, shape: [Int], bytes: Data) throws {
        let expected = shape.reduce(1, *) * dtype.byteSize
        guard shape.allSatisfy({ $0 >= 0 }), bytes.count == expected else {
            throw SafetensorsError(file: name, problem: "tensor \(name) has \(bytes.count) bytes, shape \(shape) × \(dtype.rawValue) needs \(expected)")
        }
        self.name = name; self.dtype = dtype; self.shape = shape; self.bytes = bytes
    }

    /// An F32 tensor from floats (little-endian).
    package init(name: String, shape: [Int], floats: UnsafeBufferPointer<Float>) throws {
        var data = Data(capacity: floats.count * 4)
        #if _endian(little)
        data.append(floats)
        #else
        for v in floats { var b = v.bitPattern.littleEndian; withUnsafeBytes(of: &b) { data.append(contentsOf: $0) } }
        #endif
        try self.init(name: name, dtype: .F32, shape: shape, bytes: data)
    }
}

extension Safetensors {
    /// Serialises raw tensors in the given order (the same layout as every other writer, `Safetensors.header`).
    package static func serialize(raw tensors: [RawTensor], metadata: [String: String] = [:]) -> Data {
        var out = header(tensors.map { ($0.name, $0.dtype, $0.shape, $0.bytes.count) }, metadata: metadata,
                         dataCapacity: tensors.reduce(0) { $0 + $1.bytes.count })
        for t in tensors { out.append(t.bytes) }
        return out
    }

    /// Writes raw tensors to `url` atomically.
    package static func write(raw tensors: [RawTensor], metadata: [String: String] = [:], to url: URL) throws {
        do { try serialize(raw: tensors, metadata: metadata).write(to: url, options: .atomic) } catch {
            throw SafetensorsError(file: url.path, problem: "cannot be written (\(error.localizedDescription))")
        }
    }
}
