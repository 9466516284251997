#ifndef TAPEKERNELS_INTERNAL_H
#define TAPEKERNELS_INTERNAL_H
/* Declarations shared by the C files of TapeKernels only (not visible to Swift). */
#include <stdatomic.h>

/* A spinning barrier for the threads of one pool task. */
typedef struct {
    atomic_int arrived;
    atomic_uint phase;
} tk_barrier;

void tk_barrier_init(tk_barrier *b);
/* Returns when all `nthreads` threads of the task have called it (at once when nthreads is 1). */
void tk_barrier_wait(tk_barrier *b, int nthreads);
#endif
