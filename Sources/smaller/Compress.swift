// `smaller compress …`: compression of a checkpoint into a new checkpoint plus a JSON summary. Each family adds
// its subcommand here (the lead merges the lists).
import ArgumentParser

struct Compress: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Compress a checkpoint (prune, distill, quantize).",
                                                    subcommands: [CompressPrune.self, BenchPruneCommand.self])
}
