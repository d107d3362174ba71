// `smaller results DIR`: the aggregated table of a run (the full report is written beside it, as `smaller report`);
// `--cost`: what the added evaluation of issue #13 cost, per record and for the run, from `results.jsonl`.
import ArgumentParser
import Experiment
import Foundation
import Report

struct Results: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Aggregate a run's results per language × setting.")

    @Argument(help: "The run directory.") var dir: String
    @Flag(help: "Print instead what the added evaluation (robustness, calibration, loyalty, dense predictions) cost per record and for the run.")
    var cost = false

    func run() throws {
        let url = try requireRunDirectory(dir)
        if cost {
            let file = url.appendingPathComponent("results.jsonl")
            guard FileManager.default.fileExists(atPath: file.path) else { throw CommandFailure("\(dir) has no results.jsonl") }
            let (records, unreadable) = try RecordFile.read(file)
            print(EvaluationCost(records: records).markdown)
            if unreadable > 0 { print("(\(unreadable) unreadable lines of results.jsonl skipped)") }
            return
        }
        let jobFile = url.appendingPathComponent("job.yaml")
        let spec = FileManager.default.fileExists(atPath: jobFile.path) ? try? JobSpec.load(path: jobFile.path) : nil
        try printReport(spec, url)
    }
}
