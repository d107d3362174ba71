// safetensors read/write: an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
// shape and byte range, then the raw little-endian data. The reader validates everything before use.
import Foundation

/// What can go wrong reading or writing a safetensors file; every case names the file and the problem.
package struct SafetensorsError: Error, CustomStringConvertible, Equatable {
    package let file: String
    package let problem: String
    package var description: String { "safetensors file \(file): \(problem)" }
}

/// The element types we understand. Float tensors load as F32; integer tensors are kept as raw bytes.
package enum SafetensorsDType: String, Sendable, CaseIterable {
    case F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL
    package var byteSize: Int {
        switch self {
        case .F64, .I64: 8
        case .F32, .I32: 4
        case .F16, .BF16, .I16: 2
        case .I8, .U8, .BOOL: 1
        }
    }
}

/// One tensor as read from a file: dtype, shape and its raw bytes.
package struct SafetensorsEntry: Sendable {
    package let dtype: SafetensorsDType
    package let shape: [Int]
    package let data: Data

    /// The values as Float (F32, F16, BF16 and F64 convert; integer types are cast).
    package func floats() -> [Float] {
        let n = shape.reduce(1, *)
        var out = [Float](repeating: 0, count: n)
        data.withUnsafeBytes { raw in
            for i in 0..<n {
                switch dtype {
                case .F32: out[i] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self).littleEndian)
                case .F64: out[i] = Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self).littleEndian))
                case .BF16:
                    let bits = UInt32(raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self).littleEndian) << 16
                    out[i] = Float(bitPattern: bits)
                case .F16:
                    #if arch(x86_64) || arch(arm64)
                    out[i] = Float(Float16(bitPattern: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self).littleEndian))
                    #endif
                case .I64: out[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))
                case .I32: out[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
                case .I16: out[i] = Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)))
                case .I8: out[i] = Float(raw.load(fromByteOffset: i, as: Int8.self))
                case .U8, .BOOL: out[i] = Float(raw.load(fromByteOffset: i, as: UInt8.self))
                }
            }
        }
        return out
    }
}

package enum Safetensors {
    /// Headers larger than this are refused (the format's reference implementation uses 100 MB).
    static let maxHeaderBytes = 100_000_000

    /// Reads and validates a whole file: header length in range, JSON well-formed, dtypes known,
    /// shapes non-negative, byte ranges matching shape × dtype, inside the data, and not overlapping.
    package static func read(_ url: URL) throws -> (tensors: [String: SafetensorsEntry], metadata: [String: String]) {
        let name = url.path
        let bytes: Data
        do { bytes = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw SafetensorsError(file: name, problem: "cannot be read (\(error.localizedDescription))")
        }
        return try parse(bytes, file: name)
    }

    package static func parse(_ bytes: Data, file name: String) throws -> (tensors: [String: SafetensorsEntry], metadata: [String: String]) {
        func fail(_ p: String) -> SafetensorsError { SafetensorsError(file: name, problem: p) }
        guard bytes.count >= 8 else { throw fail("truncated: \(bytes.count) bytes, fewer than the 8-byte header length") }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[bytes.startIndex + i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(maxHeaderBytes) else { throw fail("header length \(headerLength) exceeds \(maxHeaderBytes) bytes") }
        guard 8 + Int(headerLength) <= bytes.count else {
            throw fail("truncated: header says \(headerLength) bytes but only \(bytes.count - 8) follow")
        }
        let headerData = bytes.subdata(in: (bytes.startIndex + 8)..<(bytes.startIndex + 8 + Int(headerLength)))
        guard let object = try? JSONSerialization.jsonObject(with: headerData), let header = object as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        let dataStart = 8 + Int(headerLength)
        let dataLength = bytes.count - dataStart
        var metadata: [String: String] = [:]
        var ranges: [(String, Int, Int)] = []
        var tensors: [String: SafetensorsEntry] = [:]
        for (key, value) in header {
            if key == "__metadata__" {
                guard let m = value as? [String: Any] else { throw fail("__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw fail("__metadata__ value for \(k) is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any] else { throw fail("entry \(key) is not an object") }
            guard let dtypeName = info["dtype"] as? String else { throw fail("tensor \(key) has no dtype") }
            guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
                throw fail("tensor \(key) has unknown dtype \(dtypeName) (expected one of \(SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let shapeAny = info["shape"] as? [Any] else { throw fail("tensor \(key) has no shape") }
            var shape: [Int] = []
            var elements = 1
            for d in shapeAny {
                guard let n = (d as? NSNumber)?.intValue, n >= 0, n < (1 << 40) else {
                    throw fail("tensor \(key) has an invalid shape \(shapeAny)")
                }
                shape.append(n)
                let (product, overflow) = elements.multipliedReportingOverflow(by: n)
                guard !overflow, product < (1 << 46) else { throw fail("tensor \(key) shape \(shape) is too large") }
                elements = product
            }
            guard let offsets = info["data_offsets"] as? [Any], offsets.count == 2,
                  let begin = (offsets[0] as? NSNumber)?.intValue, let end = (offsets[1] as? NSNumber)?.intValue else {
                throw fail("tensor \(key) has no valid data_offsets [begin, end]")
            }
            guard begin >= 0, begin <= end, end <= dataLength else {
                throw fail("tensor \(key) data_offsets [\(begin), \(end)] outside the \(dataLength) data bytes (file truncated?)")
            }
            guard end - begin == elements * dtype.byteSize else {
                throw fail("tensor \(key) has \(end - begin) bytes but shape \(shape) × \(dtype.rawValue) needs \(elements * dtype.byteSize)")
            }
            ranges.append((key, begin, end))
            let slice = bytes.subdata(in: (bytes.startIndex + dataStart + begin)..<(bytes.startIndex + dataStart + end))
            tensors[key] = SafetensorsEntry(dtype: dtype, shape: shape, data: slice)
        }
        ranges.sort { $0.1 != $1.1 ? $0.1 < $1.1 : $0.2 < $1.2 }
        for i in ranges.indices.dropFirst() where ranges[i].1 < ranges[i - 1].2 {
            throw fail("tensors \(ranges[i - 1].0) and \(ranges[i].0) overlap")
        }
        return (tensors, metadata)
    }

    /// The 8-byte length and the JSON header for tensors laid out back to back in the given order, padded so
    /// the data starts 8-byte aligned, as the Python library writes it. Every writer goes through here.
    package static func header(_ entries: [(name: String, dtype: SafetensorsDType, shape: [Int], byteCount: Int)],
                               metadata: [String: String], dataCapacity: Int = 0) -> Data {
        var fields: [String] = []
        var offset = 0
        for e in entries {
            fields.append("\(jsonString(e.name)):{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(e.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + e.byteCount)]}")
            offset += e.byteCount
        }
        if !metadata.isEmpty {
            let m = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }.joined(separator: ",")
            fields.insert("\"__metadata__\":{\(m)}", at: 0)
        }
        var json = Array("{\(fields.joined(separator: ","))}".utf8)
        while (8 + json.count) % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var out = Data(capacity: 8 + json.count + dataCapacity)
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        return out
    }

    /// Serialises F32 tensors in the given order.
    package static func serialize(_ tensors: [(name: String, shape: [Int], values: UnsafeBufferPointer<Float>)],
                                  metadata: [String: String] = [:]) -> Data {
        for t in tensors {
            precondition(t.shape.reduce(1, *) == t.values.count, "serialize: \(t.name) shape \(t.shape) ≠ \(t.values.count) values")
        }
        var out = header(tensors.map { ($0.name, .F32, $0.shape, $0.values.count * 4) }, metadata: metadata,
                         dataCapacity: tensors.reduce(0) { $0 + $1.values.count * 4 })
        for t in tensors {
            #if _endian(little)
            out.append(UnsafeBufferPointer(start: t.values.baseAddress, count: t.values.count))
            #else
            for v in t.values { var b = v.bitPattern.littleEndian; withUnsafeBytes(of: &b) { out.append(contentsOf: $0) } }
            #endif
        }
        return out
    }

    /// Writes F32 tensors to `url` atomically.
    package static func write(_ tensors: [(name: String, shape: [Int], values: UnsafeBufferPointer<Float>)],
                              metadata: [String: String] = [:], to url: URL) throws {
        do { try serialize(tensors, metadata: metadata).write(to: url, options: .atomic) } catch {
            throw SafetensorsError(file: url.path, problem: "cannot be written (\(error.localizedDescription))")
        }
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
