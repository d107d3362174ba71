// How the fp32 GEMM kernel is decided for every command: `SMALLER_GEMM` (own, onednn or auto; auto by default),
// and under auto the per-machine file of measured choices in $XDG_CACHE_HOME/smaller (~/.cache/smaller without
// it), read before any product so that a rerun on this machine computes with the same kernels, bit for bit.
import ArgumentParser
import Foundation
import TensorCore

enum GemmSetup {
    /// The file of measured choices for this environment.
    static func storeURL(_ env: [String: String]) -> URL? {
        if let xdg = env["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return URL(fileURLWithPath: xdg).appendingPathComponent("smaller/gemm-choice.json")
        }
        guard let home = env["HOME"], home.hasPrefix("/") else { return nil }
        return URL(fileURLWithPath: home).appendingPathComponent(".cache/smaller/gemm-choice.json")
    }

    /// Sets `GemmChoice` from the environment; `forced` (a command's `--gemm`) wins over `SMALLER_GEMM`.
    static func configure(_ env: [String: String] = ProcessInfo.processInfo.environment, forced: GemmPolicy? = nil) {
        var policy = GemmPolicy.auto
        if let text = env["SMALLER_GEMM"], !text.isEmpty {
            if let p = GemmPolicy(parsing: text) { policy = p } else { warn("SMALLER_GEMM must be own, onednn or auto, got \(text): using auto") }
        }
        policy = forced ?? policy
        if policy == .own && !GemmKernel.ownAvailable { warn("own GEMM needs AVX2 and FMA, which this processor lacks: using oneDNN") }
        GemmChoice.policy = policy == .own && !GemmKernel.ownAvailable ? .oneDNN : policy
        GemmChoice.chooser = GemmChooser(store: storeURL(env).map { GemmChoiceStore(url: $0, warn: warn) })
    }

    /// A command's `--gemm` value, checked: the kernel exists and, for `own`, this processor runs it.
    static func parse(_ text: String) throws -> GemmPolicy {
        guard let kernel = GemmPolicy(parsing: text) else { throw ValidationError("--gemm must be own, oneDNN or auto, got \(text)") }
        guard kernel != .own || GemmKernel.ownAvailable else { throw ValidationError("--gemm own needs AVX2 and FMA, which this processor lacks") }
        return kernel
    }

    /// The help of every `--gemm`.
    static let help: ArgumentHelp = "The fp32 GEMM kernel: own (CGemm), oneDNN (matmul primitives) or auto (measured per shape class, the default; SMALLER_GEMM sets it too)."

    @Sendable static func warn(_ message: String) {
        printErr("smaller: GEMM choice: \(message)")
    }
}
