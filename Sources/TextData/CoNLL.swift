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
        guard let text = String(data: data, encoding: .utf8) else {
            throw CoNLLError(file: url.path, line: 0, problem: "the file is not valid UTF-8")
        }
        return try parse(text, file: url.path, labels: labels, lenient: lenient)
    }

    /// Parses CoNLL text; `file` only names the source in errors.
    package static func parse(_ text: String, file: String, labels: LabelSet? = .masakhaNER, lenient: Bool = false) throws -> CoNLLDocument {
        var sentences: [NERSentence] = []
        var skipped: [SkippedLine] = []
        var words: [String] = [], tags: [String] = []
        func flush() {
            if !words.isEmpty { sentences.append(NERSentence(words: words, tags: tags)) }
            words.removeAll(keepingCapacity: true)
            tags.removeAll(keepingCapacity: true)
        }
        var lineNumber = 0
        // Split by Unicode scalars, not Characters: a token may begin with a combining mark, which would
        // otherwise fuse with the space before it into one Character.
        for rawLine in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = rawLine
            if lineNumber == 1, line.first == "\u{FEFF}" { line = line.dropFirst() }
            if line.last == "\r" { line = line.dropLast() }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { String(String.UnicodeScalarView($0)) }
            if fields.isEmpty { flush(); continue }
            if fields[0] == "-DOCSTART-" { flush(); continue }
            var problem: String?
            if fields.count == 1 {
                let startsBlank = line.first == " " || line.first == "\t"
                problem = startsBlank ? "a tag `\(fields[0])` with no token before it" : "a token `\(fields[0])` with no tag after it"
            } else {
                let tag = fields[fields.count - 1]
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
            words.append(fields[0])
            tags.append(fields[fields.count - 1])
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
