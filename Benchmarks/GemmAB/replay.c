/*
 * Paired A/B timing of two builds of our matrix multiply (Sources/TapeKernels/gemm.c) on the products of
 * a products-only HVP of an MLP's hidden layers: per layer, the forward [y; ẏ] = [h; ḣ]·W and ẏ += h·Ẇ,
 * the reverse [g; ġ] = [δ; δ̇]·Wᵀ and ġ += δ·Ẇᵀ, and the weights' tangent Ẇ̄ = ḣᵀδ + hᵀδ̇ — the 18 large
 * products of paper-mlp's HVP with B = 100, H = 200, L = 3. Build A's and build B's HVPs alternate, call by
 * call, so the paired ratios cancel the drift of a shared machine (±0.5 % between two identical builds,
 * where separate runs differ by up to 2×). Built and run by Benchmarks/GemmAB/ab.sh.
 *
 *   replay THREADS ITERATIONS [B H L]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef void gemm_fn(int, int, long, long, long, double, const double *, long, const double *, long, double, double *,
                     long, double *, int);
typedef void pair_fn(int, int, long, long, long, int, const double *, const double *, long, const double *,
                     const double *, long, double *, double *, long, double *, int);
size_t A_tk_dgemm_workspace_doubles(int), B_tk_dgemm_workspace_doubles(int);
gemm_fn A_tk_dgemm, B_tk_dgemm;
pair_fn A_tk_dgemm_pair, B_tk_dgemm_pair;

typedef struct { double *W, *Wd, *h, *hd, *y, *yd, *d, *dd, *g, *gd, *Gd; } layer;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

static double *values(long n) {
    double *p = aligned_alloc(64, ((size_t)n * 8 + 63) / 64 * 64);
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

int main(int argc, char **argv) {
    if (argc != 3 && argc != 6) { fprintf(stderr, "usage: replay THREADS ITERATIONS [B H L]\n"); return 2; }
    int th = atoi(argv[1]), iters = atoi(argv[2]);
    long B = argc == 6 ? atol(argv[3]) : 100, H = argc == 6 ? atol(argv[4]) : 200;
    int L = argc == 6 ? atoi(argv[5]) : 3;
    if (th < 1 || iters < 10 || B < 1 || H < 1 || L < 1) { fprintf(stderr, "replay: need THREADS ≥ 1, ITERATIONS ≥ 10, B, H, L ≥ 1\n"); return 2; }
    srand(1);
    layer *ls = malloc(sizeof(layer) * (size_t)L);   /* both builds read and write the same buffers */
    for (int l = 0; l < L; l++)
        ls[l] = (layer){ values(H * H), values(H * H), values(B * H), values(B * H), values(B * H), values(B * H),
                         values(B * H), values(B * H), values(B * H), values(B * H), values(H * H) };
    double *work[2] = { aligned_alloc(64, (A_tk_dgemm_workspace_doubles(th) * 8 + 63) / 64 * 64),
                        aligned_alloc(64, (B_tk_dgemm_workspace_doubles(th) * 8 + 63) / 64 * 64) };
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
    double flops = 2.0 * 8 * L * B * H * H;   /* 8 products of B·H·H multiply-adds per layer */
    printf("%d × (B %ld, H %ld, L %d) on %d thread(s), %.1f MFLOP per HVP\n", iters, B, H, L, th, flops * 1e-6);
    for (int v = 0; v < 2; v++)
        printf("build %c: median %8.1f µs (%.1f GFLOP/s), tenth percentile %8.1f µs\n", "AB"[v], t[v][iters / 2] * 1e6,
               flops / t[v][iters / 2] * 1e-9, t[v][iters / 10] * 1e6);
    printf("speedup of B over A (paired): median %.4f [10th–90th percentile %.4f–%.4f]; results %s\n", ratio[iters / 2],
           ratio[iters / 10], ratio[iters * 9 / 10], check[0] == check[1] ? "bit-identical" : "DIFFER");
    return 0;
}
