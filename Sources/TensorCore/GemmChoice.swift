// Which fp32 kernel runs a product: CGemm or oneDNN's matmul (FloatMatmul.swift), forced, or chosen per shape
// class by timing both on first use. CGemm was tuned on AVX2 machines, where it matches oneDNN; on AVX-512 (and
// AMX) machines oneDNN's kernels can be far faster, and on others slower: a measurement decides, not the ISA.
//
// The two kernels' results differ in the last bits, so a choice that flipped between runs would break "same seed,
// same thread count → same bits" on one machine. Measured choices are therefore persisted per machine
// (GemmChoiceStore.swift) and read back before anything is measured: a rerun uses the first run's choices.
import Dispatch
import Foundation
import Synchronization

/// How the kernel of a product is decided: forced to one kernel, or `auto` (measured per shape class).
package enum GemmPolicy: String, Sendable, CaseIterable {
    case own, oneDNN, auto

    /// `own`, `onednn` (any case) or `auto`.
    package init?(parsing text: String) {
        guard let p = Self.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() }) else { return nil }
        self = p
    }
}

/// The products of one class share a measured choice: same transposes and thread count, each of m, n and k in
/// the same power-of-two bucket (the model's few shapes each get a class; evaluation's row counts fall into a few).
package struct GemmShapeClass: Hashable, Sendable, Comparable {
    package var transA: Transpose, transB: Transpose
    /// Bucket bounds: the next power of two at or above m, n and k.
    package var m: Int, n: Int, k: Int
    package var threads: Int

    package init(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, threads: Int) {
        self.transA = transA; self.transB = transB; self.threads = threads
        (self.m, self.n, self.k) = (Self.bucket(m), Self.bucket(n), Self.bucket(k))
    }

    static func bucket(_ x: Int) -> Int { x <= 1 ? 1 : 1 << (Int.bitWidth - (x - 1).leadingZeroBitCount) }

    /// "NT ≤4096×256×256 t2": the transposes, the bucket bounds and the threads.
    package var name: String {
        "\(transA == .none ? "N" : "T")\(transB == .none ? "N" : "T") ≤\(m)×\(n)×\(k) t\(threads)"
    }

    package static func < (a: Self, b: Self) -> Bool { a.name < b.name }
}

/// What was measured for a class: the kernel kept and both kernels' GFLOP/s on the shape timed.
package struct GemmMeasurement: Sendable, Equatable, Codable {
    package var kernel: GemmKernel
    package var ownGFlops: Double, oneDNNGFlops: Double
    /// The shape timed (the first product of the class seen), "m×n×k".
    package var shape: String

    package init(kernel: GemmKernel, ownGFlops: Double, oneDNNGFlops: Double, shape: String) {
        self.kernel = kernel; self.ownGFlops = ownGFlops; self.oneDNNGFlops = oneDNNGFlops; self.shape = shape
    }
}

package enum GemmChoice {
    /// How kernels are decided. CGemm wherever it runs, unless set: the CLI sets it from `SMALLER_GEMM` or
    /// `--gemm` (auto by default); tests that force a kernel set it and put it back.
    package nonisolated(unsafe) static var policy: GemmPolicy = GemmKernel.ownAvailable ? .own : .oneDNN
    /// The process's measured choices under `auto` (the CLI gives it the machine's file).
    package nonisolated(unsafe) static var chooser = GemmChooser(store: nil)
    /// oneDNN must be this much faster than CGemm to be chosen, so that near-ties keep the kernel with the
    /// stronger determinism contract (CGemm's bits do not depend on the thread count).
    package static let margin = 1.05
    /// Below this many multiply-adds a product runs CGemm under `auto` without a measurement (nor a class in the
    /// file): CGemm's small-product path has no primitive to look up.
    package static let smallestMeasured = 1 << 15

    /// Runs `body` with `forced` as the policy, then puts the previous one back. Callers that force a policy this
    /// way take turns (a process-wide lock), so that two tests forcing different kernels cannot interleave; the
    /// lock is recursive, so a task that pins its kernel may run inside a test that forced another.
    package static func withPolicy<R>(_ forced: GemmPolicy, _ body: () throws -> R) rethrows -> R {
        forcing.lock()
        defer { forcing.unlock() }
        let saved = policy
        defer { policy = saved }
        policy = forced
        return try body()
    }
    private static let forcing = NSRecursiveLock()

    /// The kernel for a product of this shape on `threads` threads.
    @inline(__always)
    package static func kernel(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, threads: Int) -> GemmKernel {
        kernel(policy: policy, chooser: chooser, transA, transB, m: m, n: n, k: k, threads: threads)
    }

    /// The kernel under `policy`, asking `chooser` under `auto`.
    package static func kernel(policy: GemmPolicy, chooser: GemmChooser, _ transA: Transpose, _ transB: Transpose,
                               m: Int, n: Int, k: Int, threads: Int) -> GemmKernel {
        switch policy {
        case .own: return GemmKernel.ownAvailable ? .own : .oneDNN
        case .oneDNN: return .oneDNN
        case .auto:
            guard GemmKernel.ownAvailable else { return .oneDNN }
            if m * n * k < smallestMeasured { return .own }
            return chooser.kernel(transA, transB, m: m, n: n, k: k, threads: threads)
        }
    }

    /// Times both kernels on scratch operands of this shape (the best of a few runs each, interleaved) and keeps
    /// oneDNN only when it is `margin` faster.
    package static func measure(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, threads: Int) -> GemmMeasurement {
        let (lda, ldb) = (transA == .none ? k : m, transB == .none ? n : k)
        let a = FloatBuffer(count: m * k), b = FloatBuffer(count: k * n), c = FloatBuffer(count: m * n)
        for i in 0..<a.count { a.pointer[i] = Float(i % 7) * 0.25 - 0.75 }
        for i in 0..<b.count { b.pointer[i] = Float(i % 5) * 0.5 - 1 }
        // Enough calls per sample that a sample takes ~1 ms even for a small product.
        let calls = max(1, min(256, (1 << 24) / max(m * n * k, 1)))
        var best: [GemmKernel: UInt64] = [.own: .max, .oneDNN: .max]
        for round in 0..<4 {
            for kernel in [GemmKernel.own, .oneDNN] {
                let t0 = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<calls {
                    run(kernel, (transA, transB, m, n, k, 1, UnsafePointer(a.pointer), lda, UnsafePointer(b.pointer), ldb, 0, c.pointer, n),
                        threads: threads)
                }
                let ns = DispatchTime.now().uptimeNanoseconds - t0
                if round > 0 { best[kernel] = min(best[kernel]!, max(ns, 1)) }  // round 0 warms up (JIT, packing buffers)
            }
        }
        let flops = 2 * Double(m * n * k) * Double(calls)
        let own = flops / Double(best[.own]!), oneDNN = flops / Double(best[.oneDNN]!)
        return GemmMeasurement(kernel: oneDNN >= own * margin ? .oneDNN : .own, ownGFlops: own, oneDNNGFlops: oneDNN,
                               shape: "\(m)×\(n)×\(k)")
    }

    /// Runs a product with `kernel` (the split `sgemm` does after its checks).
    static func run(_ kernel: GemmKernel, _ p: FloatMatmul.Problem, threads: Int) {
        if kernel == .own {
            SplitGemm.run((p.transA, p.transB, p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b, p.ldb, nil, p.beta, p.c, p.ldc),
                          threads: threads)
        } else {
            FloatMatmul.run(p, threads: threads)
        }
    }

    /// One line for reports: the policy, and under `auto` each class's kernel with both GFLOP/s.
    package static var summary: String {
        guard policy == .auto else { return policy.rawValue }
        let parts = chooser.choices.map { c, m in
            "\(c.name) \(m.kernel.rawValue) (own \(Int(m.ownGFlops.rounded())), oneDNN \(Int(m.oneDNNGFlops.rounded())) GFLOP/s)"
        }
        return parts.isEmpty ? "auto" : "auto: " + parts.joined(separator: "; ")
    }
}

/// The choices of one process under `auto`, by shape class: read from the store, else measured on first use and
/// added to it. Shared by every thread (a lock; the measurement runs under it, once per class).
package final class GemmChooser: Sendable {
    package let store: GemmChoiceStore?
    private let table = Mutex<[GemmShapeClass: GemmMeasurement]>([:])

    /// Starts with the store's choices (read before any product, so a rerun uses the first run's).
    package init(store: GemmChoiceStore?) {
        self.store = store
        let stored = store?.load() ?? [:]
        table.withLock { $0 = stored }
    }

    func kernel(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, threads: Int) -> GemmKernel {
        let shapeClass = GemmShapeClass(transA, transB, m: m, n: n, k: k, threads: threads)
        return table.withLock { table in
            if let known = table[shapeClass] { return known.kernel }
            let measure = { GemmChoice.measure(transA, transB, m: m, n: n, k: k, threads: threads) }
            // Under the file's lock, another process may have measured the class since this one loaded the
            // store: its choice wins.
            let chosen = store.map { store in
                store.withLock { store.load()[shapeClass] ?? store.add(shapeClass, measure()) }
            } ?? measure()
            table[shapeClass] = chosen
            return chosen.kernel
        }
    }

    /// The choices made or loaded so far, by class.
    package var choices: [(GemmShapeClass, GemmMeasurement)] {
        table.withLock { $0.sorted { $0.key < $1.key } }
    }
}
