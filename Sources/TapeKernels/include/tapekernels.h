#ifndef TAPEKERNELS_H
#define TAPEKERNELS_H
/*
 * Hot loops of the Tape engine in C, so that they can use AVX2 + FMA through per-function target
 * attributes chosen at run time (no unsafe compiler flags, which SwiftPM refuses in dependencies),
 * and a worker pool with microsecond hand-over for splitting them across cores.
 *
 * C = alpha * op(A) * op(B) + beta * C, row-major, op(X) = X or Xᵀ. M×K times K×N into M×N.
 * lda, ldb, ldc are row strides (in elements) of A, B and C as stored.
 * beta == 0 never reads C (it may hold garbage). The workspace holds the packed panels:
 * tk_dgemm_workspace_doubles(threads) doubles, 64-byte aligned is best; products for which
 * tk_dgemm_is_small() holds never touch it (it may be NULL then).
 * Results are bit-identical for every thread count.
 */
#include <stddef.h>

/* The kernel paths. The dispatchers take the best the CPU has, unless the environment variable
 * TAPE_KERNELS (portable | avx2 | avx512) asks for another that the CPU has; read once per process. */
#define TK_PATH_PORTABLE 0
#define TK_PATH_AVX2 1
/* What became of a TAPE_KERNELS request: none made, honoured, an unknown name, a path this CPU lacks,
 * or a path this build has no kernels for (avx512); in the last three cases the best path is used. */
#define TK_REQUEST_NONE 0
#define TK_REQUEST_HONOURED 1
#define TK_REQUEST_UNKNOWN 2
#define TK_REQUEST_UNSUPPORTED 3
#define TK_REQUEST_NOT_BUILT 4
int tk_kernel_path(void);
int tk_kernel_request_status(void);

/* 1 when the dispatchers take the AVX2 + FMA path (the CPU has both and TAPE_KERNELS does not say otherwise). */
int tk_cpu_has_avx2_fma(void);

/* Once per process: glibc serves blocks up to 32 MiB from its heap and keeps up to 64 MiB of it free,
 * so tensors freed and allocated again are not page-faulted in anew (allocator.c says why). 1 when the
 * settings are in effect, 0 when the user's own malloc settings were left alone or this is not glibc. */
int tk_tune_allocator(void);

/* Doubles of workspace a product on up to `threads` threads needs (independent of the sizes). */
size_t tk_dgemm_workspace_doubles(int threads);

/* 1 when the product takes the direct (unpacked, single-threaded) path and needs no workspace. */
int tk_dgemm_is_small(long M, long N, long K);

/* Products with fewer multiply-adds than this run on one thread. */
#define TK_PARALLEL_MIN_MACS 262144.0

/* The product on up to `threads` threads of the pool: AVX2/FMA kernel when available, else portable. */
void tk_dgemm(int transA, int transB, long M, long N, long K, double alpha,
              const double *A, long lda, const double *B, long ldb,
              double beta, double *C, long ldc, double *workspace, int threads);

/* The same with the portable C kernel only (for tests and machines without AVX2). */
void tk_dgemm_portable(int transA, int transB, long M, long N, long K, double alpha,
                       const double *A, long lda, const double *B, long ldb,
                       double beta, double *C, long ldc, double *workspace, int threads);

/* Elementwise exp, tanh and the logistic sigmoid over n doubles (vmath.c): y[i] = f(x[i]), x == y allowed.
 * AVX2 + FMA when available, else portable C; within a few ulp of the correctly rounded value; a value's
 * result does not depend on its position in the array. The one-value forms give the same results.
 * Arrays of at least TK_PARALLEL_MIN_VALUES are split over the worker pool. */
#define TK_PARALLEL_MIN_VALUES 8192
void tk_vexp(const double *x, double *y, long n);
void tk_vtanh(const double *x, double *y, long n);
void tk_vsigmoid(const double *x, double *y, long n);
void tk_vexp_portable(const double *x, double *y, long n);
void tk_vtanh_portable(const double *x, double *y, long n);
void tk_vsigmoid_portable(const double *x, double *y, long n);
double tk_exp(double x);
double tk_tanh(double x);
double tk_sigmoid(double x);

/* Stacked products: C = alpha [op(A0); op(A1); …] [op(B0) op(B1) …] + beta C with na, nb ≥ 1 segments;
 * op(A[s]) is M[s] × K, op(B[s]) is K × N[s], C[sa·nb + sb] is M[sa] × N[sb] with row stride ldc[sa·nb + sb].
 * One packing of a segment serves all blocks it meets (up to TK_MAX_SEGMENTS blocks per packing: longer
 * stacks of A or B segments go in chunks). Every block gets exactly the bits that tk_dgemm on it alone would
 * give. */
#define TK_MAX_SEGMENTS 32
void tk_dgemm_stacked(int transA, int transB, long K, double alpha, int na, const double *const *A, const long *lda,
                      const long *M, int nb, const double *const *B, const long *ldb, const long *N, double beta,
                      double *const *C, const long *ldc, double *workspace, int threads);

/* Two products sharing an operand, with beta = 0: stack_rows ? [C0; C1] = [op(A0); op(A1)]·op(B0)
 *                                                       : [C0 | C1] = op(A0)·[op(B0) | op(B1)].
 * All of A0/A1 (and B0/B1) have the same shape; C0, C1 are M × N with row stride ldc. */
void tk_dgemm_pair(int transA, int transB, long M, long N, long K, int stack_rows, const double *A0, const double *A1,
                   long lda, const double *B0, const double *B1, long ldb, double *C0, double *C1, long ldc,
                   double *workspace, int threads);

/* Elementwise loops (elementwise.c), AVX2 when available, bit-identical to the scalar loops.
 * tk_binary: out[i][j] (+)= op(a[i·ars + j·acs], b[i·brs + j·bcs]) over rows × cols, out dense (row stride
 * cols), column strides acs, bcs ∈ {0, 1} (0 broadcasts one value along the row); op is one of TK_ADD … */
enum { TK_ADD = 0, TK_SUB = 1, TK_MUL = 2, TK_DIV = 3 };
void tk_binary(int op, long rows, long cols, const double *a, long ars, long acs, const double *b, long brs, long bcs,
               double *out, int accumulate);
void tk_binary_portable(int op, long rows, long cols, const double *a, long ars, long acs, const double *b, long brs,
                        long bcs, double *out, int accumulate);
/* dst[j] += Σ_i src[i·cols + j] (each column summed over i in order). */
void tk_reduce_rows(const double *src, long rows, long cols, double *dst);
/* dst[k] += src[k] for k < n. */
void tk_add_into(const double *src, double *dst, long n);

/* dst[0:n] = src[0:n] (no overlap); copies of at least TK_PARALLEL_MIN_COPY doubles use the pool. */
#define TK_PARALLEL_MIN_COPY 65536
void tk_copy(double *dst, const double *src, long n);

/* The worker pool (pool.c): threads it can run at once, the caller included (TAPE_THREADS, else the
 * online CPUs, at most 8). */
int tk_pool_threads(void);

/* Runs fn(ctx, tid, n) for tid = 0 … n−1 with n ≤ nthreads (tid 0 on the calling thread) and returns
 * n when all are done. n counts the workers that started within a few microseconds (one that is not running
 * is left out, not waited for). When the pool is busy with another caller, runs fn(ctx, 0, 1) alone. */
typedef void (*tk_task_fn)(void *ctx, int tid, int nthreads);
int tk_pool_run(int nthreads, tk_task_fn fn, void *ctx);

/* fn(ctx, start, count) over stretches covering 0 … n−1: all at once when n < minimum, else one stretch
 * per thread of the pool, each starting at a multiple of `granule`. */
typedef void (*tk_range_fn)(void *ctx, long start, long count);
void tk_parallel_for(long n, long granule, long minimum, tk_range_fn fn, void *ctx);
#endif
