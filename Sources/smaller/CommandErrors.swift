// How commands fail. `ValidationError` is for flags only: ArgumentParser prints the usage text under it. A
// runtime failure prints its message alone and exits 1; a job the command refuses (a job-file error, a language
// its data lacks, an executor this build lacks) prints its message alone and exits 64 (EX_USAGE).
import ArgumentParser
import Experiment
import Foundation
import TextData

/// A runtime failure of a command (a missing run directory, a key file in the way): "Error: <message>", exit 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Prints "Error: <message>" and gives the exit code a refused job ends with (64, EX_USAGE, as a bad flag).
func refuse(_ message: String) -> ExitCode {
    printErr("Error: \(message)")
    return ExitCode(64)
}

func loadJob(_ path: String) throws -> JobSpec {
    do { return try JobSpec.load(path: path) } catch let e as JobFileError { throw refuse(e.description) }
}

/// Refuses a job whose languages its data source lacks, naming them and what the source has (see DataLanguages).
func checkLanguages(_ spec: JobSpec, job: String, requireFolders: Bool = true) throws {
    do {
        try DataLanguages.check(spec, synthetic: SyntheticCorpus.languages.map(\.code), requireFolders: requireFolders)
    } catch let e as DataLanguageError {
        throw refuse("\(job): \(e.description)")
    }
}

/// A path must name a run directory (one holding the journal).
func requireRunDirectory(_ dir: String) throws -> URL {
    let url = URL(fileURLWithPath: dir)
    guard FileManager.default.fileExists(atPath: url.appendingPathComponent("journal.sqlite").path) else {
        throw CommandFailure("\(dir) is not a run directory (no journal.sqlite)")
    }
    return url
}
