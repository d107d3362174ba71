// The `evaluation` section (typo rates, perturbation seed) and `data.ood`: at their defaults they stay out of the
// resolved spec (task ids unchanged); set, they reach the fine-tune and compress tasks only; bad values and an
// out-of-distribution folder without a language's test file are plan-time errors naming the key or the file.
import Foundation
import Testing
import TestSupport
@testable import Experiment

@Suite struct EvaluationSettingsTests {
    static func job(_ extra: String) -> String {
        """
        name: e
        seeds: [1]
        languages: [syn-iso, syn-agg]
        compression:
          - quantize: {scheme: dynamic}
        \(extra)
        """
    }

    static func ids(_ yaml: String) throws -> [TaskKind: [String]] {
        Dictionary(grouping: try JobSpec.parse(yaml: yaml).plan().tasks, by: \.spec.kind).mapValues { $0.map(\.id) }
    }

    @Test func defaultsAreLeftOutOfTheSpec() throws {
        let plain = try Self.ids(Self.job(""))
        #expect(try Self.ids(Self.job("evaluation: {typo_rates: [0.05, 0.1, 0.2], perturbation_seed: 0}")) == plain)
        #expect(try Self.ids(Self.job("evaluation: {}")) == plain)
        #expect(try Self.ids(Self.job("data: {ood: \"\"}")) == plain)
        // Decoded, a spec without the section has the documented defaults.
        let finetune = try #require(try JobSpec.parse(yaml: Self.job("")).plan().tasks.first { $0.spec.kind == .finetune })
        #expect(finetune.spec.params["evaluation"] == nil)
        let s = try TaskSettings(finetune.spec)
        #expect(s.evaluation.typoRates == [0.05, 0.1, 0.2] && s.evaluation.perturbationSeed == 0 && s.data.ood == "")
    }

    @Test func aSetValueReachesFinetuneAndCompressOnly() throws {
        let plain = try Self.ids(Self.job(""))
        let seeded = try Self.ids(Self.job("evaluation: {perturbation_seed: 3}"))
        #expect(seeded[.pretrain] == plain[.pretrain])
        #expect(Set(seeded[.finetune]!).isDisjoint(with: plain[.finetune]!) && Set(seeded[.compress]!).isDisjoint(with: plain[.compress]!))
        let graph = try JobSpec.parse(yaml: Self.job("evaluation: {typo_rates: [0.3], perturbation_seed: 3}")).plan()
        for task in graph.tasks where task.spec.kind != .pretrain {
            #expect(task.spec.params["evaluation"] == .object(["typo_rates": .array([.double(0.3)]), "perturbation_seed": .int(3)]))
            let s = try TaskSettings(task.spec)
            #expect(s.evaluation.typoRates == [0.3] && s.evaluation.perturbationSeed == 3)
        }
        // The typed form writes back only what differs from the defaults.
        #expect(try EvaluationSettings(section: ["perturbation_seed": .int(3)]).section == ["perturbation_seed": .int(3)])
        #expect(try EvaluationSettings.defaults.section.isEmpty)
        // No typos at all is allowed (an empty list).
        #expect(try TaskSettings(try #require(try JobSpec.parse(yaml: Self.job("evaluation: {typo_rates: []}")).plan().tasks
            .first { $0.spec.kind == .finetune }).spec).evaluation.typoRates.isEmpty)
    }

    @Test(arguments: [("evaluation: {typo_rates: [0, 0.1]}", "evaluation.typo_rates[0]"),
                      ("evaluation: {typo_rates: [0.1, 0.1]}", "a value appears twice"),
                      ("evaluation: {typo_rates: 1.5}", "word rates in (0, 1]"),
                      ("evaluation: {perturbation_seed: -1}", "evaluation.perturbation_seed"),
                      ("evaluation: {typo_rate: [0.1]}", "typo_rate: unknown key")])
    func badValuesAreRefused(line: String, message: String) {
        do {
            _ = try JobSpec.parse(yaml: Self.job(line))
            Issue.record("\(line) must be refused")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
        #expect(throws: (any Error).self) { try EvaluationSettings(section: ["typo_rates": .array([.double(0.1), .double(0.1)])]) }
    }

    /// MasakhaNER 2.0 has no Amharic: `ood_languages` scores the languages that have a file and leaves the
    /// others exactly as in a job without `ood`.
    @Test func oodLanguagesScoreSomeLanguagesAndLeaveTheOthersIdsAlone() throws {
        let dir = try Fixtures.temporaryDirectory("ood-languages")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("syn-iso"), withIntermediateDirectories: true)
        try "a O\n\n".write(to: dir.appendingPathComponent("syn-iso/test.txt"), atomically: true, encoding: .utf8)
        let some = try JobSpec.parse(yaml: Self.job("data: {ood: \(dir.path), ood_languages: [syn-iso]}")).plan()
        let none = try JobSpec.parse(yaml: Self.job("")).plan()
        let byLanguage = Dictionary(grouping: some.tasks.filter { $0.spec.language != nil }, by: { $0.spec.language! })
        let plainIDs = Set(none.tasks.map(\.id))
        for task in byLanguage["syn-iso"]! {
            #expect(task.spec.params["data"]?["ood"] == .string(dir.path))
            #expect(!plainIDs.contains(task.id))
        }
        // syn-agg has no file and is not listed: its tasks are those of the job without `ood`.
        #expect(byLanguage["syn-agg"]!.allSatisfy { plainIDs.contains($0.id) && $0.spec.params["data"]?["ood"] == nil })
        #expect(some.tasks.allSatisfy { $0.spec.params["data"]?["ood_languages"] == nil })
        // A listed language without its file, a stranger, or the list without the folder: plan-time errors.
        for (extra, needle) in [("data: {ood: \(dir.path), ood_languages: [syn-agg]}", "syn-agg/test.txt does not exist"),
                                ("data: {ood: \(dir.path), ood_languages: [yor]}", "yor is not one of the job's languages"),
                                ("data: {ood_languages: [syn-iso]}", "ood (the folder) is not"),
                                ("data: {ood: \(dir.path), ood_languages: [syn-iso, syn-iso]}", "appears twice"),
                                ("data: {ood: \(dir.path)}", "list the languages that have one in ood_languages")] {
            do {
                _ = try JobSpec.parse(yaml: Self.job(extra), file: "jobs/x.yaml")
                Issue.record("\(extra) must stop the plan")
            } catch let error as JobFileError {
                #expect(error.description.contains(needle), "\(extra): \(error)")
            }
        }
    }

    @Test func oodFolderNeedsEveryLanguagesTestFile() throws {
        let dir = try Fixtures.temporaryDirectory("ood-check")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("syn-iso"), withIntermediateDirectories: true)
        try "a O\n\n".write(to: dir.appendingPathComponent("syn-iso/test.txt"), atomically: true, encoding: .utf8)
        let yaml = Self.job("data: {ood: \(dir.path)}")
        do {
            _ = try JobSpec.parse(yaml: yaml, file: "jobs/x.yaml")
            Issue.record("a missing out-of-distribution test file must stop the plan")
        } catch let error as JobFileError {
            let missing = dir.appendingPathComponent("syn-agg/test.txt").path
            #expect(error.description.contains("jobs/x.yaml:") && error.description.contains("\(missing) does not exist"), "\(error)")
            #expect(!error.description.contains("syn-iso/test.txt"))
        }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("syn-agg"), withIntermediateDirectories: true)
        try "b O\n\n".write(to: dir.appendingPathComponent("syn-agg/test.txt"), atomically: true, encoding: .utf8)
        let graph = try JobSpec.parse(yaml: yaml).plan()
        for task in graph.tasks {
            #expect(task.spec.params["data"]?["ood"] == (task.spec.kind == .pretrain ? nil : .string(dir.path)))
        }
        // A noop grid takes no evaluation section.
        #expect(throws: JobFileError.self) { try JobSpec.parse(yaml: "name: n\nnoop: {tasks: 1}\nevaluation: {perturbation_seed: 1}\n") }
    }
}
