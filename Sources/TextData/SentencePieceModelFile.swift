// A trained SentencePiece model records where it was trained: its TrainerSpec keeps the input files' paths and
// the output prefix. Two runs of the same seeded training in different folders (two run directories, two
// machines) would then write different bytes for the same tokenizer, and every artifact hash after it would
// differ. `removingTrainingPaths` drops those two fields from the serialized ModelProto (protobuf wire format:
// ModelProto.trainer_spec is field 2, TrainerSpec.input field 1 and model_prefix field 2) and keeps every other
// byte as it was; the processor never reads them. Bounds-checked throughout: a malformed file is an error.
import Foundation

package enum SentencePieceModelFile {
    package struct Malformed: Error, CustomStringConvertible {
        package var description: String
    }

    /// The model without TrainerSpec's `input` and `model_prefix`.
    package static func removingTrainingPaths(_ data: Data) throws -> Data {
        let bytes = [UInt8](data)
        var out = Data(capacity: bytes.count)
        try forEachField(bytes, 0..<bytes.count) { field, wireType, whole, payload in
            guard field == 2, wireType == 2 else { out.append(contentsOf: bytes[whole]); return }
            var spec = Data(capacity: payload.count)
            try forEachField(bytes, payload) { inner, innerType, innerWhole, _ in
                if innerType == 2 && (inner == 1 || inner == 2) { return }
                spec.append(contentsOf: bytes[innerWhole])
            }
            appendVarint(&out, UInt64(field << 3 | wireType))
            appendVarint(&out, UInt64(spec.count))
            out.append(spec)
        }
        return out
    }

    /// Rewrites the model file at `path` in place (atomically) without its training paths.
    package static func removeTrainingPaths(atPath path: String) throws {
        let url = URL(fileURLWithPath: path)
        try removingTrainingPaths(try Data(contentsOf: url)).write(to: url, options: .atomic)
    }

    /// Calls `body(field, wireType, wholeRange, payloadRange)` for each field of the message in `range`.
    static func forEachField(_ b: [UInt8], _ range: Range<Int>, _ body: (Int, Int, Range<Int>, Range<Int>) throws -> Void) throws {
        var i = range.lowerBound
        while i < range.upperBound {
            let start = i
            let key = try readVarint(b, &i, end: range.upperBound)
            let wireType = Int(key & 7)
            guard key >> 3 >= 1, key >> 3 <= UInt64(Int32.max) else { throw Malformed(description: "field number \(key >> 3) at byte \(start)") }
            let field = Int(key >> 3)
            let payloadStart: Int, payloadEnd: Int
            switch wireType {
            case 0:
                _ = try readVarint(b, &i, end: range.upperBound)
                payloadStart = start; payloadEnd = i
            case 1, 5:
                let size = wireType == 1 ? 8 : 4
                guard range.upperBound - i >= size else { throw Malformed(description: "a fixed-size field runs past the end at byte \(start)") }
                payloadStart = i; payloadEnd = i + size
            case 2:
                let length = try readVarint(b, &i, end: range.upperBound)
                guard length <= UInt64(range.upperBound - i) else { throw Malformed(description: "a length of \(length) runs past the end at byte \(start)") }
                payloadStart = i; payloadEnd = i + Int(length)
            default:
                throw Malformed(description: "wire type \(wireType) at byte \(start)")
            }
            i = payloadEnd
            try body(field, wireType, start..<payloadEnd, payloadStart..<payloadEnd)
        }
    }

    static func readVarint(_ b: [UInt8], _ i: inout Int, end: Int) throws -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 7) {
            guard i < end else { throw Malformed(description: "a varint runs past the end") }
            let byte = b[i]
            i += 1
            value |= UInt64(byte & 0x7f) << UInt64(shift)
            if byte & 0x80 == 0 { return value }
        }
        throw Malformed(description: "a varint longer than 10 bytes")
    }

    static func appendVarint(_ out: inout Data, _ value: UInt64) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }
}
