// `smaller doctor`: what this machine and build have, read at run time from the libraries themselves.
import ArgumentParser
import Foundation
import TensorCore
import Wire

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the toolchain, native libraries and hardware this build sees.")

    func run() throws {
        for (key, value) in Self.report() {
            print("\(key.padding(toLength: 22, withPad: " ", startingAt: 0)) \(value)")
        }
        for line in Self.gemmChoices() { print(line) }
    }

    static var gemmPolicy: String {
        switch GemmChoice.policy {
        case .own: return "own (CGemm, AVX2 + FMA), forced by SMALLER_GEMM"
        case .oneDNN: return GemmKernel.ownAvailable ? "oneDNN matmul, forced by SMALLER_GEMM" : "oneDNN matmul (this processor lacks AVX2/FMA)"
        case .auto: return "auto: CGemm or oneDNN matmul per shape class, measured once per machine"
                + (GemmChoice.chooser.store.map { " (\($0.url.path))" } ?? "")
        }
    }

    /// Under auto, the choice for the training-step shapes of the small model (B32×T128, measured now if this
    /// machine has no choice for them yet) and every other class measured, each with both kernels' GFLOP/s.
    static func gemmChoices() -> [String] {
        guard GemmChoice.policy == .auto else { return [] }
        let threads = ProcessInfo.processInfo.activeProcessorCount, (M, C, F) = (32 * 128, 256, 1024)
        for (ta, tb, m, n, k) in [(Transpose.none, Transpose.transposed, M, C, C), (.none, .transposed, M, F, C), (.none, .none, M, C, F),
                                  (.transposed, .none, F, C, M)] {
            _ = GemmChoice.kernel(ta, tb, m: m, n: n, k: k, threads: threads)
        }
        return ["fp32 GEMM choices (class: transposes, m×n×k bucket bounds, threads; the shape timed):"]
            + GemmChoice.chooser.choices.map { c, m in
                "  " + c.name.padding(toLength: 24, withPad: " ", startingAt: 0) + " → " + m.kernel.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)
                    + String(format: "(CGemm %.1f GFLOP/s, oneDNN %.1f GFLOP/s; timed %@)", m.ownGFlops, m.oneDNNGFlops, m.shape)
            }
    }

    static func report() -> [(String, String)] {
        [
            ("smaller", SmallerVersion.described),
            ("swift (compiled with)", compilerVersion),
            ("swift (on PATH)", toolchainOnPath() ?? "not found"),
            ("oneDNN", ComputeInfo.oneDNNVersion),
            ("oneDNN ISA", ComputeInfo.isa + (ComputeInfo.hasInt8Acceleration ? " (int8 VNNI/AMX: yes)" : " (int8 VNNI/AMX: no)")),
            ("oneDNN threads", String(ComputeInfo.threads)),
            ("fp32 GEMM", gemmPolicy),
            ("int8 GEMM", Int8SplitGemm.implementationSummary),
            ("ZeroMQ", ZeroMQInfo.version),
            ("ZeroMQ CURVE", ZeroMQInfo.hasCurve ? "available" : "not available"),
            ("cores", String(ProcessInfo.processInfo.activeProcessorCount)),
            ("memory", String(format: "%.1f GiB", Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824)),
        ]
    }

    /// The compiler that built this binary, to the minor version it can tell.
    static var compilerVersion: String {
        #if compiler(>=7.0)
        return ">= 7.0"
        #elseif compiler(>=6.4)
        return "6.4"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "< 6.1"
        #endif
    }

    /// The first line of `swift --version` from the toolchain on PATH, if any.
    static func toolchainOnPath() -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "--version"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").first.map(String.init)
    }
}
