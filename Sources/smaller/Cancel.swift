// `smaller cancel [DIR]`: asks the run's coordinator to stop cleanly (it releases leases and says BYE).
import ArgumentParser
import Foundation

struct Cancel: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop a running grid cleanly; its run directory stays resumable.")

    @Argument(help: "The run directory.") var dir: String

    func run() throws {
        let url = try requireRunDirectory(dir)
        try Data().write(to: url.appendingPathComponent("cancel"))
        print("asked the coordinator of \(dir) to stop; `smaller run` or `smaller coordinator` on it resumes")
    }
}
