// Parallel.parts on its persistent pool: every part runs exactly once per call, for closures and PartsBody jobs,
// when the pool grows and shrinks its part count, and in each hand-over mode (spinning, blocking at once, a 1 µs
// spin that mostly falls through to blocking). A lost wake-up would hang or skip a part; both are counted here.
import Foundation
import Testing
@testable import TensorCore

@Suite(.serialized) struct PartsPoolTests {
    /// Counts, per part, how often it ran; parts write only their own slot.
    final class Counter: PartsBody {
        var counts: [Int]
        var delayEvery = 0, call = 0
        init(_ n: Int) { counts = Array(repeating: 0, count: n) }
        func runPart(_ part: Int) {
            counts[part] += 1
            // Now and then a slow part, so that the other side's spin runs out and it blocks.
            if delayEvery > 0 && part == counts.count - 1 && call % delayEvery == 0 { usleep(300) }
        }
    }

    @Test(arguments: [UInt64(200_000), 0, 1_000])
    func everyPartRunsOncePerCall(spin: UInt64) {
        let saved = Parallel.spinNanoseconds
        Parallel.spinNanoseconds = spin
        defer { Parallel.spinNanoseconds = saved }
        for parts in [2, 3, 2] {
            let object = Counter(parts)
            object.delayEvery = 37
            var closureCounts = [Int](repeating: 0, count: parts)
            closureCounts.withUnsafeMutableBufferPointer { c in
                let base = c.baseAddress!
                for i in 0..<500 {
                    object.call = i
                    Parallel.parts(parts, object)
                    Parallel.parts(parts) { part in base[part] += 1 }
                    if i % 100 == 0 { usleep(1_000) }  // an idle pool: workers go past their spin and block
                }
            }
            #expect(object.counts == Array(repeating: 500, count: parts), "PartsBody, \(parts) parts, spin \(spin) ns")
            #expect(closureCounts == Array(repeating: 500, count: parts), "closure, \(parts) parts, spin \(spin) ns")
        }
    }

    @Test func oneDNNThreadsArePerThreadAndPartsLeaveTheCallersAlone() {
        // oneDNN reads the calling thread's OpenMP count: the pool's threads have 1 (a oneDNN call in a part never
        // forks a team), a parts call leaves the caller's count as it was, and `OneDNN.withThreads` lowers it for
        // one call only.
        let caller = ComputeInfo.threads
        ComputeContext(threads: 3).activate()
        defer { ComputeInfo.setThreads(caller) }
        final class Seen: PartsBody {
            var threads = [Int](repeating: 0, count: 3)
            func runPart(_ part: Int) { threads[part] = ComputeInfo.threads }
        }
        let seen = Seen()
        Parallel.parts(3, seen)
        #expect(seen.threads == [3, 1, 1], "oneDNN threads seen by the caller's part and the pool's: \(seen.threads)")
        #expect(ComputeInfo.threads == 3)
        #expect(OneDNN.withThreads(1) { ComputeInfo.threads } == 1)
        #expect(ComputeInfo.threads == 3)
    }
}
