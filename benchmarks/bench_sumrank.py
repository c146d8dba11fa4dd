"""Speed of one trial of the rateless sum-recovery code (``ltsim.codes.sum_recovery``).

Run from the repository root::

    .venv/bin/python benchmarks/bench_sumrank.py [--trials 60] [--n 1000] [--d 10] [--quick]

For each regime (start-up delays ``X ~ Exp(rate 0.2)`` and ``X ~ Pareto(scale 1, shape 1)``,
``u = 0.005``) it times, per trial and after a warm-up:

* **trial**: the whole trial as a simulation runs it, drawing the delays, then
  ``run_trial`` (lazy generation in arrival order fed to the decoder until it stops);
* **sampling**: drawing the delays and generating the same received prefix alone
  (``sample_trial(..., max_symbols=count)`` from the same random state);
* **decoding**: ``stop_count`` on that prefix alone;

each with the decoder's BLAS block update (the default where available) and with its compiled
kernel (``Workspace(blas=False)``).

It reports medians (wall and CPU time of this thread) and the mean number of symbols received
at the stop and the mean latency. The process is pinned to one CPU and BLAS threads are
limited to one, so the numbers are for one core; on a busy machine the CPU time is the more
faithful of the two.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from ltsim.codes.sum_recovery import arrivals, gfp  # noqa: E402
from ltsim.codes.sum_recovery.blas import BLAS_AVAILABLE  # noqa: E402

U = 0.005
TARGET_MS = 20.0


def draw_delays(rng: np.random.Generator, n: int, regime: str) -> np.ndarray:
    if regime == "exp":
        return rng.exponential(1 / 0.2, n)  # rate 0.2
    return 1.0 + rng.pareto(1.0, n)  # classical Pareto, scale 1, shape 1


def whole_trial(rng, n, d, regime, ws) -> arrivals.Trial:
    return arrivals.run_trial(draw_delays(rng, n, regime), U, d, None, rng, ws)


def sample_prefix(rng, n, d, regime, count) -> arrivals.Arrivals:
    delays = draw_delays(rng, n, regime)
    return arrivals.sample_trial(delays, U, d, None, rng, max_symbols=count)


def timed(fn, *args, **kwargs):
    """``(result, wall ms, thread-CPU ms)`` of one call."""
    c0, w0 = time.thread_time(), time.perf_counter()
    out = fn(*args, **kwargs)
    return out, (time.perf_counter() - w0) * 1e3, (time.thread_time() - c0) * 1e3


def bench(regime: str, n: int, d: int, trials: int, warmup: int, seed: int,
          blas: bool) -> dict:
    ws = arrivals.Workspace(n, blas=blas)
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(warmup + trials):
        state = rng.bit_generator.state

        trial, w_all, c_all = timed(whole_trial, rng, n, d, regime, ws)
        rng.bit_generator.state = state
        prefix, w_smp, c_smp = timed(sample_prefix, rng, n, d, regime, trial.count)
        rec = trial.received
        assert np.array_equal(prefix.ptr, rec.ptr) and np.array_equal(prefix.idx, rec.idx)
        count, w_dec, c_dec = timed(gfp.stop_count, rec.ptr, rec.idx, n, ws)
        assert count == trial.count
        if t >= warmup:
            rows.append((w_all, c_all, w_smp, c_smp, w_dec, c_dec, trial.count, trial.latency,
                         trial.certified))
    a = np.array(rows)
    med = [statistics.median(a[:, i]) for i in range(6)]
    return {
        "regime": regime,
        "trial": med[0:2],
        "sampling": med[2:4],
        "decoding": med[4:6],
        "p90_trial": float(np.percentile(a[:, 0], 90)),
        "count": float(a[:, 6].mean()),
        "count_range": (int(a[:, 6].min()), int(a[:, 6].max())),
        "latency": float(a[:, 7].mean()),
        "certified": float(a[:, 8].mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=60, help="timed trials per regime")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--d", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--quick", action="store_true", help="n=200, 5 trials (smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.n, args.trials, args.warmup = 200, 5, 1
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    t0 = time.perf_counter()
    arrivals.run_trial(np.zeros(3), U, 1, None, np.random.default_rng(0))  # compile or load
    compile_s = time.perf_counter() - t0
    print(f"# sumrank trial benchmark: n={args.n}, d={args.d}, u={U}, {args.trials} trials "
          f"after {args.warmup} warm-up, one CPU; numba compile/cache load {compile_s:.1f} s\n")
    print("| regime | trial ms (wall / CPU) | sampling ms (wall / CPU) "
          "| decoding ms (wall / CPU) | p90 trial wall ms | symbols at stop (min-max) "
          "| mean latency | certified | <= 20 ms |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    updates = [True, False] if BLAS_AVAILABLE else [False]
    regimes = (("exp", "X ~ Exp(0.2)"), ("pareto", "X ~ Pareto(1, 1)"))
    for (regime, label), blas in itertools.product(regimes, updates):
        r = bench(regime, args.n, args.d, args.trials, args.warmup, args.seed, blas)
        wall, cpu = r["trial"]
        ok = "yes" if wall <= TARGET_MS else ("CPU only (busy machine)" if cpu <= TARGET_MS
                                              else "NO")
        print(f"| {label}, {'BLAS' if blas else 'kernel'} update "
              f"| {r['trial'][0]:.1f} / {r['trial'][1]:.1f} "
              f"| {r['sampling'][0]:.2f} / {r['sampling'][1]:.2f} "
              f"| {r['decoding'][0]:.1f} / {r['decoding'][1]:.1f} | {r['p90_trial']:.1f} "
              f"| {r['count']:.1f} ({r['count_range'][0]}-{r['count_range'][1]}) "
              f"| {r['latency']:.3f} | {100 * r['certified']:.0f}% | {ok} |")
    print("\nDefault block update: " + ("BLAS" if BLAS_AVAILABLE else "kernel")
          + ". Medians per trial. 'trial' is the fused lazy run (delays + generation + decoding);"
          " 'sampling' regenerates the same received prefix alone and 'decoding' decodes it "
          "alone, so trial ~ sampling + decoding. 'certified': share of trials whose answer "
          "the run itself proves over the rationals (count == rank == n).")


if __name__ == "__main__":
    main()
