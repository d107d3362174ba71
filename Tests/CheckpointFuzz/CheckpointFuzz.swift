// CheckpointFuzz: the pytorch_model.bin readers' fuzz entry point (the zip archive and the restricted pickle).
// Built with `-sanitize=fuzzer -D FUZZING` (Tests/Fuzz/fuzz.sh) it is a libFuzzer binary; a plain build replays
// inputs through the same entry point (`CheckpointFuzz replay [--valid] FILE|DIR…`). The seed corpus
// (Tests/CheckpointFuzz/corpus) is the fixture archive and its pickle, written by `CheckpointFuzz corpus DIR`.
//
// Input layout: byte 0 picks the reader (bit 0: 0 a whole archive, 1 a pickle alone); the rest is its bytes.
// Any input must be read or refused with a thrown error: a trap is a crash the fuzzer reports.
import Foundation
import FuzzSupport
import TensorCore

/// Reads one input; returns whether it was accepted.
@discardableResult
func readOne(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let first = bytes.first else { return false }
    let body = Data(bytes.dropFirst())
    if first & 1 == 0 {
        guard let archive = try? ZipArchive(body, file: "fuzz") else { return false }
        return (try? TorchCheckpoint.tensors(in: archive)) != nil
    }
    return (try? RestrictedPickle.load(body)) != nil
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    readOne(UnsafeBufferPointer(start: data, count: count))
    return 0
}

#if FUZZING
/// SwiftPM links an executable's entry point as `<module>_main`; under the fuzzer it hands over to libFuzzer.
@_cdecl("CheckpointFuzz_main")
func fuzzerEntry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzOne)
}
#else
@main struct CheckpointFuzzTool {
    static func main() throws {
        let args = Array(CommandLine.arguments.dropFirst())
        switch args.first {
        case "corpus" where args.count == 3:
            // CheckpointFuzz corpus FIXTURE.bin DIR: the archive, and its data.pkl alone.
            let bytes = try Data(contentsOf: URL(fileURLWithPath: args[1]))
            let archive = try ZipArchive(bytes, file: args[1])
            guard let pickle = archive.names.first(where: { $0.hasSuffix("data.pkl") }).flatMap(archive.data) else {
                print("\(args[1]) has no data.pkl"); exit(1)
            }
            let dir = URL(fileURLWithPath: args[2])
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try (Data([0]) + bytes).write(to: dir.appendingPathComponent("archive"))
            try (Data([1]) + pickle).write(to: dir.appendingPathComponent("pickle"))
        case "replay":
            try replayInputs(Array(args.dropFirst()), accepted: "accepted") { readOne($0) }
        default:
            print("usage: CheckpointFuzz corpus FIXTURE.bin DIR | CheckpointFuzz replay [--valid] FILE|DIR…")
            exit(2)
        }
    }
}
#endif
