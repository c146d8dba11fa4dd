"""The order-statistic expectation behind Proposition 1, for any delay law."""

import math

import numpy as np
import pytest

from simulator.model import laws as delays
from simulator.model import theory


def exponential(rate=0.2):
    return delays.Exponential(dist="exponential", rate=rate)


def pareto(shape, scale=1.0):
    return delays.Pareto(dist="pareto", scale=scale, shape=shape)


@pytest.mark.parametrize(("groups", "r"), [(1, 1), (1000, 1), (500, 2), (10, 3), (1, 5)])
def test_quadrature_reproduces_proposition_1(groups, r):
    exact = theory.harmonic(groups) / (r * 0.2)
    assert theory.mean_max_of_minima(exponential(), groups, r) == pytest.approx(exact,
                                                                                rel=1e-12)


@pytest.mark.parametrize(("shape", "groups", "r", "rel"), [
    (3.0, 1, 1, 1e-12), (3.0, 1000, 1, 1e-11), (3.0, 500, 2, 1e-11), (1.0, 500, 2, 1e-11),
    (1.0, 10, 2, 1e-12), (0.6, 500, 2, 2e-6),  # r * shape = 1.2: close to no mean at all
])
def test_quadrature_against_the_pareto_closed_form(shape, groups, r, rel):
    # min of r Pareto(a) is Pareto(r a) = b; E[max of G] = Gamma(G+1) Gamma(1-1/b) /
    # Gamma(G+1-1/b) for scale 1.
    b = r * shape
    exact = math.exp(math.lgamma(groups + 1) + math.lgamma(1 - 1 / b)
                     - math.lgamma(groups + 1 - 1 / b))
    got = theory.mean_max_of_minima(pareto(shape), groups, r)
    assert got == pytest.approx(exact, rel=rel)


@pytest.mark.parametrize(("shape", "r"), [(1.0, 1), (0.5, 2), (0.3, 3)])
def test_no_mean_is_inf(shape, r):
    assert theory.mean_max_of_minima(pareto(shape), 100, r) == math.inf


def test_atoms_exact_sum():
    # X uniform on {1, 2}: min of 2 is 2 w.p. 1/4; max of 3 such minima is 1 w.p. (3/4)^3.
    const = delays.Constant(dist="constant", value=3.0)
    assert theory.mean_max_of_minima(const, 50, 2) == 3.0

    class TwoPoint:
        def atoms(self):
            return np.array([1.0, 2.0]), np.array([0.5, 0.5])

    expected = 1.0 * (3 / 4) ** 3 + 2.0 * (1 - (3 / 4) ** 3)
    assert theory.mean_max_of_minima(TwoPoint(), 3, 2) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("dist", [
    exponential(), pareto(2.5, scale=0.5),
    delays.Weibull(dist="weibull", scale=2.0, shape=0.7),
    delays.Lognormal(dist="lognormal", mu=-0.5, sigma=0.6),
    delays.ShiftedExponential(dist="shifted_exponential", shift=1.0, rate=2.0),
], ids=lambda d: d.dist)
def test_isf_inverts_the_sampled_survival_function(dist):
    x = dist.sample(np.random.default_rng(5), 200_000)
    for p in (0.9, 0.5, 0.1, 0.01):
        freq = np.mean(x > dist.isf(np.array([p]))[0])
        assert abs(freq - p) < 4 * math.sqrt(p * (1 - p) / x.size), (p, freq)
