"""Delay distributions: analytic moments and tails against samples (4 standard errors)."""

import math

import numpy as np
import pytest

from ltsim.model import laws as delays
from tests.helpers import within_sigmas

N = 200_000

FINITE_VARIANCE = [
    delays.Exponential(dist="exponential", rate=0.2),
    delays.ShiftedExponential(dist="shifted_exponential", shift=1.5, rate=3.0),
    delays.Pareto(dist="pareto", scale=1.0, shape=3.5),
    delays.Weibull(dist="weibull", scale=2.0, shape=0.7),
    delays.Lognormal(dist="lognormal", mu=-0.5, sigma=0.6),
]


@pytest.mark.parametrize("dist", FINITE_VARIANCE, ids=lambda d: d.dist)
def test_sample_mean_and_variance(dist):
    x = dist.sample(np.random.default_rng(3), N)
    assert x.shape == (N,) and (x >= 0).all()
    ok, msg = within_sigmas(x, dist.mean)
    assert ok, msg
    # variance: SE of the sample variance from the 4th central moment
    centred = (x - x.mean()) ** 2
    ok, msg = within_sigmas(centred, dist.variance)
    assert ok, "variance: " + msg


def test_exact_constants():
    assert delays.Exponential(dist="exponential", rate=0.2).mean == 5.0
    assert delays.Pareto(dist="pareto", scale=2.0, shape=3.0).mean == 3.0
    assert delays.Pareto(dist="pareto", scale=2.0, shape=3.0).variance == 3.0
    assert delays.Weibull(dist="weibull", scale=2.0, shape=1.0).mean == pytest.approx(2.0)
    assert delays.Lognormal(dist="lognormal", mu=0.0, sigma=1.0).mean == pytest.approx(
        math.exp(0.5)
    )


@pytest.mark.parametrize("shape", [1.0, 0.5])
def test_pareto_without_mean_has_exact_tail(shape):
    dist = delays.Pareto(dist="pareto", scale=1.0, shape=shape)
    assert dist.mean == math.inf and dist.variance == math.inf
    x = dist.sample(np.random.default_rng(4), N)
    assert x.min() >= 1.0
    for t in (1.5, 3.0, 10.0, 100.0):
        p = t**-shape
        freq = np.mean(x > t)
        assert abs(freq - p) < 4 * math.sqrt(p * (1 - p) / N), (t, freq, p)


def test_constant():
    dist = delays.Constant(dist="constant", value=0.25)
    assert (dist.sample(np.random.default_rng(0), 5) == 0.25).all()
    assert dist.variance == 0.0


def test_empirical_resamples_file(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("delay\n1.0\n2.0\n4.0\n")
    dist = delays.Empirical.model_validate({"dist": "empirical", "path": str(path)})
    x = dist.sample(np.random.default_rng(1), N)
    assert set(np.unique(x)) == {1.0, 2.0, 4.0}
    assert dist.mean == pytest.approx(7 / 3)
    ok, msg = within_sigmas(x, dist.mean)
    assert ok, msg


def test_empirical_relative_path_from_config_folder(tmp_path):
    (tmp_path / "d.csv").write_text("0.5\n")
    dist = delays.Empirical.model_validate(
        {"dist": "empirical", "path": "d.csv"}, context={"base_dir": tmp_path}
    )
    assert dist.path == str((tmp_path / "d.csv").resolve())


def test_sampling_is_reproducible():
    dist = FINITE_VARIANCE[3]
    a = dist.sample(np.random.default_rng(9), 10)
    b = dist.sample(np.random.default_rng(9), 10)
    assert np.array_equal(a, b)
