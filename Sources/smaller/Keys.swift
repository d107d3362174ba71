// `smaller keys generate`: CURVE key pairs for a coordinator and its workers, with the allowlist.
import ArgumentParser
import Foundation
import Wire

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage CURVE keys.", subcommands: [Generate.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write coordinator.key/.pub and worker-N.key/.pub; worker public keys go to allowed/.",
            discussion: "Give the coordinator the directory (--keys DIR); copy coordinator.pub and one worker-N.key to each worker host.")

        @Option(help: "Directory for the keys.") var dir: String = "keys"
        @Option(help: "How many worker key pairs to make.") var workers: Int = 1
        @Flag(help: "Only add worker keys (keep an existing coordinator key).") var workersOnly = false

        func validate() throws {
            guard workers >= 0, workers <= 10_000 else { throw ValidationError("--workers must be in 0...10000") }
        }

        func run() throws {
            let root = URL(fileURLWithPath: dir)
            let fm = FileManager.default
            if !workersOnly {
                guard !fm.fileExists(atPath: root.appendingPathComponent("coordinator.key").path) else {
                    throw CommandFailure("\(dir)/coordinator.key exists; refusing to overwrite (use --workers-only to add workers)")
                }
                try CurveKeyPair.generate().write(name: "coordinator", in: root)
                print("wrote \(dir)/coordinator.key (secret) and \(dir)/coordinator.pub")
            }
            var index = 1
            for _ in 0..<workers {
                while fm.fileExists(atPath: root.appendingPathComponent("worker-\(index).key").path) { index += 1 }
                let pair = try CurveKeyPair.generate()
                try pair.write(name: "worker-\(index)", in: root)
                let allowed = root.appendingPathComponent("allowed")
                try fm.createDirectory(at: allowed, withIntermediateDirectories: true)
                try "public \(pair.publicKey)\n".write(to: allowed.appendingPathComponent("worker-\(index).pub"), atomically: true, encoding: .utf8)
                print("wrote \(dir)/worker-\(index).key and allowed/worker-\(index).pub")
            }
        }
    }
}
