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

static void reduce_rows_portable(const double *restrict src, long rows, long cols, long lds, double *restrict dst) {
    for (long i = 0; i < rows; i++) for (long j = 0; j < cols; j++) dst[j] += src[i * lds + j];
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
    const __m256i mask = tail_mask(cols % 4);   /* tk_binary made a dense iteration space one long row */
    switch (op) {
    case TK_ADD: BINARY_CASES(TK_ADD) break;
    case TK_SUB: BINARY_CASES(TK_SUB) break;
    case TK_MUL: BINARY_CASES(TK_MUL) break;
    default: BINARY_CASES(TK_DIV) break;
    }
}
#undef BINARY_CASES
#undef ROW_LOOP

TARGET static void reduce_rows_avx2(const double *restrict src, long rows, long cols, long lds, double *restrict dst) {
    const __m256i mask = tail_mask(cols % 4);
    long j = 0;
    for (; j + 4 <= cols; j += 4) {   /* each column summed over i in order, as the scalar loop does */
        __m256d s = _mm256_loadu_pd(dst + j);
        for (long i = 0; i < rows; i++) s = _mm256_add_pd(s, _mm256_loadu_pd(src + i * lds + j));
        _mm256_storeu_pd(dst + j, s);
    }
    if (j < cols) {
        __m256d s = _mm256_maskload_pd(dst + j, mask);
        for (long i = 0; i < rows; i++) s = _mm256_add_pd(s, _mm256_maskload_pd(src + i * lds + j, mask));
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

/* Long loops are split over the worker pool: rows (or stretches of one long row) for tk_binary and
 * tk_add_into, columns for tk_reduce_rows, so every element is still computed by one thread exactly as
 * alone. */
typedef struct { int kind, op; long rows, cols, lds, ars, acs, brs, bcs; const double *a, *b; double *out; int accumulate; } loop_job;
enum { JOB_BINARY, JOB_REDUCE, JOB_ADD };

static void run_serial(const loop_job *j) {
    switch (j->kind) {
    case JOB_BINARY:
        if (HAS_AVX2) binary_avx2(j->op, j->rows, j->cols, j->a, j->ars, j->acs, j->b, j->brs, j->bcs, j->out, j->accumulate);
        else binary_portable(j->op, j->rows, j->cols, j->a, j->ars, j->acs, j->b, j->brs, j->bcs, j->out, j->accumulate);
        break;
    case JOB_REDUCE:
        if (HAS_AVX2) reduce_rows_avx2(j->a, j->rows, j->cols, j->lds, j->out); else reduce_rows_portable(j->a, j->rows, j->cols, j->lds, j->out);
        break;
    default:
        if (HAS_AVX2) add_into_avx2(j->a, j->out, j->cols); else add_into_portable(j->a, j->out, j->cols);
    }
}

static void loop_task(void *ctx, int tid, int nt) {
    loop_job part = *(const loop_job *)ctx;
    if (part.rows == 1 || part.kind == JOB_REDUCE) {   /* split the columns, in multiples of 8 */
        long groups = (part.cols + 7) / 8, g0 = groups * tid / nt, g1 = groups * (tid + 1) / nt;
        long c0 = g0 * 8, c1 = g1 * 8 < part.cols ? g1 * 8 : part.cols;
        if (c1 <= c0) return;
        part.a += c0 * (part.kind == JOB_BINARY ? part.acs : 1);
        if (part.kind == JOB_BINARY) part.b += c0 * part.bcs;
        part.out += c0;
        part.cols = c1 - c0;
    } else {                                             /* split the rows */
        long r0 = part.rows * tid / nt, r1 = part.rows * (tid + 1) / nt;
        if (r1 <= r0) return;
        part.a += r0 * part.ars;
        part.b += r0 * part.brs;
        part.out += r0 * part.lds;
        part.rows = r1 - r0;
    }
    run_serial(&part);
}

static void run_loop(loop_job *j, long work) {
    if (work < TK_PARALLEL_MIN_VALUES) run_serial(j);
    else tk_pool_run(tk_pool_threads(), loop_task, j);
}

void tk_binary(int op, long rows, long cols, const double *a, long ars, long acs, const double *b, long brs, long bcs,
               double *out, int accumulate) {
    if (rows <= 0 || cols <= 0) return;
    if (acs == 1 && bcs == 1 && ars == cols && brs == cols) { cols *= rows; ars = brs = cols; rows = 1; }   /* dense: one row */
    /* out is dense: its row stride is cols (lds). A one-row job's slices keep out dense over the slice. */
    loop_job j = { JOB_BINARY, op, rows, cols, cols, ars, acs, brs, bcs, a, b, out, accumulate };
    run_loop(&j, rows * cols);
}

void tk_binary_portable(int op, long rows, long cols, const double *a, long ars, long acs, const double *b, long brs,
                        long bcs, double *out, int accumulate) {
    if (rows <= 0 || cols <= 0) return;
    binary_portable(op, rows, cols, a, ars, acs, b, brs, bcs, out, accumulate);
}

void tk_reduce_rows(const double *src, long rows, long cols, double *dst) {
    if (rows <= 0 || cols <= 0) return;
    loop_job j = { JOB_REDUCE, 0, rows, cols, cols, 0, 1, 0, 1, src, NULL, dst, 1 };
    run_loop(&j, rows * cols);
}

void tk_add_into(const double *src, double *dst, long n) {
    if (n <= 0) return;
    loop_job j = { JOB_ADD, 0, 1, n, n, n, 1, 0, 0, src, NULL, dst, 1 };
    run_loop(&j, n);
}
