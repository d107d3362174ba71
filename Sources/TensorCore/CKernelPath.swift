// CKernels' code paths as Swift sees them: a call asks for a path and CKernels runs the narrower of it and what
// the processor has (ck_lower_path), so the engine asks for the widest and tests walk every path up to `best`.
import CKernels

package enum CKernelPath {
    /// 2 AVX-512F, 1 AVX2 + FMA, 0 portable C: what the engine asks for.
    package static let widest: Int32 = 2
    /// The widest path this processor runs, for tests that check every path.
    package static var best: Int32 { ck_best_path() }
}
