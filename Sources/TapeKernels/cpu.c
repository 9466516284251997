#include "tapekernels.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/*
 * Which kernel path the dispatchers take: the best the CPU has, or the one TAPE_KERNELS names
 * (portable | avx2 | avx512) so each path can be tested and timed on one machine. The choice is made
 * once per process and cached: it depends only on the CPU and the environment at start-up, so the
 * cache is a constant after its first store (every racing first call stores the same value).
 */
static _Atomic int cached = -1;

static int cpu_has(int path) {
#if defined(__x86_64__)
    switch (path) {
    case TK_PATH_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case TK_PATH_PORTABLE: return 1;
    default: return 0;
    }
#else
    return path == TK_PATH_PORTABLE;
#endif
}

static int choose(int *status) {
    int best = cpu_has(TK_PATH_AVX2) ? TK_PATH_AVX2 : TK_PATH_PORTABLE;
    const char *env = getenv("TAPE_KERNELS");
    *status = TK_REQUEST_NONE;
    if (!env || !*env) return best;
    int requested;
    if (strcmp(env, "portable") == 0) requested = TK_PATH_PORTABLE;
    else if (strcmp(env, "avx2") == 0) requested = TK_PATH_AVX2;
    else if (strcmp(env, "avx512") == 0) { *status = TK_REQUEST_NOT_BUILT; return best; }
    else { *status = TK_REQUEST_UNKNOWN; return best; }
    if (!cpu_has(requested)) { *status = TK_REQUEST_UNSUPPORTED; return best; }
    *status = TK_REQUEST_HONOURED;
    return requested;
}

/* Bits 0–7: the path; bits 8–15: what became of a TAPE_KERNELS request. */
static int state(void) {
    int s = atomic_load_explicit(&cached, memory_order_relaxed);
    if (s >= 0) return s;
    int status;
    int path = choose(&status);
    s = path | (status << 8);
    atomic_store_explicit(&cached, s, memory_order_relaxed);
    return s;
}

int tk_kernel_path(void) { return state() & 0xff; }

int tk_kernel_request_status(void) { return (state() >> 8) & 0xff; }

int tk_cpu_has_avx2_fma(void) { return tk_kernel_path() == TK_PATH_AVX2; }
