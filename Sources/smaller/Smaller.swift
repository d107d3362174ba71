// The `smaller` command line: the only target that reads argv or the environment.
import ArgumentParser
import Experiment
import Foundation

@main
struct Smaller: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smaller",
        abstract: "What happens to a small, small-data language model when it is made smaller.",
        discussion: """
            Runs grids of seeds × languages × compression settings (pruning, distillation, int8 quantization)
            of an XLM-R-style encoder, across worker processes on one or many machines.
            """,
        version: SmallerVersion.described,
        subcommands: [Run.self, Plan.self, CoordinatorCommand.self, WorkerCommand.self, Status.self, Cancel.self,
                      Results.self, ReportCommand.self, Keys.self, Pretrain.self, Finetune.self, Logits.self, Tokenize.self,
                      TokenizerCommand.self, Score.self, DataCommand.self, ModelCommand.self, Compress.self, Bench.self, Doctor.self]
    )

    /// Decides the GEMM kernels from the environment (GemmSetup.swift) before any command computes.
    static func main() {
        GemmSetup.configure()
        Self.main(nil)
    }
}

enum SmallerVersion {
    static let current = BuildInfo.version
    /// `--version` and `doctor`: the version and the commit it was built from.
    static let described = "\(BuildInfo.version) (\(BuildInfo.commit))"
}
