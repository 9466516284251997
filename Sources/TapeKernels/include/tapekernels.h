#ifndef TAPEKERNELS_H
#define TAPEKERNELS_H
/* Placeholder until the GEMM kernel lands. */
int tk_cpu_has_avx2_fma(void);
#endif
