// `finetune.mention_replacement` and `evaluation.decode`: at their defaults they stay out of every task id; set,
// they change the fine-tune and compress tasks and never a pretraining; bad values are refused naming the key.
// `finetune.singleton_unk` behaves as mention replacement does. `model.word_shape` and `model.char_ngrams` likewise
// stay out at their defaults, and set they change every task, pretraining included.
import Testing
@testable import Experiment

@Suite struct RecipeOptionsTests {
    static func ids(_ extra: String) throws -> [TaskKind: [String]] {
        try EvaluationSettingsTests.ids(EvaluationSettingsTests.job(extra))
    }

    @Test func defaultsKeepTheIds() throws {
        let plain = try Self.ids("")
        #expect(try Self.ids("finetune: {mention_replacement: 0}") == plain)
        #expect(try Self.ids("finetune: {singleton_unk: 0}") == plain)
        #expect(try Self.ids("model: {char_ngrams: 0}") == plain)
        #expect(try Self.ids("pretrain: {ngram_vectors: 0}") == plain)
        #expect(try Self.ids("model: {dropout: 0.1}") == plain)
        #expect(try Self.ids("evaluation: {decode: argmax}") == plain)
        let finetune = try #require(try JobSpec.parse(yaml: EvaluationSettingsTests.job("")).plan().tasks.first { $0.spec.kind == .finetune })
        let s = try TaskSettings(finetune.spec)
        #expect(s.finetune?.mentionReplacement == 0 && s.evaluation.decode == "argmax")
        #expect(s.finetune?.singletonUnk == 0 && s.model.charNgrams == 0)
    }

    @Test func singletonUnkChangesFinetuneAndCompressOnly() throws {
        let plain = try Self.ids(""), set = try Self.ids("finetune: {singleton_unk: 0.5}")
        #expect(set[.pretrain] == plain[.pretrain])
        #expect(Set(set[.finetune]!).isDisjoint(with: plain[.finetune]!) && Set(set[.compress]!).isDisjoint(with: plain[.compress]!))
        for task in try JobSpec.parse(yaml: EvaluationSettingsTests.job("finetune: {singleton_unk: 0.5}")).plan().tasks where task.spec.kind == .finetune {
            #expect(try TaskSettings(task.spec).finetune?.singletonUnk == 0.5)
        }
    }

    @Test func charNgramsReachEveryTaskSet() throws {
        let plain = try Self.ids(""), set = try Self.ids("model: {char_ngrams: 4096}")
        for kind in [TaskKind.pretrain, .finetune, .compress] {
            #expect(Set(set[kind]!).isDisjoint(with: plain[kind]!), "\(kind)")
        }
        for task in try JobSpec.parse(yaml: EvaluationSettingsTests.job("model: {char_ngrams: 4096}")).plan().tasks {
            #expect(try TaskSettings(task.spec).model.charNgrams == 4096, "\(task.spec.kind)")
        }
        // Dropout changes the model created by the pretraining, and so every task.
        let dropout = try Self.ids("model: {dropout: 0.3}")
        for kind in [TaskKind.pretrain, .finetune, .compress] {
            #expect(Set(dropout[kind]!).isDisjoint(with: plain[kind]!), "\(kind)")
        }
        // N-gram vectors from the text change the pretraining, and so every task after it.
        let vectors = try Self.ids("model: {char_ngrams: 4096}\npretrain: {ngram_vectors: 5}")
        for kind in [TaskKind.pretrain, .finetune, .compress] {
            #expect(Set(vectors[kind]!).isDisjoint(with: set[kind]!), "\(kind)")
        }
    }

    @Test(arguments: ["finetune: {mention_replacement: 0.5}", "evaluation: {decode: bio}"])
    func aSetValueChangesFinetuneAndCompressOnly(line: String) throws {
        let plain = try Self.ids(""), set = try Self.ids(line)
        #expect(set[.pretrain] == plain[.pretrain])
        #expect(Set(set[.finetune]!).isDisjoint(with: plain[.finetune]!) && Set(set[.compress]!).isDisjoint(with: plain[.compress]!))
        let graph = try JobSpec.parse(yaml: EvaluationSettingsTests.job(line)).plan()
        for task in graph.tasks where task.spec.kind == .finetune {
            let s = try TaskSettings(task.spec)
            #expect(s.finetune?.mentionReplacement == (line.contains("0.5") ? 0.5 : 0))
            #expect(s.evaluation.decode == (line.contains("bio") ? "bio" : "argmax"))
        }
    }

    @Test func decodingByTransitionsChangesFinetuneAndCompressOnly() throws {
        let plain = try Self.ids(""), bio = try Self.ids("evaluation: {decode: bio}"), set = try Self.ids("evaluation: {decode: transitions}")
        #expect(set[.pretrain] == plain[.pretrain])
        for kind in [TaskKind.finetune, .compress] {
            #expect(Set(set[kind]!).isDisjoint(with: plain[kind]!) && Set(set[kind]!).isDisjoint(with: bio[kind]!), "\(kind)")
        }
        for task in try JobSpec.parse(yaml: EvaluationSettingsTests.job("evaluation: {decode: transitions}")).plan().tasks where task.spec.kind != .pretrain {
            #expect(try TaskSettings(task.spec).evaluation.decode == "transitions")
        }
    }

    @Test func wordShapeIsOutOfTheIdsAtItsDefaultAndReachesEveryTaskSet() throws {
        let plain = try Self.ids("")
        #expect(try Self.ids("model: {word_shape: false}") == plain)
        let set = try Self.ids("model: {word_shape: true}")
        for kind in [TaskKind.pretrain, .finetune, .compress] {
            #expect(Set(set[kind]!).isDisjoint(with: plain[kind]!), "\(kind)")
        }
        for (line, expected) in [("", false), ("model: {word_shape: true}", true)] {
            for task in try JobSpec.parse(yaml: EvaluationSettingsTests.job(line)).plan().tasks {
                #expect(try TaskSettings(task.spec).model.wordShape == expected, "\(task.spec.kind)")
            }
        }
    }

    @Test(arguments: [("finetune: {mention_replacement: 1.5}", "finetune.mention_replacement"),
                      ("finetune: {mention_replacement: -0.1}", "a probability in [0, 1]"),
                      ("evaluation: {decode: crf}", "expected one of argmax, bio"),
                      ("model: {word_shape: 1}", "model.word_shape"),
                      ("finetune: {singleton_unk: 2}", "finetune.singleton_unk"),
                      ("model: {char_ngrams: -1}", "model.char_ngrams"),
                      ("model: {char_ngrams: 0.5}", "model.char_ngrams"),
                      ("pretrain: {ngram_vectors: 5}", "set model.char_ngrams too"),
                      ("model: {dropout: 1}", "model.dropout"),
                      ("model: {char_ngrams: 64}\npretrain: {ngram_vectors: 101}", "pretrain.ngram_vectors")])
    func badValuesAreRefused(line: String, message: String) {
        do {
            _ = try JobSpec.parse(yaml: EvaluationSettingsTests.job(line))
            Issue.record("\(line) must be refused")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}
