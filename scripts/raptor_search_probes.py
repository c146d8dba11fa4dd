"""How many rank computations the Raptor decision takes: the search of
:func:`ltsim.codes.raptor.inactivation.first_full_rank` (jumps by the rank's deficiency)
against galloping and bisecting over prefixes, as a Raptor trial makes them (over the
rationals from L - (S + H), then over GF(2) from the rationals' answer), on random arrival
orders of ``symbols`` per source. Both must give the same answers; prints the mean number of
ranks per search.

Usage::

    python scripts/raptor_search_probes.py [--K 1000] [--trials 200] [--seed 1]
"""

from __future__ import annotations

import argparse

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
    counted = [0]

    def full(order, m, field):
        counted[0] += 1
        return inactivation._rank_of(*csr, order, m, L, field) == L

    def gallop(order, field, lo):
        counted[0] = 0
        if full(order, lo, field):
            return lo, counted[0]
        bad, step = lo, 1
        while True:
            probe = bad + step
            if full(order, probe, field):
                good = probe
                break
            bad, step = probe, 2 * step
        while good - bad > 1:
            mid = (bad + good) // 2
            if full(order, mid, field):
                good = mid
            else:
                bad = mid
        return good, counted[0]

    def jump(order, field, m):
        counted[0] = 0
        while True:
            counted[0] += 1
            rank = inactivation._rank_of(*csr, order, m, L, field)
            if rank == L:
                return m, counted[0]
            m += L - rank

    rng = np.random.default_rng(args.seed)
    ranks = {"gallop": [], "jump": []}
    for _ in range(args.trials):
        order = rng.permutation(total).astype(np.int64)
        q1, cq1 = gallop(order, decoding.PRIME, fewest)
        g1, cg1 = gallop(order, inactivation.GF2, q1)
        q2, cq2 = jump(order, decoding.PRIME, fewest)
        g2, cg2 = jump(order, inactivation.GF2, q2)
        assert (q1, g1) == (q2, g2), "the two searches disagree"
        assert (q2, g2) == (inactivation.first_full_rank(*csr, order, L, decoding.PRIME),
                            inactivation.first_full_rank(*csr, order, L, inactivation.GF2,
                                                         q2))
        ranks["gallop"].append((cq1, cg1))
        ranks["jump"].append((cq2, cg2))
    print(f"K = {K}, {args.trials} arrival orders of {total} symbols: ranks per search "
          "(rationals, GF(2) from the rationals' answer); the same answers")
    for name, rows in ranks.items():
        q, g = np.mean(rows, axis=0)
        print(f"  {name:7s} {q:.2f}  {g:.2f}  (total {q + g:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
