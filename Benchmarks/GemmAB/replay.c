/*
 * Paired A/B timing of two builds of our matrix multiply (Sources/TapeKernels/gemm.c) on the products of
 * a products-only HVP of an MLP's hidden layers: per layer, the forward [y; ẏ] = [h; ḣ]·W and ẏ += h·Ẇ,
 * the reverse [g; ġ] = [δ; δ̇]·Wᵀ and ġ += δ·Ẇᵀ, and the weights' tangent Ẇ̄ = ḣᵀδ + hᵀδ̇ — the 18 large
 * products of paper-mlp's HVP with B = 100, H = 200, L = 3. Build A's and build B's HVPs alternate, call by
 * call, so the paired ratios cancel the drift of a shared machine (±0.5 % between two identical builds,
 * where separate runs differ by up to 2×). Built and run by Benchmarks/GemmAB/ab.sh.
 *
 *   replay THREADS ITERATIONS [B H L]
 *   replay ceiling ROUNDS [B H L]       (build B only: what splitting each product over two threads costs)
 *   replay fma-peak ROUNDS              (the FMA peak of one core and of two, alone)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

typedef void gemm_fn(int, int, long, long, long, double, const double *, long, const double *, long, double, double *,
                     long, double *, int);
typedef void pair_fn(int, int, long, long, long, int, const double *, const double *, long, const double *,
                     const double *, long, double *, double *, long, double *, int);
size_t A_tk_dgemm_workspace_doubles(int), B_tk_dgemm_workspace_doubles(int);
gemm_fn A_tk_dgemm, B_tk_dgemm;
pair_fn A_tk_dgemm_pair, B_tk_dgemm_pair;

typedef struct { double *W, *Wd, *h, *hd, *y, *yd, *d, *dd, *g, *gd, *Gd; } layer;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

/* n doubles, 64-byte aligned (packing workspaces and matrices). */
static double *aligned(size_t n) { return aligned_alloc(64, (n * 8 + 63) / 64 * 64); }

static double *values(long n) {
    double *p = aligned((size_t)n);
    for (long i = 0; i < n; i++) p[i] = rand() / (double)RAND_MAX - 0.5;
    return p;
}

static void hvp(gemm_fn *gemm, pair_fn *pair, const layer *ls, int L, long B, long H, double *work, int th) {
    for (int l = 0; l < L; l++) {
        const layer *x = &ls[l];
        pair(0, 0, B, H, H, 1, x->h, x->hd, H, x->W, x->W, H, x->y, x->yd, H, work, th);
        gemm(0, 0, B, H, H, 1, x->h, H, x->Wd, H, 1, x->yd, H, work, th);
    }
    for (int l = L - 1; l >= 0; l--) {
        const layer *x = &ls[l];
        pair(0, 1, B, H, H, 1, x->d, x->dd, H, x->W, x->W, H, x->g, x->gd, H, work, th);
        gemm(0, 1, B, H, H, 1, x->d, H, x->Wd, H, 1, x->gd, H, work, th);
        gemm(1, 0, H, H, B, 1, x->hd, H, x->d, H, 0, x->Gd, H, work, th);
        gemm(1, 0, H, H, B, 1, x->h, H, x->dd, H, 1, x->Gd, H, work, th);
    }
}

static int ascending(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

/* Sorts x in place (so x[0] and x[n − 1] are then the extremes) and returns its median. */
static double median(double *x, int n) { qsort(x, n, sizeof(double), ascending); return x[n / 2]; }

/* FLOPs of one products-only HVP: 8 products of B·H·H multiply-adds per layer. */
static double hvp_flops(long B, long H, int L) { return 2.0 * 8 * L * B * H * H; }

static layer *layers(int L, long B, long H) {
    layer *ls = malloc(sizeof(layer) * (size_t)L);
    for (int l = 0; l < L; l++)
        ls[l] = (layer){ values(H * H), values(H * H), values(B * H), values(B * H), values(B * H), values(B * H),
                         values(B * H), values(B * H), values(B * H), values(B * H), values(H * H) };
    return ls;
}

/* ---------------------------------------------------------------- ceiling
 * Per round, interleaved: 2N HVPs one after another, each product split over two threads (what the engine
 * does); the same 2N as two concurrent streams of N, each product on one thread (what running independent
 * products side by side could at best give, with no packing shared and no barrier); N on one thread alone;
 * and the FMA peak of one core and of two (twelve independent register chains of 4-double FMAs). */
typedef struct { const layer *ls; int L; long B, H; double *work; int n, threads; } stream;

/* n HVPs with build B's products on `threads` threads; returns NULL (a pthread body). */
static void *run_stream(void *raw) {
    stream *s = raw;
    for (int i = 0; i < s->n; i++) hvp(B_tk_dgemm, B_tk_dgemm_pair, s->ls, s->L, s->B, s->H, s->work, s->threads);
    return NULL;
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static void *fma_loop(void *out) {
    __m256d a[12], x = _mm256_set1_pd(0.999999), y = _mm256_set1_pd(1e-9);
    for (int j = 0; j < 12; j++) a[j] = _mm256_set1_pd(j * 1e-3);
    long n = 20000000;
    double t0 = now();
    for (long i = 0; i < n; i++) {
        for (int j = 0; j < 12; j++) a[j] = _mm256_fmadd_pd(a[j], x, y);
        __asm__ volatile("" : "+x"(a[0]), "+x"(a[1]), "+x"(a[2]), "+x"(a[3]), "+x"(a[4]), "+x"(a[5]), "+x"(a[6]),
                         "+x"(a[7]), "+x"(a[8]), "+x"(a[9]), "+x"(a[10]), "+x"(a[11]));   /* keep all twelve live */
    }
    *(double *)out = 2.0 * 4 * 12 * n / (now() - t0) * 1e-9;   /* GFLOP/s */
    return NULL;
}
#else
static void *fma_loop(void *out) { *(double *)out = 0; return NULL; }
#endif

static int ceiling(int rounds, long B, long H, int L) {
    layer *ls[2] = { layers(L, B, H), layers(L, B, H) };
    double *work[2] = { aligned(B_tk_dgemm_workspace_doubles(2)), aligned(B_tk_dgemm_workspace_doubles(2)) };
    double flops = hvp_flops(B, H, L);
    int n = (int)(0.25 / (flops / 40e9)) + 1;   /* about a quarter second per stream at 40 GFLOP/s */
    double *split = malloc(sizeof(double) * rounds), *side = malloc(sizeof(double) * rounds);
    double *one = malloc(sizeof(double) * rounds), *gain = malloc(sizeof(double) * rounds);
    double *peak1 = malloc(sizeof(double) * rounds), *peak2 = malloc(sizeof(double) * rounds);
    for (int r = 0; r < rounds; r++) {
        stream both = { ls[0], L, B, H, work[0], 2 * n, 2 }, alone = { ls[0], L, B, H, work[0], n, 1 };
        stream side_by_side[2] = { alone, { ls[1], L, B, H, work[1], n, 1 } };
        double t0 = now();
        run_stream(&both);
        split[r] = (now() - t0) / (2 * n);
        pthread_t t;
        t0 = now();
        pthread_create(&t, NULL, run_stream, &side_by_side[1]);
        run_stream(&side_by_side[0]);
        pthread_join(t, NULL);
        side[r] = (now() - t0) / (2 * n);
        t0 = now();
        run_stream(&alone);
        one[r] = (now() - t0) / n;
        gain[r] = split[r] / side[r];
        double p[2];
        fma_loop(&peak1[r]);
        pthread_create(&t, NULL, fma_loop, &p[1]);
        fma_loop(&p[0]);
        pthread_join(t, NULL);
        peak2[r] = p[0] + p[1];
    }
    printf("%d rounds × (B %ld, H %ld, L %d), %.1f MFLOP per products-only HVP; medians over the rounds:\n", rounds, B, H, L,
           flops * 1e-6);
    double ms = median(split, rounds), mo = median(one, rounds), p1 = median(peak1, rounds), p2 = median(peak2, rounds);
    printf("each product split over two threads: %8.1f µs per HVP, %5.1f GFLOP/s\n", ms * 1e6, flops / ms * 1e-9);
    printf("two concurrent one-thread streams:   %8.1f µs per HVP, %5.1f GFLOP/s\n", median(side, rounds) * 1e6,
           flops / median(side, rounds) * 1e-9);
    printf("one thread alone:                    %8.1f µs per HVP, %5.1f GFLOP/s\n", mo * 1e6, flops / mo * 1e-9);
    printf("FMA peak: one core %.1f GFLOP/s, two cores %.1f; split products at %.0f %% of two cores' peak, one thread at %.0f %% of one's\n",
           p1, p2, 100 * flops / ms * 1e-9 / p2, 100 * flops / mo * 1e-9 / p1);
    double g = median(gain, rounds);   /* sorts gain: gain[0] and gain[rounds − 1] are the extremes */
    printf("concurrent streams over split (paired per round): median %.3f [%.3f–%.3f]\n", g, gain[0], gain[rounds - 1]);
    return 0;
}

/* The FMA peak of one core and of two, median over the rounds; the last line is "fma_peak_gflops ONE TWO". */
static int fma_peak(int rounds) {
    double *peak1 = malloc(sizeof(double) * rounds), *peak2 = malloc(sizeof(double) * rounds);
    for (int r = 0; r < rounds; r++) {
        double p[2];
        pthread_t t;
        fma_loop(&peak1[r]);
        pthread_create(&t, NULL, fma_loop, &p[1]);
        fma_loop(&p[0]);
        pthread_join(t, NULL);
        peak2[r] = p[0] + p[1];
    }
    double p1 = median(peak1, rounds), p2 = median(peak2, rounds);
    printf("FMA peak over %d rounds: one core %.1f GFLOP/s [%.1f–%.1f], two cores %.1f [%.1f–%.1f]\n", rounds, p1, peak1[0],
           peak1[rounds - 1], p2, peak2[0], peak2[rounds - 1]);
    printf("fma_peak_gflops %.2f %.2f\n", p1, p2);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "fma-peak") == 0) return fma_peak(atoi(argv[2]) > 0 ? atoi(argv[2]) : 1);
    if (argc != 3 && argc != 6) {
        fprintf(stderr, "usage: replay THREADS ITERATIONS [B H L]\n       replay ceiling ROUNDS [B H L]\n       replay fma-peak ROUNDS\n");
        return 2;
    }
    int ceiling_mode = strcmp(argv[1], "ceiling") == 0;
    int th = ceiling_mode ? 2 : atoi(argv[1]), iters = atoi(argv[2]);
    long B = argc == 6 ? atol(argv[3]) : 100, H = argc == 6 ? atol(argv[4]) : 200;
    int L = argc == 6 ? atoi(argv[5]) : 3;
    if (th < 1 || iters < (ceiling_mode ? 1 : 10) || B < 1 || H < 1 || L < 1) {
        fprintf(stderr, "replay: need THREADS ≥ 1, ITERATIONS ≥ 10 (ROUNDS ≥ 1), B, H, L ≥ 1\n");
        return 2;
    }
    srand(1);
    if (ceiling_mode) return ceiling(iters, B, H, L);
    layer *ls = layers(L, B, H);   /* both builds read and write the same buffers */
    double *work[2] = { aligned(A_tk_dgemm_workspace_doubles(th)), aligned(B_tk_dgemm_workspace_doubles(th)) };
    double *t[2] = { malloc(sizeof(double) * iters), malloc(sizeof(double) * iters) }, *ratio = malloc(sizeof(double) * iters);
    double check[2] = { 0, 0 };
    for (int i = 0; i < iters; i++) {
        for (int k = 0; k < 2; k++) {
            int v = (i & 1) ? 1 - k : k;   /* alternate which build goes first */
            double t0 = now();
            hvp(v ? B_tk_dgemm : A_tk_dgemm, v ? B_tk_dgemm_pair : A_tk_dgemm_pair, ls, L, B, H, work[v], th);
            t[v][i] = now() - t0;
            for (int l = 0; l < L; l++) check[v] += ls[l].Gd[H + 1] + ls[l].gd[B * H - 1] + ls[l].yd[H];
        }
        ratio[i] = t[0][i] / t[1][i];
    }
    qsort(t[0], iters, sizeof(double), ascending); qsort(t[1], iters, sizeof(double), ascending);
    qsort(ratio, iters, sizeof(double), ascending);
    double flops = hvp_flops(B, H, L);
    printf("%d × (B %ld, H %ld, L %d) on %d thread(s), %.1f MFLOP per HVP\n", iters, B, H, L, th, flops * 1e-6);
    for (int v = 0; v < 2; v++)
        printf("build %c: median %8.1f µs (%.1f GFLOP/s), tenth percentile %8.1f µs\n", "AB"[v], t[v][iters / 2] * 1e6,
               flops / t[v][iters / 2] * 1e-9, t[v][iters / 10] * 1e6);
    printf("speedup of B over A (paired): median %.4f [10th–90th percentile %.4f–%.4f]; results %s\n", ratio[iters / 2],
           ratio[iters / 10], ratio[iters * 9 / 10], check[0] == check[1] ? "bit-identical" : "DIFFER");
    return 0;
}
