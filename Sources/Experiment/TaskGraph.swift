// TaskGraph: TaskSpec (one cell of work), content-hashed task ids, and the job's expanded task graph.
import Crypto
import Foundation

package enum TaskKind: String, Codable, Sendable, CaseIterable {
    case pretrain, finetune, compress, noop
}

/// One resolved unit of work. Everything that changes its result is in here (and so in its id); nothing that
/// does not (job name, retries, timeouts) is.
package struct TaskSpec: Codable, Hashable, Sendable {
    package var kind: TaskKind
    /// `engine` or `noop`: which executor runs it.
    package var executor: String
    package var seed: Int?
    package var language: String?
    package var setting: CompressionSetting?
    /// Resolved configuration: `model`, `pretrain`, `finetune`, `data`, `noop` sections as relevant to the kind.
    package var params: [String: Value]
    /// Ids of the tasks whose outputs this one reads, in a fixed order (parent first).
    package var inputs: [String]

    package init(kind: TaskKind, executor: String, seed: Int? = nil, language: String? = nil,
                 setting: CompressionSetting? = nil, params: [String: Value], inputs: [String] = []) {
        self.kind = kind
        self.executor = executor
        self.seed = seed
        self.language = language
        self.setting = setting
        self.params = params
        self.inputs = inputs
    }

    /// The canonical form that is hashed; the setting's label is left out (it is derived, not content).
    package var canonical: Value {
        var o: [String: Value] = ["kind": .string(kind.rawValue), "executor": .string(executor),
                                  "params": .object(params), "inputs": .array(inputs.map(Value.string))]
        if let seed { o["seed"] = .int(seed) }
        if let language { o["language"] = .string(language) }
        if let setting { o["setting"] = .object(["family": .string(setting.family), "fields": .object(setting.fields)]) }
        return .object(o)
    }

    /// SHA-256 (hex) of the canonical spec, which includes the input ids: a task's id changes when anything
    /// it depends on changes, and only then.
    package var id: String {
        SHA256.hash(data: Data(canonical.canonicalJSON.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Human name: `finetune(hau, seed 1)`.
    package var title: String {
        var parts: [String] = []
        if let language { parts.append(language) }
        if let seed { parts.append("seed \(seed)") }
        if let setting { parts.append(setting.label) }
        if kind == .pretrain, !inputs.isEmpty, let m = params["model"] {
            parts.append("student \(m["layers"]?.intValue ?? 0)×\(m["hidden"]?.intValue ?? 0)")
        }
        if kind == .noop, let index = params["noop"]?["index"]?.intValue { parts.append("#\(index)") }
        if let checkpoint = params["pretrained"]?["checkpoint"]?.stringValue { parts.append("from \(checkpoint)") }
        return "\(kind.rawValue)(\(parts.joined(separator: ", ")))"
    }
}

package struct PlannedTask: Sendable, Hashable {
    package let id: String
    package let spec: TaskSpec
}

/// The expanded task graph in dependency order (every task after its inputs).
package struct TaskGraph: Sendable {
    package let tasks: [PlannedTask]
    package let byID: [String: PlannedTask]

    package init(tasks: [PlannedTask]) {
        self.tasks = tasks
        var map: [String: PlannedTask] = [:]
        for t in tasks { map[t.id] = t }
        byID = map
    }

    package func count(of kind: TaskKind) -> Int { tasks.filter { $0.spec.kind == kind }.count }

    /// Ids of the tasks that read the given task's output.
    package func dependents(of id: String) -> [String] {
        tasks.filter { $0.spec.inputs.contains(id) }.map(\.id)
    }
}

extension JobSpec {
    /// Expands the job into its task graph: `pretrain(seed)` → `finetune(lang, seed)` →
    /// `compress(lang, seed, setting)`; pruning before fine-tuning starts from the pretrained model, every
    /// other setting from the fine-tuned one. With `pretrained`, one seedless pretrain task imports the checkpoint
    /// in place of `pretrain(seed)`. A noop grid is independent `noop` tasks.
    package func plan() -> TaskGraph {
        if let noop { return Self.noopGraph(noop) }
        let executor = execution.executor
        var extra: [String: Value] = [:]
        if executor == "noop" {
            var noop: [String: Value] = ["seconds": .double(execution.noopSeconds)]
            if execution.noopOutputBytes > 0 { noop["output_bytes"] = .int(execution.noopOutputBytes) }
            extra["noop"] = .object(noop)
        }
        // The kernel a job pins reaches every engine task (and its id) through its params.
        if !compute.isEmpty { extra["compute"] = .object(compute) }
        let model = Value.object(self.model)
        var tasks: [PlannedTask] = []
        var planned = Set<String>()
        func add(_ spec: TaskSpec) -> String {
            let task = PlannedTask(id: spec.id, spec: spec)
            if planned.insert(task.id).inserted { tasks.append(task) }
            return task.id
        }
        let scoredOutOfDistribution = Set(Self.oodLanguages(data: data, languages: languages) ?? [])
        for seed in seeds {
            // Pretraining reads every language's raw text; the NER path does not concern it.
            var pretrainData = data
            pretrainData["ner"] = nil
            pretrainData["ood"] = nil
            pretrainData["ood_languages"] = nil
            // `pretrain.per_language`: each language's own pretraining (tokenizer and MLM on its text alone).
            let perLanguage = pretrain["per_language"]?.boolValue ?? false
            func preParams(_ language: String) -> [String: Value] {
                extra.merging(["model": model, "pretrain": .object(pretrain), "data": .object(pretrainData),
                               "languages": .array((perLanguage ? [language] : languages).map(Value.string))]) { $1 }
            }
            // A pretrained checkpoint replaces the pretraining: one task, shared by every seed, that imports it.
            func pretrainTask(_ language: String) -> String {
                add(pretrained.map { TaskSpec(kind: .pretrain, executor: executor, params: extra.merging(
                    ["model": model, "pretrained": .object($0)]) { $1 }) }
                    ?? TaskSpec(kind: .pretrain, executor: executor, seed: seed, language: perLanguage ? language : nil,
                                params: preParams(language)))
            }
            // Every pretraining first: dispatch follows the graph's order.
            let pretrainings = languages.map(pretrainTask)
            for (language, pre) in zip(languages, pretrainings) {
                var ftData = data
                ftData["text"] = nil
                // `ood_languages` is used up here: a language not scored out of distribution has the ids of a job
                // without `ood`, one scored there those of a job that sets `ood` alone.
                ftData["ood_languages"] = nil
                if !scoredOutOfDistribution.contains(language) { ftData["ood"] = nil }
                var ftParams = extra.merging(["model": model, "finetune": .object(finetune), "data": .object(ftData)]) { $1 }
                if !evaluation.isEmpty { ftParams["evaluation"] = .object(evaluation) }
                let ft = add(TaskSpec(kind: .finetune, executor: executor, seed: seed, language: language,
                                      params: ftParams, inputs: [pre]))
                for setting in compression {
                    var fromPretrained = false
                    if case .prune(let prune)? = try? setting.method() { fromPretrained = prune.when == .before }
                    var inputs = [fromPretrained ? pre : ft]
                    if let student = Self.studentModel(setting, teacher: self.model) {
                        // The narrower student's own MLM pretraining, once per seed, on the teacher's tokenizer.
                        inputs.append(add(TaskSpec(kind: .pretrain, executor: executor, seed: seed,
                                                   language: perLanguage ? language : nil,
                                                   params: preParams(language).merging(["model": .object(student)]) { $1 },
                                                   inputs: [pre])))
                    }
                    _ = add(TaskSpec(kind: .compress, executor: executor, seed: seed, language: language,
                                     setting: setting, params: ftParams, inputs: inputs))
                }
            }
        }
        return TaskGraph(tasks: tasks)
    }

    /// The model section of a distill setting's narrower student, or nil when the student is built from the
    /// teacher's layers (none of `hidden`, `heads`, `ffn` set): the teacher's section with the student's depth
    /// and whichever widths the setting gives.
    package static func studentModel(_ setting: CompressionSetting, teacher: [String: Value]) -> [String: Value]? {
        guard case .distill(let student)? = try? setting.method(), student.isNarrower else { return nil }
        var model = teacher
        model["layers"] = .int(student.layers)
        for (key, width) in [("hidden", student.hidden), ("heads", student.heads), ("ffn", student.ffn)] {
            if let width { model[key] = .int(width) }
        }
        return model
    }

    static func noopGraph(_ grid: NoopGrid) -> TaskGraph {
        let tasks = (0..<grid.tasks).map { index -> PlannedTask in
            var noop: [String: Value] = ["index": .int(index), "seconds": .double(grid.seconds)]
            if grid.fail.contains(index) { noop["fail"] = .bool(true) }
            if grid.crash.contains(index) { noop["crash"] = .bool(true) }
            if grid.failPermanent.contains(index) { noop["fail_permanent"] = .bool(true) }
            if !grid.salt.isEmpty { noop["salt"] = .string(grid.salt) }
            if grid.burn { noop["burn"] = .bool(true) }
            let spec = TaskSpec(kind: .noop, executor: "noop", params: ["noop": .object(noop)])
            return PlannedTask(id: spec.id, spec: spec)
        }
        return TaskGraph(tasks: tasks)
    }
}
