// `smaller compress …`: compression commands on a checkpoint, each writing a new checkpoint and printing a
// JSON summary. Subcommands live in their own files.
import ArgumentParser

struct Compress: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compress",
        abstract: "Compress a checkpoint (quantize) into a new checkpoint, with a JSON summary.",
        subcommands: [CompressQuantizeCommand.self])
}
