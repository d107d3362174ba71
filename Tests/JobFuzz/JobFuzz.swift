// JobFuzz: the fuzz entry point of the files a user or a machine hands us beside the wire: job files (YAML →
// JobSpec → task graph) and the per-machine GEMM choice file (JSON). Built with `-sanitize=fuzzer -D FUZZING`
// (Tests/Fuzz/fuzz.sh) it is a libFuzzer binary; a plain build replays inputs through the same entry point
// (`JobFuzz replay [--valid] FILE|DIR…`). The seed corpus (Tests/JobFuzz/corpus) is every self-contained job of
// `jobs/` and a choice file written by the real encoder, written by `JobFuzz corpus JOBS-DIR DIR`.
//
// Input layout: byte 0 picks the reader (bit 0: 0 a job file, 1 a GEMM choice file); the rest is its bytes.
// Any input must be read or refused with a thrown error: a trap is a crash the fuzzer reports. A job that
// parses is planned when its grid is small enough to plan within the fuzzer's time limit (the limits on larger
// grids are counted before expansion and tested in JobErrorTests); its graph must be closed (every input a
// planned task, planned before its dependent) and each task's id the hash of its spec.
import Experiment
import Foundation
import FuzzSupport
import TensorCore

/// Grids up to this many cells × (2 + 2 × settings) are planned.
let planLimit = 4_000

/// Reads one input; returns whether it was accepted.
@discardableResult
func readOne(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let first = bytes.first else { return false }
    let body = Data(bytes.dropFirst())
    if first & 1 == 1 {
        if case .choices = GemmChoiceStore.decode(body, machine: nil) { return true }
        return false
    }
    guard let job = try? JobSpec.parse(yaml: String(decoding: body, as: UTF8.self), file: "fuzz.yaml") else { return false }
    guard let bound = job.noop.map(\.tasks) ?? JobSpec.taskBound(seeds: job.seeds.count, languages: job.languages.count,
                                                                  settings: job.compression.count),
          bound <= planLimit else { return true }
    let graph = job.plan()
    var seen = Set<String>()
    for task in graph.tasks {
        precondition(task.id == task.spec.id, "a planned task's id is not its spec's hash")
        for input in task.spec.inputs { precondition(seen.contains(input), "an input planned after its dependent, or not at all") }
        seen.insert(task.id)
    }
    precondition(graph.tasks.count <= bound, "the plan has more tasks than its counted bound")
    return true
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    readOne(UnsafeBufferPointer(start: data, count: count))
    return 0
}

#if FUZZING
/// SwiftPM links an executable's entry point as `<module>_main`; under the fuzzer it hands over to libFuzzer.
@_cdecl("JobFuzz_main")
func fuzzerEntry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzOne)
}
#else
@main struct JobFuzzTool {
    static func main() throws {
        let args = Array(CommandLine.arguments.dropFirst())
        switch args.first {
        case "corpus" where args.count == 3:
            // JobFuzz corpus JOBS-DIR DIR: each job without `pretrained:` (that one needs a checkpoint on disk),
            // and a choice file of two classes for a made-up machine.
            let dir = URL(fileURLWithPath: args[2])
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let jobs = try FileManager.default.contentsOfDirectory(atPath: args[1]).filter { $0.hasSuffix(".yaml") }.sorted()
            for name in jobs {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: args[1]).appendingPathComponent(name))
                if String(decoding: bytes, as: UTF8.self).split(separator: "\n").contains(where: { $0.hasPrefix("pretrained:") }) { continue }
                try (Data([0]) + bytes).write(to: dir.appendingPathComponent("job-" + name.dropLast(5)))
            }
            let choices: [GemmShapeClass: GemmMeasurement] = [
                GemmShapeClass(.none, .transposed, m: 512, n: 128, k: 128, threads: 1):
                    GemmMeasurement(kernel: .oneDNN, ownGFlops: 113, oneDNNGFlops: 228, shape: "384×128×128"),
                GemmShapeClass(.transposed, .none, m: 32, n: 32, k: 32, threads: 2):
                    GemmMeasurement(kernel: .own, ownGFlops: 58, oneDNNGFlops: 59, shape: "32×32×17"),
            ]
            let machine = GemmChoiceStore.Machine(cpu: "corpus CPU", isa: "avx2", oneDNN: "3.0.0")
            try (Data([1]) + GemmChoiceStore.encode(choices, machine: machine)).write(to: dir.appendingPathComponent("gemm-choice"))
        case "replay":
            try replayInputs(Array(args.dropFirst()), accepted: "accepted") { readOne($0) }
        default:
            print("usage: JobFuzz corpus JOBS-DIR DIR | JobFuzz replay [--valid] FILE|DIR…")
            exit(2)
        }
    }
}
#endif
