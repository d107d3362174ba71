// JobParser: YAML text → JobSpec, strictly: unknown keys, wrong types and out-of-range values are errors
// naming the key and line; defaults are filled in; compression list-valued fields expand into settings.
import Foundation
import Yams

extension JobSpec {
    /// Reads and validates a job file.
    package static func load(path: String) throws -> JobSpec {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw JobFileError(file: path, line: nil, column: nil, key: "", message: "cannot read the job file (\(error.localizedDescription))")
        }
        return try parse(yaml: text, file: path)
    }

    /// Parses job-file text; `file` names it in errors.
    package static func parse(yaml: String, file: String = "job.yaml") throws -> JobSpec {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                throw JobFileError(file: file, line: nil, column: nil, key: "", message: "the job file is empty")
            }
            root = node
        } catch let error as JobFileError {
            throw error
        } catch let error as YamlError {
            throw JobFileError(file: file, line: yamlLine(error), column: nil, key: "", message: "not valid YAML: \(error)")
        } catch {
            throw JobFileError(file: file, line: nil, column: nil, key: "", message: "not valid YAML: \(error)")
        }
        let top = try YAMLField(node: root, path: "", file: file).mapping(allowed: JobSchema.topLevel)

        guard let nameField = top["name"] else {
            throw JobFileError(file: file, line: 1, column: nil, key: "name", message: "required key is missing")
        }
        let name = try nameField.string()
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }) else {
            throw nameField.error("expected letters, digits, '.', '_' or '-', got \"\(name)\"")
        }

        var execution = ExecutionSpec()
        if let field = top["execution"] { execution = try parseExecution(field) }

        if let noopField = top["noop"] {
            for key in ["data", "model", "pretrain", "finetune", "evaluation", "seeds", "languages", "compression", "pretrained", "compute"] {
                if let other = top[key] { throw other.error("a noop grid takes no '\(key)' (remove one of the two)") }
            }
            let noop = try parseNoop(noopField)
            execution.executor = "noop"
            return JobSpec(name: name, data: [:], model: [:], pretrain: [:], finetune: [:], seeds: [], languages: [],
                           compression: [], execution: execution, noop: noop)
        }

        let data = try section(top["data"], JobSchema.data, path: "data", file: file)
        if data["source"] == .string("masakhaner"), data["ner"] == .string("") {
            throw (top["data"] ?? nameField).error("source masakhaner needs 'ner: DIR' (DIR/<lang>/{train,dev,test}.txt)")
        }
        let model = try section(top["model"], JobSchema.model, path: "model", file: file)
        do { _ = try ModelSettings(section: model) } catch let error as PermanentTaskError {
            throw (top["model"] ?? nameField).error(error.description)
        }
        let pretrain = try section(top["pretrain"], JobSchema.pretrain, path: "pretrain", file: file)
        if let epochs = pretrain["ngram_vectors"]?.intValue, epochs > 0, (model["char_ngrams"]?.intValue ?? 0) == 0 {
            throw (top["pretrain"] ?? nameField).error("pretrain.ngram_vectors trains the character n-gram table: set model.char_ngrams too")
        }
        var pretrained: [String: Value]?
        if let field = top["pretrained"] {
            if model["word_shape"] == .bool(true) {
                throw field.error("model.word_shape needs a model pretrained with word shapes; an imported checkpoint has one token type (remove one of the two)")
            }
            if model["dropout"] != nil {
                throw field.error("model.dropout sets the dropout of a model created here; an imported checkpoint keeps its own (remove one of the two)")
            }
            if let n = model["char_ngrams"]?.intValue, n > 0 {
                throw field.error("model.char_ngrams needs a model pretrained with a character n-gram table; an imported checkpoint has none (remove one of the two)")
            }
            let checkpoint = try section(field, JobSchema.pretrained, path: "pretrained", file: file)["checkpoint"]?.stringValue ?? ""
            do {
                pretrained = try PretrainedCheckpoint.resolve(checkpoint: checkpoint, maxLength: model["max_length"]?.intValue ?? 0)
            } catch let error as PermanentTaskError {
                throw field.error("checkpoint: \(error.description)")
            }
        }
        let finetune = try section(top["finetune"], JobSchema.finetune, path: "finetune", file: file)
        let evaluation = try section(top["evaluation"], JobSchema.evaluation, path: "evaluation", file: file)
        let compute = try section(top["compute"], JobSchema.compute, path: "compute", file: file)

        guard let seedsField = top["seeds"] else {
            throw JobFileError(file: file, line: nil, column: nil, key: "seeds", message: "required key is missing (e.g. seeds: [1, 2])")
        }
        let seeds = try seedsField.scalarOrSequence().map { try $0.int(in: 0...Int(Int32.max)) }
        guard !seeds.isEmpty else { throw seedsField.error("expected at least one seed") }
        if Set(seeds).count != seeds.count { throw seedsField.error("a seed appears twice") }

        guard let languagesField = top["languages"] else {
            throw JobFileError(file: file, line: nil, column: nil, key: "languages", message: "required key is missing (e.g. languages: [hau, swa])")
        }
        let languages = try languagesField.scalarOrSequence().map(Self.languageCode)
        guard !languages.isEmpty else { throw languagesField.error("expected at least one language") }
        if Set(languages).count != languages.count { throw languagesField.error("a language appears twice") }
        if let problem = oodProblem(data: data, languages: languages) { throw (top["data"] ?? nameField).error(problem) }

        var compression: [CompressionSetting] = []
        if let field = top["compression"] {
            for item in try field.sequence() {
                compression += try parseSetting(item)
                if compression.count > JobSchema.maxGridTasks {
                    throw field.error("more than \(JobSchema.maxGridTasks) compression settings")
                }
            }
        }
        // Every cell plans at most a pretraining, a fine-tune, and per setting a compression and a student's
        // pretraining: refuse a grid past the limit before anything is expanded further.
        let bound = taskBound(seeds: seeds.count, languages: languages.count, settings: compression.count)
        if bound.map({ $0 > JobSchema.maxGridTasks }) ?? true {
            throw (top["compression"] ?? seedsField).error(
                "the grid is too large: \(seeds.count) seeds × \(languages.count) languages × \(compression.count) settings "
                + "may plan up to \(bound.map(String.init) ?? "more than Int.max") tasks; at most \(JobSchema.maxGridTasks)")
        }
        var seen = Set<CompressionSetting>()
        for setting in compression where !seen.insert(setting).inserted {
            throw (top["compression"] ?? nameField).error("setting '\(setting.label)' appears twice after expansion")
        }
        for setting in compression {
            do { _ = try setting.method() } catch let error as PermanentTaskError {
                throw (top["compression"] ?? nameField).error("setting '\(setting.label)': \(error.description)")
            }
        }
        for setting in compression {
            guard let student = JobSpec.studentModel(setting, teacher: model),
                  let hidden = student["hidden"]?.intValue, let heads = student["heads"]?.intValue, hidden % heads != 0 else { continue }
            throw (top["compression"] ?? nameField).error(
                "setting '\(setting.label)': the student's hidden size \(hidden) is not a multiple of its \(heads) heads")
        }
        return JobSpec(name: name, data: data, model: model, pretrain: pretrain, finetune: finetune, seeds: seeds,
                       languages: languages, compression: compression, execution: execution, noop: nil, evaluation: evaluation,
                       pretrained: pretrained, compute: compute)
    }

    /// The most tasks an engine grid can plan: per cell a pretraining and a fine-tune, per setting a compression
    /// and a student's pretraining. Nil when it overflows.
    package static func taskBound(seeds: Int, languages: Int, settings: Int) -> Int? {
        let perCell = settings.multipliedReportingOverflow(by: 2), cells = seeds.multipliedReportingOverflow(by: languages)
        guard !perCell.overflow, !cells.overflow else { return nil }
        let bound = cells.partialValue.multipliedReportingOverflow(by: perCell.partialValue &+ 2)
        return bound.overflow ? nil : bound.partialValue
    }

    /// A section of plain scalars, checked against its rules and filled with defaults.
    static func section(_ field: YAMLField?, _ rules: [FieldRule], path: String, file: String) throws -> [String: Value] {
        var out: [String: Value] = [:]
        let given = try field?.mapping(allowed: rules.map(\.name)) ?? [:]
        for rule in rules {
            if let f = given[rule.name] {
                let value = try rule.read(f)
                if value != rule.absentValue { out[rule.name] = value }
            } else if let d = rule.default {
                out[rule.name] = d
            } else if !rule.optional {
                throw field?.error("required key '\(rule.name)' is missing")
                    ?? JobFileError(file: file, line: nil, column: nil, key: "\(path).\(rule.name)", message: "required key is missing")
            }
        }
        return out
    }

    /// One `- family: {field: value or [values]}` entry → the cartesian product of its list-valued fields.
    static func parseSetting(_ item: YAMLField) throws -> [CompressionSetting] {
        let families = JobSchema.families.keys.sorted()
        let entry = try item.mapping(allowed: families)
        guard entry.count == 1, let (family, body) = entry.first else {
            throw item.error("each compression setting has exactly one of: \(families.joined(separator: ", "))")
        }
        let rules = JobSchema.families[family]!
        let given = try body.mapping(allowed: rules.map(\.name))
        // Choices per field, in schema order: a list gives several, a scalar one, a missing field its default.
        var axes: [(name: String, values: [Value], explicit: Bool, absent: Value?)] = []
        for rule in rules {
            if let f = given[rule.name] {
                let items = try f.scalarOrSequence()
                guard !items.isEmpty else { throw f.error("expected at least one value") }
                let values = try items.map { try rule.read($0) }
                if Set(values).count != values.count { throw f.error("a value appears twice") }
                axes.append((rule.name, values, true, rule.absentValue))
            } else if let d = rule.default {
                axes.append((rule.name, [d], false, nil))
            } else if !rule.optional {
                throw body.error("required key '\(rule.name)' is missing")
            }
        }
        var count = 1
        for axis in axes {
            let next = count.multipliedReportingOverflow(by: axis.values.count)
            guard !next.overflow, next.partialValue <= JobSchema.maxSettingsPerEntry else {
                throw body.error("this entry's lists expand into more than \(JobSchema.maxSettingsPerEntry) settings")
            }
            count = next.partialValue
        }
        var combos: [[Value]] = [[]]
        for axis in axes {
            combos = combos.flatMap { prefix in axis.values.map { prefix + [$0] } }
        }
        return combos.map { values in
            var fields: [String: Value] = [:]
            var labelParts = [family]
            for (axis, value) in zip(axes, values) where value != axis.absent {
                fields[axis.name] = value
                if axis.explicit { labelParts.append("\(axis.name)=\(value)") }
            }
            return CompressionSetting(family: family, fields: fields, label: labelParts.joined(separator: " "))
        }
    }

    static func parseExecution(_ field: YAMLField) throws -> ExecutionSpec {
        let m = try field.mapping(allowed: JobSchema.execution)
        var e = ExecutionSpec()
        if let f = m["executor"] { e.executor = try f.word(oneOf: ["engine", "noop"]) }
        if let f = m["noop_seconds"] { e.noopSeconds = try f.double(where: { $0 >= 0 && $0 <= 86_400 }, "seconds in [0, 86400]") }
        if let f = m["noop_output_bytes"] { e.noopOutputBytes = try f.int(in: 0...(1 << 30)) }
        if let f = m["max_attempts"] { e.maxAttempts = try f.int(in: 1...100) }
        if let f = m["task_timeout"] { e.taskTimeout = try f.double(where: { $0 > 0 }, "seconds > 0") }
        if let f = m["heartbeat_interval"] { e.heartbeatInterval = try f.double(where: { $0 >= 0.01 && $0 <= 600 }, "seconds in [0.01, 600]") }
        if let f = m["liveness"] { e.liveness = try f.int(in: 1...100) }
        if let f = m["allow_mixed_engines"] { e.allowMixedEngines = try f.bool() }
        return e
    }

    static func parseNoop(_ field: YAMLField) throws -> NoopGrid {
        let m = try field.mapping(allowed: JobSchema.noop)
        guard let tasksField = m["tasks"] else { throw field.error("required key 'tasks' is missing") }
        let tasks = try tasksField.int(in: 1...10_000_000)
        let seconds = try m["seconds"]?.double(where: { $0 >= 0 && $0 <= 86_400 }, "seconds in [0, 86400]") ?? 0
        func indices(_ key: String) throws -> [Int] {
            guard let f = m[key] else { return [] }
            return try f.scalarOrSequence().map { try $0.int(in: 0...(tasks - 1)) }
        }
        let salt = try m["salt"]?.string() ?? ""
        let burn = try m["burn"]?.bool() ?? false
        return NoopGrid(tasks: tasks, seconds: seconds, fail: try indices("fail"), crash: try indices("crash"),
                        failPermanent: try indices("fail_permanent"), salt: salt, burn: burn)
    }

    private static func yamlLine(_ error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: nil
        }
    }
}
