// PeerRateLimit against a count worked out by hand: a full bucket, its refill, the cost of chatter, and no
// bucket (no limit, no memory) for a peer that has not said HELLO.
import Testing
@testable import Coordinator

@Suite struct PeerRateLimitTests {
    @Test func chatterIsCutToItsRateWhileWorkPassesAndStrangersGetNoBucket() {
        var limit = PeerRateLimit()
        let perSecond = Int(PeerRateLimit.tokensPerSecond / PeerRateLimit.chatterCost)  // 200
        // A full bucket lets a second's worth of HEARTBEATs through at once, then none at the same instant.
        var passed = 0
        for _ in 0..<1000 where limit.admit("w", chatter: true, now: 10, greeted: { true }) { passed += 1 }
        #expect(passed == perSecond && limit.dropped == 1000 - perSecond)
        // Half a second refills half of it.
        passed = 0
        for _ in 0..<1000 where limit.admit("w", chatter: true, now: 10.5, greeted: { true }) { passed += 1 }
        #expect(passed == perSecond / 2)
        // Work messages cost one token each: a fresh peer's second of them passes whole.
        passed = 0
        for _ in 0..<50_000 where limit.admit("v", chatter: false, now: 10, greeted: { true }) { passed += 1 }
        #expect(passed == 50_000)
        // A peer not greeted is not limited, and gets no bucket: pruning keeps only greeted ones.
        let before = limit.dropped
        for _ in 0..<1000 { _ = limit.admit("stranger", chatter: true, now: 10, greeted: { false }) }
        #expect(limit.dropped == before)
        limit.prune { $0 == "v" }
        passed = 0
        for _ in 0..<1000 where limit.admit("w", chatter: true, now: 10.5, greeted: { true }) { passed += 1 }
        #expect(passed == perSecond, "w was pruned: a new full bucket")
    }
}
