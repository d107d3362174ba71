// What the fuzz entry points (WireFuzz, CheckpointFuzz) share: handing over to libFuzzer's driver when built with
// `-sanitize=fuzzer -D FUZZING`, and the plain build's `replay [--valid] FILE|DIR…` through the same entry point.
import Foundation

#if FUZZING
package typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: FuzzCallback) -> CInt

/// Runs libFuzzer's driver on `callback` (an executable's `<module>_main` calls this under the fuzzer).
package func runFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ callback: FuzzCallback) -> CInt {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv, callback)
}
#endif

/// Replays `arguments` (after `replay`: files, folders, and `--valid`) through `accept`; with `--valid`, every
/// input must be accepted. Exits 1 when one is not, or when there were no inputs.
package func replayInputs(_ arguments: [String], accepted: String, _ accept: (UnsafeBufferPointer<UInt8>) -> Bool) throws {
    let valid = arguments.contains("--valid")
    var files: [URL] = []
    for path in arguments where path != "--valid" {
        let url = URL(fileURLWithPath: path)
        let inside = try? FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
        files += inside?.sorted { $0.path < $1.path } ?? [url]
    }
    var failed = 0
    for file in files {
        let bytes = [UInt8](try Data(contentsOf: file))
        if !bytes.withUnsafeBufferPointer(accept), valid { print("not \(accepted): \(file.path)"); failed += 1 }
    }
    print("replayed \(files.count) inputs\(valid ? ", \(files.count - failed) \(accepted)" : "")")
    if failed > 0 || files.isEmpty { exit(1) }
}
