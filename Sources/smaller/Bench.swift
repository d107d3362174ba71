// `smaller bench …`: the benchmark group (release build). Each area adds its subcommand here.
import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Benchmarks (release build).", subcommands: [BenchEngine.self])
}
