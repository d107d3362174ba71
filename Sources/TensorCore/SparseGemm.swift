// Sparse (CSR) weight × dense activations for inference on unstructured-pruned linear layers:
// y (N, out) = x (N, in) · Wᵀ + b with W (out, in) stored as compressed sparse rows. The kernel works on
// column blocks of xᵀ so that each non-zero is one vectorisable axpy over a block of tokens.
// Reference: the dense sgemm on the densified W (tests compare against it).

/// A (rows, cols) matrix in compressed sparse row form.
package struct CSRMatrix: Sendable {
    package let rows: Int, cols: Int
    /// rowStart[r]..<rowStart[r + 1] index `columns` and `values` for row r; rows + 1 entries.
    package let rowStart: [Int32]
    package let columns: [Int32]
    package let values: [Float]

    /// From a dense row-major (rows, cols) matrix; exact zeros are dropped.
    package init(dense: UnsafePointer<Float>, rows: Int, cols: Int) {
        var start: [Int32] = [0], cs: [Int32] = [], vs: [Float] = []
        for r in 0..<rows {
            for c in 0..<cols where dense[r * cols + c] != 0 { cs.append(Int32(c)); vs.append(dense[r * cols + c]) }
            start.append(Int32(cs.count))
        }
        self.rows = rows; self.cols = cols; rowStart = start; columns = cs; values = vs
    }

    package var nonZeros: Int { values.count }

    /// Tokens per column block: xᵀ block (cols × block floats) should sit in L2.
    static let block = 128

    /// y (N, rows) = x (N, cols) · selfᵀ (+ bias (rows)). `scratch` holds at least (cols + rows) · min(N, 128) floats.
    package func multiply(x: UnsafePointer<Float>, n: Int, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                          scratch: UnsafeMutablePointer<Float>) {
        let K = cols, M = rows
        rowStart.withUnsafeBufferPointer { starts in
        columns.withUnsafeBufferPointer { cols in
        values.withUnsafeBufferPointer { vals in
            var n0 = 0
            while n0 < n {
                let nb = min(Self.block, n - n0)
                let xt = scratch, yt = scratch + K * nb
                // xᵀ block (K, nb).
                for t in 0..<nb { let row = x + (n0 + t) * K; for k in 0..<K { xt[k * nb + t] = row[k] } }
                for m in 0..<M {
                    let out = yt + m * nb
                    let b0 = bias?[m] ?? 0
                    for t in 0..<nb { out[t] = b0 }
                    for i in Int(starts[m])..<Int(starts[m + 1]) {
                        let v = vals[i], src = xt + Int(cols[i]) * nb
                        for t in 0..<nb { out[t] += v * src[t] }
                    }
                }
                // yᵀ block back to (nb, M).
                for t in 0..<nb { let row = y + (n0 + t) * M; for m in 0..<M { row[m] = yt[m * nb + t] } }
                n0 += nb
            }
        }}}
    }

    /// Floats of scratch `multiply` needs.
    package func scratchCount(n: Int) -> Int { (cols + rows) * min(n, Self.block) }
}
