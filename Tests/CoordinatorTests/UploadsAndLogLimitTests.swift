// The coordinator's bounds on what a peer can make it hold or write: open uploads per peer and in total with
// an idle timeout (Uploads), and log lines per kind per interval with a summary of the rest (RateLimitedLog).
import Testing
@testable import Coordinator
@testable import Wire

@Suite struct UploadsAndLogLimitTests {
    static func digest(_ n: Int) -> String { String(repeating: String(format: "%02x", n % 256), count: 31) + String(format: "%02x", n / 256) }
    static func chunk(_ n: Int, offset: Int = 0) -> Chunk { Chunk(sha256: digest(n), offset: offset, total: 100, bytes: [1]) }

    @Test func uploadsAreBoundedPerPeerAndInTotal() {
        var u = Uploads()
        for n in 0..<Uploads.perPeer { #expect(u.admit(Self.chunk(n), from: "a", now: 0) == nil) }
        #expect(u.admit(Self.chunk(999), from: "a", now: 0) != nil)
        // Continuing an open upload is always allowed; a chunk past 0 of an unknown upload opens nothing.
        #expect(u.admit(Self.chunk(0, offset: 1), from: "a", now: 0) == nil)
        #expect(u.admit(Self.chunk(998, offset: 1), from: "a", now: 0) == nil && u.count == Uploads.perPeer)
        // Another peer cannot restart someone else's upload.
        #expect(u.admit(Self.chunk(0), from: "b", now: 0) != nil)
        // Closing one frees its slot.
        u.close(Self.digest(0))
        #expect(u.admit(Self.chunk(999), from: "a", now: 0) == nil)
        // The total bound holds across peers.
        var peer = 0, admitted = u.count
        while admitted < Uploads.total {
            peer += 1
            for n in 0..<Uploads.perPeer where admitted < Uploads.total {
                if u.admit(Self.chunk(1000 + peer * 10 + n), from: "p\(peer)", now: 0) == nil { admitted += 1 }
            }
        }
        #expect(u.count == Uploads.total)
        #expect(u.admit(Self.chunk(5000), from: "fresh", now: 0) != nil)
    }

    @Test func idleUploadsExpireAndFreeTheirSlots() {
        var u = Uploads()
        #expect(u.admit(Self.chunk(1), from: "a", now: 0) == nil)
        #expect(u.admit(Self.chunk(2), from: "a", now: 0) == nil)
        #expect(u.admit(Self.chunk(2, offset: 1), from: "a", now: Uploads.idleSeconds - 1) == nil)  // still active
        let expired = u.expire(now: Uploads.idleSeconds + 0.5)
        #expect(expired.map(\.sha256) == [Self.digest(1)] && expired.first?.peer == "a")
        #expect(u.count == 1)
        #expect(u.expire(now: 2 * Uploads.idleSeconds).count == 1 && u.count == 0)
    }

    @Test func peerCausedLinesAreCappedPerKindAndSummarized() {
        var lines: [String] = []
        let log = RateLimitedLog { lines.append($0) }
        for i in 0..<1000 { log.note("protocol error", "error \(i)", now: Double(i) / 1000) }
        log.note("upload refused", "refused 0", now: 1)
        #expect(lines == (0..<RateLimitedLog.burst).map { "error \($0)" } + ["refused 0"])
        log.flush(now: RateLimitedLog.interval + 0.5)
        #expect(lines.count == RateLimitedLog.burst + 2)
        #expect(lines.last == "\(1000 - RateLimitedLog.burst) more protocol error lines in 10 s not logged; the last: error 999")
        // A new interval logs again.
        log.note("protocol error", "later", now: 30)
        #expect(lines.last == "later")
    }
}
