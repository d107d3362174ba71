// Plan-time check of the out-of-distribution folder (`data.ood`): every language of the job needs its test file
// there, so a missing one stops the plan with the file's path instead of failing every fine-tune task later.
import Foundation

extension JobSpec {
    /// The out-of-distribution test file of `language` under `folder`: `folder/<language>/test.txt`.
    package static func oodTestFile(_ folder: String, language: String) -> URL {
        URL(fileURLWithPath: folder).appendingPathComponent(language).appendingPathComponent("test.txt")
    }

    /// What is wrong with `data.ood` for these languages, or nil (also when it is not set).
    static func oodProblem(data: [String: Value], languages: [String]) -> String? {
        guard let folder = data["ood"]?.stringValue, !folder.isEmpty else { return nil }
        let missing = languages.map { oodTestFile(folder, language: $0).path }.filter { !FileManager.default.fileExists(atPath: $0) }
        guard let first = missing.first else { return nil }
        let others = missing.count > 1 ? " (and \(missing.count - 1) more: \(missing.dropFirst().joined(separator: ", ")))" : ""
        return "ood: \(first) does not exist\(others); the out-of-distribution folder needs <lang>/test.txt for every language of the job"
    }
}
