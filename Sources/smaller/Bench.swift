// `smaller bench …`: the benchmark group (release build). Each area adds its subcommand here; each prints a
// table and ratios against a reference measured in the same run.
import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Benchmarks (release build).",
                                                    subcommands: [BenchEngine.self, BenchCluster.self, BenchCompress.self, BenchPruneCommand.self])
}
