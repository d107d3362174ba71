// Row-independent kernels (softmax forward and backward, GELU forward and backward, LayerNorm forward) split across
// the compute threads of `Parallel.parts` by contiguous rows. Each row is computed exactly as on one thread, so the
// results are the same bits whatever the split. The job is one object per calling thread (`threadLocalJob`, slot 2),
// so nothing is allocated per call. The cross-entropy's rows also feed one loss: each part sums its rows, and the
// parts' sums are added in part order (`rowSums`), the same bits for the same thread count. LayerNorm backward's dγ
// and dβ (sums over rows) split by columns instead, each column summed over the rows in order: the bits of one thread.

/// One row kernel's arguments; `Kernels.run(_:rows:)` computes a range of its rows.
enum RowWork {
    /// Rows of `cols` floats.
    case softmaxForward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, cols: Int)
    case softmaxBackward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, cols: Int)
    case layerNormForward(x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                          y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                          rstd: UnsafeMutablePointer<Float>, cols: Int, eps: Float)
    /// LayerNorm backward's dx, rows of `cols`.
    case layerNormBackward(x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                           dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, cols: Int)
    /// LayerNorm backward's dγ and dβ: "rows" are blocks of 8 columns, each summed over all `rows` rows in order.
    case layerNormParameterGradients(x: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                     dy: UnsafePointer<Float>, dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>,
                                     rows: Int, cols: Int)
    /// Rows of 8 floats (one SIMD block) over `n` floats; the last row may be shorter.
    case geluForward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, n: Int)
    case geluBackward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, n: Int)
    /// Rows of `Kernels.dropoutChunk` mask elements over `n`, each chunk its own random stream.
    case dropout(mask: UnsafeMutablePointer<Float>, n: Int, p: Float, seed: UInt64)
    /// Rows of `cols` logits; its rows' losses are summed (`Kernels.runSum` returns the sum).
    case crossEntropy(logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, cols: Int, dlogits: UnsafeMutablePointer<Float>?,
                      invCount: Float)
}

/// The job of a split row kernel: part p of `parts` computes rows rows·p/parts ..< rows·(p+1)/parts.
/// Part p's sum goes to `sums[p]`: raw memory the parts write at once (grown when a call has more parts than any
/// before on this thread; the job lives as long as its thread).
final class RowJob: PartsBody {
    var work: RowWork?
    var rows = 0, parts = 1
    private(set) var sums = UnsafeMutablePointer<Double>.allocate(capacity: 16)
    private var capacity = 16

    func reserve(_ count: Int) {
        guard count > capacity else { return }
        sums.deallocate()
        sums = .allocate(capacity: count)
        capacity = count
    }

    func runPart(_ part: Int) {
        if let work { sums[part] = Kernels.runSum(work, rows: rows * part / parts ..< rows * (part + 1) / parts) }
    }
}

extension Parallel {
    /// A row kernel is split only when every part gets at least this many floats (~30–60 µs of work: a hand-over to
    /// the spinning pool costs a few µs).
    package static let rowSplitFloats = 1 << 15

    /// Runs `work` over rows 0..<rows, each `floatsPerRow` floats, on the calling thread or split across up to
    /// `threads` threads (callers inside a `Parallel.parts` body pass 1, so nested calls stay on their thread).
    static func rows(_ rows: Int, floatsPerRow: Int, threads: Int, _ work: RowWork) {
        _ = rowSums(rows, floatsPerRow: floatsPerRow, threads: threads, work)
    }

    /// As `rows`, returning the sum of what `Kernels.runSum` returns for each part, added in part order.
    static func rowSums(_ rows: Int, floatsPerRow: Int, threads requested: Int, _ work: RowWork) -> Double {
        let threads = min(requested, rows)
        if threads <= 1 || rows * floatsPerRow < rowSplitFloats * threads {
            return Kernels.runSum(work, rows: 0..<rows)
        }
        let job = threadLocalJob(slot: 2, RowJob.init)
        job.reserve(threads)
        job.work = work; job.rows = rows; job.parts = threads
        Parallel.parts(threads, job)
        job.work = nil
        var total: Double = 0
        for part in 0..<threads { total += job.sums[part] }
        return total
    }
}
