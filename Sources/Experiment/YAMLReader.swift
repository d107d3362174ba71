// YAMLReader: strict typed reads from a Yams node tree; every failure is a JobFileError naming key and line.
import Foundation
import Yams

/// One node of the job file with its dotted key path. Reading a mapping checks its keys against the allowed
/// list first, so a typo is reported at its own line rather than silently ignored.
struct YAMLField {
    let node: Node
    let path: String
    let file: String

    func error(_ message: String, at node: Node? = nil) -> JobFileError {
        let mark = (node ?? self.node).mark
        return JobFileError(file: file, line: mark?.line, column: mark?.column, key: path, message: message)
    }

    func child(_ key: String, _ node: Node) -> YAMLField {
        YAMLField(node: node, path: path.isEmpty ? key : "\(path).\(key)", file: file)
    }

    /// The node's text as the user wrote it, quoted, for error messages.
    var shown: String {
        switch node {
        case .scalar(let s): "\"\(s.string)\""
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    /// The mapping's entries, after checking every key is allowed and appears once.
    func mapping(allowed: [String]) throws -> [String: YAMLField] {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping, got \(shown)") }
        var out: [String: YAMLField] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let keyScalar) = keyNode else { throw error("keys must be plain words", at: keyNode) }
            let key = keyScalar.string
            let field = child(key, value)
            guard allowed.contains(key) else {
                throw JobFileError(file: file, line: keyNode.mark?.line, column: keyNode.mark?.column, key: field.path,
                                   message: "unknown key; allowed here: \(allowed.joined(separator: ", "))")
            }
            guard out[key] == nil else {
                throw JobFileError(file: file, line: keyNode.mark?.line, column: keyNode.mark?.column, key: field.path,
                                   message: "key appears twice")
            }
            out[key] = field
        }
        return out
    }

    func sequence() throws -> [YAMLField] {
        guard case .sequence(let seq) = node else { throw error("expected a list, got \(shown)") }
        return seq.enumerated().map { i, n in YAMLField(node: n, path: "\(path)[\(i)]", file: file) }
    }

    /// A list, or a single scalar treated as a one-element list (`seeds: 1` is `seeds: [1]`).
    func scalarOrSequence() throws -> [YAMLField] {
        if case .sequence = node { return try sequence() }
        return [self]
    }

    private var plainScalar: String? {
        guard case .scalar(let s) = node else { return nil }
        return s.style == .plain ? s.string : nil
    }

    func string() throws -> String {
        guard case .scalar(let s) = node else { throw error("expected a string, got \(shown)") }
        return s.string
    }

    func int() throws -> Int {
        guard let text = plainScalar, let value = node.int else { throw error("expected an integer, got \(shown)") }
        _ = text
        return value
    }

    func double() throws -> Double {
        guard plainScalar != nil, let value = node.float, value.isFinite else {
            throw error("expected a number, got \(shown)")
        }
        return value
    }

    func bool() throws -> Bool {
        guard let text = plainScalar, ["true", "false"].contains(text.lowercased()) else {
            throw error("expected true or false, got \(shown)")
        }
        return text.lowercased() == "true"
    }

    func int(in range: ClosedRange<Int>) throws -> Int {
        let v = try int()
        guard range.contains(v) else { throw error("expected an integer in \(range.lowerBound)...\(range.upperBound), got \(v)") }
        return v
    }

    func double(where ok: (Double) -> Bool, _ expectation: String) throws -> Double {
        let v = try double()
        guard ok(v) else { throw error("expected \(expectation), got \(v)") }
        return v
    }

    func word(oneOf choices: [String]) throws -> String {
        let v = try string()
        guard choices.contains(v) else {
            throw error("expected one of \(choices.joined(separator: ", ")), got \"\(v)\"")
        }
        return v
    }
}
