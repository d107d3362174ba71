// safetensors with integer tensors (I8, U8, I32) beside F32: the one writer for mixed dtypes (quantized
// checkpoints, sparse bitmask + values checkpoints) and typed readers that check the dtype instead of converting.
import Foundation

/// A tensor to write: its dtype, shape and raw little-endian bytes.
package struct SafetensorsTensor {
    package let name: String
    package let dtype: SafetensorsDType
    package let shape: [Int]
    package let bytes: Data

    package init(name: String, dtype: SafetensorsDType, shape: [Int], bytes: Data) {
        precondition(shape.reduce(1, *) * dtype.byteSize == bytes.count,
                     "SafetensorsTensor \(name): shape \(shape) × \(dtype.rawValue) ≠ \(bytes.count) bytes")
        self.name = name; self.dtype = dtype; self.shape = shape; self.bytes = bytes
    }

    /// An F32 tensor from floats, stored little-endian (safetensors' byte order) on any host.
    package static func f32(_ name: String, _ shape: [Int], _ values: UnsafeBufferPointer<Float>) -> SafetensorsTensor {
        #if _endian(little)
        SafetensorsTensor(name: name, dtype: .F32, shape: shape, bytes: Data(buffer: values))
        #else
        var data = Data(capacity: values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return SafetensorsTensor(name: name, dtype: .F32, shape: shape, bytes: data)
        #endif
    }
    package static func f32(_ name: String, _ shape: [Int], _ values: [Float]) -> SafetensorsTensor {
        values.withUnsafeBufferPointer { f32(name, shape, $0) }
    }
    package static func i8(_ name: String, _ shape: [Int], _ values: [Int8]) -> SafetensorsTensor {
        SafetensorsTensor(name: name, dtype: .I8, shape: shape, bytes: values.withUnsafeBufferPointer { Data(buffer: $0) })
    }
    package static func u8(_ name: String, _ shape: [Int], _ values: [UInt8]) -> SafetensorsTensor {
        SafetensorsTensor(name: name, dtype: .U8, shape: shape, bytes: Data(values))
    }
}

extension Safetensors {
    /// Serialises tensors of any dtype in the given order.
    package static func serialize(_ tensors: [SafetensorsTensor], metadata: [String: String] = [:]) -> Data {
        var out = header(tensors.map { ($0.name, $0.dtype, $0.shape, $0.bytes.count) }, metadata: metadata,
                         dataCapacity: tensors.reduce(0) { $0 + $1.bytes.count })
        for t in tensors { out.append(t.bytes) }
        return out
    }

    /// Writes tensors of any dtype to `url` atomically.
    package static func write(_ tensors: [SafetensorsTensor], metadata: [String: String] = [:], to url: URL) throws {
        do { try serialize(tensors, metadata: metadata).write(to: url, options: .atomic) } catch {
            throw SafetensorsError(file: url.path, problem: "cannot be written (\(error.localizedDescription))")
        }
    }
}

extension SafetensorsEntry {
    /// The values of an I8 tensor; any other dtype throws naming `name`, `file` and the dtype found.
    package func int8s(_ name: String, file: String) throws -> [Int8] {
        guard dtype == .I8 else { throw SafetensorsError(file: file, problem: "tensor \(name) is \(dtype.rawValue), expected I8") }
        return data.withUnsafeBytes { Array($0.bindMemory(to: Int8.self)) }
    }
    /// The values of a U8 tensor; any other dtype throws.
    package func uint8s(_ name: String, file: String) throws -> [UInt8] {
        guard dtype == .U8 else { throw SafetensorsError(file: file, problem: "tensor \(name) is \(dtype.rawValue), expected U8") }
        return [UInt8](data)
    }
    /// The values of an F32 tensor; any other dtype throws (no silent conversion of integer codes).
    package func float32s(_ name: String, file: String) throws -> [Float] {
        guard dtype == .F32 else { throw SafetensorsError(file: file, problem: "tensor \(name) is \(dtype.rawValue), expected F32") }
        return floats()
    }
}
