// JSONWriter: the one JSON writer for `Value`, compact with object keys sorted by their UTF-8 bytes, under one of
// two number policies (task ids hash the canonical form; result records use the record form). Codable outputs
// (status, reports, bench numbers) go through `JSONWriter.encoder`, which follows the record policy too.
import Foundation

/// How numbers are written. JSON has no NaN or infinity, and does not tell 1.0 from 1.
package enum JSONNumberPolicy: Sendable {
    /// For hashing (task ids; `Value.canonicalJSON`): an integral double within ±2^53 is written as an integer,
    /// so a spec hashes the same after a trip through JSON; NaN and ±infinity are written as `null`. Never
    /// change it: every task id in every journal depends on these bytes.
    case canonical
    /// For result records (the journal, `results.jsonl`) and the CLI: every double in Swift's shortest
    /// round-trip form (1.0 stays `1.0`); NaN and ±infinity as the strings "NaN", "Infinity", "-Infinity", so a
    /// metric stays readable (it decodes back as a `Value.string`).
    case record
}

package struct JSONWriter: Sendable {
    package let numbers: JSONNumberPolicy

    package init(_ numbers: JSONNumberPolicy) { self.numbers = numbers }

    /// The value as one compact JSON text.
    package func json(_ v: Value) -> String {
        var out = ""
        value(v, into: &out)
        return out
    }

    package func value(_ v: Value, into out: inout String) {
        switch v {
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): double(d, into: &out)
        case .string(let s): Self.string(s, into: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                value(item, into: &out)
            }
            out += "]"
        case .object(let dict): object(dict, into: &out)
        }
    }

    /// An object with its keys in UTF-8 byte order (the canonical order; for records it only has to be stable).
    package func object(_ dict: [String: Value], into out: inout String) {
        out += "{"
        for (i, key) in dict.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
            if i > 0 { out += "," }
            Self.string(key, into: &out)
            out += ":"
            value(dict[key]!, into: &out)
        }
        out += "}"
    }

    package func double(_ d: Double, into out: inout String) {
        switch numbers {
        case .canonical:
            if !d.isFinite { out += "null" } else if let i = Value.exactInt(d) { out += String(i) } else { out += d.description }
        case .record:
            if d.isNaN { out += "\"NaN\"" } else if d.isInfinite { out += d < 0 ? "\"-Infinity\"" : "\"Infinity\"" } else { out += d.description }
        }
    }

    /// The encoder for Codable outputs: keys sorted, slashes unescaped, and the record policy's strings for
    /// non-finite doubles (Foundation's default throws on them).
    package static func encoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return encoder
    }

    /// The decoder that reads what `encoder` writes (the record policy's strings back into non-finite doubles).
    package static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return decoder
    }

    /// A Codable value as text (see `encoder`).
    package static func text<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
        String(decoding: try encoder(pretty: pretty).encode(value), as: UTF8.self)
    }

    static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// A JSON string: `"` and `\` escaped, \n \r \t by name, other control characters as \u00XX; everything else
    /// as is (UTF-8).
    package static func string(_ s: String, into out: inout String) {
        // Fast path: nothing to escape (identifiers, digests, hosts, metric names).
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C }) {
            out += "\""; out += s; out += "\""
            return
        }
        var bytes: [UInt8] = [0x22]
        for b in s.utf8 {
            switch b {
            case 0x22: bytes += [0x5C, 0x22]
            case 0x5C: bytes += [0x5C, 0x5C]
            case 0x0A: bytes += [0x5C, 0x6E]
            case 0x0D: bytes += [0x5C, 0x72]
            case 0x09: bytes += [0x5C, 0x74]
            case 0..<0x20: bytes += [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 15)]]
            default: bytes.append(b)
            }
        }
        bytes.append(0x22)
        out += String(decoding: bytes, as: UTF8.self)
    }
}
