"""What the Raptor decision saves: searching the fewest symbols of full rank over prefixes
(each probe builds and peels the system from scratch: galloping and bisecting, or jumping by
the rank's deficiency) against :func:`ltsim.codes.raptor.inactivation.first_full_rank_both`,
which peels once and adds the further symbols one at a time. As a Raptor trial decides:
over the rationals from L - (S + H), then over GF(2) from the rationals' answer, on random
arrival orders of ``symbols`` per source. All must give the same answers; prints the mean
number of full rank computations per search and the time of a whole decision.

Usage::

    python scripts/raptor_search_probes.py [--K 1000] [--trials 200] [--seed 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ltsim.codes.raptor import decoding, inactivation, rfc5053


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--K", type=int, default=1000, help="source symbols")
    parser.add_argument("--trials", type=int, default=200, help="arrival orders")
    parser.add_argument("--symbols", type=int, default=2,
                        help="encoded symbols per source symbol (exp02: 2)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    K, total = args.K, args.K * args.symbols
    code = rfc5053.code(K, total)
    L = code.params.L
    csr = (code.constraint_ptr, code.constraint_idx, code.symbol_ptr, code.symbol_idx)
    fewest = L - (code.constraint_ptr.shape[0] - 1)

    def rank(order, m, field):
        return inactivation.prefix_rank(*csr, order, m, L, field)

    def gallop(order, field, lo):
        probes = 1
        if rank(order, lo, field) == L:
            return lo, probes
        bad, step = lo, 1
        while True:
            probe, probes = bad + step, probes + 1
            if rank(order, probe, field) == L:
                good = probe
                break
            bad, step = probe, 2 * step
        while good - bad > 1:
            mid, probes = (bad + good) // 2, probes + 1
            if rank(order, mid, field) == L:
                good = mid
            else:
                bad = mid
        return good, probes

    def jump(order, field, m):
        probes = 0
        while True:
            probes += 1
            r = rank(order, m, field)
            if r == L:
                return m, probes
            m += L - r

    def decide(search, order):
        q, probes_q = search(order, decoding.PRIME, fewest)
        g, probes_g = search(order, inactivation.GF2, q)
        return (q, g), (probes_q, probes_g)

    def peel_once(order):
        return inactivation.first_full_rank_both(*csr, order, L, decoding.PRIME), (1, 0)

    rng = np.random.default_rng(args.seed)
    orders = [rng.permutation(total).astype(np.int64) for _ in range(args.trials)]
    methods = {"gallop": lambda o: decide(gallop, o), "jump": lambda o: decide(jump, o),
               "peel once": peel_once}
    for method in methods.values():
        method(orders[0])  # compile
    answers, probes, seconds = {}, {}, {}
    for name, method in methods.items():
        start = time.perf_counter()
        results = [method(order) for order in orders]
        seconds[name] = (time.perf_counter() - start) / len(orders)
        answers[name] = [a for a, _ in results]
        probes[name] = np.mean([p for _, p in results], axis=0)
    assert answers["gallop"] == answers["jump"] == answers["peel once"], "answers differ"
    print(f"K = {K}, {args.trials} arrival orders of {total} symbols; the same answers. "
          "Systems built and peeled per search (rationals, GF(2) from the rationals' answer) "
          "and the time of a decision:")
    for name in methods:
        q, g = probes[name]
        print(f"  {name:9s} {q:.2f}  {g:.2f}  {seconds[name] * 1e3:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
