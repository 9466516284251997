/*
 * The C allocator's settings for tensor-sized blocks (glibc only; elsewhere a no-op).
 *
 * Why: glibc serves blocks above its mmap threshold (128 KiB at first) with a fresh mmap and returns
 * them to the system on free, and trims the heap's free top beyond its trim threshold. A loop of
 * plain `hessianVectorProduct` calls allocates its result tensors (0.5–50 MB) anew every call, so
 * every call page-faulted them in again: on the 4 × 200 MLP, 440 faults and 1.3–2× the time of the
 * same call writing into kept tensors. With blocks up to 32 MiB served from the heap and up to
 * 64 MiB of free heap kept, the freed results are reused and the two forms take the same time.
 * The price: up to 64 MiB of freed memory stays resident in the process.
 *
 * A user's own choice wins: nothing is changed when GLIBC_TUNABLES mentions malloc or when
 * MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_ or TAPE_KEEP_MALLOC is set.
 */
#include "tapekernels.h"
#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static int tuned;
static pthread_once_t tune_once = PTHREAD_ONCE_INIT;

static void tune(void) {
    const char *tunables = getenv("GLIBC_TUNABLES");
    if ((tunables && strstr(tunables, "malloc")) || getenv("MALLOC_MMAP_THRESHOLD_") ||
        getenv("MALLOC_TRIM_THRESHOLD_") || getenv("TAPE_KEEP_MALLOC")) return;
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
    tuned = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 64 << 20) == 1;
#endif
}

int tk_tune_allocator(void) {
    pthread_once(&tune_once, tune);
    return tuned;
}
#else
int tk_tune_allocator(void) { return 0; }
#endif
