#ifndef TAPEKERNELS_H
#define TAPEKERNELS_H
/*
 * Hot loops of the Tape engine in C, so that they can use AVX2 + FMA through per-function target
 * attributes chosen at run time (no unsafe compiler flags, which SwiftPM refuses in dependencies).
 *
 * C = alpha * op(A) * op(B) + beta * C, row-major, op(X) = X or Xᵀ. M×K times K×N into M×N.
 * lda, ldb, ldc are row strides (in elements) of A, B and C as stored.
 * beta == 0 never reads C (it may hold garbage). The workspace holds the packed panels:
 * tk_dgemm_workspace_doubles() doubles, 64-byte aligned is best. No global mutable state.
 */
#include <stddef.h>

/* 1 when the CPU has AVX2 and FMA (checked once per call site, cheap). */
int tk_cpu_has_avx2_fma(void);

/* Doubles of workspace tk_dgemm needs (independent of the sizes). */
size_t tk_dgemm_workspace_doubles(void);

/* Row block sizes: a product may be split across threads by rows of C in multiples of this. */
long tk_dgemm_row_block(void);

/* The product, AVX2/FMA kernel when available, else the portable kernel. */
void tk_dgemm(int transA, int transB, long M, long N, long K, double alpha,
              const double *A, long lda, const double *B, long ldb,
              double beta, double *C, long ldc, double *workspace);

/* The same with the portable C kernel only (for tests and machines without AVX2). */
void tk_dgemm_portable(int transA, int transB, long M, long N, long K, double alpha,
                       const double *A, long lda, const double *B, long ldb,
                       double beta, double *C, long ldc, double *workspace);
#endif
