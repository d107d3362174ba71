// JobSpec: parsing, defaults, grid expansion, task-graph shape and ids, and error messages naming key and line.
import Foundation
import Testing
import TestSupport
@testable import Experiment

@Suite struct JobSpecTests {
    static let minimal = """
        name: t
        seeds: [1, 2]
        languages: [hau, swa, yor]
        """

    @Test func minimalJobFillsDefaults() throws {
        let job = try JobSpec.parse(yaml: Self.minimal)
        #expect(job.name == "t")
        #expect(job.seeds == [1, 2])
        #expect(job.languages == ["hau", "swa", "yor"])
        #expect(job.model["layers"] == .int(2))
        #expect(job.data["source"] == .string("synthetic"))
        #expect(job.execution.maxAttempts == 3)
        #expect(job.execution.heartbeatInterval == 1.0 && job.execution.liveness == 3)
        let graph = job.plan()
        #expect(graph.count(of: .pretrain) == 2)
        #expect(graph.count(of: .finetune) == 6)
        #expect(graph.count(of: .compress) == 0)
    }

    @Test func compressionListsExpandIntoTheirProduct() throws {
        let job = try JobSpec.parse(yaml: Self.minimal + """

            compression:
              - prune: {sparsity: [0.3, 0.5, 0.7, 0.9], when: [before, after]}
              - distill: {layers: [2, 1]}
              - quantize: {scheme: [dynamic, llm-int8]}
            """)
        #expect(job.compression.count == 8 + 2 + 2)
        #expect(job.compression[0].label == "prune sparsity=0.3 when=before")
        #expect(job.compression[1].label == "prune sparsity=0.3 when=after")
        #expect(job.compression[0].fields["structure"] == .string("unstructured"))
        #expect(job.compression[8].label == "distill layers=2")
        #expect(job.compression[11].label == "quantize scheme=llm-int8")
        let graph = job.plan()
        #expect(graph.count(of: .compress) == 2 * 3 * 12)
        // Pruning before fine-tuning starts from the pretrained model; everything else from the fine-tuned one.
        for task in graph.tasks where task.spec.kind == .compress {
            let parent = try #require(graph.byID[task.spec.inputs[0]])
            let before = task.spec.setting?.fields["when"] == .string("before")
            #expect(parent.spec.kind == (before ? .pretrain : .finetune))
            #expect(parent.spec.seed == task.spec.seed)
            if !before { #expect(parent.spec.language == task.spec.language) }
        }
    }

    @Test func narrowerDistillStudentGetsItsOwnPretraining() throws {
        let job = try JobSpec.parse(yaml: Self.minimal + """

            model: {layers: 4, hidden: 64, heads: 4, ffn: 256}
            compression:
              - distill: {layers: 2}
              - distill: {layers: 2, hidden: [32, 16], heads: 2}
            """)
        // Optional width fields are absent unless given, so a plain distill setting resolves as before.
        #expect(job.compression[0].fields["hidden"] == nil && job.compression[0].label == "distill layers=2")
        #expect(job.compression[1].label == "distill layers=2 hidden=32 heads=2")
        let graph = job.plan()
        // Per seed: the teacher's pretraining plus one student pretraining per width, shared by the 3 languages.
        #expect(graph.count(of: .pretrain) == 2 * (1 + 2))
        #expect(graph.count(of: .compress) == 2 * 3 * 3)
        #expect(Set(graph.tasks.map(\.id)).count == graph.tasks.count)
        for task in graph.tasks where task.spec.kind == .compress {
            let teacher = try #require(graph.byID[task.spec.inputs[0]])
            #expect(teacher.spec.kind == .finetune && teacher.spec.language == task.spec.language)
            guard let width = task.spec.setting?.fields["hidden"]?.intValue else {
                #expect(task.spec.inputs.count == 1, "copied-layer students read only the teacher")
                continue
            }
            let student = try #require(graph.byID[task.spec.inputs[1]])
            #expect(student.spec.kind == .pretrain && student.spec.seed == task.spec.seed)
            let model = try #require(student.spec.params["model"])
            #expect(model["hidden"]?.intValue == width && model["heads"]?.intValue == 2)
            #expect(model["layers"]?.intValue == 2 && model["ffn"]?.intValue == 256, "depth from the setting, the rest from the teacher")
            // The student's pretraining reads the teacher's pretraining (for its tokenizer) and comes after it.
            let teacherPretrain = try #require(graph.byID[teacher.spec.inputs[0]])
            #expect(student.spec.inputs == [teacherPretrain.id])
            let order = graph.tasks.map(\.id)
            #expect(order.firstIndex(of: teacherPretrain.id)! < order.firstIndex(of: student.id)!)
            #expect(order.firstIndex(of: student.id)! < order.firstIndex(of: task.id)!)
            #expect(student.spec.title.contains("student 2×\(width)"))
        }
    }

    @Test func shippedJobsParseWithTheExpectedCounts() throws {
        let quick = try JobSpec.load(path: Fixtures.repositoryRoot.appendingPathComponent("jobs/quickstart.yaml").path)
        let q = quick.plan()
        // 2 seeds × 3 synthetic languages × one setting of each family (prune, distill, quantize).
        #expect((q.count(of: .pretrain), q.count(of: .finetune), q.count(of: .compress)) == (2, 6, 18))
        #expect(quick.execution.executor == "engine" && quick.languages == ["syn-iso", "syn-agg", "syn-ton"])
        let masakha = try JobSpec.load(path: Fixtures.repositoryRoot.appendingPathComponent("jobs/masakhaner.yaml").path)
        let m = masakha.plan()
        #expect((m.count(of: .pretrain), m.count(of: .finetune), m.count(of: .compress)) == (3, 30, 3 * 10 * 16))
        #expect(Set(m.tasks.map(\.id)).count == m.tasks.count)
    }

    /// jobs/study.yaml names ../shared/data (checked at plan time: the OOD files), so it plans only beside it.
    @Test(.enabled(if: Fixtures.sharedData != nil, "../shared/data (MasakhaNER 1.0 and 2.0) is not beside the checkout"))
    func theStudyJobPlansItsGrid() throws {
        let shared = try #require(Fixtures.sharedData)
        let text = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("jobs/study.yaml"), encoding: .utf8)
        let study = try JobSpec.parse(yaml: text.replacingOccurrences(of: "../shared/data", with: shared.path), file: "jobs/study.yaml")
        let g = study.plan()
        // 3 seeds × 10 languages, each its own pretraining, × 16 settings.
        #expect((g.count(of: .pretrain), g.count(of: .finetune), g.count(of: .compress)) == (30, 30, 3 * 10 * 16))
        #expect(g.tasks.filter { $0.spec.kind == .pretrain }.allSatisfy { $0.spec.language != nil })
        // MasakhaNER 2.0 has no Amharic: its tasks are scored in distribution only.
        for task in g.tasks where task.spec.kind != .pretrain {
            #expect((task.spec.params["data"]?["ood"] == nil) == (task.spec.language == "amh"), "\(task.spec.title)")
        }
    }

    @Test func taskIDIsSHA256OfCanonicalSpec() throws {
        // Reference: printf '%s' '<json>' | sha256sum, computed outside Swift.
        let job = try JobSpec.parse(yaml: "name: n\nnoop: {tasks: 2, seconds: 0.01}\n")
        let first = job.plan().tasks[0]
        #expect(first.spec.canonical.canonicalJSON
            == #"{"executor":"noop","inputs":[],"kind":"noop","params":{"noop":{"index":0,"seconds":0.01}}}"#)
        #expect(first.id == "499be246183314bc614e1175d6b194957c559723cde82d44e57d6f604314a037")
    }

    @Test func editingOneSettingChangesOnlyItsDependents() throws {
        let base = Self.minimal + "\npretrain: {steps: 10}\nfinetune: {epochs: 2}\ncompression:\n  - quantize: {scheme: dynamic}\n"
        let a = try JobSpec.parse(yaml: base).plan()
        let sameAgain = try JobSpec.parse(yaml: base).plan()
        #expect(a.tasks.map(\.id) == sameAgain.tasks.map(\.id))
        // Defaults written out explicitly resolve to the same ids.
        let explicit = try JobSpec.parse(yaml: base.replacingOccurrences(of: "{epochs: 2}", with: "{epochs: 2, batch: 16}")).plan()
        #expect(a.tasks.map(\.id) == explicit.tasks.map(\.id))
        // A fine-tuning change keeps pretraining and changes every fine-tune and compress task.
        let b = try JobSpec.parse(yaml: base.replacingOccurrences(of: "{epochs: 2}", with: "{epochs: 3}")).plan()
        for (x, y) in zip(a.tasks, b.tasks) {
            #expect((x.id == y.id) == (x.spec.kind == .pretrain))
        }
        // Renaming the job or changing retries changes nothing.
        let c = try JobSpec.parse(yaml: base.replacingOccurrences(of: "name: t", with: "name: other")
            + "execution: {max_attempts: 5}\n").plan()
        #expect(a.tasks.map(\.id) == c.tasks.map(\.id))
    }

    /// Optional keys added to a family later (prune's `embeddings` / `classifier`) leave the ids of settings that
    /// do not use them as they were: the id below was printed by `smaller plan --tasks` before those keys existed.
    @Test func optionalKeysKeepEarlierTaskIDs() throws {
        let base = "name: t\nseeds: [1]\nlanguages: [x]\ncompression:\n  - prune: {sparsity: 0.5%@}\n"
        func compressID(_ extra: String) throws -> String {
            let plan = try JobSpec.parse(yaml: base.replacingOccurrences(of: "%@", with: extra)).plan()
            return try #require(plan.tasks.first { $0.spec.kind == .compress }).id
        }
        #expect(try compressID("").hasPrefix("d4537dfa92fc"))
        #expect(try compressID(", embeddings: false, classifier: false").hasPrefix("d4537dfa92fc"))
        let pruned = try compressID(", embeddings: true")
        #expect(!pruned.hasPrefix("d4537dfa92fc"))
        #expect(try compressID(", classifier: true") != pruned)
        // A list expands, and its false member is the setting without the key.
        let both = try JobSpec.parse(yaml: base.replacingOccurrences(of: "%@", with: ", embeddings: [false, true]")).plan()
        #expect(both.tasks.filter { $0.spec.kind == .compress }.map(\.id).sorted() == [try compressID(""), pruned].sorted())
    }

    @Test func specsHashTheSameAfterAJSONRoundTrip() throws {
        let job = try JobSpec.parse(yaml: JobSpecTests.minimal + "\npretrain: {learning_rate: 1.0}\ncompression:\n  - prune: {sparsity: 0.0}\n")
        for task in job.plan().tasks {
            let decoded = try JSONDecoder().decode(TaskSpec.self, from: try JSONEncoder().encode(task.spec))
            #expect(decoded == task.spec)
            #expect(decoded.id == task.id)
        }
    }

    @Test func noopGridMarksFailAndCrashTasks() throws {
        let job = try JobSpec.parse(yaml: "name: n\nnoop: {tasks: 5, seconds: 0, fail: [1], crash: 3}\n")
        let tasks = job.plan().tasks
        #expect(tasks.count == 5)
        #expect(tasks[1].spec.params["noop"]?["fail"] == .bool(true))
        #expect(tasks[3].spec.params["noop"]?["crash"] == .bool(true))
        #expect(tasks[0].spec.params["noop"]?["crash"] == nil)
        #expect(job.execution.executor == "noop")
    }

    @Test func resultRecordRoundTripsWithOpenMetrics() throws {
        let spec = TaskSpec(kind: .noop, executor: "noop", params: ["noop": .object(["index": .int(1)])])
        let record = ResultRecord(taskID: spec.id, spec: spec, status: "done",
                                  metrics: ["test.f1": .double(0.5), "per_type": .object(["PER": .double(0.25)])],
                                  engineVersion: "0.1.0", host: "h", worker: "w", threads: 1, attempt: 1,
                                  startedAt: 1, endedAt: 2)
        let decoded = try ResultRecord.decode(try JSONWriter.encoder().encode(record))
        #expect(decoded == record)
    }
}
