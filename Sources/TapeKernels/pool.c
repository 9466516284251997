/*
 * A small fork-join worker pool for the kernels (matrix products, long elementwise loops).
 *
 * Why not Dispatch: a sweep of a mid-size network runs dozens of products of 50–500 µs each, and
 * waking a Dispatch worker costs 5–30 µs (futex wake plus scheduling) every time. These workers
 * spin for a while after each task (about a millisecond), so back-to-back products hand over in
 * well under a microsecond, and sleep on a condition variable when the pool stays idle.
 *
 * The pool is the one process-wide object of the engine: the machine's cores are a process-wide
 * resource, and one pool keeps many tapes from oversubscribing them. It is created on first use
 * and never torn down. Callers never block on one another: a caller that finds the pool busy (another
 * thread's product) runs its task alone, which the tasks support (results never depend on the
 * number of threads).
 *
 * Who takes part is settled at the start of each task: the workers claim their share within a few
 * microseconds (a spinning worker does so in well under one), and the caller then seals the task with the
 * workers that did and runs it with that many threads. A worker that is descheduled (another process holds
 * its core) or still asleep is left out of this task instead of being waited for: on a loaded machine the
 * products degrade towards one thread rather than stall at every barrier for a thread that is not running
 * (measured before this: distill-cg10 5x slower on two threads than on one at load 3).
 *
 * Threads: TAPE_THREADS in the environment (1 … 64), else the number of online CPUs, at most 8.
 */
#include "tapekernels.h"
#include "internal.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

enum { MAX_THREADS = 64 };

/* One poll of a spin-wait: a pause for the first polls (hand-over in well under a microsecond on an idle
 * machine), then a yield of the core on every poll. On a machine with more runnable threads than cores the
 * thread we wait for may be descheduled, possibly on this very core; pausing would burn our whole time
 * slice before it runs again (measured: a paper-mlp HVP 100x slower at load 10 on 2 cores). */
static inline void relax(unsigned poll) {
    if (poll < 1024) CPU_RELAX();
    else sched_yield();
}

typedef struct {
    int workers;                          /* threads besides the caller */
    atomic_int busy;                      /* 1 while a caller owns the pool */
    atomic_uint generation;               /* bumped once per task */
    atomic_int remaining;                 /* claimed workers that have not finished the current task */
    atomic_int sleepers;                  /* workers blocked on `wake` */
    atomic_int requested;                 /* threads the current task asks for, the caller included */
    /* Worker i's share of task g: (g << 2) | OPEN, CLAIMED (by the worker) or LEFT_OUT (by the caller).
     * Tagging with g makes a late worker's claim on an older task fail. */
    atomic_uint share[MAX_THREADS];
    atomic_uint sealed;                   /* the task whose participants are settled */
    int rank[MAX_THREADS];                /* worker i's thread index in the sealed task */
    int nthreads;                         /* threads of the sealed task, the caller included */
    tk_task_fn fn;                        /* the current task, published by `generation` */
    void *ctx;
    pthread_mutex_t lock;
    pthread_cond_t wake;
} pool_t;

enum { OPEN = 0, CLAIMED = 1, LEFT_OUT = 2 };

static pool_t *shared_pool;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static double seconds_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct { pool_t *pool; int tid; } worker_arg;

static void *worker_main(void *raw) {
    worker_arg arg = *(worker_arg *)raw;
    free(raw);
    pool_t *p = arg.pool;
    unsigned seen = 0;   /* the pool is made before any task is posted */
    for (;;) {
        /* Spin about a millisecond for the next task, then sleep until one is posted. */
        unsigned g = atomic_load_explicit(&p->generation, memory_order_acquire);
        if (g == seen) {
            double deadline = seconds_now() + 1e-3;
            for (long spins = 0; (g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen; spins++) {
                relax((unsigned)(spins < 1024 ? spins : 1024));
                if ((spins & 255) == 255 && seconds_now() > deadline) break;
            }
        }
        if (g == seen) {
            pthread_mutex_lock(&p->lock);
            atomic_fetch_add(&p->sleepers, 1);
            while ((g = atomic_load(&p->generation)) == seen) pthread_cond_wait(&p->wake, &p->lock);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->lock);
        }
        seen = g;
        if (arg.tid >= atomic_load_explicit(&p->requested, memory_order_relaxed)) continue;
        unsigned open = g << 2 | OPEN;
        if (!atomic_compare_exchange_strong(&p->share[arg.tid], &open, g << 2 | CLAIMED)) continue;   /* left out */
        for (unsigned poll = 0; atomic_load_explicit(&p->sealed, memory_order_acquire) != g; poll += poll < 1024) relax(poll);
        p->fn(p->ctx, p->rank[arg.tid], p->nthreads);
        atomic_fetch_sub_explicit(&p->remaining, 1, memory_order_release);
    }
    return NULL;
}

static void pool_create(void) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = cpus < 1 ? 1 : cpus > 8 ? 8 : (int)cpus;
    const char *env = getenv("TAPE_THREADS");
    if (env) {
        long t = strtol(env, NULL, 10);
        if (t >= 1 && t <= MAX_THREADS) threads = (int)t;
    }
    pool_t *p = calloc(1, sizeof *p);
    if (!p) return;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    atomic_init(&p->busy, 0);
    atomic_init(&p->generation, 0);
    atomic_init(&p->remaining, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->requested, 0);
    atomic_init(&p->sealed, 0);
    for (int i = 0; i < MAX_THREADS; i++) atomic_init(&p->share[i], 0);
    for (int i = 1; i < threads; i++) {
        worker_arg *arg = malloc(sizeof *arg);
        if (!arg) break;
        arg->pool = p;
        arg->tid = i;
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        if (pthread_create(&t, &attr, worker_main, arg) != 0) { free(arg); pthread_attr_destroy(&attr); break; }
        pthread_attr_destroy(&attr);
        pthread_detach(t);
        p->workers++;
    }
    shared_pool = p;
}

static pool_t *pool(void) {
    pthread_once(&pool_once, pool_create);
    return shared_pool;
}

int tk_pool_threads(void) {
    pool_t *p = pool();
    return p ? p->workers + 1 : 1;
}

int tk_pool_run(int nthreads, tk_task_fn fn, void *ctx) {
    pool_t *p = nthreads > 1 ? pool() : NULL;
    int expected = 0;
    if (!p || p->workers == 0 || !atomic_compare_exchange_strong(&p->busy, &expected, 1)) {
        fn(ctx, 0, 1);
        return 1;
    }
    int n = nthreads < p->workers + 1 ? nthreads : p->workers + 1;
    unsigned g = atomic_load_explicit(&p->generation, memory_order_relaxed) + 1;
    p->fn = fn;
    p->ctx = ctx;
    for (int i = 1; i < n; i++) atomic_store_explicit(&p->share[i], g << 2 | OPEN, memory_order_relaxed);
    atomic_store_explicit(&p->requested, n, memory_order_relaxed);
    atomic_store(&p->generation, g);                  /* seq_cst: ordered before the sleepers check */
    /* How long the workers get to claim their shares: a spinning worker needs well under a microsecond, a
     * sleeping one a futex wake (5–30 µs); one that has not claimed by then is not running and is left out. */
    double patience = 4e-6;
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
        patience = 50e-6;
    }
    double deadline = 0;
    for (unsigned poll = 0;; poll++) {
        int open = 0;
        for (int i = 1; i < n; i++) open += (atomic_load_explicit(&p->share[i], memory_order_relaxed) & 3) == OPEN;
        if (!open) break;
        if ((poll & 15) == 15) {
            double now = seconds_now();
            if (deadline == 0) deadline = now + patience;
            else if (now > deadline) break;
        }
        CPU_RELAX();
    }
    int k = 1;
    for (int i = 1; i < n; i++) {
        unsigned open = g << 2 | OPEN;
        if (atomic_compare_exchange_strong(&p->share[i], &open, g << 2 | LEFT_OUT)) continue;
        p->rank[i] = k++;
    }
    p->nthreads = k;
    atomic_store_explicit(&p->remaining, k - 1, memory_order_relaxed);
    atomic_store_explicit(&p->sealed, g, memory_order_release);
    fn(ctx, 0, k);
    for (unsigned poll = 0; atomic_load_explicit(&p->remaining, memory_order_acquire) > 0; poll += poll < 1024) relax(poll);
    atomic_store_explicit(&p->busy, 0, memory_order_release);
    return k;
}

void tk_barrier_init(tk_barrier *b) {
    atomic_init(&b->arrived, 0);
    atomic_init(&b->phase, 0);
}

void tk_barrier_wait(tk_barrier *b, int nthreads) {
    if (nthreads <= 1) return;
    unsigned phase = atomic_load_explicit(&b->phase, memory_order_acquire);
    if (atomic_fetch_add_explicit(&b->arrived, 1, memory_order_acq_rel) == nthreads - 1) {
        atomic_store_explicit(&b->arrived, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&b->phase, 1, memory_order_release);
    } else {
        for (unsigned poll = 0; atomic_load_explicit(&b->phase, memory_order_acquire) == phase; poll += poll < 1024) relax(poll);
    }
}

/* ---------------------------------------------------------------- parallel for */
typedef struct { long n, granule; tk_range_fn fn; void *ctx; } range_job;

static void range_task(void *raw, int tid, int nt) {
    range_job *j = raw;
    long groups = (j->n + j->granule - 1) / j->granule;
    long lo = groups * tid / nt * j->granule, hi = groups * (tid + 1) / nt * j->granule;
    if (hi > j->n) hi = j->n;
    if (lo < hi) j->fn(j->ctx, lo, hi - lo);
}

void tk_parallel_for(long n, long granule, long minimum, tk_range_fn fn, void *ctx) {
    if (n <= 0) return;
    if (n < minimum || granule < 1) { fn(ctx, 0, n); return; }
    range_job j = { n, granule, fn, ctx };
    tk_pool_run(tk_pool_threads(), range_task, &j);
}
