// `smaller report RUN_DIR`: the full report (HTML with inline SVG figures, Markdown, CSV, JSON, LaTeX) rebuilt
// from a run directory's records, while its grid runs or after; `smaller run` writes it at the end.
import ArgumentParser
import Coordinator
import Experiment
import Foundation
import Report

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report",
        abstract: "Write the full report (HTML, Markdown, CSV, JSON, LaTeX, SVG figures) of a run directory.")

    @Argument(help: "The run directory (journal.sqlite and/or results.jsonl).") var dir: String
    @Option(help: "Where to write the report (default: the run directory).") var out: String?
    @Option(help: "Comma-separated formats among html, md, csv, json, tex.") var format: String = "html,md,csv,json,tex"

    func formats() throws -> Set<ReportFormat> {
        let names = format.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let chosen = try names.map { name in
            guard let f = ReportFormat(rawValue: name) else {
                throw ValidationError("--format: unknown format '\(name)' (have: \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return f
        }
        guard !chosen.isEmpty else { throw ValidationError("--format needs at least one format") }
        return Set(chosen)
    }

    func validate() throws { _ = try formats() }

    func run() throws {
        let runDir = URL(fileURLWithPath: dir)
        let study = try loadStudy(runDir)
        let outDir = out.map { URL(fileURLWithPath: $0) } ?? runDir
        let files = try study.write(to: outDir, formats: try formats())
        for note in study.notes { printErr("note: \(note)") }
        print("report written to \(outDir.path): \(files.filter { !$0.hasPrefix("plots/") }.joined(separator: ", "))")
        if files.contains("report.html") { print(outDir.appendingPathComponent("report.html").path) }
    }
}

/// The records of a run directory: from the journal when it opens (only the current job graph's tasks when
/// job.yaml is there), else from results.jsonl; what could not be read becomes a note in the report.
func loadStudy(_ runDir: URL) throws -> Study {
    let fm = FileManager.default
    let jobFile = runDir.appendingPathComponent("job.yaml")
    let spec = fm.fileExists(atPath: jobFile.path) ? try? JobSpec.load(path: jobFile.path) : nil
    let journalFile = runDir.appendingPathComponent("journal.sqlite"), resultsFile = runDir.appendingPathComponent("results.jsonl")
    var notes: [String] = []
    var name = spec?.name ?? runDir.lastPathComponent
    var records: [ResultRecord]?
    var failed = 0, skipped = 0
    if fm.fileExists(atPath: journalFile.path) {
        do {
            let journal = try Journal(runDirectory: runDir, readOnly: true)
            var rows = try journal.taskRows()
            var ids: Set<String>?
            if let spec {
                ids = Set(spec.plan().tasks.map(\.id))
                rows = rows.filter { ids!.contains($0.id) }
            } else if let job = try? journal.meta("job") { name = job }
            records = try journal.results(of: ids)
            failed = rows.filter { $0.state == "failed" }.count
            skipped = rows.filter { $0.state == "skipped" }.count
        } catch {
            notes.append("The journal could not be read (\(error)); the report uses results.jsonl.")
        }
    }
    if records == nil {
        guard fm.fileExists(atPath: resultsFile.path) else {
            throw CommandFailure("\(runDir.path) is not a run directory: it has neither a readable journal.sqlite nor results.jsonl")
        }
        let read = try RecordFile.read(resultsFile)
        records = read.records
        if read.unreadable > 0 { notes.append("\(read.unreadable) line(s) of results.jsonl could not be read (truncated or not a record) and are left out.") }
        if let spec {
            let ids = Set(spec.plan().tasks.map(\.id))
            records = read.records.filter { ids.contains($0.taskID) }
        }
    }
    return Study(job: name, records: records ?? [], failed: failed, skipped: skipped,
                 textBytes: PretrainingText.bytes(spec, override: textOverride(runDir), bases: textBases(runDir)), notes: notes)
}

/// Where a relative `data.text` may start from: the current folder, and the folder `runs/<name>` sits in.
func textBases(_ runDir: URL) -> [URL] {
    let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
    return [cwd, runDir.standardizedFileURL.deletingLastPathComponent().deletingLastPathComponent()]
}

/// The `--text` folder `smaller run --data … --text …` recorded in data-override.txt, if any.
func textOverride(_ runDir: URL) -> String? {
    guard let note = try? String(contentsOf: runDir.appendingPathComponent("data-override.txt"), encoding: .utf8),
          let range = note.range(of: " --text ") else { return nil }
    return String(note[range.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Writes the full report at the end of `smaller run` and prints where report.html is; a report that cannot be
/// written is said, not fatal: the grid's results are in the journal either way.
func writeRunReport(_ runDir: URL) {
    do {
        try loadStudy(runDir).write(to: runDir)
        print("report: \(runDir.appendingPathComponent("report.html").path)")
    } catch {
        printErr("the report could not be written (\(error)); try `smaller report \(runDir.path)`")
    }
}
