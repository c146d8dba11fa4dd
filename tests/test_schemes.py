"""Schemes: the paper's closed forms, invariants, and the LT path against the reference."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ltsim.model.orderstats import harmonic
from ltsim.montecarlo.streams import stream
from ltsim.montecarlo.trials import simulate_trials
from tests.helpers import experiment, within_sigmas
from tests.reference import lt_latency_reference

RATE, TAU = 0.2, 0.005


def latencies(schemes, m, trials, delay=None, seed=7, **extra):
    exp = experiment(schemes, delay=delay or {"dist": "exponential", "rate": RATE},
                     m=m, tau=TAU, trials=trials, seed=seed, **extra)
    return exp, simulate_trials(exp, 0, trials)


@pytest.mark.slow
@pytest.mark.parametrize("m", [1, 50, 400])
def test_all_at_one_matches_proposition_2(m):
    _, (out,) = latencies([{"kind": "one"}], m, 20_000)
    ok, msg = within_sigmas(out.latency, TAU * m + 1 / RATE)
    assert ok, msg


@pytest.mark.slow
@pytest.mark.parametrize("m", [2, 50, 400])
def test_uncoded_matches_proposition_1_with_r_1(m):
    _, (out,) = latencies([{"kind": "uncoded"}], m, 20_000)
    ok, msg = within_sigmas(out.latency, TAU + harmonic(m) / RATE)
    assert ok, msg


@pytest.mark.slow
@pytest.mark.parametrize(("m", "r"), [(400, 2), (400, 4), (90, 3), (10, 10)])
def test_replication_matches_proposition_1(m, r):
    _, (out,) = latencies([{"kind": "replication", "r": r}], m, 20_000)
    ok, msg = within_sigmas(out.latency, TAU * r + harmonic(m // r) / (r * RATE))
    assert ok, msg


@pytest.mark.slow
def test_shifted_exponential_adds_the_shift_to_theory():
    delay = {"dist": "shifted_exponential", "shift": 2.0, "rate": RATE}
    exp, outs = latencies([{"kind": "one"}, {"kind": "replication", "r": 2}], 100, 20_000,
                          delay=delay)
    for scheme, out in zip(exp.schemes, outs, strict=True):
        mu = scheme.theory_mean(exp.view())
        ok, msg = within_sigmas(out.latency, mu)
        assert ok, msg


def test_theory_where_no_closed_form_applies():
    heavy = {"dist": "pareto", "scale": 1.0, "shape": 1.0}
    exp, _ = latencies([{"kind": "one"}, {"kind": "uncoded"}, {"kind": "replication", "r": 2},
                        {"kind": "lt"}], 20, 1, delay=heavy)
    one, unc, rep, lt = exp.schemes
    assert one.theory_mean(exp.view()).reason == "no finite mean"  # E[X] = inf
    assert unc.theory_mean(exp.view()).reason == "no finite mean"  # T >= X_1
    assert math.isfinite(float(rep.theory_mean(exp.view())))  # min of 2 has shape 2
    assert math.isnan(lt.theory_mean(exp.view()))
    assert math.isnan(lt.theory_bound(exp.view()))


ANY_LAW = [
    {"dist": "weibull", "scale": 2.0, "shape": 0.8},
    {"dist": "pareto", "scale": 1.0, "shape": 3.0},
    {"dist": "pareto", "scale": 1.0, "shape": 1.0},  # no mean: only r = 2 has one
    {"dist": "lognormal", "mu": 0.0, "sigma": 0.5},
    {"dist": "constant", "value": 0.7},
]


@pytest.mark.slow
@pytest.mark.parametrize("delay", ANY_LAW, ids=lambda d: f"{d['dist']}{d.get('shape', '')}")
def test_baseline_means_for_any_delay_law(delay):
    """Simulated means against E[X] + tau m and the order-statistic integrals."""
    exp, outs = latencies([{"kind": "one"}, {"kind": "uncoded"},
                           {"kind": "replication", "r": 2}], 100, 20_000, delay=delay)
    for scheme, out in zip(exp.schemes, outs, strict=True):
        mu = float(scheme.theory_mean(exp.view()))
        if math.isinf(mu):
            assert delay.get("shape") == 1.0 and scheme.kind != "replication"
            continue
        if np.ptp(out.latency) == 0:  # constant delays: T is exact
            assert out.latency[0] == pytest.approx(mu, rel=1e-12)
            continue
        ok, msg = within_sigmas(out.latency, mu)
        assert ok, f"{scheme.scheme_id}: {msg}"


@pytest.mark.slow
def test_empirical_delays_have_exact_baseline_means(tmp_path):
    samples = tmp_path / "d.csv"
    samples.write_text("0.1\n0.5\n0.5\n2.0\n9.0\n")
    exp, outs = latencies([{"kind": "uncoded"}, {"kind": "replication", "r": 2}], 40, 20_000,
                          delay={"dist": "empirical", "path": str(samples)})
    for scheme, out in zip(exp.schemes, outs, strict=True):
        ok, msg = within_sigmas(out.latency, scheme.theory_mean(exp.view()))
        assert ok, f"{scheme.scheme_id}: {msg}"


def test_grouping_workers_rescales_the_unit_time():
    # m = 400 functions on p = 100 workers: each worker's task is 4 functions.
    exp, (one, unc) = latencies([{"kind": "one"}, {"kind": "uncoded"}], 400, 20_000, workers=100)
    assert exp.unit_time == pytest.approx(4 * TAU)
    assert within_sigmas(one.latency, TAU * 400 + 1 / RATE)[0]
    assert within_sigmas(unc.latency, 4 * TAU + harmonic(100) / RATE)[0]


def test_replication_with_r_1_equals_uncoded():
    _, (rep, unc) = latencies([{"kind": "replication", "r": 1}, {"kind": "uncoded"}], 64, 300)
    assert np.array_equal(rep.latency, unc.latency)


def test_schemes_share_the_delays_of_a_trial():
    # Common random numbers: 'one' uses worker 0's delay of the same trial stream.
    exp, (one,) = latencies([{"kind": "one"}], 30, 5, seed=99)
    for t in range(5):
        x0 = exp.delay.sample(stream(99, t, 0), 30)[0]
        assert one.latency[t] == x0 + TAU * 30


LT_CASES = [
    {"kind": "lt", "r": 1, "symbols_per_worker": 2, "c": 0.1, "delta": 0.5},
    {"kind": "lt", "r": 2, "symbols_per_worker": 3, "c": 0.03, "delta": 0.5},
    {"kind": "lt", "r": 1, "symbols_per_worker": 2, "c": 0.1, "delta": 0.5, "returns": "worker"},
    {"kind": "lt", "r": 2, "symbols_per_worker": 2, "c": 0.1, "delta": 0.5,
     "decoder": {"threshold": 14}},
    {"kind": "lt", "r": 1, "symbols_per_worker": 1, "c": 0.1, "delta": 0.5},  # often fails
]


@pytest.mark.parametrize("scheme", LT_CASES, ids=lambda s: str(sorted(s.items())))
@pytest.mark.parametrize("delay", [{"dist": "exponential", "rate": 1.0},
                                   {"dist": "constant", "value": 0.5}], ids=["exp", "const"])
def test_lt_fast_path_equals_reference_path(scheme, delay):
    """Same graphs, same stopping symbols, same latencies, same failures."""
    m, trials, seed = 24, 60, 123
    exp = experiment([scheme], delay=delay, m=m, tau=0.01, trials=trials, seed=seed)
    (out,) = simulate_trials(exp, 0, trials)
    lt = exp.schemes[0]
    k, s = m // lt.r, lt.symbols_per_worker
    for t in range(trials):
        x = exp.delay.sample(stream(seed, t, 0), m)
        graph = lt.sample_code(m, stream(seed, t, 1), x, np.full(m, exp.unit_time))
        degrees = graph.degrees.tolist()
        neighbours = [set(graph.nbrs[graph.ptr[i]:graph.ptr[i + 1]].tolist())
                      for i in range(m * s)]
        threshold = lt.decoder.threshold if lt.decoder else None
        latency, symbols, decoded = lt_latency_reference(
            x.tolist(), degrees, neighbours, exp.unit_time, lt.r, s, k, lt.returns, threshold)
        assert out.latency[t] == latency, t
        assert out.symbols[t] == symbols, t
        assert out.decoded[t] == decoded, t


def test_lt_failures_are_counted_not_dropped():
    _, (out,) = latencies([{"kind": "lt", "r": 2, "symbols_per_worker": 1, "c": 0.1}], 30, 200)
    failed = ~out.decoded
    assert failed.any() and out.decoded.any()
    assert np.isinf(out.latency[failed]).all()
    assert (out.symbols[failed] == 30).all()
    assert len(out.latency) == 200


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    m=st.sampled_from([4, 6, 12, 24, 36]),
    r=st.sampled_from([1, 2]),
    s=st.integers(1, 3),
    returns=st.sampled_from(["symbol", "worker"]),
)
def test_lt_latency_bounds(seed, m, r, s, returns):
    """T >= the fastest possible finish, and >= k symbols were needed."""
    exp, (out,) = latencies(
        [{"kind": "lt", "r": r, "symbols_per_worker": s, "c": 0.1, "returns": returns}],
        m, 20, seed=seed)
    k = m // r
    ok = out.decoded
    fastest = np.array([exp.delay.sample(stream(seed, t, 0), m).min()
                        for t in range(20)]) + TAU * r
    assert (out.latency[ok] >= fastest[ok]).all()
    assert (out.symbols[ok] >= k).all()
    assert (out.symbols <= m * s).all()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31), m=st.sampled_from([2, 8, 30]))
def test_coded_and_replicated_latencies_never_beat_the_fastest_worker(seed, m):
    exp, outs = latencies([{"kind": "one"}, {"kind": "uncoded"},
                           {"kind": "replication", "r": 2}], m, 10, seed=seed)
    fastest = np.array([exp.delay.sample(stream(seed, t, 0), m).min()
                        for t in range(10)]) + TAU
    for out in outs:
        assert (out.latency >= fastest).all()


def test_lt_beats_uncoded_at_the_papers_operating_point():
    _, outs = latencies([{"kind": "uncoded"}, {"kind": "replication", "r": 2},
                         {"kind": "lt", "r": 1}, {"kind": "lt", "r": 2}], 1000, 60)
    unc, rep, lt1, lt2 = (o.latency.mean() for o in outs)
    assert lt2 < lt1 < rep < unc


def test_theory_mean_at_the_edge_of_existence_and_beyond_the_largest_float():
    """Values computed independently at 30-40 digits (see tests/test_orderstats.py)."""
    import math as m

    exp, _ = latencies([{"kind": "uncoded"}, {"kind": "replication", "r": 2},
                        {"kind": "replication", "r": 4}, {"kind": "one"}], 100, 1,
                       delay={"dist": "pareto", "scale": 1.0, "shape": 1.01})
    unc = exp.schemes[0].theory_mean(exp.view())
    exact = m.exp(m.lgamma(101) + m.lgamma(1 - 1 / 1.01) - m.lgamma(101 - 1 / 1.01))
    # Uncoded on n = m = 100 workers: E[max of 100 X_j] plus one function's time tau
    assert float(unc) == pytest.approx(exact + TAU, rel=1e-9)
    assert float(unc) != pytest.approx(exact, rel=1e-9)  # tau, 5e-7 of it, is resolved
    assert exp.schemes[3].theory_mean(exp.view()).reason == ""  # E[X] = 101 exists
    huge, _ = latencies([{"kind": "one"}, {"kind": "uncoded"}, {"kind": "replication", "r": 2},
                         {"kind": "replication", "r": 4}], 100, 1,
                        delay={"dist": "lognormal", "mu": 0.0, "sigma": 50.0})
    one, unc, rep2, rep4 = (s.theory_mean(huge.view()) for s in huge.schemes)
    assert one.reason == unc.reason == "overflow"  # E[max] >= E[X]: both beyond 1e308
    assert unc.log10 == pytest.approx(544.868, abs=1e-3) and unc.log10 > one.log10
    assert float(rep2) == pytest.approx(3.0632e271, rel=1e-4)
    assert float(rep4) == pytest.approx(8.392e132, rel=1e-4)
    none, _ = latencies([{"kind": "one"}], 10, 1,
                        delay={"dist": "pareto", "scale": 1.0, "shape": 1.0})
    assert none.schemes[0].theory_mean(none.view()).reason == "no finite mean"
