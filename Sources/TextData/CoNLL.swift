// CoNLL NER files (`token TAG` per line, a blank line between sentences): a reader strict about what is
// wrong (a line with no token or no tag, a tag outside the label set) and forgiving about what is harmless
// (a UTF-8 BOM, `-DOCSTART-` lines, tabs or several spaces, CRLF, extra middle columns), and a writer.
import Foundation

/// One sentence: its words and one IOB tag per word.
package struct NERSentence: Sendable, Equatable, Hashable {
    package var words: [String]
    package var tags: [String]

    package init(words: [String], tags: [String]) {
        precondition(words.count == tags.count, "a sentence needs one tag per word")
        self.words = words
        self.tags = tags
    }
}

/// A bad line in a CoNLL file, named by file and 1-based line number.
package struct CoNLLError: Error, CustomStringConvertible, Equatable {
    package let file: String
    package let line: Int
    package let problem: String
    package var description: String {
        "\(file):\(line): \(problem) (expected `token TAG` or a blank line; --lenient skips such lines)"
    }
}

/// A line the lenient reader skipped.
package struct SkippedLine: Sendable, Equatable {
    package let line: Int
    package let problem: String
}

package struct CoNLLDocument: Sendable {
    package var sentences: [NERSentence]
    /// Lines skipped in lenient mode (always empty in strict mode).
    package var skipped: [SkippedLine]
    package var tokenCount: Int { sentences.reduce(0) { $0 + $1.words.count } }

    /// A one-line warning for the skipped lines, nil when none were skipped.
    package func warning(file: String) -> String? {
        guard let first = skipped.first else { return nil }
        return "warning: \(file): skipped \(skipped.count) malformed line(s), first at line \(first.line): \(first.problem)"
    }
}

package enum CoNLL {
    /// Reads a file. `labels` nil accepts any well-formed IOB tag (`O`, `B-X`, `I-X`); otherwise tags must be in it.
    package static func read(contentsOf url: URL, labels: LabelSet? = .masakhaNER, lenient: Bool = false) throws -> CoNLLDocument {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CoNLLError(file: url.path, line: 0, problem: "cannot read the file: \(error.localizedDescription)")
        }
        guard String(data: data, encoding: .utf8) != nil else {
            throw CoNLLError(file: url.path, line: 0, problem: "the file is not valid UTF-8")
        }
        return try data.withUnsafeBytes {
            try parse(bytes: $0.bindMemory(to: UInt8.self), file: url.path, labels: labels, lenient: lenient)
        }
    }

    /// Parses CoNLL text; `file` only names the source in errors.
    package static func parse(_ text: String, file: String, labels: LabelSet? = .masakhaNER, lenient: Bool = false) throws -> CoNLLDocument {
        var text = text
        return try text.withUTF8 { try parse(bytes: $0, file: file, labels: labels, lenient: lenient) }
    }

    /// The parser works on UTF-8 bytes (every separator is ASCII, so no multi-byte character is ever split; a token
    /// that begins with a combining mark stays whole).
    static func parse(bytes: UnsafeBufferPointer<UInt8>, file: String, labels: LabelSet?, lenient: Bool) throws -> CoNLLDocument {
        var sentences: [NERSentence] = []
        var skipped: [SkippedLine] = []
        var words: [String] = [], tags: [String] = []
        func flush() {
            if !words.isEmpty { sentences.append(NERSentence(words: words, tags: tags)) }
            words.removeAll(keepingCapacity: true)
            tags.removeAll(keepingCapacity: true)
        }
        var lineNumber = 0
        var position = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }  // UTF-8 BOM
        var fields: [Range<Int>] = []
        while position < bytes.count || (position == bytes.count && lineNumber == 0) {
            lineNumber += 1
            var lineEnd = position
            while lineEnd < bytes.count, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            let next = lineEnd + 1
            if lineEnd > position, bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            fields.removeAll(keepingCapacity: true)
            var i = position
            while i < lineEnd {
                while i < lineEnd, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
                let start = i
                while i < lineEnd, bytes[i] != 0x20, bytes[i] != 0x09 { i += 1 }
                if i > start { fields.append(start..<i) }
            }
            let startsBlank = lineEnd > position && (bytes[position] == 0x20 || bytes[position] == 0x09)
            position = next
            func string(_ r: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[r]), as: UTF8.self) }
            if fields.isEmpty { flush(); continue }
            let first = string(fields[0])
            if first == "-DOCSTART-" { flush(); continue }
            var problem: String?
            var tag = ""
            if fields.count == 1 {
                problem = startsBlank ? "a tag `\(first)` with no token before it" : "a token `\(first)` with no tag after it"
            } else {
                tag = string(fields[fields.count - 1])
                if let labels {
                    if labels.id(of: tag) == nil {
                        problem = "tag `\(tag)` is not in the label set (\(labels.labels.joined(separator: " ")))"
                    }
                } else if !LabelSet.isWellFormedIOB(tag) {
                    problem = "tag `\(tag)` is not an IOB tag (O, B-TYPE or I-TYPE)"
                }
            }
            if let problem {
                if lenient { skipped.append(SkippedLine(line: lineNumber, problem: problem)); continue }
                throw CoNLLError(file: file, line: lineNumber, problem: problem)
            }
            words.append(first)
            tags.append(tag)
        }
        flush()
        return CoNLLDocument(sentences: sentences, skipped: skipped)
    }

    /// Writes sentences as `token TAG` lines, one blank line after each sentence (MasakhaNER's layout).
    package static func format(_ sentences: [NERSentence]) -> String {
        var out = ""
        for sentence in sentences {
            for (word, tag) in zip(sentence.words, sentence.tags) {
                precondition(!word.isEmpty && !word.contains(where: { $0 == " " || $0 == "\t" || $0 == "\n" }),
                             "a CoNLL token cannot be empty or hold whitespace: \(word.debugDescription)")
                out += word + " " + tag + "\n"
            }
            out += "\n"
        }
        return out
    }

    package static func write(_ sentences: [NERSentence], to url: URL) throws {
        try format(sentences).write(to: url, atomically: true, encoding: .utf8)
    }
}
