"""Exact expectations of order statistics (:mod:`ltsim.model.orderstats`).

References are independent of the module: closed forms in mpmath (exponential: harmonic
numbers; Pareto: gamma functions), or ``E[Y] = lo + int_0^inf P(Y > lo + z) dz`` integrated by
mpmath at 40 digits with Gauss-Legendre on pieces (placed by a cheap float scan of the
integrand). Those integrals take 30-100 ms each, too slow for this file's time budget: their
values are tabulated in :data:`REFERENCES` (24-node pieces, which agree with 32-node ones to
1e-17), a few are recomputed on every run (:func:`test_reference_spot_checks`), all of them
with ``ORDERSTATS_REFERENCES=1``.

The test laws implement the duck-typed law interface with the scipy.special formulas behind
scipy.stats (which :func:`test_laws_agree_with_scipy_stats` checks): a frozen scipy.stats
distribution costs about 100 us a call, too slow for the scalar integrand of ``quad``.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
from scipy import special, stats

from ltsim.model.orderstats import (
    NO_FINITE_MEAN,
    OVERFLOW,
    Expectation,
    expected_max_of_classes,
    expected_max_of_minima,
    expected_order_statistic,
)

pytestmark = pytest.mark.filterwarnings("error")

DPS = 40

# --- test laws --------------------------------------------------------------------------------


class Exponential:
    """``shift + Exp(rate)``."""

    tail_index = math.inf

    def __init__(self, rate: float, shift: float = 0.0):
        self.rate, self.shift = rate, shift
        self.support_min = shift

    def logsf(self, x):
        return -self.rate * np.maximum(np.asarray(x, dtype=float) - self.shift, 0.0)

    def atoms(self):
        return None

    def sample(self, rng, size):
        return self.shift + rng.exponential(1.0 / self.rate, size)

    def frozen(self):
        return stats.expon(loc=self.shift, scale=1.0 / self.rate)

    def __repr__(self):
        return f"Exp({self.rate}, shift={self.shift})"


class Pareto:
    """Classical Pareto; ``closed=False`` hides ``pareto_scale_shape`` (generic path)."""

    def __init__(self, scale: float, shape: float, closed: bool = True):
        self.scale, self.shape, self.closed = scale, shape, closed
        self.support_min, self.tail_index = scale, shape

    def logsf(self, x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            return self.shape * np.minimum(math.log(self.scale) - np.log(x), 0.0)

    def atoms(self):
        return None

    def pareto_scale_shape(self):
        return (self.scale, self.shape) if self.closed else None

    def sample(self, rng, size):
        return self.scale * (1.0 - rng.random(size)) ** (-1.0 / self.shape)

    def frozen(self):
        return stats.pareto(self.shape, scale=self.scale)

    def __repr__(self):
        return f"Pareto({self.scale}, {self.shape}{'' if self.closed else ', generic'})"


class Weibull:
    tail_index = math.inf
    support_min = 0.0

    def __init__(self, scale: float, shape: float):
        self.scale, self.shape = scale, shape

    def logsf(self, x):
        return -np.power(np.maximum(np.asarray(x, dtype=float), 0.0) / self.scale, self.shape)

    def atoms(self):
        return None

    def sample(self, rng, size):
        return self.scale * rng.weibull(self.shape, size)

    def frozen(self):
        return stats.weibull_min(self.shape, scale=self.scale)

    def __repr__(self):
        return f"Weibull({self.scale}, {self.shape})"


class Lognormal:
    """``exp(N(mu, sigma^2))``; ``hook=True`` adds ``logsf_at_log`` (else the module fits
    the tail beyond the largest float, as for the simulator's own law)."""

    tail_index = math.inf
    support_min = 0.0

    def __init__(self, mu: float, sigma: float, hook: bool = False):
        self.mu, self.sigma = mu, sigma
        if hook:
            self.logsf_at_log = self._logsf_at_log

    def _logsf_at_log(self, t):
        return special.log_ndtr((self.mu - np.asarray(t, dtype=float)) / self.sigma)

    def logsf(self, x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            return self._logsf_at_log(np.log(np.maximum(x, 0.0)))

    def atoms(self):
        return None

    def sample(self, rng, size):
        return rng.lognormal(self.mu, self.sigma, size)

    def frozen(self):
        return stats.lognorm(self.sigma, scale=math.exp(self.mu))

    def __repr__(self):
        return f"Lognormal({self.mu}, {self.sigma})"


class Mixture:
    """``sum_i w_i law_i``."""

    def __init__(self, parts):
        self.parts = parts
        self.support_min = min(law.support_min for _, law in parts)
        self.tail_index = min(law.tail_index for _, law in parts)

    def logsf(self, x):
        out = -np.inf
        for w, law in self.parts:
            out = np.logaddexp(out, math.log(w) + law.logsf(x))
        return out

    def atoms(self):
        return None

    def sample(self, rng, size):
        which = rng.choice(len(self.parts), size=size, p=[w for w, _ in self.parts])
        out = np.empty(size)
        for i, (_, law) in enumerate(self.parts):
            mask = which == i
            out[mask] = law.sample(rng, int(mask.sum()))
        return out

    def frozen(self):
        return None

    def __repr__(self):
        return " + ".join(f"{w} {law!r}" for w, law in self.parts)


class Atoms:
    """A discrete law."""

    tail_index = math.inf

    def __init__(self, values, probs):
        self.values = np.asarray(values, dtype=float)
        self.probs = np.asarray(probs, dtype=float)
        self.support_min = float(self.values[0])

    def logsf(self, x):
        above = np.array([self.probs[self.values > v].sum() for v in np.ravel(x)])
        with np.errstate(divide="ignore"):
            return np.log(above).reshape(np.shape(x))

    def atoms(self):
        return self.values, self.probs

    def sample(self, rng, size):
        return rng.choice(self.values, size=size, p=self.probs)

    def frozen(self):
        return None

    def __repr__(self):
        return f"Atoms({self.values.tolist()}, {self.probs.tolist()})"


MIX_LIGHT = Mixture([(0.9, Exponential(1.66)), (0.1, Pareto(0.235, 10.0))])
MIX_HEAVY = Mixture([(0.38, Exponential(0.183)), (0.62, Pareto(1.05, 1.51))])

# --- references -------------------------------------------------------------------------------


@functools.cache
def _nodes(order: int):
    with mp.workdps(DPS):
        return mp.gauss_quadrature(order, "legendre")


_LEVELS = (1, 3, 6, 10, 15, 21, 28, 36, 46, 62)
_Z_CUTS = (2.0**-24, 2.0**-16, 2.0**-10, 2.0**-6, 2.0**-3, 0.25, 0.5, 0.75)


def _integral(log_tail, tail_mp, lo=0.0, cuts=(), t_range=(-80.0, 900.0), order=12):
    """``E[Y] = lo + int_0^inf P(Y > lo + z) dz`` in mpmath, Gauss-Legendre on pieces.

    ``log_tail(t)``: float ``log P(Y > lo + e^t)``, only to place the pieces; ``tail_mp(t)``:
    the same probability in mpmath. Below ``z_left`` (where ``P >= 0.9``) pieces in ``z``,
    geometric towards 0; above, pieces in ``t = log z`` ending where ``h = t + log P`` has
    fallen by ``_LEVELS`` from its peak and at ``cuts`` (kinks of the density); beyond
    ``exp(-62)`` of the peak the integrand is dropped.
    """
    t = np.arange(*t_range, 0.05)
    with np.errstate(all="ignore"):
        log_p = log_tail(t)
    log_p = np.where(np.isnan(log_p), -np.inf, log_p)
    h = t + log_p
    peak = int(np.argmax(h))
    t_left = float(t[np.flatnonzero(log_p[: peak + 1] >= math.log(0.9))[-1]])
    points = {float(t[peak]), t_left} | {c for c in cuts if t_left < c < t[-1]}
    for level in _LEVELS:
        left = np.flatnonzero(h[:peak] < h[peak] - level)
        right = np.flatnonzero(h[peak:] < h[peak] - level)
        if left.size and t[left[-1]] > t_left:
            points.add(float(t[left[-1]]))
        points.add(float(t[peak + right[0]]) if right.size else float(t[-1]))
    xs, ws = _nodes(order)
    with mp.workdps(DPS):
        z_left = mp.exp(t_left)
        z_points = {mp.mpf(0), z_left} | {z_left * f for f in _Z_CUTS}
        z_points |= {mp.exp(c) for c in cuts if c < t_left}
        total = mp.mpf(0)
        for a, b in itertools.pairwise(sorted(z_points)):
            half, mid = (b - a) / 2, (b + a) / 2
            total += half * mp.fsum(
                w * tail_mp(mp.log(mid + half * x)) for x, w in zip(xs, ws, strict=True)
            )
        for a, b in itertools.pairwise(sorted(points)):
            half, mid = (mp.mpf(b) - a) / 2, (mp.mpf(b) + a) / 2
            total += half * mp.fsum(
                w * mp.exp(mid + half * x) * tail_mp(mid + half * x)
                for x, w in zip(xs, ws, strict=True)
            )
        return lo + total


def _max_tail_mp(sf_mp, groups, r):
    """``P(max of groups minima of r > y)`` from ``sf_mp(y)``, without cancellation."""

    def tail(y):
        p = sf_mp(y) ** r
        if groups * p > mp.mpf(10) ** -12:
            return 1 - (1 - p) ** groups
        return groups * p * (1 - (groups - 1) * p / 2)

    return tail


def _lognormal_sf_mp(mu, sigma):
    return lambda y: mp.erfc((mp.log(y) - mu) / (sigma * mp.sqrt(2))) / 2


def _sf_mp(law):
    """mpmath survival function of a test law."""
    if isinstance(law, Exponential):
        return lambda y: mp.exp(-law.rate * (y - law.shift)) if y > law.shift else mp.mpf(1)
    if isinstance(law, Pareto):
        return lambda y: (law.scale / y) ** law.shape if y > law.scale else mp.mpf(1)
    if isinstance(law, Weibull):
        return lambda y: mp.exp(-((y / law.scale) ** law.shape))
    if isinstance(law, Mixture):
        sfs = [(mp.mpf(w), _sf_mp(part)) for w, part in law.parts]
        return lambda y: mp.fsum(w * sf(y) for w, sf in sfs)
    raise TypeError(law)


def _kinks(law):
    """``t = log(y - lo)`` where the law's density jumps (Pareto parts of mixtures)."""
    if isinstance(law, Mixture):
        return tuple(
            math.log(part.scale - law.support_min)
            for _, part in law.parts
            if isinstance(part, Pareto) and part.scale > law.support_min
        )
    return ()


def _lognormal_max(sigma, groups, r, order):
    tail = _max_tail_mp(_lognormal_sf_mp(0, sigma), groups, r)

    def log_tail(t):  # in t, so that t may exceed 709
        log_p = r * special.log_ndtr(-t / sigma)
        exact = np.log(-np.expm1(groups * np.log1p(-np.exp(log_p))))
        return np.where(log_p < -30, math.log(groups) + log_p, exact)

    t_range = (-80.0, 900.0) if sigma < 20 else (-80.0, 6000.0)
    return _integral(log_tail, lambda t: tail(mp.exp(t)), t_range=t_range, order=order)


def _law_max(law, groups, r, order):
    tail = _max_tail_mp(_sf_mp(law), groups, r)
    lo = law.support_min

    def log_tail(t):
        p = np.exp(r * law.logsf(lo + np.exp(t)))
        return np.log(-np.expm1(groups * np.log1p(-p)))

    return _integral(log_tail, lambda t: tail(lo + mp.exp(t)), lo, _kinks(law), order=order)


def _law_order(law, k, n, order):
    sf = _sf_mp(law)
    lo = law.support_min
    a, b = n - k + 1, k

    def log_tail(t):
        return np.log(special.betainc(a, b, np.exp(law.logsf(lo + np.exp(t)))))

    def tail(t):
        return mp.betainc(a, b, 0, sf(lo + mp.exp(t)), regularized=True)

    return _integral(log_tail, tail, lo, _kinks(law), order=order)


def _two_classes(order):
    """95 workers Exp(1) and 5 workers 0.5 + Exp(0.2)."""

    def tail(t):
        y = mp.mpf(0.5) + mp.exp(t)
        return 1 - (1 - mp.exp(-y)) ** 95 * (1 - mp.exp(-mp.mpf(0.2) * (y - 0.5))) ** 5

    def log_tail(t):
        y = 0.5 + np.exp(t)
        log_cdf = 95 * np.log1p(-np.exp(-y)) + 5 * np.log1p(-np.exp(-0.2 * (y - 0.5)))
        return np.log(-np.expm1(log_cdf))

    return _integral(log_tail, tail, lo=0.5, order=order)


REFERENCE_LAWS = {"weibull": Weibull(2.0, 0.7), "mix_light": MIX_LIGHT, "mix_heavy": MIX_HEAVY}


@functools.cache
def compute_reference(key, order=12):
    """The mpmath integral behind a key of :data:`REFERENCES`.

    ``("lognormal", sigma, groups, r)``: max of minima of Lognormal(0, sigma);
    ``("max", law, groups, r)``, ``("order", law, k, n)`` for :data:`REFERENCE_LAWS`;
    ``("classes",)``: :func:`_two_classes`.
    """
    kind, *args = key
    if kind == "lognormal":
        return _lognormal_max(*args, order)
    if kind == "max":
        return _law_max(REFERENCE_LAWS[args[0]], *args[1:], order)
    if kind == "order":
        return _law_order(REFERENCE_LAWS[args[0]], *args[1:], order)
    return _two_classes(order)


def print_reference_table():
    """Print :data:`REFERENCES` anew (24-node pieces; about 5 s)."""
    for key in REFERENCES:
        print(f'    {key!r}: "{mp.nstr(compute_reference(key, 24), 32)}",')


# compute_reference(key, 24), printed by print_reference_table (see the module docstring).
REFERENCES = {
    ("lognormal", 1.0, 1, 2): "0.79056205075294062178305242910114",
    ("lognormal", 1.0, 1, 4): "0.45059474621793772995264732390262",
    ("lognormal", 1.0, 100, 1): "13.594649517166401093209765855519",
    ("lognormal", 1.0, 100, 2): "4.3672647417655988814568751097897",
    ("lognormal", 1.0, 100, 4): "1.8519893893133622404951137856829",
    ("lognormal", 3.0, 1, 2): "3.0511174801439088671626798747955",
    ("lognormal", 3.0, 1, 4): "0.30762188429676070584761128977614",
    ("lognormal", 3.0, 100, 1): "6101.8773345066904926104467562475",
    ("lognormal", 3.0, 100, 2): "128.6808539749757837203847948579",
    ("lognormal", 3.0, 100, 4): "8.0547521119357129019123436953749",
    ("lognormal", 10.0, 1, 2): "7971276296.1513761958984121675866",
    ("lognormal", 10.0, 1, 4): "1789.4087268348643093807166442283",
    ("lognormal", 10.0, 100, 1): "518470552819308535378644.08304195",
    ("lognormal", 10.0, 100, 2): "797119238974.33643853765202096848",
    ("lognormal", 10.0, 100, 4): "178438.26365719116083904745411798",
    ("lognormal", 50.0, 100, 1): "7.3807820160075878549140384269087e+544",
    ("lognormal", 50.0, 50, 2): "3.0630882221623377617626498594885e+271",
    ("lognormal", 50.0, 25, 4): "8.3920670261914752158668229870111e+132",
    ("max", "weibull", 1, 1): "2.5316470121145666868514400837232",
    ("max", "weibull", 100, 1): "21.384759460044545459775652486049",
    ("max", "weibull", 20, 2): "4.7939878451909251265258409316806",
    ("order", "weibull", 50, 100): "1.18009158171149741582995429543",
    ("max", "mix_light", 100, 1): "3.0614560255055767298875659436292",
    ("order", "mix_light", 50, 100): "0.35606882953288029523600138992775",
    ("max", "mix_heavy", 100, 1): "48.220615332674259591746535921278",
    ("order", "mix_heavy", 50, 100): "1.9933941734289750552798652323418",
    ("classes",): "12.049938222371046804517039677033",
}


def reference(key):
    with mp.workdps(DPS):
        return mp.mpf(REFERENCES[key])


SPOT_CHECKS = [("lognormal", 1.0, 100, 4), ("max", "mix_light", 100, 1), ("classes",)]


@pytest.mark.parametrize("key", SPOT_CHECKS, ids=str)
def test_reference_spot_checks(key):
    """The table is what the mpmath integrals give (12-node pieces: 1e-15 relative or better
    for these keys)."""
    assert rel(compute_reference(key), reference(key)) <= 1e-12


@pytest.mark.skipif(
    not os.environ.get("ORDERSTATS_REFERENCES"),
    reason="set ORDERSTATS_REFERENCES=1 to recompute the whole reference table (about 5 s)",
)
def test_reference_table():
    for key in REFERENCES:
        with mp.workdps(DPS):
            assert abs(compute_reference(key, 24) / reference(key) - 1) < 1e-25, key


def harmonic(n):
    with mp.workdps(DPS):
        return mp.harmonic(n)


def pareto_max_ref(scale, b, groups):
    """``s G(g+1) G(1-1/b) / G(g+1-1/b)``."""
    with mp.workdps(DPS):
        c = 1 / mp.mpf(b)
        return scale * mp.gamma(groups + 1) * mp.gamma(1 - c) / mp.gamma(groups + 1 - c)


def rel(value, exact):
    """``|value / exact - 1|`` at 40 digits."""
    with mp.workdps(DPS):
        return float(abs(mp.mpf(value) / exact - 1))


# --- the Expectation result -------------------------------------------------------------------


def test_expectation_result():
    e = Expectation(2.5)
    assert float(e) == 2.5 and e.reason == "" and e.finite
    assert e.log10 == pytest.approx(math.log10(2.5))
    big = Expectation(math.inf, OVERFLOW, 400.0)
    assert float(big) == math.inf and not big.finite and big.log10 == 400.0
    none = Expectation(math.inf, NO_FINITE_MEAN)
    assert none.log10 == math.inf and not none.finite
    with pytest.raises(ValueError, match="reason"):
        Expectation(1.0, "odd")
    with pytest.raises(ValueError, match="log10"):
        Expectation(math.inf, OVERFLOW)


def test_arguments_are_checked():
    law = Exponential(1.0)
    with pytest.raises(ValueError, match="groups"):
        expected_max_of_minima(law, 0, 1)
    with pytest.raises(ValueError, match="r must"):
        expected_max_of_minima(law, 3, 0)
    with pytest.raises(ValueError, match="k <= n"):
        expected_order_statistic(law, 4, 3)
    with pytest.raises(TypeError):
        expected_order_statistic(law, 1.5, 3)
    with pytest.raises(ValueError, match="shift"):
        expected_max_of_classes([(law, 3, -1.0)])
    with pytest.raises(ValueError, match="no class"):
        expected_max_of_classes([(law, 0, 0.0)])


# --- exponential: harmonic numbers --------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 100, 1000, 10**5])
def test_exponential_max(n):
    got = expected_max_of_minima(Exponential(0.2), n, 1)
    assert rel(got.value, harmonic(n) / mp.mpf(0.2)) <= 1e-10, got


def test_exponential_max_of_minima():
    got = expected_max_of_minima(Exponential(0.2), 500, 2)
    assert rel(got.value, harmonic(500) / (2 * mp.mpf(0.2))) <= 1e-10, got


@pytest.mark.parametrize(("k", "n"), [(1, 1000), (500, 1000), (1000, 1000), (64, 128)])
def test_exponential_order_statistic(k, n):
    got = expected_order_statistic(Exponential(0.2), k, n)
    exact = (harmonic(n) - harmonic(n - k)) / mp.mpf(0.2)
    assert rel(got.value, exact) <= 1e-10, got


@pytest.mark.parametrize(("groups", "r", "k", "n"), [(100, 1, 50, 100), (7, 3, 1, 9)])
def test_shifted_exponential(groups, r, k, n):
    law = Exponential(1.3, shift=2.5)
    with mp.workdps(DPS):
        rate = mp.mpf(1.3)
        max_ref = 2.5 + harmonic(groups) / (r * rate)
        order_ref = 2.5 + (harmonic(n) - harmonic(n - k)) / rate
    assert rel(expected_max_of_minima(law, groups, r).value, max_ref) <= 1e-10
    assert rel(expected_order_statistic(law, k, n).value, order_ref) <= 1e-10


# --- Pareto: the generic integration against the closed form -----------------------------------

PARETO_B = [3, 2, 1.5, 1.2, 1.1, 1.05, 1.02, 1.01, 1.001]


@pytest.mark.parametrize("b", PARETO_B)
@pytest.mark.parametrize("groups", [10, 100, 1000])
def test_pareto_generic_path(b, groups):
    exact = pareto_max_ref(1.0, b, groups)
    generic = expected_max_of_minima(Pareto(1.0, b, closed=False), groups, 1)
    closed = expected_max_of_minima(Pareto(1.0, b), groups, 1)
    assert rel(generic.value, exact) <= 1e-9, (generic, float(exact))
    assert rel(closed.value, exact) <= 1e-11, (closed, float(exact))


@pytest.mark.parametrize(("shape", "r"), [(0.5005, 2), (0.34, 3), (0.6, 2)])
def test_pareto_generic_replication(shape, r):
    exact = pareto_max_ref(1.0, r * shape, 50)
    generic = expected_max_of_minima(Pareto(1.0, shape, closed=False), 50, r)
    assert rel(generic.value, exact) <= 1e-9, (generic, float(exact))


def test_pareto_known_value():
    got = expected_max_of_minima(Pareto(1.0, 1.01, closed=False), 100, 1)
    assert abs(got.value - 9596.08) <= 0.01
    assert abs(expected_max_of_minima(Pareto(1.0, 1.01), 100, 1).value - 9596.08) <= 0.01


@pytest.mark.parametrize(("shape", "k", "n"), [(1.0, 9, 10), (0.7, 50, 100), (2.5, 1, 30)])
def test_pareto_order_statistic(shape, k, n):
    with mp.workdps(DPS):
        c = 1 / mp.mpf(shape)
        exact = (
            mp.gamma(n + 1) * mp.gamma(n - k + 1 - c) / (mp.gamma(n - k + 1) * mp.gamma(n + 1 - c))
        )
    for closed in (True, False):
        got = expected_order_statistic(Pareto(1.0, shape, closed=closed), k, n)
        assert rel(got.value, exact) <= 1e-9, (closed, got, float(exact))


def test_pareto_extreme_scales():
    """The generic path at scales near the float limits (a power tail still far from its
    asymptote at x = e^709 for scale 1e300) and where the order statistic's tail underflows
    (``betainc`` < 1e-290) in the bulk of the integral."""
    for scale, b, groups in [(1e-200, 1.5, 100), (1e300, 1.05, 1000)]:
        got = expected_max_of_minima(Pareto(scale, b, closed=False), groups, 1)
        assert rel(got.value, pareto_max_ref(mp.mpf(scale), b, groups)) <= 1e-12, got
    # X_(5:1000) with tail index 996 a = 1.001: the mass lies where I_S(996, 5) < 1e-290
    shape = 1.001 / 996
    got = expected_order_statistic(Pareto(1.0, shape, closed=False), 5, 1000)
    with mp.workdps(DPS):
        c = 1 / mp.mpf(shape)
        exact = mp.gamma(1001) * mp.gamma(996 - c) / (mp.gamma(996) * mp.gamma(1001 - c))
    assert rel(got.value, exact) <= 1e-11, (got, float(exact))
    assert rel(expected_order_statistic(Pareto(1.0, shape), 5, 1000).value, exact) <= 1e-11


# --- lognormal ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sigma", [1.0, 3.0, 10.0])
@pytest.mark.parametrize("groups", [1, 100])
@pytest.mark.parametrize("r", [1, 2, 4])
def test_lognormal(sigma, groups, r):
    if groups == 1 and r == 1:
        with mp.workdps(DPS):
            exact = mp.exp(mp.mpf(sigma) ** 2 / 2)
    else:
        exact = reference(("lognormal", sigma, groups, r))
    got = expected_max_of_minima(Lognormal(0.0, sigma), groups, r)
    assert rel(got.value, exact) <= 1e-9, (got, float(exact))


@pytest.mark.parametrize("hook", [False, True])
def test_lognormal_sigma_50(hook):
    """``n = 100`` workers: Uncoded overflows (~7.38e544), 2- and 4-Replication
    (``groups = n / r``) are finite (~3.06e271, ~8.39e132); their mass lies beyond the largest
    float (the law is evaluated by ``logsf_at_log`` or by the fitted lognormal tail)."""
    law = Lognormal(0.0, 50.0, hook=hook)
    uncoded = expected_max_of_minima(law, 100, 1)
    assert uncoded.reason == OVERFLOW and uncoded.value == math.inf
    with mp.workdps(DPS):
        log10_ref = mp.log10(reference(("lognormal", 50.0, 100, 1)))
    assert abs(uncoded.log10 / log10_ref - 1) <= 1e-9, (uncoded, float(log10_ref))
    assert abs(uncoded.log10 - 544.87) < 0.005
    for r, approx in [(2, 3.06e271), (4, 8.39e132)]:
        got = expected_max_of_minima(law, 100 // r, r)
        assert got.reason == "", got
        assert rel(got.value, reference(("lognormal", 50.0, 100 // r, r))) <= 1e-8, got
        assert got.value == pytest.approx(approx, rel=5e-3)
    one = expected_max_of_minima(law, 1, 1)
    assert one.reason == OVERFLOW and one.log10 == pytest.approx(1250 / math.log(10), rel=1e-9)


def test_mean_of_max_at_least_mean():
    """``E[max of n] >= E[X]``, growing with ``n``, also where the values overflow."""
    for law in [Lognormal(0.0, 50.0), Lognormal(1.0, 30.0)]:
        one = expected_max_of_minima(law, 1, 1)
        log10s = [one.log10]
        for n in [10, 10**6]:
            got = expected_max_of_minima(law, n, 1)
            assert not (got.finite and not one.finite), (law, n, got, one)
            log10s.append(got.log10)
        assert all(b > a for a, b in itertools.pairwise(log10s)), (law, log10s)
    for law in [Pareto(1.0, 1.001, closed=False), Weibull(1.0, 0.05), MIX_HEAVY]:
        values = [expected_max_of_minima(law, n, 1).value for n in [1, 10, 10**6]]
        assert all(b > a for a, b in itertools.pairwise(values)), (law, values)


def test_lognormal_tail_fit_warns_for_other_laws():
    """Without ``logsf_at_log`` a light tail beyond the largest float is fitted by a lognormal
    tail; a law whose tail is not lognormal-like is extrapolated with a warning."""

    class Odd(Lognormal):
        def logsf(self, x):
            x = np.asarray(x, dtype=float)
            with np.errstate(divide="ignore"):
                u = np.log(np.maximum(x, 0.0))
            return -(np.maximum(u, 0.0) ** 1.5) / 100.0

    with pytest.warns(RuntimeWarning, match="approximate"):
        got = expected_max_of_minima(Odd(0.0, 1.0), 10, 1)
    assert got.reason == OVERFLOW


# --- Weibull, mixtures --------------------------------------------------------------------------


@pytest.mark.parametrize(("groups", "r"), [(1, 1), (100, 1), (20, 2)])
def test_weibull_max(groups, r):
    law = REFERENCE_LAWS["weibull"]
    got = expected_max_of_minima(law, groups, r)
    assert rel(got.value, reference(("max", "weibull", groups, r))) <= 1e-9, got
    if groups == 1 and r == 1:
        assert got.value == pytest.approx(2.0 * math.gamma(1 + 1 / 0.7), rel=1e-13)


def test_weibull_order_statistic():
    got = expected_order_statistic(REFERENCE_LAWS["weibull"], 50, 100)
    assert rel(got.value, reference(("order", "weibull", 50, 100))) <= 1e-9, got


@pytest.mark.parametrize("name", ["mix_light", "mix_heavy"])
def test_mixture(name):
    law = REFERENCE_LAWS[name]
    got = expected_max_of_minima(law, 100, 1)
    assert rel(got.value, reference(("max", name, 100, 1))) <= 1e-9, got
    got = expected_order_statistic(law, 50, 100)
    assert rel(got.value, reference(("order", name, 50, 100))) <= 1e-9, got


@pytest.mark.parametrize(
    ("law", "mean"),
    [
        (Weibull(2.0, 0.7), 2.0 * math.gamma(1 + 1 / 0.7)),
        (Lognormal(0.5, 1.0), math.exp(1.0)),
        (Pareto(1.0, 1.5, closed=False), 3.0),
    ],
    ids=repr,
)
def test_order_statistics_sum_to_n_means(law, mean):
    """``sum_k E[X_(k:n)] = n E[X]``: every rank of the generic order-statistic path."""
    n = 8
    total = math.fsum(expected_order_statistic(law, k, n).value for k in range(1, n + 1))
    assert total == pytest.approx(n * mean, rel=1e-12)


# --- atoms ------------------------------------------------------------------------------------


def test_constant():
    law = Atoms([3.5], [1.0])
    assert expected_max_of_minima(law, 7, 3).value == 3.5
    assert expected_order_statistic(law, 2, 5).value == 3.5
    assert expected_max_of_classes([(law, 4, 1.25), (Atoms([1.0], [1.0]), 2, 0.0)]).value == 4.75


def test_two_point_law():
    law = Atoms([1.0, 2.0], [0.5, 0.5])
    expected = 1 * (3 / 4) ** 3 + 2 * (1 - (3 / 4) ** 3)
    assert expected_max_of_minima(law, 3, 2).value == pytest.approx(expected, rel=1e-15)


def test_atoms_order_statistic():
    values = [Fraction(1), Fraction(5, 2), Fraction(4), Fraction(7)]
    probs = [Fraction(1, 4), Fraction(1, 2), Fraction(1, 8), Fraction(1, 8)]
    law = Atoms([float(v) for v in values], [float(p) for p in probs])
    n = 5
    exact = [Fraction(0)] * n
    for outcome in itertools.product(range(len(values)), repeat=n):
        weight = math.prod(probs[i] for i in outcome)
        for k, i in enumerate(sorted(outcome)):
            exact[k] += weight * values[i]
    for k in range(1, n + 1):
        got = expected_order_statistic(law, k, n)
        assert got.value == pytest.approx(float(exact[k - 1]), rel=1e-14), k


def test_atoms_classes():
    """Two atomic classes with shifts, against enumeration."""
    a_values, a_probs = [Fraction(1), Fraction(2)], [Fraction(1, 3), Fraction(2, 3)]
    b_values, b_probs = [Fraction(0), Fraction(3, 2)], [Fraction(3, 4), Fraction(1, 4)]
    shift = Fraction(1, 4)
    exact = Fraction(0)
    for a in itertools.product(range(2), repeat=2):
        for b in itertools.product(range(2), repeat=3):
            weight = math.prod(a_probs[i] for i in a) * math.prod(b_probs[i] for i in b)
            top = max([a_values[i] for i in a] + [b_values[i] + shift for i in b])
            exact += weight * top
    law_a = Atoms([1.0, 2.0], [1 / 3, 2 / 3])
    law_b = Atoms([0.0, 1.5], [0.75, 0.25])
    got = expected_max_of_classes([(law_a, 2, 0.0), (law_b, 3, 0.25)])
    assert got.value == pytest.approx(float(exact), rel=1e-14)


# --- no finite mean -----------------------------------------------------------------------------


@pytest.mark.parametrize("closed", [True, False])
def test_no_finite_mean(closed):
    for shape, r in [(1.0, 1), (0.5, 2), (0.3, 3)]:
        got = expected_max_of_minima(Pareto(1.0, shape, closed=closed), 10, r)
        assert got.reason == NO_FINITE_MEAN and got.value == math.inf
    law = Pareto(1.0, 1.0, closed=closed)
    assert expected_order_statistic(law, 10, 10).reason == NO_FINITE_MEAN
    assert expected_order_statistic(law, 9, 10).finite
    assert expected_max_of_minima(Pareto(1.0, 0.5, closed=closed), 10, 3).finite
    parts = [(Exponential(1.0), 5, 0.0), (Pareto(1.0, 1.0, closed=closed), 1, 0.0)]
    assert expected_max_of_classes(parts).reason == NO_FINITE_MEAN
    assert expected_max_of_classes([*parts[:1], (law, 0, 0.0)]).finite


def test_mixture_no_finite_mean():
    law = Mixture([(0.99, Exponential(1.0)), (0.01, Pareto(1.0, 0.9))])
    assert expected_max_of_minima(law, 10, 1).reason == NO_FINITE_MEAN
    assert expected_max_of_minima(law, 10, 2).finite


# --- classes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("law", [Pareto(1.0, 1.5), MIX_HEAVY, Lognormal(0, 3)], ids=repr)
def test_one_class(law):
    """One class is the max of minima; two classes of one law its max over the sum."""
    assert expected_max_of_classes([(law, 40, 0.0)]) == expected_max_of_minima(law, 40, 1)
    single = expected_max_of_minima(law, 40, 1).value
    split = expected_max_of_classes([(law, 25, 0.0), (law, 15, 0.0)]).value
    assert split == pytest.approx(single, rel=1e-11)
    shifted = expected_max_of_classes([(law, 40, 2.0), (law, 0, 9.0)]).value
    assert shifted == pytest.approx(single + 2.0, rel=1e-14)


def test_two_exponential_classes():
    got = expected_max_of_classes([(Exponential(1.0), 95, 0.0), (Exponential(0.2), 5, 0.5)])
    assert rel(got.value, reference(("classes",))) <= 1e-10, got


def test_atom_and_continuous_classes():
    """``max(2, max of 3 Exp(1))``: ``2 + 3 e^-2 - 1.5 e^-4 + e^-6 / 3``."""
    got = expected_max_of_classes([(Exponential(1.0), 3, 0.0), (Atoms([2.0], [1.0]), 1, 0.0)])
    exact = 2 + 3 * math.exp(-2) - 1.5 * math.exp(-4) + math.exp(-6) / 3
    assert got.value == pytest.approx(exact, rel=1e-12)


def test_overflowing_class_shift():
    law = Lognormal(0.0, 50.0)
    got = expected_max_of_classes([(law, 100, 1e300)])
    assert got.reason == OVERFLOW
    assert got.log10 == pytest.approx(expected_max_of_minima(law, 100, 1).log10, rel=1e-12)


# --- the test laws, and Monte-Carlo sanity --------------------------------------------------------

LAWS = [
    Exponential(0.2),
    Exponential(1.3, shift=2.5),
    Pareto(1.0, 1.5),
    Pareto(1.0, 1.5, closed=False),
    Weibull(2.0, 0.7),
    Lognormal(0.0, 1.0),
    MIX_LIGHT,
    MIX_HEAVY,
    Atoms([1.0, 2.5, 4.0], [0.25, 0.5, 0.25]),
]


@pytest.mark.parametrize("law", [law for law in LAWS if law.frozen() is not None], ids=repr)
def test_laws_agree_with_scipy_stats(law):
    x = law.support_min + np.geomspace(1e-6, 1e100, 500)
    ours, theirs = law.logsf(x), law.frozen().logsf(x)
    # scipy's Pareto logsf is log(sf): -inf beyond ~1e200, 4e-11 off near the scale
    assert np.isfinite(theirs[:100]).all()
    finite = np.isfinite(theirs)
    assert np.allclose(ours[finite], theirs[finite], rtol=1e-10, atol=0)


@functools.cache
def _uniform_maxima_of_minima(trials=200_000, groups=20, r=2):
    """``min over groups of max over r`` of i.i.d. uniforms on (0, 1], fixed seed.

    With ``X = isf(W)`` (decreasing), ``max_g min_r X = isf(min_g max_r W)``: every law's
    simulated maxima of minima are its ``isf`` at these values (inverse-transform sampling
    of all ``trials * groups * r`` draws, the order statistics taken before the transform).
    """
    rng = np.random.default_rng(20240611)
    # float32 uniforms are k / 2**24: their midpoints are uniform on (0, 1) to 2**-24
    w = rng.random((r, trials, groups), dtype=np.float32)
    return w.max(axis=0).min(axis=1).astype(float) + 2.0**-25


def _isf(law, w):
    """Inverse survival function of a test law."""
    if isinstance(law, Atoms):
        above = 1.0 - np.cumsum(law.probs)  # P(X > values[i])
        return law.values[np.searchsorted(-above, -w, side="right")]
    if isinstance(law, Mixture):  # by interpolation of log sf, log x on a fine grid
        x = law.support_min + np.geomspace(1e-10, 1e10, 40_001)
        return np.exp(np.interp(np.log(w), law.logsf(x)[::-1], np.log(x)[::-1]))
    return law.frozen().isf(w)


@pytest.mark.parametrize("law", LAWS, ids=repr)
def test_monte_carlo(law):
    maxima = _isf(law, _uniform_maxima_of_minima())
    expected = expected_max_of_minima(law, 20, 2).value
    mean = float(maxima.mean())
    se = float(maxima.std(ddof=1) / math.sqrt(maxima.size))
    assert abs(mean - expected) < 4 * se, f"{law!r}: MC {mean:.6g} vs {expected:.6g}, SE {se:.3g}"
