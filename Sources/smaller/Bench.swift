// `smaller bench …`: benchmarks (release build), each printing a table and ratios against a reference run
// in the same process.
import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Benchmarks (release build).",
                                                    subcommands: [BenchEngine.self, BenchCluster.self])
}
