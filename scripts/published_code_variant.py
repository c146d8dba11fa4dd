"""Compare our LT latencies with two variants of the paper's published simulation code.

The authors' public script (repository ankurmallick/NLCC, ``Simulations/ltsim.py``) differs
from the paper's text in two ways:

1. it records ``enc_times[ctr]`` where the arrival-ordered ``enc_times[enc_ord[ctr]]`` is
   meant, so the reported latency is the finish time of the symbol that sits at the stopping
   position in *worker* order, i.e. of an arbitrary worker;
2. it runs LT-2 on m/2 workers (k = m/2 groups, two symbols each, cost doubled).

This script simulates, with ltsim's own sampler and decoder and the same delays, the text's
model (ours), variant 2 alone ("m/r workers"), and variants 1+2 together ("published code"),
and prints a Markdown table of mean, median and 99th percentile latency.

Usage::

    python scripts/published_code_variant.py configs/exp02.yaml configs/pareto11.yaml
"""

from __future__ import annotations

import sys

import numpy as np

from ltsim.codes.lt import LTCode
from ltsim.codes.lt.peeling import peel
from ltsim.io import config
from ltsim.io.results import quantile
from ltsim.montecarlo.streams import stream


def lt_latency(scheme: LTCode, delays: np.ndarray, tau: float, rng, worker_order_bug: bool):
    """One trial's latency; with the bug, the time of the symbol at the stopping position
    in worker order instead of arrival order."""
    graph = scheme.sample_code(delays.size, rng)
    times = scheme.arrival_times(graph, delays, tau)
    order = np.argsort(times, kind="stable")
    used = peel(graph.ptr, graph.nbrs, order, delays.size // scheme.r, order.size)
    if used < 0:
        return np.inf
    return times[used - 1] if worker_order_bug else times[order[used - 1]]


def few_workers(scheme: LTCode, delays: np.ndarray, tau: float, rng, bug: bool) -> float:
    """LT-r as the published code runs it: k = m/r groups on the first m/r workers, a
    symbol of degree d costing tau * r * d."""
    few = delays[: delays.size // scheme.r]
    as_lt1 = scheme.model_copy(update={"r": 1})
    return lt_latency(as_lt1, few, tau * scheme.r, rng, bug)


def main(paths: list[str]) -> None:
    print("| config | scheme | model | mean (s) | p50 (s) | p99 (s) |")
    print("|---|---|---|---|---|---|")
    for path in paths:
        exp = config.load(path)
        lts = [(i, s) for i, s in enumerate(exp.schemes) if isinstance(s, LTCode)]
        rows: dict[tuple[str, str], list[float]] = {}
        for t in range(exp.trials):
            delays = exp.delay.sample(stream(exp.seed, t, 0), exp.n_workers)
            for i, scheme in lts:
                name, tau = f"LT-{scheme.r}", exp.unit_time
                rows.setdefault((name, "paper's text"), []).append(
                    lt_latency(scheme, delays, tau, stream(exp.seed, t, 1 + i),
                               worker_order_bug=False))
                if scheme.r > 1:
                    rng = np.random.default_rng([exp.seed, t, i, 1])
                    rows.setdefault((name, "m/r workers"), []).append(
                        few_workers(scheme, delays, tau, rng, bug=False))
                rng = np.random.default_rng([exp.seed, t, i, 2])
                rows.setdefault((name, "published code"), []).append(
                    few_workers(scheme, delays, tau, rng, bug=True))
        for (name, model), values in sorted(rows.items()):
            x = np.asarray(values)
            finite = x[np.isfinite(x)]
            print(f"| {exp.name} | {name} | {model} | {finite.mean():.3f} | "
                  f"{quantile(x, 0.5):.3f} | {quantile(x, 0.99):.3f} |")


if __name__ == "__main__":
    main(sys.argv[1:] or ["configs/exp02.yaml", "configs/pareto11.yaml"])
