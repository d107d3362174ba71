// `smaller compress …`: compression of a checkpoint into a new checkpoint plus a JSON summary, one
// subcommand per family (each in its own file).
import ArgumentParser

struct Compress: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compress",
        abstract: "Compress a checkpoint (prune, distill, quantize) into a new checkpoint, with a JSON summary.",
        subcommands: [CompressPrune.self, CompressDistill.self, CompressQuantizeCommand.self])
}
