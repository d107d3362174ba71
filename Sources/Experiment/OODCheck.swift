// Plan-time check of the out-of-distribution folder (`data.ood`): every language scored there (`data.ood_languages`,
// by default all of the job's) needs its test file, so a missing one stops the plan with the file's path instead
// of failing every fine-tune task later.
import Foundation

extension JobSpec {
    /// The out-of-distribution test file of `language` under `folder`: `folder/<language>/test.txt`.
    package static func oodTestFile(_ folder: String, language: String) -> URL {
        URL(fileURLWithPath: folder).appendingPathComponent(language).appendingPathComponent("test.txt")
    }

    /// Whether `code` is a language code: letters, digits, '_' or '-', not empty.
    static func isLanguageCode(_ code: String) -> Bool {
        !code.isEmpty && code.allSatisfy { $0.isLetter || $0.isNumber || "_-".contains($0) }
    }

    static func languageCode(_ field: YAMLField) throws -> String {
        let code = try field.string()
        guard isLanguageCode(code) else { throw field.error("expected a language code (letters, digits, '_' or '-'), got \"\(code)\"") }
        return code
    }

    /// The languages of the job scored out of distribution: nil without `data.ood`.
    static func oodLanguages(data: [String: Value], languages: [String]) -> [String]? {
        guard let folder = data["ood"]?.stringValue, !folder.isEmpty else { return nil }
        guard let listed = data["ood_languages"]?.arrayValue?.compactMap(\.stringValue) else { return languages }
        return languages.filter(listed.contains)
    }

    /// What is wrong with `data.ood` / `data.ood_languages` for these languages, or nil (also when OOD is not set).
    static func oodProblem(data: [String: Value], languages: [String]) -> String? {
        if let listed = data["ood_languages"]?.arrayValue?.compactMap(\.stringValue) {
            if data["ood"]?.stringValue?.isEmpty ?? true { return "ood_languages is set but ood (the folder) is not" }
            if let stranger = listed.first(where: { !languages.contains($0) }) {
                return "ood_languages: \(stranger) is not one of the job's languages (\(languages.joined(separator: ", ")))"
            }
        }
        guard let folder = data["ood"]?.stringValue, let scored = oodLanguages(data: data, languages: languages) else { return nil }
        let missing = scored.map { oodTestFile(folder, language: $0).path }.filter { !FileManager.default.fileExists(atPath: $0) }
        guard let first = missing.first else { return nil }
        let others = missing.count > 1 ? " (and \(missing.count - 1) more: \(missing.dropFirst().joined(separator: ", ")))" : ""
        let fix = data["ood_languages"] == nil ? "; list the languages that have one in ood_languages" : ""
        return "ood: \(first) does not exist\(others); the out-of-distribution folder needs <lang>/test.txt for every language scored there\(fix)"
    }
}
