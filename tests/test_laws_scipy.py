"""Every delay law against its own ``to_scipy()``: ``logsf`` and ``sf`` at many points, from
below the support to the far tail, and ``mean`` and ``variance`` where finite, within 1e-9
relative wherever scipy is accurate (its Pareto ``logsf`` is ``log(sf)``: ``-inf`` once
``sf`` underflows); and the scipy form the fitters of ``ltsim fit`` evaluate, on parameter
arrays, against the laws one by one."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ltsim.model.laws import (
    LAWS_BUILT_IN,
    Constant,
    Empirical,
    Exponential,
    Lognormal,
    Mixture,
    Pareto,
    ShiftedExponential,
    Weibull,
)

RTOL = 1e-9
TINY = 1e-290
"""Below this, a survival probability is in (or near) the subnormal range: compared
absolutely."""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("samples")
    rng = np.random.default_rng(11)
    samples = folder / "samples.csv"
    samples.write_text("x\n" + "".join(f"{v:.6f}\n" for v in 1.0 + rng.gamma(2.0, 1.5, 60))
                       + "2.5\n2.5\n0\n")
    trace = folder / "trace.csv"
    trace.write_text("worker,delay\n" + "".join(f"{w},{rng.exponential(1.0 + w):.6f}\n"
                                                for w in range(4) for _ in range(15)))
    return samples, trace


COUNT = 17
"""The laws of :func:`laws`."""


def laws(files) -> list:
    samples, trace = files
    empirical = Empirical(path=str(samples))
    return [
        Exponential(rate=0.2),
        Exponential(rate=30.0),
        ShiftedExponential(shift=2.5, rate=1.3),
        Pareto(scale=1.0, shape=1.5),
        Pareto(scale=0.5, shape=0.8),
        Pareto(scale=2.0, shape=3.0),
        Weibull(scale=2.0, shape=0.7),
        Weibull(scale=0.5, shape=3.0),
        Lognormal(mu=0.0, sigma=1.0),
        Lognormal(mu=-2.0, sigma=0.3),
        Constant(value=1.5),
        Constant(value=0.0),
        empirical,
        Empirical(path=str(trace), worker="worker"),
        Mixture(components=[{"weight": 0.9, "dist": "exponential", "rate": 1.66},
                            {"weight": 0.1, "dist": "pareto", "scale": 0.5, "shape": 1.2}]),
        Mixture(components=[{"weight": 0.3, "dist": "constant", "value": 2.0},
                            {"weight": 0.7, "dist": "lognormal", "mu": 0.5, "sigma": 0.8}]),
        Mixture(components=[{"weight": 0.25, "dist": "empirical", "path": str(samples)},
                            {"weight": 0.75, "dist": "weibull", "scale": 1.0, "shape": 2.0}]),
    ]


def points(law) -> np.ndarray:
    """Below the support, at its edge, every atom, and out to the far tail."""
    lo = law.support_min
    x = [np.array([0.0, lo, lo * (1 - 1e-12), lo * (1 + 1e-12)]),
         lo + np.geomspace(1e-12, 1e6, 400),
         np.geomspace(1e7, 1e300, 60), law.jumps()]
    if lo > 0:
        x.append(lo * np.linspace(0.0, 1.0, 20))
    return np.unique(np.concatenate(x))


def test_every_built_in_law_is_checked(files):
    assert len(laws(files)) == COUNT
    assert {type(law) for law in laws(files)} == set(LAWS_BUILT_IN.values())


def log_sf_of_scipy_is_exact(law) -> bool:
    """Whether scipy computes the law's ``logsf`` directly (accurate however small ``sf``
    is), not as ``log(sf)`` (its Pareto: digits lost once ``sf`` is subnormal)."""
    if isinstance(law, Mixture):
        return all(log_sf_of_scipy_is_exact(c.law) for c in law.components)
    return not isinstance(law, Pareto)


@pytest.mark.parametrize("index", range(COUNT))
def test_logsf_sf_and_moments_agree_with_to_scipy(files, index):
    law = laws(files)[index]
    frozen = law.to_scipy()
    x = points(law)
    with np.errstate(all="ignore"):
        ours, theirs = law.logsf(x), frozen.logsf(x)
        sf, their_sf = law.sf(x), frozen.sf(x)
    assert ours.shape == theirs.shape == x.shape
    # log P(X > x) within 1e-9 relative, and 1e-15 absolute where it is about 0 (there
    # scipy's log(sf) of an sf rounded to 1 keeps only that)
    normal = theirs > math.log(TINY)
    accurate = np.isfinite(theirs) & (normal | log_sf_of_scipy_is_exact(law))
    assert accurate.sum() >= (0 if law.atoms() is not None else 300)
    np.testing.assert_allclose(ours[accurate], theirs[accurate], rtol=RTOL, atol=1e-15)
    # elsewhere (scipy's -inf, or its log of a subnormal sf) P(X > x) is 0 or below the
    # float range for both
    assert (ours[~accurate] < math.log(TINY)).all(), x[~accurate][ours[~accurate] >= -600]
    assert (theirs[np.isneginf(ours)] < math.log(TINY)).all()
    big = their_sf > TINY
    np.testing.assert_allclose(sf[big], their_sf[big], rtol=RTOL, atol=0)
    assert (sf[~big] <= 10 * TINY).all()
    for ours_moment, theirs_moment in ((law.mean, frozen.mean()), (law.variance, frozen.var())):
        if math.isfinite(ours_moment):
            assert ours_moment == pytest.approx(theirs_moment, rel=RTOL, abs=1e-12)
        else:
            assert not math.isfinite(theirs_moment)


def test_the_scipy_form_broadcasts_over_parameter_arrays(files):
    """What the fitters evaluate: one law built (without validation) from parameter arrays
    gives, point by point, the frozen law of each parameter point."""
    x = np.geomspace(1e-3, 1e3, 50)
    for law in laws(files)[:10]:
        names = law.parameter_names()
        grid = {n: np.array([getattr(law, n) * f for f in (0.5, 1.0, 2.0)])[:, None]
                for n in names}
        rv, args, kwds = type(law).model_construct(**grid).scipy_form()
        with np.errstate(all="ignore"):
            together = rv.logpdf(x, *args, **kwds)
            for i in range(3):
                one = type(law)(**{n: float(grid[n][i, 0]) for n in names}).to_scipy()
                np.testing.assert_array_equal(together[i], one.logpdf(x))
