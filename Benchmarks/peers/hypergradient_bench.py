#!/usr/bin/env python3
"""Benchmarks/peers/hypergradient_bench.py -- JAX and PyTorch on our hypergradient workloads, on the very data
our Benchmarks executable exported (`Benchmarks --export-hypergradients DIR` writes DIR/W.json and DIR/W.bin:
the inputs and our result, float64).

    python Benchmarks/peers/hypergradient_bench.py --data DIR --json out.json \
        [--workloads distill-cg10,...] [--peers jax,jax_sync,torch] [--threads 2]

Before timing, every variant's result is checked against ours: ||peer - ours|| / ||ours|| <= 1e-10 (--tolerance).
A variant that fails the check is reported (check_rel_err, check_passed = false) and not timed.

Workloads (definitions in Benchmarks/Runner/Hypergradients.swift):
  distill-cg10       the paper's 2 -> 200 x4 -> 1 tanh MLP fitted to 100 learned targets lam at fixed inputs
                     (inner MSE J_in), outer MSE J_out on 100 original points; one IFT hypergradient at the given
                     (lam, w): b = dJ_out/dw, 10 conjugate-gradient iterations on (H + eta I) v = b from v = 0
                     (no early stop; eta = numbers["damping"], lambda_max/10: undamped, ten iterations on this
                     singular H are too ill-conditioned for two implementations to agree to 1e-10), then
                     dJ_out/dlam - M^T v (M = d2 J_in / dw dlam; here dJ_out/dlam = 0)
  distill-neumann10  the same with 10 Neumann terms: v = a b, then 9 times v <- v + a b - a H v (a = alpha)
  distill-unrolled10 d J_out(w_10) / d lam through 10 SGD steps w <- w - alpha dJ_in/dw from w
  fourier-exact      the anti-distillation Fourier problem's exact hypergradient: the dense Hessian of J_in
                     (21 x 21, symmetrized), its pseudoinverse from an eigendecomposition with eigenvalues
                     |mu| <= 1e-10 max|mu| dropped, v = H^+ b, then -M^T v
  hvp-block16        16 HVPs of paper-mlp's loss at one point, as one call

Variants (the fastest checked one of each peer is its number; every one is jit-compiled end to end for JAX):
  jax    cg / neumann: jvp(grad) per iteration (jvp) and jax.linearize of the gradient once (linearize), the
         loop a lax.fori_loop with a fixed count; unrolled: grad of the unrolled loss (revrev) and the reverse
         pass by jvp of the joint gradient at each step (fwdrev); exact: jax.hessian (hessian) and vmap of
         jvp(grad) over the unit vectors (vmap); block: vmap of jvp(grad) (vmap_jvp) and vmap of the
         linearized gradient (vmap_linearize)
  jax_sync  the same with jax_cpu_enable_async_dispatch=False (fourier-exact only, where dispatch matters)
  torch  cg / neumann: torch.func.jvp(grad) per iteration (func_jvp), torch.func.linearize (func_linearize),
         the first backward kept with create_graph and differentiated again per iteration (double_backward);
         unrolled: create_graph through the 10 steps then backward (double_backward), the reverse pass by
         torch.func.jvp of the joint gradient (func_fwdrev); exact: torch.func.hessian (func_hessian), double
         backward column by column (double_backward); block: vmap of jvp(grad) (func_vmap), double backward
         with is_grads_batched (double_backward_batched)

Conventions as ../shared/peers/hvp_bench.py: float64; every (peer, thread count) in its own child process pinned
with sched_setaffinity to CPUs {0} or {0,1} before any library is imported, *_NUM_THREADS, XLA_FLAGS and
torch.set_num_threads set; the first call timed alone (JAX: trace + compile), two more warm-up calls, then
batches of back-to-back synchronized calls lasting >= --batch-s; the median over batches (and p25, p75) of at
least --min-batches batches and --min-time seconds.
"""
import argparse, json, os, platform, statistics, subprocess, sys, tempfile, time

WORKLOADS = ["distill-cg10", "distill-neumann10", "distill-unrolled10", "fourier-exact", "hvp-block16"]
SMALL = {"fourier-exact"}   # jax_sync runs these only


# --------------------------------------------------------------------------- data
def load(directory, name):
    import numpy as np
    with open(os.path.join(directory, name + ".json")) as fh:
        meta = json.load(fh)
    raw = np.fromfile(os.path.join(directory, meta["bin"]), dtype="<f8")
    arrays = {}
    for key, a in meta["arrays"].items():
        n = int(np.prod(a["shape"])) if a["shape"] else 1
        arrays[key] = raw[a["offset"]:a["offset"] + n].reshape(a["shape"]).copy()
    return meta["numbers"], arrays


def mlp_params(flat, widths):
    """The flat weight vector in our layout: per layer its weight (in, out) then its bias (out)."""
    out, o = [], 0
    for i, j in zip(widths[:-1], widths[1:]):
        out.append(flat[o:o + i * j].reshape(i, j)); o += i * j
        out.append(flat[o:o + j]); o += j
    assert o == flat.size
    return out


DISTILL_WIDTHS = [2, 200, 200, 200, 200, 1]


# --------------------------------------------------------------------------- timing
def bench(call, sync, min_time, min_batches, batch_s, max_batches=400):
    t0 = time.perf_counter(); sync(call()); first = time.perf_counter() - t0
    for _ in range(2):
        sync(call())
    t0 = time.perf_counter()
    for _ in range(3):
        sync(call())
    est = (time.perf_counter() - t0) / 3
    n_inner = max(1, int(batch_s / max(est, 1e-9)))
    samples = []
    start = time.perf_counter(); c0 = os.times()
    while (len(samples) < min_batches or time.perf_counter() - start < min_time) and len(samples) < max_batches:
        t = time.perf_counter()
        for _ in range(n_inner):
            sync(call())
        samples.append((time.perf_counter() - t) / n_inner)
    wall = time.perf_counter() - start; c1 = os.times()
    samples.sort()
    q = lambda f: samples[min(len(samples) - 1, int(f * (len(samples) - 1) + 0.5))]
    return dict(median_s=statistics.median(samples), min_s=samples[0], p25_s=q(0.25), p75_s=q(0.75),
                batches=len(samples), n_inner=n_inner, first_call_s=first,
                cpu_per_wall=((c1.user - c0.user) + (c1.system - c0.system)) / wall)


def rel_err(got, want):
    import numpy as np
    got = np.asarray(got, dtype=np.float64).ravel(); want = np.asarray(want, dtype=np.float64).ravel()
    if got.shape != want.shape:
        return float("inf")
    return float(np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-300))


# --------------------------------------------------------------------------- JAX
def jax_variants(name, numbers, arrays):
    """{variant: (jitted function, its arguments)} for one workload; each returns the checked result."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    def tdot(a, b):
        return sum(jnp.vdot(x, y) for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)))

    def axpy(a, x, y):   # a x + y on pytrees
        return jax.tree_util.tree_map(lambda u, v: a * u + v, x, y)

    if name.startswith("distill"):
        xs, xo, yo = (jnp.asarray(arrays[k]) for k in ("learned_inputs", "original_inputs", "original_targets"))
        lam = jnp.asarray(arrays["lambda"])
        params = [jnp.asarray(p) for p in mlp_params(arrays["w"], DISTILL_WIDTHS)]
        alpha, iters, eta = numbers["alpha"], int(numbers["iterations"]), numbers.get("damping", 0.0)

        def net(p, x):
            h = x
            for l in range(len(p) // 2 - 1):
                h = jnp.tanh(h @ p[2 * l] + p[2 * l + 1])
            return (h @ p[-2] + p[-1])[:, 0]

        def j_in(lam, p):
            return jnp.mean((net(p, xs) - lam) ** 2)

        def j_out(p):
            return jnp.mean((net(p, xo) - yo) ** 2)

        grad_w = jax.grad(j_in, argnums=1)
        joint = jax.grad(j_in, argnums=(0, 1))

        def solve(b, hvp):
            if name == "distill-cg10":
                zero = jax.tree_util.tree_map(jnp.zeros_like, b)

                def step(_, s):
                    x, r, p, rr = s
                    ap = axpy(eta, p, hvp(p))
                    a = rr / tdot(p, ap)
                    x = axpy(a, p, x); r = axpy(-a, ap, r)
                    rr_new = tdot(r, r)
                    return x, r, axpy(rr_new / rr, p, r), rr_new
                return lax.fori_loop(0, iters, step, (zero, b, b, tdot(b, b)))[0]
            ab = jax.tree_util.tree_map(lambda u: alpha * u, b)
            return lax.fori_loop(1, iters, lambda _, v: jax.tree_util.tree_map(
                lambda vi, bi, hi: vi + bi - alpha * hi, v, ab, hvp(v)), ab)

        if name in ("distill-cg10", "distill-neumann10"):
            def per_iteration(lam, p):
                b = jax.grad(j_out)(p)
                v = solve(b, lambda u: jax.jvp(lambda q: grad_w(lam, q), (p,), (u,))[1])
                mtv = jax.jvp(lambda q: jax.grad(j_in, argnums=0)(lam, q), (p,), (v,))[1]
                return -mtv

            def linearized(lam, p):
                b = jax.grad(j_out)(p)
                _, lin = jax.linearize(lambda q: joint(lam, q), p)
                v = solve(b, lambda u: lin(u)[1])
                return -lin(v)[0]
            return {"jvp": (jax.jit(per_iteration), (lam, params)), "linearize": (jax.jit(linearized), (lam, params))}

        def unrolled_loss(lam, p):
            for _ in range(iters):
                p = jax.tree_util.tree_map(lambda w, g: w - alpha * g, p, grad_w(lam, p))
            return j_out(p)

        def fwdrev(lam, p):
            def forward(q, _):
                return jax.tree_util.tree_map(lambda w, g: w - alpha * g, q, grad_w(lam, q)), q
            final, states = lax.scan(forward, p, None, length=iters)
            a = jax.grad(j_out)(final)

            def backward(carry, q):
                a, lam_bar = carry
                mta, ha = jax.jvp(lambda r: joint(lam, r), (q,), (a,))[1]
                return (axpy(-alpha, ha, a), lam_bar - alpha * mta), None
            (_, lam_bar), _ = lax.scan(backward, (a, jnp.zeros_like(lam)), states, reverse=True)
            return lam_bar
        return {"revrev": (jax.jit(jax.grad(unrolled_loss)), (lam, params)), "fwdrev": (jax.jit(fwdrev), (lam, params))}

    if name == "fourier-exact":
        xs = jnp.asarray(arrays["learned_inputs"]); xo = jnp.asarray(arrays["original_inputs"])
        yo = jnp.asarray(arrays["original_targets"]); amp = jnp.asarray(arrays["amplitudes"])
        lam = jnp.asarray(arrays["lambda"]); w = jnp.asarray(arrays["w"])
        tol = numbers["relative_tolerance"]
        k = jnp.arange(1, amp.size + 1, dtype=jnp.float64)

        def phi(x):   # [1, a1 sin x, a1 cos x, a2 sin 2x, ...]
            kx = x * k[None, :]
            pairs = jnp.stack([amp * jnp.sin(kx), amp * jnp.cos(kx)], axis=2).reshape(x.shape[0], -1)
            return jnp.concatenate([jnp.ones((x.shape[0], 1)), pairs], axis=1)

        def j_in(lam, w):
            return jnp.mean((phi(xs) @ w - lam) ** 2)

        def j_out(w):
            return jnp.mean((phi(xo) @ w - yo) ** 2)

        def finish(h, lam, w):
            h = 0.5 * (h + h.T)
            mu, u = jnp.linalg.eigh(h)
            keep = jnp.abs(mu) > tol * jnp.max(jnp.abs(mu))
            inv = jnp.where(keep, 1 / jnp.where(keep, mu, 1), 0)
            v = u @ (inv * (u.T @ jax.grad(j_out)(w)))
            return -jax.jvp(lambda q: jax.grad(j_in, argnums=0)(lam, q), (w,), (v,))[1]

        def hessian(lam, w):
            return finish(jax.hessian(j_in, argnums=1)(lam, w), lam, w)

        def vmapped(lam, w):
            hv = lambda v: jax.jvp(lambda q: jax.grad(j_in, argnums=1)(lam, q), (w,), (v,))[1]
            return finish(jax.vmap(hv)(jnp.eye(w.size)).T, lam, w)
        return {"hessian": (jax.jit(hessian), (lam, w)), "vmap": (jax.jit(vmapped), (lam, w))}

    # hvp-block16: paper-mlp's loss, 16 directions
    n = int(numbers["parameter_tensors"])
    params = [jnp.asarray(arrays["p%d" % i]) for i in range(n)]
    x = jnp.asarray(arrays["x"]); y = jnp.asarray(arrays["y"])[:, 0]
    sizes = [p.size for p in params]
    flat = arrays["directions"].reshape(int(numbers["directions"]), -1)
    offsets = [sum(sizes[:i]) for i in range(n)]
    dirs = [jnp.asarray(flat[:, o:o + p.size].reshape((flat.shape[0],) + p.shape)) for o, p in zip(offsets, params)]

    def loss(p):
        h = x
        for l in range(len(p) // 2 - 1):
            h = jnp.tanh(h @ p[2 * l] + p[2 * l + 1])
        return jnp.mean(((h @ p[-2] + p[-1])[:, 0] - y) ** 2)

    def flatten(out):   # (16, n) in our order: direction by direction, parameter by parameter
        return jnp.concatenate([o.reshape(o.shape[0], -1) for o in out], axis=1)

    def vmap_jvp(p, v):
        return flatten(jax.vmap(lambda d: jax.jvp(jax.grad(loss), (p,), (d,))[1])(v))

    def vmap_linearize(p, v):
        _, lin = jax.linearize(jax.grad(loss), p)
        return flatten(jax.vmap(lin)(v))
    return {"vmap_jvp": (jax.jit(vmap_jvp), (params, dirs)), "vmap_linearize": (jax.jit(vmap_linearize), (params, dirs))}


# --------------------------------------------------------------------------- torch
def torch_variants(name, numbers, arrays):
    import torch
    from torch.func import grad as fgrad, jvp as fjvp, vmap, linearize as flinearize, hessian as fhessian

    def T(a):
        return torch.tensor(a, dtype=torch.float64)

    def tdot(a, b):
        return sum((x * y).sum() for x, y in zip(a, b))

    if name.startswith("distill"):
        xs, xo, yo = (T(arrays[k]) for k in ("learned_inputs", "original_inputs", "original_targets"))
        lam = T(arrays["lambda"])
        params = tuple(T(p) for p in mlp_params(arrays["w"], DISTILL_WIDTHS))
        alpha, iters, eta = numbers["alpha"], int(numbers["iterations"]), numbers.get("damping", 0.0)

        def net(p, x):
            h = x
            for l in range(len(p) // 2 - 1):
                h = torch.tanh(h @ p[2 * l] + p[2 * l + 1])
            return (h @ p[-2] + p[-1])[:, 0]

        def j_in(lam, p):
            return torch.mean((net(p, xs) - lam) ** 2)

        def j_out(p):
            return torch.mean((net(p, xo) - yo) ** 2)

        def solve(b, hvp):
            if name == "distill-cg10":
                x = tuple(torch.zeros_like(u) for u in b); r = b; p = b; rr = tdot(r, r)
                for _ in range(iters):
                    ap = tuple(h + eta * pi for h, pi in zip(hvp(p), p))
                    a = rr / tdot(p, ap)
                    x = tuple(xi + a * pi for xi, pi in zip(x, p)); r = tuple(ri - a * ai for ri, ai in zip(r, ap))
                    rr_new = tdot(r, r)
                    p = tuple(ri + (rr_new / rr) * pi for ri, pi in zip(r, p)); rr = rr_new
                return x
            ab = tuple(alpha * u for u in b); v = ab
            for _ in range(iters - 1):
                v = tuple(vi + bi - alpha * hi for vi, bi, hi in zip(v, ab, hvp(v)))
            return v

        outer_grad = fgrad(j_out)
        joint = fgrad(j_in, argnums=(0, 1))
        grad_w = fgrad(j_in, argnums=1)

        if name in ("distill-cg10", "distill-neumann10"):
            def func_jvp():
                b = outer_grad(params)
                v = solve(b, lambda u: fjvp(lambda q: grad_w(lam, q), (params,), (u,))[1])
                return -fjvp(lambda q: fgrad(j_in, argnums=0)(lam, q), (params,), (v,))[1]

            def func_linearize():
                b = outer_grad(params)
                _, lin = flinearize(lambda q: joint(lam, q), params)
                v = solve(b, lambda u: lin(u)[1])
                return -lin(v)[0]

            def double_backward():
                lam_g = lam.clone().requires_grad_(True); p_g = tuple(p.clone().requires_grad_(True) for p in params)
                b = torch.autograd.grad(j_out(p_g), p_g)
                g = torch.autograd.grad(j_in(lam_g, p_g), p_g, create_graph=True)
                v = solve(b, lambda u: torch.autograd.grad(g, p_g, grad_outputs=u, retain_graph=True))
                return -torch.autograd.grad(g, lam_g, grad_outputs=v)[0]
            return {"func_jvp": func_jvp, "func_linearize": func_linearize, "double_backward": double_backward}

        def double_backward():
            lam_g = lam.clone().requires_grad_(True)
            p = tuple(q.clone().requires_grad_(True) for q in params)
            for _ in range(iters):
                g = torch.autograd.grad(j_in(lam_g, p), p, create_graph=True)
                p = tuple(w - alpha * gi for w, gi in zip(p, g))
            return torch.autograd.grad(j_out(p), lam_g)[0]

        def func_fwdrev():
            with torch.no_grad():
                states, p = [], params
                for _ in range(iters):
                    states.append(p)
                    p = tuple(w - alpha * g for w, g in zip(p, grad_w(lam, p)))
                a = outer_grad(p)
                lam_bar = torch.zeros_like(lam)
                for q in reversed(states):
                    mta, ha = fjvp(lambda r: joint(lam, r), (q,), (a,))[1]
                    a = tuple(ai - alpha * hi for ai, hi in zip(a, ha)); lam_bar = lam_bar - alpha * mta
                return lam_bar
        return {"double_backward": double_backward, "func_fwdrev": func_fwdrev}

    if name == "fourier-exact":
        xs = T(arrays["learned_inputs"]); xo = T(arrays["original_inputs"]); yo = T(arrays["original_targets"])
        amp = T(arrays["amplitudes"]); lam = T(arrays["lambda"]); w = T(arrays["w"])
        tol = numbers["relative_tolerance"]
        k = torch.arange(1, amp.numel() + 1, dtype=torch.float64)

        def phi(x):
            kx = x * k[None, :]
            pairs = torch.stack([amp * torch.sin(kx), amp * torch.cos(kx)], dim=2).reshape(x.shape[0], -1)
            return torch.cat([torch.ones(x.shape[0], 1, dtype=torch.float64), pairs], dim=1)

        def j_in(lam, w):
            return torch.mean((phi(xs) @ w - lam) ** 2)

        def j_out(w):
            return torch.mean((phi(xo) @ w - yo) ** 2)

        def finish(h):
            h = 0.5 * (h + h.T)
            mu, u = torch.linalg.eigh(h)
            keep = mu.abs() > tol * mu.abs().max()
            inv = torch.where(keep, 1 / torch.where(keep, mu, torch.ones_like(mu)), torch.zeros_like(mu))
            v = u @ (inv * (u.T @ fgrad(j_out)(w)))
            return -fjvp(lambda q: fgrad(j_in, argnums=0)(lam, q), (w,), (v,))[1]

        def func_hessian():
            return finish(fhessian(j_in, argnums=1)(lam, w))

        def double_backward():
            w_g = w.clone().requires_grad_(True)
            g = torch.autograd.grad(j_in(lam, w_g), w_g, create_graph=True)[0]
            eye = torch.eye(w.numel(), dtype=torch.float64)
            h = torch.stack([torch.autograd.grad(g, w_g, grad_outputs=e, retain_graph=True)[0] for e in eye], dim=1)
            return finish(h.detach())
        return {"func_hessian": func_hessian, "double_backward": double_backward}

    n = int(numbers["parameter_tensors"])
    params = tuple(T(arrays["p%d" % i]) for i in range(n))
    x = T(arrays["x"]); y = T(arrays["y"])[:, 0]
    flat = T(arrays["directions"]).reshape(int(numbers["directions"]), -1)
    sizes = [p.numel() for p in params]
    dirs = tuple(c.reshape((flat.shape[0],) + p.shape) for c, p in zip(torch.split(flat, sizes, dim=1), params))

    def loss(p):
        h = x
        for l in range(len(p) // 2 - 1):
            h = torch.tanh(h @ p[2 * l] + p[2 * l + 1])
        return torch.mean(((h @ p[-2] + p[-1])[:, 0] - y) ** 2)

    def flatten(out):
        return torch.cat([o.reshape(o.shape[0], -1) for o in out], dim=1)

    def func_vmap():
        return flatten(vmap(lambda d: fjvp(fgrad(loss), (params,), (d,))[1])(dirs))

    def double_backward_batched():
        p_g = tuple(p.clone().requires_grad_(True) for p in params)
        g = torch.autograd.grad(loss(p_g), p_g, create_graph=True)
        return flatten(torch.autograd.grad(g, p_g, grad_outputs=dirs, is_grads_batched=True))

    def double_backward_loop():
        p_g = tuple(p.clone().requires_grad_(True) for p in params)
        g = torch.autograd.grad(loss(p_g), p_g, create_graph=True)
        outs = [torch.autograd.grad(g, p_g, grad_outputs=tuple(d[j] for d in dirs), retain_graph=True) for j in range(flat.shape[0])]
        return torch.stack([torch.cat([o.reshape(-1) for o in out]) for out in outs])
    return {"func_vmap": func_vmap, "double_backward_batched": double_backward_batched, "double_backward_loop": double_backward_loop}


# --------------------------------------------------------------------------- worker
def run_worker(peer, nthreads, args, log):
    import numpy as np
    results, versions = [], {}
    names = [w for w in args.workloads.split(",") if w]
    if peer in ("jax", "jax_sync"):
        import jax, jaxlib
        jax.config.update("jax_enable_x64", True)
        if peer == "jax_sync":
            jax.config.update("jax_cpu_enable_async_dispatch", False)
            names = [w for w in names if w in SMALL]
        versions = dict(jax=jax.__version__, jaxlib=jaxlib.__version__)
    else:
        import torch
        torch.set_num_threads(nthreads)
        torch.set_num_interop_threads(1)
        versions = dict(torch=torch.__version__, torch_threads=torch.get_num_threads())
    for name in names:
        numbers, arrays = load(args.data, name)
        ours = arrays["ours_result"]
        if peer == "torch":
            variants = {k: (f, (), lambda r: r) for k, f in torch_variants(name, numbers, arrays).items()}
        else:
            variants = {k: (f, a, jax.block_until_ready) for k, (f, a) in jax_variants(name, numbers, arrays).items()}
        for mode, (fn, fargs, sync) in variants.items():
            call = lambda fn=fn, fargs=fargs: fn(*fargs)
            out = np.asarray(sync(call()))
            if peer == "torch":
                out = call().detach().numpy()
            err = rel_err(out, ours)
            r = dict(peer=peer, mode=mode, workload=name, dtype="float64", threads=nthreads, check_rel_err=err,
                     check_passed=bool(err <= args.tolerance))
            if r["check_passed"]:
                r.update(bench(call, sync, args.min_time, args.min_batches, args.batch_s))
                r["compile_s"] = max(0.0, r["first_call_s"] - r["median_s"]) if peer != "torch" else 0.0
            results.append(r); log(r)
    return results, versions


def thread_env(n):
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "BLIS_NUM_THREADS"):
        env[k] = str(n)
    env["XLA_FLAGS"] = ("--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" if n == 1
                        else "--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=%d" % n)
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return env


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the directory Benchmarks --export-hypergradients wrote")
    ap.add_argument("--json", help="write all results here")
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--peers", default="jax,jax_sync,torch")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--tolerance", type=float, default=1e-10, help="relative agreement with our result required before timing")
    ap.add_argument("--min-time", type=float, default=0.8)
    ap.add_argument("--min-batches", type=int, default=7)
    ap.add_argument("--batch-s", type=float, default=0.03)
    ap.add_argument("--_worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    for w in args.workloads.split(","):
        if w and w not in WORKLOADS:
            ap.error("unknown workload %r (known: %s)" % (w, ", ".join(WORKLOADS)))

    if args._worker:
        peer, nthreads, out = args._worker[0], int(args._worker[1]), args._worker[2]

        def log(r):
            if r["check_passed"]:
                print("  %-8s %dT %-18s %-24s median %11.1f us [p25 %.1f p75 %.1f] check %.1e cpu/wall %.2f first %.3fs" % (
                    r["peer"], nthreads, r["workload"], r["mode"], r["median_s"] * 1e6, r["p25_s"] * 1e6, r["p75_s"] * 1e6,
                    r["check_rel_err"], r["cpu_per_wall"], r["first_call_s"]), flush=True)
            else:
                print("  %-8s %dT %-18s %-24s CHECK FAILED: relative difference %.3e from ours (> %.0e), not timed" % (
                    r["peer"], nthreads, r["workload"], r["mode"], r["check_rel_err"], args.tolerance), flush=True)
        results, versions = run_worker(peer, nthreads, args, log)
        with open(out, "w") as fh:
            json.dump(dict(results=results, versions=versions, affinity=sorted(os.sched_getaffinity(0)),
                           env={k: os.environ.get(k) for k in ("XLA_FLAGS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}), fh)
        return

    passthru = ["--data", args.data, "--workloads", args.workloads, "--tolerance", str(args.tolerance),
                "--min-time", str(args.min_time), "--min-batches", str(args.min_batches), "--batch-s", str(args.batch_s)]
    all_res, meta = [], dict(versions={}, runs=[])
    t_all = time.perf_counter()
    for nt in [int(t) for t in args.threads.split(",")]:
        for peer in args.peers.split(","):
            if peer == "jax_sync" and not any(w in SMALL for w in args.workloads.split(",")):
                continue
            cpus = set(range(nt))
            with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tf:
                out = tf.name
            print("== %s, %d thread(s), CPUs %s" % (peer, nt, sorted(cpus)), flush=True)
            t0 = time.perf_counter()
            subprocess.run([sys.executable, os.path.abspath(__file__), *passthru, "--_worker", peer, str(nt), out],
                           env=thread_env(nt), preexec_fn=lambda c=cpus: os.sched_setaffinity(0, c), check=True)
            with open(out) as fh:
                d = json.load(fh)
            os.unlink(out)
            all_res += d["results"]
            meta["versions"].update(d["versions"])
            meta["runs"].append(dict(peer=peer, threads=nt, affinity=d["affinity"], env=d["env"], wall_s=time.perf_counter() - t0))
    import numpy
    meta["versions"].update(numpy=numpy.__version__, python=platform.python_version())
    meta["total_wall_s"] = time.perf_counter() - t_all
    failed = [r for r in all_res if not r["check_passed"]]
    if args.json:
        tmp = args.json + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(dict(results=all_res, meta=meta), fh, indent=1)
        os.replace(tmp, args.json)
    print("done in %.1f s%s" % (meta["total_wall_s"], "; %d variant(s) FAILED the check" % len(failed) if failed else ""))


if __name__ == "__main__":
    main()
