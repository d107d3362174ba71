// Job-file mistakes: each kind gives an error naming the key (and its line), never a crash or silent default.
import Testing
@testable import Experiment

@Suite struct JobErrorTests {
    func error(_ yaml: String) -> JobFileError? {
        do {
            _ = try JobSpec.parse(yaml: yaml, file: "bad.yaml")
            return nil
        } catch let e as JobFileError {
            return e
        } catch {
            Issue.record("unexpected error type \(error)")
            return nil
        }
    }

    @Test(arguments: [
        // (yaml, key, line, words the message must contain)
        ("name: a\nseeds: [1]\nlanguages: [x]\nmodle: {layers: 2}\n", "modle", 4, "unknown key"),
        ("name: a\nseeds: [1]\nlanguages: [x]\nmodel: {layers: two}\n", "model.layers", 4, "expected an integer"),
        ("name: a\nseeds: [1]\nlanguages: [x]\nmodel:\n  layers: 2\n  hiden: 64\n", "model.hiden", 6, "unknown key"),
        ("name: a\nseeds: [1, x]\nlanguages: [x]\n", "seeds[1]", 2, "expected an integer"),
        ("name: a\nseeds: [1]\nlanguages: [x]\ncompression:\n  - prune: {sparsity: [0.3, 1.5]}\n",
         "compression[0].prune.sparsity[1]", 5, "[0, 1)"),
        ("name: a\nseeds: [1]\nlanguages: [x]\ncompression:\n  - quantize: {scheme: int3}\n",
         "compression[0].quantize.scheme", 5, "dynamic"),
        ("name: a\nseeds: [1]\nlanguages: [x]\ncompression:\n  - shrink: {by: 2}\n", "compression[0].shrink", 5, "unknown key"),
        ("name: a\nseeds: [1]\nlanguages: [x]\ncompression:\n  - distill: {alpha: 0.5}\n", "compression[0].distill", 5, "layers"),
        ("name: a\nseeds: [1]\nlanguages: [x]\nmodel: {hidden: 64, heads: 2}\ncompression:\n  - distill: {layers: 1, heads: [2, 3]}\n",
         "compression", 6, "hidden size 64 is not a multiple of its 3 heads"),
        ("name: a\nseeds: [1]\nlanguages: [x]\ncompression:\n  - prune: {sparsity: 0.5, structure: heads, embeddings: true}\n",
         "compression", 5, "prune.embeddings is for unstructured pruning"),
        ("name: a\nseeds: [1]\nlanguages: [x]\nexecution: {max_attempts: 0}\n", "execution.max_attempts", 4, "1...100"),
        ("name: a\nseeds: [1]\nlanguages: [x]\nmodel: {hidden: 65, heads: 2}\n", "model", 4, "multiple of heads"),
        ("name: a\nseeds: [1]\nlanguages: [x]\ndistill: {debug: yes}\n", "distill", 4, "unknown key"),
        ("name: a\nseeds: [1]\nlanguages: [x]\npretrain: {learning_rate: \"0.1\"}\n", "pretrain.learning_rate", 4, "expected a number"),
        ("name: a\nseeds: [1]\nlanguages: [x]\ncompression: {prune: {sparsity: 0.5}}\n", "compression", 4, "expected a list"),
        ("name: a\nlanguages: [x]\n", "seeds", 0, "missing"),
        ("name: a\nnoop: {tasks: 3, crash: [7]}\n", "noop.crash[0]", 2, "0...2"),
        ("name: a\nnoop: {tasks: 3}\nseeds: [1]\n", "seeds", 3, "noop grid"),
    ] as [(String, String, Int, String)])
    func mistakeNamesKeyAndLine(yaml: String, key: String, line: Int, words: String) throws {
        let e = try #require(error(yaml))
        #expect(e.key == key, "\(e)")
        if line > 0 { #expect(e.line == line, "\(e)") }
        #expect(e.message.contains(words), "\(e)")
        #expect(e.description.hasPrefix("bad.yaml"))
        #expect(e.description.contains(key))
    }

    @Test func brokenYAMLSaysSoWithALine() throws {
        let e = try #require(error("name: a\nseeds: [1\nlanguages: [x]\n"))
        #expect(e.message.contains("not valid YAML"))
        #expect(e.line != nil)
    }

    @Test func duplicateKeyIsAnError() throws {
        let e = try #require(error("name: a\nseeds: [1]\nseeds: [2]\nlanguages: [x]\n"))
        #expect(e.description.contains("seeds"), "\(e)")
    }

    /// The limits counted before expansion: an entry's product of lists, and the whole grid's task bound.
    @Test func gridsPastTheLimitsAreRefusedBeforeTheyExpand() throws {
        // 101 × 100 sparsity/when/structure choices would be 10,100 settings in one entry (limit 10,000).
        let sparsities = (0..<101).map { "0.\(String(format: "%03d", $0 * 9))" }.joined(separator: ", ")
        let epochs = (1...100).map(String.init).joined(separator: ", ")
        let entry = try #require(error("name: a\nseeds: [1]\nlanguages: [x]\ncompression:\n  - prune: {sparsity: [\(sparsities)], finetune_epochs: [\(epochs)]}\n"))
        #expect(entry.description.contains("more than 10000 settings"), "\(entry)")
        #expect(entry.line == 5)
        // 100 seeds × 50 languages × 20 settings: 5,000 cells × (2 + 2 × 20) = 210,000 tasks > 200,000.
        let seeds = (1...100).map(String.init).joined(separator: ", ")
        let languages = (0..<50).map { "l\(String(UnicodeScalar(97 + $0 / 26)!))\(String(UnicodeScalar(97 + $0 % 26)!))" }.joined(separator: ", ")
        let twenty = (1...20).map { "0.\(String(format: "%02d", $0 * 4))" }.joined(separator: ", ")
        let grid = try #require(error("name: a\nseeds: [\(seeds)]\nlanguages: [\(languages)]\ncompression:\n  - prune: {sparsity: [\(twenty)]}\n"))
        #expect(grid.description.contains("100 seeds × 50 languages × 20 settings may plan up to 210000 tasks; at most 200000"), "\(grid)")
        // One setting fewer is within the limit (5,000 × 40 = 200,000) and plans.
        let nineteen = (1...19).map { "0.\(String(format: "%02d", $0 * 4))" }.joined(separator: ", ")
        _ = try JobSpec.parse(yaml: "name: a\nseeds: [\(seeds)]\nlanguages: [\(languages)]\ncompression:\n  - prune: {sparsity: [\(nineteen)]}\n")
    }
}
