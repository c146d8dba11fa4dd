"""RFC 5053's R10 (ltsim.codes.raptor): the generator functions against a slow reference
written from the RFC's text (tests/reference_raptor.py), the systematic indices' full-rank
property, the systematic property with real values, and the online decoding decisions over
GF(2) and over the rationals against plain Gaussian elimination."""

from __future__ import annotations

import numpy as np
import pytest

from ltsim.codes.raptor import decoding, rfc5053
from tests import reference_raptor as ref

SMALL = [*range(4, 41), 57, 100, 128, 255, 1000, 4093, 8192]


@pytest.mark.parametrize("K", SMALL)
def test_parameters_and_generators_are_the_rfcs(K):
    p = rfc5053.parameters(K)
    assert (p.S, p.H, p.L, p.L_prime) == ref.sizes(K)
    for X in [*range(0, 30), K - 1, K, K + 7, 3 * K + 11, 65535]:
        assert rfc5053.trip(K, X) == ref.trip(K, X)
        bits = sum(1 << b for b in rfc5053.lt_indices(K, X))
        assert bits == ref.lt_bits(K, X)
        assert len(rfc5053.lt_indices(K, X)) == bin(bits).count("1")  # no repeats
    rows = [sum(1 << c for c in r) for r in rfc5053.constraint_rows(K)]
    assert rows == ref.precode_bits(K)


def test_rand_and_deg_at_their_edges():
    assert rfc5053.deg(0) == 1 and rfc5053.deg(10240) == 1 and rfc5053.deg(10241) == 2
    assert rfc5053.deg(1048575) == 40
    for v in (0, 10241, 491581, 712794, 831695, 948445, 1032189, 1048575):
        assert rfc5053.deg(v) == ref.deg(v)
    for X, i, m in ((0, 0, 2 ** 20), (255, 1, 17), (65535, 2, 1087), (1234, 3, 1)):
        assert rfc5053.rand(X, i, m) == ref.rand(X, i, m)
    with pytest.raises(ValueError):
        rfc5053.deg(1 << 20)


@pytest.mark.parametrize("K", [3, 8193, 0])
def test_block_sizes_outside_the_rfc_are_refused(K):
    with pytest.raises(ValueError, match="4 to 8192"):
        rfc5053.parameters(K)


def test_the_systematic_indices_make_the_matrix_invertible():
    """Section 5.7: with J(K), the constraints and the first K encoding symbols have rank L
    over GF(2) (every K from 4 to 120, every 7th to 300, and a spread up to 8192)."""
    for K in [*range(4, 121), *range(121, 301, 7), 1000, 2048, 5000, 8192]:
        L = ref.sizes(K)[2]
        rows = ref.precode_bits(K) + [ref.lt_bits(K, x) for x in range(K)]
        assert ref.gf2_rank(rows) == L, K


@pytest.mark.parametrize("K", [4, 13, 57, 100])
def test_the_first_k_encoding_symbols_are_the_sources(K):
    """Real sources: solve A C = (0, sources) for the intermediate symbols; encoding symbol
    X < K sums back to source X, and every symbol is a fixed combination of the sources."""
    p = rfc5053.parameters(K)
    rng = np.random.default_rng(K)
    sources = rng.normal(size=K)
    A = np.zeros((p.L, p.L))
    for i, row in enumerate(rfc5053.constraint_rows(K)):
        A[i, row] = 1.0
    for x in range(K):
        A[p.S + p.H + x, rfc5053.lt_indices(K, x)] = 1.0
    C = np.linalg.solve(A, np.concatenate([np.zeros(p.S + p.H), sources]))
    encoded = np.array([C[rfc5053.lt_indices(K, x)].sum() for x in range(K)])
    np.testing.assert_allclose(encoded, sources, rtol=1e-9, atol=1e-9)


def orders(K, count, seed):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        esis = rng.permutation(3 * K)[: 2 * K]  # a random erasure pattern and order
        yield esis


def decide(K, order, field):
    c = rfc5053.code(K, 3 * K)
    args = (c.constraint_ptr, c.constraint_idx, c.symbol_ptr, c.symbol_idx,
            np.asarray(order, dtype=np.int64), c.params.L)
    if field == "gf2":
        return decoding.first_full_rank_gf2(*args)
    return decoding.first_full_rank_modp(*args, decoding.PRIME)


@pytest.mark.parametrize("K", [4, 9, 20, 40])
def test_binary_decoding_decision_against_gaussian_elimination(K):
    for order in orders(K, 25, K):
        assert decide(K, order, "gf2") == ref.first_decodable(K, order, "gf2")


@pytest.mark.parametrize("K", [4, 6, 8])
def test_rational_decoding_decision_against_exact_fractions(K):
    for order in orders(K, 8, 100 + K):
        assert decide(K, order, "q") == ref.first_decodable(K, order, "q")


def test_binary_decodable_implies_rational_decodable_trial_by_trial():
    """An odd determinant is nonzero: the rationals never need more symbols than GF(2)."""
    fewer = 0
    for K in (10, 30, 100):
        for order in orders(K, 60, 7 * K):
            g, q = decide(K, order, "gf2"), decide(K, order, "q")
            assert q != -1 and (g == -1 or q <= g)
            fewer += g == -1 or q < g
    assert fewer > 0  # the two fields do differ


# --------------------------------------------------------------------------------------------
# kind: raptor in the simulator


@pytest.mark.parametrize("K", [4, 5, 8])
def test_symbol_expansions_against_exact_fractions(K):
    """A symbol's non-linear cost is its number of sources with a nonzero coefficient in
    G A^-1: the floating-point count equals the exact one (Fraction Gauss-Jordan)."""
    from fractions import Fraction

    from ltsim.codes.raptor.code import expansion, expansion_sizes

    S, H, L, _ = ref.sizes(K)
    rows = ref.precode_bits(K) + [ref.lt_bits(K, x) for x in range(K)]
    A = [[Fraction((r >> c) & 1) for c in range(L)] + [Fraction(int(i == j)) for j in range(L)]
         for i, r in enumerate(rows)]
    for c in range(L):  # Gauss-Jordan: [A | I] -> [I | A^-1]
        p = next(i for i in range(c, L) if A[i][c] != 0)
        A[c], A[p] = A[p], A[c]
        A[c] = [x / A[c][c] for x in A[c]]
        for i in range(L):
            if i != c and A[i][c] != 0:
                f = A[i][c]
                A[i] = [x - f * y for x, y in zip(A[i], A[c], strict=True)]
    inverse = [row[L:] for row in A]
    esis = tuple(range(3 * K))
    for x, count in zip(esis, expansion_sizes(expansion(K, esis)), strict=True):
        bits = ref.lt_bits(K, x)
        coefficient = [sum(inverse[i][S + H + s] for i in range(L) if (bits >> i) & 1)
                       for s in range(K)]
        assert count == sum(c != 0 for c in coefficient), x


def test_raptor_runs_and_gf2_needs_at_least_the_rationals_symbols(tmp_path):
    from tests.helpers import cli

    config = tmp_path / "r.yaml"
    config.write_text("name: r\nm: 40\ntau: 0.01\ntrials: 30\nseed: 4\n"
                      "delay: {dist: exponential, rate: 1.0}\n"
                      "schemes: [{kind: raptor, r: 1}, {kind: raptor, r: 2, systematic: false}, "
                      "{kind: raptor, r: 1, field: gf2}]\n")
    for computation in ("nonlinear", "linear"):
        out = tmp_path / computation
        done = cli("run", config, "--set", f"computation={computation}", "-o", out, "-q",
                   "--jobs", 1)
        assert done.exit_code == 0, done.stderr
        import pandas as pd

        rows = pd.read_csv(out / "latencies.csv")
        q = rows[rows["scheme"] == "raptor1"]
        assert (q["decoded"]).all()
        assert (q["symbols_gf2"] >= q["symbols"]).all()
        g = rows[rows["scheme"] == "raptor1-gf2"]["symbols"].to_numpy()
        np.testing.assert_array_equal(g, q["symbols_gf2"].to_numpy())


@pytest.mark.parametrize("K", [4, 11, 50, 200, 1000])
def test_inactivation_decides_exactly_as_the_dense_eliminations(K):
    """The fast decision (peeling with inactivation, then the residual's rank) gives the
    dense online eliminations' answer, over both fields, on random erasures and orders."""
    from ltsim.codes.raptor import inactivation

    c = rfc5053.code(K, 3 * K)
    args = (c.constraint_ptr, c.constraint_idx, c.symbol_ptr, c.symbol_idx)
    rng = np.random.default_rng(K + 1)
    for _ in range(12 if K < 1000 else 3):
        order = rng.permutation(3 * K)[: int(1.5 * K) + 5].astype(np.int64)
        L = c.params.L
        assert (inactivation.first_full_rank(*args, order, L, inactivation.GF2)
                == decoding.first_full_rank_gf2(*args, order, L))
        assert (inactivation.first_full_rank(*args, order, L, decoding.PRIME)
                == decoding.first_full_rank_modp(*args, order, L, decoding.PRIME))
        for prefix in (order, order[: K + 2], order[: max(K - 1, 0)]):  # some never reach L
            assert inactivation.first_full_rank_both(*args, prefix, L, decoding.PRIME) == (
                decoding.first_full_rank_modp(*args, prefix, L, decoding.PRIME),
                decoding.first_full_rank_gf2(*args, prefix, L))


def test_the_overhead_script_reads_a_run(tmp_path):
    """scripts/raptor_overhead.py on a small run: a row per K and decoder, probabilities
    that never rise with h."""
    from tests.helpers import cli

    config = tmp_path / "o.yaml"
    config.write_text("name: o\nm: 40\ntau: 0.0\ntrials: 15\nseed: 1\ncomputation: linear\n"
                      "delay: {dist: exponential, rate: 1.0}\n"
                      "schemes: [{kind: raptor, k: 8, symbols_per_worker: 1}, "
                      "{kind: raptor, k: 20, symbols_per_worker: 1}, "
                      "{kind: lt, k: 8, symbols_per_worker: 1}]\n")
    out = tmp_path / "run"
    assert cli("run", config, "-o", out, "-q", "--jobs", 1).exit_code == 0
    module = _script("raptor_overhead")
    entries = module.curves(out)
    text = module.table(entries)
    module.draw(entries, tmp_path / "f.png")
    assert sum(line.startswith("| 8 ") for line in text.splitlines()) == 3
    assert (tmp_path / "f.png").is_file()
    for entry in entries:
        assert (np.diff(entry["fail"]) <= 0).all()


def test_the_systems_script_reads_a_sweep(tmp_path):
    """scripts/raptor_systems.py on a small sweep of the same shape."""
    from tests.helpers import cli

    sweep = tmp_path / "s.sweep.yaml"
    sweep.write_text("name: s\nbase:\n  name: s\n  m: 20\n  tau: 0.005\n  trials: 4\n"
                     "  seed: 1\n  delay: {dist: exponential, rate: 0.2}\n  schemes:\n"
                     "    - {kind: lt, r: 1}\n    - {kind: lt, r: 2}\n"
                     "    - {kind: raptor, r: 1}\n    - {kind: raptor, r: 2}\n"
                     "grid:\n  computation: [nonlinear, linear]\n  delay:\n"
                     "    - {dist: exponential, rate: 0.2}\n"
                     "    - {dist: pareto, scale: 1.0, shape: 1.0}\n")
    out = tmp_path / "run"
    assert cli("sweep", sweep, "-o", out, "-q", "--jobs", 1).exit_code == 0
    module = _script("raptor_systems")
    points = module.load(out)
    text = module.table(points)
    module.draw(points, tmp_path / "f.png")
    assert sum(line.startswith(("| Exp", "| Pareto")) for line in text.splitlines()) == 4
    assert (tmp_path / "f.png").is_file()


def test_raptor_executes_for_real_and_decodes_the_direct_sum(tmp_path):
    """ltsim execute (local threads): every Raptor trial recovers F(x) within 1e-9 of the
    direct sum, over both fields, systematic or not."""
    import pandas as pd

    from tests.helpers import cli

    config = tmp_path / "e.yaml"
    config.write_text("name: e\nworkload: {kind: gaussian_kernel, m: 32, dim: 4, seed: 1}\n"
                      "trials: 2\nseed: 2\ndelay: {dist: exponential, rate: 0.2}\n"
                      "time_scale: 0.002\ntimeout: 30\n"
                      "schemes: [{kind: raptor, r: 1}, {kind: raptor, r: 2, systematic: false}, "
                      "{kind: raptor, r: 1, field: gf2}]\n")
    done = cli("execute", config, "-o", tmp_path / "run", "-q")
    assert done.exit_code == 0, done.stderr
    rows = pd.read_csv(tmp_path / "run" / "executions.csv")
    assert (rows["status"] == "ok").all() and (rows["rel_error"] <= 1e-9).all()


def _script(name: str):
    """A script of scripts/ as a module."""
    from importlib import util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
    spec = util.spec_from_file_location(name, path)
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_folded_reduction_is_the_remainder():
    """``decoding.residue`` (folds for 2^31 - 1, ``%`` otherwise) equals Python's ``x % p``
    on random int64s, around multiples of p and at the int64 extremes."""
    from numba import njit

    from ltsim.codes.raptor.decoding import PRIME as MERSENNE
    from ltsim.codes.raptor.decoding import residue

    @njit
    def reduce_all(x, p):
        out = np.empty_like(x)
        for i in range(x.shape[0]):
            out[i] = residue(x[i], p)
        return out

    rng = np.random.default_rng(0)
    near = np.concatenate([np.arange(k * MERSENNE - 3, k * MERSENNE + 4)
                           for k in (-5, -1, 0, 1, 2, 2**31)])
    x = np.concatenate([rng.integers(-2**63, 2**63 - 1, 200_000, endpoint=True), near,
                        [2**63 - 1, -2**63, -1, 1]]).astype(np.int64)
    for p in (MERSENNE, 101):
        np.testing.assert_array_equal(reduce_all(x, p), x % p)
