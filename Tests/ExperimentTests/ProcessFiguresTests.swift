// ProcessFigures: the /proc parsers refuse malformed and overflowing lines, and on Linux the live figures agree
// with what the kernel reports through other doors (getrusage for CPU time, /proc/self/status for VmRSS).
import Foundation
import Testing
@testable import Experiment

@Suite struct ProcessFiguresTests {
    /// /proc/self/stat counts CPU in clock ticks (1/100 s), getrusage in microseconds: two ticks apart at most,
    /// plus the time between the two reads.
    static let cpuTolerance = 0.05
    /// VmRSS and statm's resident count are the same counter read a moment apart; the allocator may touch a few
    /// pages between the reads.
    static let residentTolerance = 4 << 20

    @Test func parsesStatm() {
        #expect(ProcessFigures.residentBytes(statm: "1000 250 100 10 0 300 0\n", pageSize: 4096) == 250 * 4096)
        #expect(ProcessFigures.residentBytes(statm: "1000\n", pageSize: 4096) == nil, "no resident field")
        #expect(ProcessFigures.residentBytes(statm: "1000 many", pageSize: 4096) == nil)
        #expect(ProcessFigures.residentBytes(statm: "1 -3", pageSize: 4096) == nil)
        #expect(ProcessFigures.residentBytes(statm: "1 \(Int.max / 2)", pageSize: 4096) == nil, "an overflowing size is refused, not wrapped")
    }

    @Test func parsesStatBehindAnAwkwardName() {
        // The command name may hold spaces and parentheses; utime and stime are fields 14 and 15.
        let rest = "S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 4 0 12345 0 0"
        #expect(ProcessFigures.cpuSeconds(stat: "42 (a) b (c)) " + rest, ticksPerSecond: 100) == 3.0)
        #expect(ProcessFigures.cpuSeconds(stat: "42 no parenthesis " + rest, ticksPerSecond: 100) == nil)
        #expect(ProcessFigures.cpuSeconds(stat: "42 (x) S 1 2 3", ticksPerSecond: 100) == nil, "too few fields")
        #expect(ProcessFigures.cpuSeconds(stat: "42 (x) S 1 2 3 4 5 6 7 8 9 10 -1 50", ticksPerSecond: 100) == nil)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/statm"), "needs Linux /proc"))
    func liveFiguresAgreeWithTheKernelsOtherReports() throws {
        // Some CPU time first, so the comparison is not of two zeros.
        var x = 0.0
        for i in 0..<3_000_000 { x += Double(i).squareRoot() }
        #expect(x > 0)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let reference = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let cpu = try #require(ProcessFigures.cpuSeconds)
        #expect(cpu > 0 && abs(cpu - reference) <= Self.cpuTolerance, "stat \(cpu) s, getrusage \(reference) s")

        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        let kb = try #require(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Int($0) }.first)
        let rss = try #require(ProcessFigures.residentBytes)
        #expect(rss > 0 && abs(rss - kb * 1024) <= Self.residentTolerance, "statm \(rss) B, VmRSS \(kb) kB")
        #expect(try #require(ProcessFigures.startTime) <= Date().timeIntervalSince1970)
    }
}
