// `smaller score --gold G --pred P`: entity precision/recall/F1 exactly as seqeval, per type, and token accuracy.
import ArgumentParser
import Evaluation
import Experiment
import Foundation
import TextData

extension ChunkMode: ExpressibleByArgument {}

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score predicted NER tags against gold tags (CoNLL files), as seqeval does.")

    @Option(help: "Gold CoNLL file (token TAG per line, blank line between sentences).")
    var gold: String

    @Option(help: "Predicted CoNLL file with the same sentences and tokens.")
    var pred: String

    @Option(help: "default: seqeval's conlleval-compatible chunks (a stray I- starts one); strict: IOB2 as seqeval mode=\"strict\".")
    var mode: ChunkMode = .default

    @Flag(help: "Print JSON: precision, recall, f1 (micro), per_type {precision, recall, f1, support}, token_accuracy.")
    var json = false

    @Flag(help: "Skip malformed lines (counted in a warning) instead of failing.")
    var lenient = false

    func run() throws {
        let goldDoc = try CoNLL.read(contentsOf: URL(fileURLWithPath: gold), labels: nil, lenient: lenient)
        let predDoc = try CoNLL.read(contentsOf: URL(fileURLWithPath: pred), labels: nil, lenient: lenient)
        for (doc, path) in [(goldDoc, gold), (predDoc, pred)] {
            if let warning = doc.warning(file: path) { printErr(warning) }
        }
        if let mismatch = EntityF1.firstMismatch(gold: goldDoc.sentences.map(\.words.count), predicted: predDoc.sentences.map(\.words.count)) {
            throw ScoringError(message: "\(pred) does not match \(gold): \(mismatch)")
        }
        for (s, (g, p)) in zip(goldDoc.sentences, predDoc.sentences).enumerated() where g.words != p.words {
            let k = zip(g.words, p.words).enumerated().first { $0.element.0 != $0.element.1 }!.offset
            printErr("warning: sentence \(s + 1), token \(k + 1) differs: \(g.words[k]) in gold, \(p.words[k]) in predictions")
            break
        }
        let scores = try EntityF1.score(gold: goldDoc.sentences.map(\.tags), predicted: predDoc.sentences.map(\.tags), mode: mode)
        if json {
            print(try JSONWriter.text(scores, pretty: true))
        } else {
            print("mode \(mode.rawValue): precision \(format(scores.precision))  recall \(format(scores.recall))  "
                  + "f1 \(format(scores.f1))  token accuracy \(format(scores.tokenAccuracy))")
            print("type   precision  recall     f1         support")
            for (type, t) in scores.perType.sorted(by: { $0.key < $1.key }) {
                print("\(type.padding(toLength: 6, withPad: " ", startingAt: 0)) \(format(t.precision))  \(format(t.recall))  \(format(t.f1))  \(t.support)")
            }
        }
    }

    func format(_ x: Double) -> String { String(format: "%.6f", x) }
}
