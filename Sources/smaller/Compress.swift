// `smaller compress …`: compression of a checkpoint into a new checkpoint plus a JSON summary, one
// subcommand per family.
import ArgumentParser

struct Compress: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Compress a checkpoint (prune, distill, quantize).",
                                                    subcommands: [CompressPrune.self, CompressDistill.self, BenchPruneCommand.self])
}
