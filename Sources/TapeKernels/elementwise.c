/*
 * Elementwise loops with broadcasting, AVX2 when the CPU has it (chosen at run time), else portable C.
 *
 * Why in C: the engine's elementwise passes are mostly short rows (a bias added to 13 × 10 activations,
 * its gradient summed back over the rows). Compiled for baseline x86-64 with possibly aliasing pointers,
 * each row paid for run-time overlap checks and a scalar remainder; here rows are `restrict`, four wide,
 * with a masked tail. Results are the same as the scalar loops bit for bit (one rounding per element).
 */
#include "tapekernels.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static inline double apply(int op, double a, double b) {
    switch (op) { case TK_ADD: return a + b; case TK_SUB: return a - b; case TK_MUL: return a * b; default: return a / b; }
}

/* ---------------------------------------------------------------- portable */

static void binary_portable(int op, long rows, long cols, const double *a, long ars, long acs, const double *b, long brs,
                            long bcs, double *restrict out, int accumulate) {
    for (long i = 0; i < rows; i++) {
        const double *ar = a + i * ars, *br = b + i * brs;
        double *o = out + i * cols;
        for (long j = 0; j < cols; j++) {
            double v = apply(op, ar[j * acs], br[j * bcs]);
            o[j] = accumulate ? o[j] + v : v;
        }
    }
}

static void reduce_rows_portable(const double *restrict src, long rows, long cols, double *restrict dst) {
    for (long i = 0; i < rows; i++) for (long j = 0; j < cols; j++) dst[j] += src[i * cols + j];
}

static void add_into_portable(const double *restrict src, double *restrict dst, long n) {
    for (long k = 0; k < n; k++) dst[k] += src[k];
}

/* ---------------------------------------------------------------- AVX2 */
#if defined(__x86_64__)
#define TARGET __attribute__((target("avx2,fma")))

TARGET static inline __m256i tail_mask(long rem) {
    return _mm256_setr_epi64x(rem > 0 ? -1 : 0, rem > 1 ? -1 : 0, rem > 2 ? -1 : 0, rem > 3 ? -1 : 0);
}

TARGET static inline __m256d apply4(int op, __m256d a, __m256d b) {
    switch (op) {
    case TK_ADD: return _mm256_add_pd(a, b);
    case TK_SUB: return _mm256_sub_pd(a, b);
    case TK_MUL: return _mm256_mul_pd(a, b);
    default: return _mm256_div_pd(a, b);
    }
}

/* One operation's row loop, specialized by the column strides (1: a row, 0: one value repeated). */
#define ROW_LOOP(OP, LOAD_A, LOAD_A_MASK, LOAD_B, LOAD_B_MASK)                                                   \
    for (long i = 0; i < rows; i++) {                                                                           \
        const double *ar = a + i * ars, *br = b + i * brs;                                                      \
        double *o = out + i * cols;                                                                             \
        long j = 0;                                                                                             \
        for (; j + 4 <= cols; j += 4) {                                                                         \
            __m256d v = apply4(OP, LOAD_A, LOAD_B);                                                             \
            if (accumulate) v = _mm256_add_pd(_mm256_loadu_pd(o + j), v);                                       \
            _mm256_storeu_pd(o + j, v);                                                                         \
        }                                                                                                       \
        if (j < cols) {                                                                                         \
            __m256d v = apply4(OP, LOAD_A_MASK, LOAD_B_MASK);                                                   \
            if (accumulate) v = _mm256_add_pd(_mm256_maskload_pd(o + j, mask), v);                              \
            _mm256_maskstore_pd(o + j, mask, v);                                                                \
        }                                                                                                       \
    }

#define BINARY_CASES(OP)                                                                                        \
    if (acs == 1 && bcs == 1) {                                                                                 \
        ROW_LOOP(OP, _mm256_loadu_pd(ar + j), _mm256_maskload_pd(ar + j, mask),                                 \
                 _mm256_loadu_pd(br + j), _mm256_maskload_pd(br + j, mask))                                     \
    } else if (acs == 1) {                                                                                      \
        ROW_LOOP(OP, _mm256_loadu_pd(ar + j), _mm256_maskload_pd(ar + j, mask),                                 \
                 _mm256_broadcast_sd(br), _mm256_broadcast_sd(br))                                              \
    } else if (bcs == 1) {                                                                                      \
        ROW_LOOP(OP, _mm256_broadcast_sd(ar), _mm256_broadcast_sd(ar),                                          \
                 _mm256_loadu_pd(br + j), _mm256_maskload_pd(br + j, mask))                                     \
    } else {                                                                                                    \
        ROW_LOOP(OP, _mm256_broadcast_sd(ar), _mm256_broadcast_sd(ar),                                          \
                 _mm256_broadcast_sd(br), _mm256_broadcast_sd(br))                                              \
    }

TARGET static void binary_avx2(int op, long rows, long cols, const double *a, long ars, long acs, const double *b,
                               long brs, long bcs, double *restrict out, int accumulate) {
    /* A dense iteration space is one long row. */
    if (acs == 1 && bcs == 1 && ars == cols && brs == cols) { cols *= rows; ars = brs = cols; rows = 1; }
    const __m256i mask = tail_mask(cols % 4);
    switch (op) {
    case TK_ADD: BINARY_CASES(TK_ADD) break;
    case TK_SUB: BINARY_CASES(TK_SUB) break;
    case TK_MUL: BINARY_CASES(TK_MUL) break;
    default: BINARY_CASES(TK_DIV) break;
    }
}
#undef BINARY_CASES
#undef ROW_LOOP

TARGET static void reduce_rows_avx2(const double *restrict src, long rows, long cols, double *restrict dst) {
    const __m256i mask = tail_mask(cols % 4);
    long j = 0;
    for (; j + 4 <= cols; j += 4) {   /* each column summed over i in order, as the scalar loop does */
        __m256d s = _mm256_loadu_pd(dst + j);
        for (long i = 0; i < rows; i++) s = _mm256_add_pd(s, _mm256_loadu_pd(src + i * cols + j));
        _mm256_storeu_pd(dst + j, s);
    }
    if (j < cols) {
        __m256d s = _mm256_maskload_pd(dst + j, mask);
        for (long i = 0; i < rows; i++) s = _mm256_add_pd(s, _mm256_maskload_pd(src + i * cols + j, mask));
        _mm256_maskstore_pd(dst + j, mask, s);
    }
}

TARGET static void add_into_avx2(const double *restrict src, double *restrict dst, long n) {
    long k = 0;
    for (; k + 4 <= n; k += 4) _mm256_storeu_pd(dst + k, _mm256_add_pd(_mm256_loadu_pd(dst + k), _mm256_loadu_pd(src + k)));
    for (; k < n; k++) dst[k] += src[k];
}
#define HAS_AVX2 tk_cpu_has_avx2_fma()
#else
#define HAS_AVX2 0
#define binary_avx2 binary_portable
#define reduce_rows_avx2 reduce_rows_portable
#define add_into_avx2 add_into_portable
#endif

void tk_binary(int op, long rows, long cols, const double *a, long ars, long acs, const double *b, long brs, long bcs,
               double *out, int accumulate) {
    if (rows <= 0 || cols <= 0) return;
    if (HAS_AVX2) binary_avx2(op, rows, cols, a, ars, acs, b, brs, bcs, out, accumulate);
    else binary_portable(op, rows, cols, a, ars, acs, b, brs, bcs, out, accumulate);
}

void tk_binary_portable(int op, long rows, long cols, const double *a, long ars, long acs, const double *b, long brs,
                        long bcs, double *out, int accumulate) {
    if (rows <= 0 || cols <= 0) return;
    binary_portable(op, rows, cols, a, ars, acs, b, brs, bcs, out, accumulate);
}

void tk_reduce_rows(const double *src, long rows, long cols, double *dst) {
    if (rows <= 0 || cols <= 0) return;
    if (HAS_AVX2) reduce_rows_avx2(src, rows, cols, dst); else reduce_rows_portable(src, rows, cols, dst);
}

void tk_add_into(const double *src, double *dst, long n) {
    if (n <= 0) return;
    if (HAS_AVX2) add_into_avx2(src, dst, n); else add_into_portable(src, dst, n);
}
