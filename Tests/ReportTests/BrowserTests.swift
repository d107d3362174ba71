// The report rendered in a real headless Chromium (Debian's `chromium`): the DOM it builds has every figure's
// marks and every table's rows, and a screenshot is left for a person to look at.
import Experiment
import Foundation
import Testing
@testable import Report

@Suite struct BrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// StudyTests' grid with every metric group: robustness, OOD, calibration bins, loyalty.
    static var richRecords: [ResultRecord] {
        StudyTests.records.enumerated().map { i, r in
            var r = r
            let f1 = r.metrics["test.f1"]?.doubleValue ?? 0
            r.metrics["robust.diacritics.f1"] = .double(f1 - 0.02)
            r.metrics["robust.typos@0.05.f1"] = .double(f1 - 0.03)
            r.metrics["robust.typos@0.2.f1"] = .double(f1 - 0.1)
            r.metrics["ood.f1"] = .double(f1 - 0.15)
            r.metrics["ood.gap"] = .double(0.15)
            r.metrics["calibration.token.ece"] = .double(0.02 + 0.001 * Double(i))
            r.metrics["calibration.token.bins"] = .array((0..<15).map(Self.bin))
            if r.spec.kind == .compress {
                r.metrics["loyalty.label"] = .double(0.95)
                r.metrics["loyalty.flips.correct_to_wrong"] = .double(0.03)
                r.metrics["loyalty.flips.wrong_to_correct"] = .double(0.02)
            }
            return r
        }
    }

    /// Bins 10…14 hold 5·b positions each, accuracy a little below confidence.
    static func bin(_ b: Int) -> Value {
        let confidence = (Double(b) + 0.5) / 15, accuracy = min(1, (Double(b) + 0.2) / 15)
        return .object(["count": .int(b >= 10 ? 5 * b : 0), "confidence": .double(confidence), "accuracy": .double(accuracy)])
    }

    func run(_ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.chromium!)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Occurrences of `needle` in `text`.
    func count(_ needle: String, in text: Substring) -> Int { text.components(separatedBy: needle).count - 1 }

    @Test(.enabled(if: BrowserTests.chromium != nil, "chromium is not installed (.ci/install-deps --test installs it)"))
    func chromiumRendersEveryMarkAndRow() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("smaller-report-browser")
        try? FileManager.default.removeItem(at: dir)
        let study = Study(job: "browser", records: Self.richRecords)
        try study.write(to: dir)
        let page = dir.appendingPathComponent("report.html")
        let dom = try run(["--dump-dom", page.absoluteString])
        let plots = study.plots
        #expect(plots.map(\.id).contains("reliability") && plots.map(\.id).contains("f1-under-typos")
                && plots.map(\.id).contains("loyalty-vs-sparsity") && plots.map(\.id).contains("ood-gap"))
        for p in plots {
            let start = try #require(dom.range(of: "<figure id=\"fig-\(p.id)\""), "figure \(p.id) not in the DOM")
            let figure = dom[start.lowerBound...]
            let end = try #require(figure.range(of: "</figure>"))
            let body = figure[..<end.lowerBound]
            #expect(count("class=\"mark\"", in: body) + count("class=\"cell\"", in: body) == p.marks, "\(p.id)")
            #expect(p.marks > 0)
        }
        // Every model row in each group's table: 2 languages × (dense + 3 settings), loyalty only the 6 compressed.
        for (group, rows) in [("accuracy", 8), ("robustness", 8), ("calibration", 8), ("loyalty", 6), ("efficiency", 8)] {
            let start = try #require(dom.range(of: "id=\"table-\(group)\""), "table \(group)")
            let table = dom[start.lowerBound...]
            let body = table[..<(table.range(of: "</table>")?.lowerBound ?? table.endIndex)]
            #expect(count("<tr", in: body) == rows + 1, "\(group)")
        }
        let shot = dir.appendingPathComponent("report.png")
        _ = try run(["--screenshot=\(shot.path)", "--window-size=1280,2400", page.absoluteString])
        #expect(FileManager.default.fileExists(atPath: shot.path))
        print("report screenshot: \(shot.path)")
    }
}
