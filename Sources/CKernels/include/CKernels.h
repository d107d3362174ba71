// Elementwise kernels in C for what Swift cannot do without target flags: AVX-512 and AVX2 + FMA code paths picked
// at run time (the Swift targets compile for baseline x86-64, SSE2). Each call runs on the calling thread.
#ifndef CKERNELS_H
#define CKERNELS_H

/// The widest code path every ck_* function can take on this processor: 2 AVX-512F, 1 AVX2 + FMA, 0 portable C
/// (paths.c; looked up once per process).
int ck_best_path(void);

/// The path a call asking for `path` takes: the narrower of it and ck_best_path() (negative: 0). Every ck_* function
/// with a `path` argument lowers it so; pass 2 for the widest.
int ck_lower_path(int path);

/// y[i] = x[i] · Φ(x[i]) (exact-form GELU) for i < n, through code path `path` (see ck_lower_path). `y` may alias `x`.
void ck_gelu_forward(int path, const float *x, float *y, long n);

/// dx[i] = dy[i] · (Φ(x[i]) + x[i] · φ(x[i])) for i < n, as ck_gelu_forward. `dx` may alias `dy`.
void ck_gelu_backward(int path, const float *x, const float *dy, float *dx, long n);

/// Φ(x[i]) and φ(x[i]) through code path `path`, for tests of the approximation itself.
void ck_normal_cdf_pdf(int path, const float *x, float *cdf, float *pdf, long n);

/// The int8 path's row passes (int8rows.c), through code path `path` (see ck_lower_path),
/// each bit for bit the Swift reference in Compression's Int8Math.Reference.
/// lo = min(lo, x[k]) and hi = max(hi, x[k]) over k < n, as `v < lo ? v : lo` and `v > hi ? v : hi` (NaN skipped).
/// Call with *lo = *hi = 0.
void ck_int8_row_range(int path, const float *x, long n, float *lo, float *hi);

/// q[k] = the low byte of the bits of clamp(x[k] / scale + zero, 0, top) + 1.5·2²³ (the 7-bit code, rounded half
/// to even) for k < n.
void ck_int8_quantize_row(int path, const float *x, long n, float scale, float zero, float top, unsigned char *q);

/// y[j] = (float)(acc[j] − zero · rowsum[j]) · (sx · wscale[j]) + bias[j] for j < n, integer parts wrapping, no FMA.
void ck_int8_dequantize_row(int path, const int *acc, long n, int zero, float sx, const float *wscale, const int *rowsum,
                            const float *bias, float *y);

/// colmax[c] = max(colmax[c], |x[i·k + c]|) over the rows i < rows, as `v > m ? v : m` (NaN skipped): LLM.int8()'s
/// outlier-column search (Compression's MixedInt8Linear), any path the same bits (a maximum).
void ck_int8_column_abs_max(int path, const float *x, long rows, long k, float *colmax);

/// Softmax of each of `rows` rows of `cols` floats (softmax.c), through code path `path` (see
/// ck_lower_path), bit for bit TensorCore's Swift reference (Kernels.softmaxReference). `y` may alias `x`.
void ck_softmax_rows(int path, const float *x, float *y, long rows, long cols);

/// The largest of x[0..<n] (−∞ for n = 0; any order gives the same value but for ±0 and NaN, see softmax.c).
float ck_row_max(int path, const float *x, long n);

/// y[i] = e^(x[i] − shift) for i < n and their sum, bit for bit TensorCore's `Kernels.expShifted`. `y` may alias `x`.
float ck_exp_shifted(int path, const float *x, float *y, long n, float shift);

/// Chunks first ..< end of a dropout mask of n elements (dropout.c): chunk c's `chunk` elements from xoshiro256**
/// seeded by SplitMix64 output c of `seed`, 0 where its uniform is below p, else 1/(1 − p); bit for bit TensorCore's
/// Kernels.dropoutChunksReference on every path.
void ck_dropout_chunks(int path, float *mask, long n, float p, unsigned long long seed, long chunk, long first, long end);

#endif
