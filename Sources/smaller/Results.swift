// `smaller results DIR`: the aggregated table of a run (the full report is written beside it, as `smaller report`).
import ArgumentParser
import Experiment
import Foundation

struct Results: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Aggregate a run's results per language × setting.")

    @Argument(help: "The run directory.") var dir: String

    func run() throws {
        let url = try requireRunDirectory(dir)
        let jobFile = url.appendingPathComponent("job.yaml")
        let spec = FileManager.default.fileExists(atPath: jobFile.path) ? try? JobSpec.load(path: jobFile.path) : nil
        try printReport(spec, url)
    }
}
