// `smaller compress …`: compression commands on a checkpoint, each writing a new checkpoint and a JSON summary.
import ArgumentParser

struct Compress: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compress a checkpoint (distill; prune and quantize join as they land).",
        subcommands: [CompressDistill.self])
}
