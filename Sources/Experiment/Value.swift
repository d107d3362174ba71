// Value: a JSON-shaped value (the open part of specs and results) with one canonical byte form for hashing.
import Foundation

/// A JSON-shaped value. Task parameters and result metrics are open dictionaries of these, so a spec or a
/// record can grow without a schema change; `canonicalJSON` is the one byte form that task ids hash.
package enum Value: Sendable {
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([Value])
    case object([String: Value])

    package var doubleValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    package var intValue: Int? { if case .int(let i) = self { i } else { nil } }
    package var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    package var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    package var objectValue: [String: Value]? { if case .object(let o) = self { o } else { nil } }
    package var arrayValue: [Value]? { if case .array(let a) = self { a } else { nil } }

    package subscript(key: String) -> Value? { objectValue?[key] }

    /// Canonical JSON: compact, object keys sorted by their UTF-8 bytes, integral doubles as integers, NaN and
    /// infinities as null (`JSONNumberPolicy.canonical`): the one byte form that task ids hash.
    package var canonicalJSON: String { JSONWriter(.canonical).json(self) }
}

extension Value: Hashable {
    /// An integral double within ±2^53 as an Int (the numbers JSON cannot tell from integers).
    static func exactInt(_ d: Double) -> Int? {
        guard d.isFinite, d == d.rounded(), abs(d) < 9_007_199_254_740_992 else { return nil }
        return Int(d)
    }

    /// Numbers compare by value (`.int(1) == .double(1.0)`), as they do after a JSON round trip.
    package static func == (a: Value, b: Value) -> Bool {
        switch (a, b) {
        case (.bool(let x), .bool(let y)): x == y
        case (.int(let x), .int(let y)): x == y
        case (.double(let x), .double(let y)): x == y
        case (.int(let x), .double(let y)), (.double(let y), .int(let x)): Double(x) == y && exactInt(y) == x
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x == y
        default: false
        }
    }

    package func hash(into hasher: inout Hasher) {
        switch self {
        case .bool(let b): hasher.combine(0); hasher.combine(b)
        case .int(let i): hasher.combine(1); hasher.combine(i)
        case .double(let d):
            if let i = Value.exactInt(d) { hasher.combine(1); hasher.combine(i) } else { hasher.combine(2); hasher.combine(d) }
        case .string(let s): hasher.combine(3); hasher.combine(s)
        case .array(let a): hasher.combine(4); hasher.combine(a)
        case .object(let o): hasher.combine(5); hasher.combine(o)
        }
    }
}

extension Value: Codable {
    package init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        // Most likely first: every failed try builds a DecodingError, which dominated decoding a task spec.
        // JSON numbers never decode as Bool nor `true` as a number, so the order does not change the result.
        if let i = try? c.decode(Int.self) { self = .int(i); return }
        if let d = try? c.decode(Double.self) { self = .double(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let a = try? c.decode([Value].self) { self = .array(a); return }
        if let o = try? c.decode([String: Value].self) { self = .object(o); return }
        throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a JSON value (null is not allowed)")
    }

    package func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

extension Value: CustomStringConvertible {
    /// Short human form used in setting labels: 0.5, before, [1, 2].
    package var description: String {
        switch self {
        case .bool(let b): String(b)
        case .int(let i): String(i)
        case .double(let d): "\(d)"
        case .string(let s): s
        case .array(let a): "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .object: canonicalJSON
        }
    }
}
