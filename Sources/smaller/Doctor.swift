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
    }

    static func report() -> [(String, String)] {
        [
            ("smaller", SmallerVersion.described),
            ("swift (compiled with)", compilerVersion),
            ("swift (on PATH)", toolchainOnPath() ?? "not found"),
            ("oneDNN", ComputeInfo.oneDNNVersion),
            ("oneDNN ISA", ComputeInfo.isa + (ComputeInfo.hasInt8Acceleration ? " (int8 VNNI/AMX: yes)" : " (int8 VNNI/AMX: no)")),
            ("oneDNN threads", String(ComputeInfo.threads)),
            ("fp32 GEMM", GemmKernel.current == .own ? "own (CGemm, AVX2 + FMA)" : "oneDNN sgemm (this processor lacks AVX2/FMA)"),
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
