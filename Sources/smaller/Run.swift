// `smaller run JOB.yaml`: the main job. Until the orchestrator lands it checks the job file exists,
// prints the environment (`doctor`) and says plainly what is not built yet.
import ArgumentParser
import Foundation

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a job file: a coordinator plus local workers over the whole grid.")

    @Argument(help: "The job file (YAML), e.g. jobs/quickstart.yaml.")
    var job: String

    func validate() throws {
        guard FileManager.default.fileExists(atPath: job) else {
            throw ValidationError("no job file at \(job)")
        }
    }

    func run() throws {
        try Doctor().run()
        print("")
        print("smaller run: the orchestrator is not built yet, so \(job) was not run.")
    }
}
