// `smaller run --gemm K` and `smaller worker --gemm K`: the kernel a run's workers compute with, chosen on the
// command line (over SMALLER_GEMM, which the harness sets to `own`), reaching every worker and every record;
// a kernel that does not exist is refused before anything starts. A job's `compute.gemm` wins over all of them.
// (In separate processes: the kernel policy is process-wide, and a test that changed it in the test process
// would change the kernel under every other test's computation.)
import Experiment
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .enabled(if: Smaller.available, Smaller.unavailable)) struct GemmOptionTests {
    static let yaml = """
        name: gemm
        data: {source: synthetic, synthetic_sentences: 200}
        model: {layers: 1, hidden: 32, heads: 2, ffn: 64, max_length: 32, vocab: 300}
        pretrain: {steps: 10, batch: 8}
        finetune: {epochs: 1, batch: 8}
        seeds: [1]
        languages: [syn-iso]
        compression:
          - quantize: {scheme: dynamic}
        """

    @Test func theRunsKernelReachesEveryWorkerAndRecord() throws {
        let dir = try Fixtures.temporaryDirectory("gemm-option")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("run")
        let child = try Child(["run", try writeJob(Self.yaml, in: dir), "--workers", "2", "--gemm", "onednn", "--out", out.path],
                              in: dir, name: "run")
        #expect(child.wait(seconds: 300, "smaller run --gemm onednn") == 0, "\(child.text.suffix(3000))")
        let records = try RunDir(url: out).exportedRecords()
        #expect(records.count == 3)
        for record in records {
            #expect(record.metrics["compute.gemm"]?.stringValue == "oneDNN",
                    "\(record.spec.title): compute.gemm \(record.metrics["compute.gemm"]?.stringValue ?? "absent"), SMALLER_GEMM=own in the environment")
        }
    }

    /// A job's `compute: {gemm: oneDNN}` pins the kernel of every task over each worker's own: the pinned grid
    /// computes the same bits on workers told `own` and on workers that choose by timing, the bits of the unpinned
    /// grid on oneDNN, and not those of the unpinned grid on CGemm (so the equality says something).
    @Test func aJobsPinnedKernelWinsOverEveryWorkersOwn() throws {
        let dir = try Fixtures.temporaryDirectory("gemm-pinned")
        defer { try? FileManager.default.removeItem(at: dir) }
        /// Each task's artifact hashes by name, keyed by the task's title (the ids differ between the jobs).
        func run(_ yaml: String, gemm: String, _ name: String, pinned: Bool) throws -> [String: [String: String]] {
            let sub = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            let out = sub.appendingPathComponent("run")
            let child = try Child(["run", try writeJob(yaml, in: sub), "--workers", "2", "--gemm", gemm, "--out", out.path],
                                  in: sub, name: "run")
            #expect(child.wait(seconds: 300, "smaller run --gemm \(gemm)") == 0, "\(child.text.suffix(3000))")
            var byTask: [String: [String: String]] = [:]
            for record in try RunDir(url: out).exportedRecords() {
                byTask[record.spec.title] = Dictionary(uniqueKeysWithValues: record.artifacts.map { ($0.name, $0.sha256) })
                let expected = pinned ? "oneDNN" : gemm
                #expect(record.metrics["compute.gemm"]?.stringValue?.lowercased() == expected.lowercased(), "\(name) \(record.spec.title)")
                #expect(pinned == (record.spec.params["compute"] == .object(["gemm": .string("oneDNN")])))
            }
            #expect(byTask.count == 3)
            return byTask
        }
        let pinned = Self.yaml + "\ncompute: {gemm: oneDNN}\n"
        let underOwn = try run(pinned, gemm: "own", "pinned-own", pinned: true)
        let underAuto = try run(pinned, gemm: "auto", "pinned-auto", pinned: true)
        let oneDNN = try run(Self.yaml, gemm: "oneDNN", "plain-onednn", pinned: false)
        let own = try run(Self.yaml, gemm: "own", "plain-own", pinned: false)
        #expect(underOwn == oneDNN, "a pinned job computes with oneDNN on workers told own")
        #expect(underAuto == oneDNN, "and on workers that choose by timing")
        let finetune = try #require(own.keys.first { $0.hasPrefix("finetune") })
        #expect(own[finetune]?["model.safetensors"] != oneDNN[finetune]?["model.safetensors"],
                "the two kernels' bits differ here, so the equalities above say something")
    }

    @Test func anUnknownKernelIsRefusedBeforeAnythingStarts() throws {
        let dir = try Fixtures.temporaryDirectory("gemm-refused")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("run")
        let run = try Child(["run", try writeJob(Self.yaml, in: dir), "--workers", "1", "--gemm", "mkl", "--out", out.path], in: dir, name: "run")
        #expect(run.wait(seconds: 20, "smaller run --gemm mkl") == 64)
        #expect(run.text.contains("--gemm must be own, oneDNN or auto, got mkl"), "\(run.text)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
        let worker = try Child(["worker", "--connect", "tcp://127.0.0.1:1", "--gemm", "mkl"], in: dir, name: "worker")
        #expect(worker.wait(seconds: 20, "smaller worker --gemm mkl") == 64)
        #expect(worker.text.contains("--gemm must be own, oneDNN or auto, got mkl"), "\(worker.text)")
    }
}
