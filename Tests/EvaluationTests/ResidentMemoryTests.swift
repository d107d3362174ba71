// Peak resident memory: the /proc/self/status parser reads kB lines into bytes and refuses malformed ones, and on
// Linux a reset forgets memory already freed while the peak still grows by what the process then touches.
import Foundation
import Testing
@testable import Evaluation

@Suite struct ResidentMemoryTests {
    @Test func parsesStatusLines() {
        let status = "Name:\tsmaller\nVmPeak:\t  900 kB\nVmHWM:\t    2048 kB\nVmRSS:\t1024 kB\nBad:\tlots\nHuge:\t9223372036854775807 kB\n"
        #expect(ResidentMemory.parse(status, field: "VmHWM") == 2048 * 1024)
        #expect(ResidentMemory.parse(status, field: "VmRSS") == 1024 * 1024)
        #expect(ResidentMemory.parse(status, field: "Vm") == nil, "a prefix of a name is not the name")
        #expect(ResidentMemory.parse(status, field: "Bad") == nil && ResidentMemory.parse(status, field: "Missing") == nil)
        #expect(ResidentMemory.parse(status, field: "Huge") == nil, "an overflowing size is refused, not wrapped")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/clear_refs"), "needs Linux /proc"))
    func theResetPeakFollowsWhatIsTouched() throws {
        let bytes = 64 << 20
        func touch() {
            // Large enough to be its own mapping, so freeing it returns it to the kernel.
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 4096)
            for page in stride(from: 0, to: bytes, by: 4096) { buffer[page] = 1 }
            buffer.deallocate()
        }
        touch()
        let high = try #require(ResidentMemory.peakBytes())
        #expect(ResidentMemory.resetPeak() == .task, "a process may reset its own peak")
        let low = try #require(ResidentMemory.peakBytes())
        #expect(low + bytes / 2 <= high, "the reset forgot the freed 64 MiB: peak \(high) → \(low)")
        touch()
        let again = try #require(ResidentMemory.peakBytes())
        #expect(again >= low + bytes - (4 << 20), "peak \(again) after touching \(bytes) bytes from \(low)")
    }
}
