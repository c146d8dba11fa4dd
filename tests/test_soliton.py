"""Robust Soliton: exact constants, normalisation, closed-form mean, sampling."""

import math

import numpy as np
import pytest

from ltsim.codes.lt.soliton import RobustSoliton, mean_degree, spike_position
from ltsim.model.orderstats import harmonic
from tests.helpers import within_sigmas
from tests.reference import robust_soliton_reference


def test_paper_parameters_constants():
    rs = RobustSoliton(1000, 0.03, 0.5)
    assert rs.S == pytest.approx(0.03 * math.log(2000) * math.sqrt(1000), rel=1e-15)
    assert rs.S == pytest.approx(7.2108, abs=1e-4)
    assert rs.spike == 139
    assert rs.normaliser == pytest.approx(1.05896183, abs=1e-8)


@pytest.mark.parametrize(
    ("k", "c", "delta", "S", "spike"),
    [
        # S = c ln(k/delta) sqrt(k), spike = round(k/S), worked out by hand
        (500, 0.03, 0.5, 0.03 * math.log(1000) * math.sqrt(500), 108),  # 500/4.634 = 107.9
        (10000, 0.1, 0.05, 0.1 * math.log(200000) * 100.0, 82),  # 10000/122.06 = 81.9
        (100, 0.2, 0.1, 0.2 * math.log(1000) * 10.0, 7),  # 100/13.82 = 7.24
    ],
)
def test_constants_against_formula(k, c, delta, S, spike):
    rs = RobustSoliton(k, c, delta)
    assert rs.S == pytest.approx(S, rel=1e-14)
    assert rs.spike == spike == round(k / S)
    expected_beta = 1 + S * harmonic(spike - 1) / k + S * math.log(S / delta) / k
    assert rs.normaliser == pytest.approx(expected_beta, rel=1e-12)


@pytest.mark.parametrize(
    ("k", "c", "delta"),
    [(1, 0.03, 0.5), (2, 0.03, 0.5), (7, 0.5, 0.9), (50, 0.1, 0.5), (1000, 0.03, 0.5),
     (500, 0.03, 0.5), (3000, 0.01, 0.01), (200, 2.0, 0.5)],
)
def test_pmf_matches_reference_and_sums_to_one(k, c, delta):
    rs = RobustSoliton(k, c, delta)
    ref = np.array(robust_soliton_reference(k, c, delta))
    np.testing.assert_allclose(rs.pmf, ref, rtol=1e-12, atol=0)
    assert math.fsum(rs.pmf) == pytest.approx(1.0, abs=1e-12)
    assert (rs.pmf >= 0).all()
    assert rs.cdf[-1] == 1.0
    assert mean_degree(k, c, delta) == pytest.approx(rs.mean, rel=1e-12)


def test_spike_is_clamped():
    # k/S > k for tiny k: the spike sits at k.
    S, spike = spike_position(2, 0.03, 0.5)
    assert 2 / S > 2 and spike == 2
    # S > 2k: round(k/S) = 0 would be no degree at all; the spike sits at 1.
    assert spike_position(10, 50.0, 0.5)[1] == 1


def test_harmonic_asymptotic_branch_is_continuous():
    exact = math.fsum(1.0 / v for v in range(1, 10_002))
    assert harmonic(10_001) == pytest.approx(exact, rel=1e-15)


@pytest.mark.parametrize("bad", [{"k": 0}, {"c": 0.0}, {"delta": 1.0}, {"delta": 0.0}])
def test_invalid_parameters(bad):
    args = {"k": 10, "c": 0.1, "delta": 0.5, **bad}
    with pytest.raises(ValueError, match=next(iter(bad))):
        RobustSoliton(**args)


def test_sampling_matches_pmf():
    rs = RobustSoliton(1000, 0.03, 0.5)
    rng = np.random.default_rng(11)
    d = rs.sample(rng, 400_000)
    assert d.min() >= 1 and d.max() <= 1000
    ok, msg = within_sigmas(d.astype(float), rs.mean)
    assert ok, msg
    # Each of the heaviest degrees: frequency within 4 binomial SE of its probability.
    for degree in (1, 2, 3, rs.spike):
        p = rs.pmf[degree - 1]
        freq = np.mean(d == degree)
        assert abs(freq - p) < 4 * math.sqrt(p * (1 - p) / d.size), (degree, freq, p)
