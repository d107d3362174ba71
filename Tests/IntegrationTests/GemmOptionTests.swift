// `smaller run --gemm K` and `smaller worker --gemm K`: the kernel a run's workers compute with, chosen on the
// command line (over SMALLER_GEMM, which the harness sets to `own`), reaching every worker and every record;
// a kernel that does not exist is refused before anything starts.
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
