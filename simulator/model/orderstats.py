"""Exact expectations of order statistics of non-negative start-up delays.

These are the closed forms reported as ``theory_mean`` beside the Monte-Carlo latencies:

* :func:`expected_max_of_minima`: ``E[max over groups of min over r delays]`` (Uncoded for
  ``r = 1``, r-Replication with ``groups = n / r``);
* :func:`expected_order_statistic`: ``E[X_(k:n)]``, the k-th smallest of n delays;
* :func:`expected_max_of_classes`: ``E[max_j (X_j + shift_c)]`` over classes of workers.

A *law* is any object with ``logsf(x)`` (``log P(X > x)``, vectorised, accurate in the far
tail), ``support_min``, ``tail_index`` (``a`` with ``P(X > x) ~ C x**-a``, ``inf`` for lighter
tails) and ``atoms()`` (``(values, probabilities)`` of a discrete law, ``None`` otherwise);
optionally ``jumps()`` (the points where ``P(X > x)`` jumps, for a law with atoms and a
continuous part, e.g. a mixture with an empirical component), ``pareto_scale_shape()``
(``(scale, shape)`` of a classical Pareto, for closed forms) and ``logsf_at_log(t)``
(``log P(X > exp(t))`` for any real ``t``: only used beyond the largest float, where
``logsf`` cannot be called).

Method. For ``Y >= lo``, ``E[Y] = lo + int_0^inf P(Y > lo + z) dz``, valid for any law.

* Laws with atoms: ``P(Y > y)`` is a step function and the integral an exact finite sum.
  Laws with atoms and a continuous part: the quadrature below is cut at every atom (every
  jump of ``P(Y > y)``), so that no piece straddles a jump.
* Classical Pareto: closed forms (gamma-function ratios without cancellation).
* Otherwise the integral is taken in ``t = log z``, of ``exp(h(t))`` with
  ``h(t) = t + log P(Y > lo + e^t)`` computed in log space throughout. A scan of ``h`` on a
  grid (step 0.5, from ``t = -750`` to ``709``, extended beyond while a tail still matters)
  gives its peak ``hmax``. Below the ``t`` where ``P >= 0.9`` the integral is taken in ``z``
  (``P`` is smooth and near 1 there); above, ``exp(h - hmax)`` is integrated by
  :func:`scipy.integrate.quad` on pieces cut where ``h`` has fallen by fixed amounts below
  ``hmax``, at secondary maxima and at jumps, with geometrically growing widths in slowly
  decaying power tails, up to where ``h`` stays 50 below ``hmax`` (light tails) or to
  ``t = 709`` (power tails; further while ``P(Y > y)`` is not yet ``sum_c n_c C_c y**-b_c``).
  Beyond, each power tail ``n_c C_c y**-b_c`` contributes ``n_c C_c y**(1-b_c) / (b_c - 1)``
  exactly, however slowly it decays (``b = 1.001``). The sum is scaled back by
  ``exp(hmax)`` in log space, so sizes beyond ``1e308`` are reported as ``"overflow"`` with
  their ``log10``.
* ``P(X_(k:n) > y) = I_S(n - k + 1, k)`` by :func:`scipy.special.betainc`, and where that
  underflows by its continued fraction in log space (the mass of very heavy tails lies there).
* Beyond the largest float (``t > 709``) laws are evaluated by ``logsf_at_log`` when they
  have it, by their power asymptote when ``tail_index`` is finite, and otherwise by the
  lognormal tail ``c + log Phi((m - log x) / s)`` fitted to ``logsf`` just below ``x = e^709``
  (exact for lognormal laws; a :class:`RuntimeWarning` says when the fit does not reproduce
  the law, the value being then approximate).

Accuracy (against 40-digit mpmath references, see ``tests/test_orderstats.py``): 1e-12
relative or better in the tested cases, typically 1e-15.
"""

from __future__ import annotations

import bisect
import itertools
import math
import operator
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

__all__ = [
    "NO_FINITE_MEAN",
    "OVERFLOW",
    "Expectation",
    "expected_max_of_classes",
    "expected_max_of_minima",
    "expected_order_statistic",
]

NO_FINITE_MEAN = "no finite mean"
OVERFLOW = "overflow"

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_LOG_MAX = math.log(np.finfo(float).max)  # 709.78: log of the largest float
_T_TOP = 709.0  # laws are called at x = d + exp(t) for t <= _T_TOP, extended beyond
_T_BOTTOM = -750.0  # exp(t) is 0 below: the integrand is exp(t) * P, about exp(t)
_STEP = 0.5  # grid step in t for the peak scan
_DROP = 50.0  # where h < hmax - _DROP to the right, only the analytic power tails remain
_UNION = -40.0  # log sum_c n_c p_c below which P(max > y) = sum_c n_c p_c (error < e^-40)
_BETAINC_FLOOR = 1e-290  # below, I_x(a, b) by a continued fraction in log space
_LEVELS = (1.0, 4.0, 10.0, 20.0, 35.0)  # pieces end where h is this far below its peak
_NEAR_ONE = math.log(0.9)  # below the t where P(Y > lo + e^t) >= 0.9: integral in z
_QUAD_EPSREL = 1e-12
_QUAD_EPSABS = 1e-15  # the scaled integral is >= 1 (see _log_integral)
_QUAD_LIMIT = 200
_QUAD_POINTS = 50  # breakpoints given to one call of quad (more: several calls)
_PRODUCT_MAX = 10_000  # Pareto order statistics: a product of k factors up to this k
_QUAD_WARN = 1e-9  # a RuntimeWarning when quad's error estimates exceed this relatively
_NEGLIGIBLE_LOGSF = -1e5  # a light tail with log P(X > e^709) below: nothing beyond
_FIT_POINTS = np.array([60.0, 45.0, 30.0, 15.0, 0.0])  # below _T_TOP, lognormal tail fit
_BASE_GRID = np.arange(_T_BOTTOM, _T_TOP + _STEP / 2, _STEP)


@dataclass(frozen=True)
class Expectation:
    """An expectation that may be infinite or too large for a float.

    Parameters
    ----------
    value : float
        The expectation; ``inf`` when it does not exist or exceeds the largest float.
    reason : str
        ``""`` for an ordinary finite value, ``"no finite mean"`` when the expectation does
        not exist, ``"overflow"`` when it exists but exceeds the largest float.
    log10 : float
        Base-10 logarithm of the expectation (also when it overflows); filled in from
        ``value`` when not given, ``inf`` when there is no finite mean.
    """

    value: float
    reason: str = ""
    log10: float = math.nan

    def __post_init__(self) -> None:
        if self.reason not in ("", NO_FINITE_MEAN, OVERFLOW):
            raise ValueError(f"unknown reason {self.reason!r}")
        if math.isnan(self.log10):
            if self.reason == NO_FINITE_MEAN:
                log10 = math.inf
            elif self.reason == OVERFLOW:
                raise ValueError("an overflowing expectation needs its log10")
            else:
                log10 = math.log10(self.value) if self.value > 0 else -math.inf
            object.__setattr__(self, "log10", log10)

    def __float__(self) -> float:
        return float(self.value)

    @property
    def finite(self) -> bool:
        """Whether :attr:`value` is an ordinary finite number."""
        return self.reason == ""

    def plus(self, shift: float) -> Expectation:
        """``shift + self`` (``shift >= 0``), keeping the reason and the size."""
        return _shifted(self, shift)

    @property
    def note(self) -> str:
        """What an infinite value means, for a result table: ``""`` when finite."""
        if self.reason == OVERFLOW:
            return f"overflow: about 1e{self.log10:.2f}, beyond the largest float"
        return self.reason


def harmonic(n: int) -> float:
    """``H_n = sum_{v=1}^n 1/v``: summed exactly up to 10^4, ``digamma(n + 1) + gamma``
    (Euler's constant) beyond.

    Not ``digamma`` throughout: below 10^4 it is up to 2 ulps from the exact sum (1 ulp on
    the ``theory_bound`` of exp02's LT-2, which the README quotes and a test pins).
    """
    if n <= 10_000:
        return math.fsum(1.0 / v for v in range(1, n + 1))
    return float(special.digamma(n + 1.0)) + np.euler_gamma


def weighted(parts: Sequence[tuple[float, Expectation]]) -> Expectation:
    """``sum_i w_i E_i`` for weights ``w_i > 0`` (a mixture of expectations)."""
    if any(e.reason == NO_FINITE_MEAN for _, e in parts):
        return _no_mean()
    if all(e.reason == "" for _, e in parts):
        total = math.fsum(w * e.value for w, e in parts)
        if math.isfinite(total):
            return Expectation(total)
    logs = [math.log(w) + e.log10 * _LN10 for w, e in parts]
    return _from_log(float(special.logsumexp(logs)))


def _no_mean() -> Expectation:
    return Expectation(math.inf, NO_FINITE_MEAN)


def _from_log(log_value: float) -> Expectation:
    """The expectation ``exp(log_value)``, ``"overflow"`` beyond the largest float."""
    try:
        return Expectation(math.exp(log_value))
    except OverflowError:
        return Expectation(math.inf, OVERFLOW, log_value / _LN10)


def _shifted(result: Expectation, shift: float) -> Expectation:
    """``shift + result``."""
    if shift == 0 or result.reason == NO_FINITE_MEAN:
        return result
    if result.reason == "":
        value = shift + result.value
        if math.isfinite(value):
            return Expectation(value)
    return _from_log(np.logaddexp(math.log(shift), result.log10 * _LN10))


# --- public functions ---------------------------------------------------------------------


def expected_max_of_minima(law: Any, groups: int, r: int) -> Expectation:
    """Expected maximum over independent groups of the minimum of r i.i.d. delays.

    ``M = max_{i <= groups} min_{j <= r} X_ij`` with ``P(M > x) = 1 - (1 - S(x)**r)**groups``,
    ``S`` the survival function of the law. ``groups = n, r = 1`` is the expected maximum of
    ``n`` delays (Uncoded); r-Replication of ``n`` workers uses ``groups = n / r``.

    Parameters
    ----------
    law : law
        The delay law (see the module docstring for the interface).
    groups : int
        Number of independent groups, ``>= 1``.
    r : int
        Delays per group, ``>= 1``.

    Returns
    -------
    Expectation
        ``E[M]``; ``"no finite mean"`` unless ``r * tail_index > 1``.

    Notes
    -----
    For exponential delays of rate ``rate`` the value is ``H_groups / (r * rate)``
    (Proposition 1 of the paper); for Pareto(s, a) it is
    ``s G(g+1) G(1-1/b) / G(g+1-1/b)`` with ``b = r a``, ``g = groups``.
    """
    groups = _positive_int(groups, "groups")
    r = _positive_int(r, "r")
    atoms = _atoms(law)
    if atoms is None:
        if not r * float(law.tail_index) > 1:
            return _no_mean()
        pareto = _pareto(law)
        if pareto is not None:
            scale, shape = pareto
            return _pareto_order_statistic(scale, r * shape, groups, groups)
    return _max_expectation([_Class(law, groups, 0.0, r)])


def expected_order_statistic(law: Any, k: int, n: int) -> Expectation:
    """Expected k-th smallest of n i.i.d. delays, ``E[X_(k:n)]``.

    ``P(X_(k:n) > x) = P(Binomial(n, F(x)) <= k - 1) = I_{S(x)}(n - k + 1, k)``, the
    regularized incomplete beta function.

    Parameters
    ----------
    law : law
        The delay law (see the module docstring for the interface).
    k : int
        Rank from the smallest, ``1 <= k <= n`` (``k = n``: the maximum).
    n : int
        Number of i.i.d. delays.

    Returns
    -------
    Expectation
        ``E[X_(k:n)]``; ``"no finite mean"`` unless ``(n - k + 1) * tail_index > 1``.
    """
    n = _positive_int(n, "n")
    k = _positive_int(k, "k")
    if k > n:
        raise ValueError(f"need 1 <= k <= n, got k = {k}, n = {n}")
    a, b = n - k + 1, k
    atoms = _atoms(law)
    if atoms is not None:
        return _atomic_expectation(
            [_Class(law, 1, 0.0, 1)], lambda logs: _combine_order(logs[0], a, b)
        )
    if not a * float(law.tail_index) > 1:
        return _no_mean()
    pareto = _pareto(law)
    if pareto is not None:
        return _pareto_order_statistic(*pareto, k, n)
    return _integrate(_OrderTarget(_Class(law, 1, 0.0, 1), a, b))


def expected_max_of_classes(parts: Sequence[tuple[Any, int, float]]) -> Expectation:
    """Expected maximum over workers in classes, each with its own law and added time.

    Class ``c`` has ``count_c`` i.i.d. workers of law ``law_c`` whose times are delayed by
    the constant ``shift_c``: ``T = max_c max_j (X_cj + shift_c)``, with
    ``P(T <= t) = prod_c F_c(t - shift_c)**count_c``. Uncoded with worker classes uses
    ``shift_c = tau * speed_c``.

    Parameters
    ----------
    parts : sequence of (law, int, float)
        ``(law_c, count_c, shift_c)`` per class; ``count_c >= 0`` (classes without workers
        are ignored, at least one must have some), ``shift_c >= 0`` finite.

    Returns
    -------
    Expectation
        ``E[T]``; ``"no finite mean"`` unless every class with workers has
        ``tail_index > 1``.
    """
    classes = []
    for law, count, shift in parts:
        count = operator.index(count)
        shift = float(shift)
        if count < 0:
            raise ValueError(f"a class count must be >= 0, got {count}")
        if not (math.isfinite(shift) and shift >= 0):
            raise ValueError(f"a class shift must be finite and >= 0, got {shift}")
        if count > 0:
            classes.append((law, count, shift))
    if not classes:
        raise ValueError("no class has workers")
    if len(classes) == 1:
        law, count, shift = classes[0]
        return _shifted(expected_max_of_minima(law, count, 1), shift)
    for law, _, _ in classes:
        if _atoms(law) is None and not float(law.tail_index) > 1:
            return _no_mean()
    return _max_expectation([_Class(law, count, shift, 1) for law, count, shift in classes])


# --- helpers: arguments, closed forms -------------------------------------------------------


def _positive_int(value: int, name: str) -> int:
    value = operator.index(value)
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


def _atoms(law: Any) -> tuple[np.ndarray, np.ndarray] | None:
    method = getattr(law, "atoms", None)
    return None if method is None else method()


def _pareto(law: Any) -> tuple[float, float] | None:
    method = getattr(law, "pareto_scale_shape", None)
    return None if method is None else method()


def _pareto_order_statistic(scale: float, shape: float, k: int, n: int) -> Expectation:
    """``E[X_(k:n)]`` of Pareto(scale, shape), ``(n - k + 1) * shape > 1``.

    ``s G(n+1) G(m-1/a) / (G(m) G(n+1-1/a)) = s prod_{j<k} (m + j) / (m - 1/a + j)``,
    ``m = n - k + 1``; the maximum of ``g`` draws (``k = n = g``) is
    ``s G(g+1) G(1-1/a) / G(g+1-1/a)``.
    """
    m = n - k + 1
    if m * shape <= 1:
        return _no_mean()
    c = 1.0 / shape
    first = (m * shape - 1.0) / shape  # m - 1/a without cancellation
    if k <= _PRODUCT_MAX:  # sum of k logs, each accurate
        log_ratio = math.fsum(np.log1p(c / (first + np.arange(k))))
    else:
        log_ratio = _log_gamma_ratio(n + 1.0 - c, c, n + 1.0) - _log_gamma_ratio(first, c, float(m))
    return _from_log(math.log(scale) + log_ratio)


def _log_gamma_ratio(x: float, c: float, top: float) -> float:
    """``log(G(top) / G(x))`` for ``top = x + c``, ``x > 0``, ``c >= 0``, without the
    cancellation of ``lgamma(top) - lgamma(x)`` for large ``x``."""
    if top < 160.0:
        return math.log(special.gamma(top) / special.gamma(x))
    if x < 20.0:  # lgamma(x) is small: no cancellation
        return float(special.gammaln(top) - special.gammaln(x))
    # Stirling: (x - 1/2) log(1 + c/x) + c log(x + c) - c + sum_k B_2k/(2k(2k-1)) (...)
    series = sum(
        coef * (top ** (1 - 2 * j) - x ** (1 - 2 * j))
        for j, coef in ((1, 1 / 12), (2, -1 / 360), (3, 1 / 1260), (4, -1 / 1680))
    )
    return (x - 0.5) * math.log1p(c / x) + c * math.log(top) - c + series


# --- log-space arithmetic -------------------------------------------------------------------


def _log1mexp(a: np.ndarray) -> np.ndarray:
    """``log(1 - exp(a))`` for ``a <= 0``, accurate everywhere (``-inf`` at ``a = 0``)."""
    a = np.minimum(np.asarray(a, dtype=float), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > -_LN2, np.log(-np.expm1(a)), np.log1p(-np.exp(a)))


def _combine_max(logs: list[np.ndarray], classes: list[_Class]) -> np.ndarray:
    """``log P(max > y) = log(1 - prod_c (1 - S_c**r_c)**n_c)`` from ``log S_c``."""
    logp = np.array([c.r * ls for c, ls in zip(classes, logs, strict=True)])
    counts = np.array([float(c.count) for c in classes])[:, None]
    union = special.logsumexp(np.log(counts) + logp, axis=0)  # log sum n_c p_c, far tail
    with np.errstate(invalid="ignore"):
        log_cdf = np.sum(counts * _log1mexp(logp), axis=0)
    return np.where(union < _UNION, union, _log1mexp(log_cdf))


def _betaln(a: float, b: float) -> float:
    """``log B(a, b)``, without the cancellation of ``betaln`` for one large argument."""
    small, large = min(a, b), max(a, b)
    return float(special.gammaln(small)) - _log_gamma_ratio(large, small, a + b)


def _log_betainc_small(logx: np.ndarray, a: int, b: int) -> np.ndarray:
    """``log I_x(a, b)`` where ``betainc`` underflows (``x`` well below ``a / (a + b)``).

    ``I_x(a, b) = x^a (1 - x)^b / (a B(a, b)) * K`` with ``K`` the continued fraction of
    Numerical Recipes (``betacf``, modified Lentz), which converges fast there (and ends
    after ``b`` steps for an integer ``b``).
    """
    x = np.exp(logx)
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    tiny = 1e-300
    c = np.ones_like(x)
    d = 1.0 - qab * x / qap
    d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
    fraction = d.copy()
    for m in range(1, min(b, 20_000) + 1):
        m2 = 2 * m
        even = m * (b - m) * x / ((qam + m2) * (a + m2))
        odd = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        for coefficient in (even, odd):
            d = 1.0 + coefficient * d
            d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
            c = 1.0 + coefficient / c
            c = np.where(np.abs(c) < tiny, tiny, c)
            delta = d * c
            fraction = fraction * delta
        if np.all(np.abs(delta - 1.0) < 1e-15):
            break
    prefactor = a * logx + b * _log1mexp(logx) - math.log(a) - _betaln(a, b)
    return prefactor + np.log(fraction)


def _combine_order(logs: np.ndarray, a: int, b: int) -> np.ndarray:
    """``log P(X_(k:n) > y) = log I_S(a, b)``, ``a = n - k + 1``, ``b = k``, from ``log S``
    (where ``betainc`` would underflow, by :func:`_log_betainc_small`)."""
    logs = np.minimum(np.asarray(logs, dtype=float), 0.0)
    value = special.betainc(a, b, np.exp(logs))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.log(value)
        far = (value <= _BETAINC_FLOOR) & (logs > -np.inf)
        if far.any():
            out[far] = _log_betainc_small(logs[far], a, b)
    return out


# Scalar twins of the functions above, for the integrand of ``quad``, which calls it one
# point at a time: the vectorised functions on one-element arrays give the same values but
# make an expectation about 12 times slower. The continued fraction, rarely reached by
# ``quad``, is not duplicated.


def _log1mexp_scalar(a: float) -> float:
    """Scalar :func:`_log1mexp` (for the integrand of ``quad``)."""
    if a >= 0.0:
        return -math.inf
    if a > -_LN2:
        return math.log(-math.expm1(a))
    return math.log1p(-math.exp(a))


def _combine_max_scalar(logs: list[float], classes: list[_Class]) -> float:
    """Scalar :func:`_combine_max`."""
    if len(classes) == 1:
        c = classes[0]
        logp = c.r * logs[0]
        union = c.log_count + logp
        if union < _UNION:
            return union
        return _log1mexp_scalar(c.count * _log1mexp_scalar(logp))
    logp = [c.r * ls for c, ls in zip(classes, logs, strict=True)]
    terms = [c.log_count + lp for c, lp in zip(classes, logp, strict=True)]
    top = max(terms)
    if top == -math.inf:
        return -math.inf
    union = top + math.log(math.fsum(math.exp(v - top) for v in terms))
    if union < _UNION:
        return union
    log_cdf = math.fsum(c.count * _log1mexp_scalar(lp) for c, lp in zip(classes, logp, strict=True))
    return _log1mexp_scalar(log_cdf)


def _combine_order_scalar(logs: float, a: int, b: int) -> float:
    """Scalar :func:`_combine_order`, for the integrand of ``quad``; where ``betainc``
    underflows (rarely reached by ``quad``) by the one continued fraction,
    :func:`_log_betainc_small`, on a one-element array."""
    logs = min(logs, 0.0)
    value = float(special.betainc(a, b, math.exp(logs)))
    if value > _BETAINC_FLOOR:
        return math.log(value)
    if logs == -math.inf:
        return -math.inf
    return float(_log_betainc_small(np.array([logs]), a, b)[0])


# --- one class of workers -------------------------------------------------------------------


class _Class:
    """``count`` i.i.d. workers of ``law`` whose times are shifted by ``shift``; each draws
    ``r`` delays (the class-level survival is ``S**r``)."""

    def __init__(self, law: Any, count: int, shift: float, r: int):
        self.law = law
        self.count = count
        self.log_count = math.log(count)
        self.shift = shift
        self.r = r
        self.atoms = _atoms(law)
        if self.atoms is not None:
            values, probs = (np.asarray(v, dtype=float) for v in self.atoms)
            keep = probs > 0
            values, probs = values[keep], probs[keep]
            order = np.argsort(values, kind="stable")
            values, probs = values[order], probs[order] / math.fsum(probs)
            # P(X > values[i]), summed from the top so that small tails keep their digits
            above = np.concatenate([np.cumsum(probs[::-1])[::-1][1:], [0.0]])
            self.shifted_values = values + shift
            self.tail = np.concatenate([[1.0], above])
            self.alpha = math.inf
            self.lower = float(self.shifted_values[0])
            self.shifted_jumps = self.shifted_values
        else:
            self.alpha = float(law.tail_index)
            self.lower = float(law.support_min) + shift
            # atoms of a law with a continuous part: P jumps there, quadratures split there
            jumps = getattr(law, "jumps", None)
            points = np.empty(0) if jumps is None else np.asarray(jumps(), dtype=float)
            self.shifted_jumps = np.unique(points[np.isfinite(points)]) + shift
        # set by the target: P(X + shift > lo + z) = P(X > d + z)
        self.d, self.log_d = 0.0, -math.inf
        self._beyond: Callable[[np.ndarray], np.ndarray] | None = None

    def set_lower_end(self, lo: float) -> None:
        self.d = max(lo - self.shift, 0.0)
        self.log_d = math.log(self.d) if self.d > 0 else -math.inf

    def log_sf_shifted(self, y: np.ndarray) -> np.ndarray:
        """``log P(X + shift > y)`` at points ``y`` (atoms: compared in shifted values)."""
        index = np.searchsorted(self.shifted_values, y, side="right")
        with np.errstate(divide="ignore"):
            return np.log(self.tail[index])

    def logsf(self, t: np.ndarray) -> np.ndarray:
        """``log P(X > d + exp(t))``, vectorised, for any real ``t``."""
        t = np.asarray(t, dtype=float)
        near = t <= _T_TOP
        with np.errstate(over="ignore", under="ignore"):
            x = self.d + np.exp(np.minimum(t, _T_TOP))
        out = np.full(t.shape, -np.inf)
        if self.atoms is not None:
            # a point just above the atom v in t maps back to just above v + shift
            out[near] = self.log_sf_shifted(x[near] + self.shift)
            return out
        with np.errstate(all="ignore"):
            out[near] = np.asarray(self.law.logsf(x[near]), dtype=float).reshape(-1)
            if not near.all():
                out[~near] = self._beyond_top(np.logaddexp(self.log_d, t[~near]))
        return np.minimum(out, 0.0)

    def logsf_scalar(self, t: float) -> float:
        """Scalar :meth:`logsf` (the caller silences numpy's floating-point warnings)."""
        if t > _T_TOP:
            if self.atoms is not None:
                return -math.inf
            u = t if self.d == 0 else t + math.log1p(math.exp(self.log_d - t))  # log(d + e^t)
            return min(float(self._beyond_top(np.array([u]))[0]), 0.0)
        x = self.d + math.exp(t)
        if self.atoms is not None:
            index = bisect.bisect_right(self.shifted_values, x + self.shift)
            tail = self.tail[index]
            return math.log(tail) if tail > 0 else -math.inf
        return min(float(np.ravel(self.law.logsf(np.array([x])))[0]), 0.0)

    def _beyond_top(self, u: np.ndarray) -> np.ndarray:
        """``log P(X > exp(u))`` for ``u > _T_TOP``, where ``logsf`` cannot be called."""
        if self._beyond is None:
            self._beyond = self._make_beyond()
        return self._beyond(u)

    def _make_beyond(self) -> Callable[[np.ndarray], np.ndarray]:
        hook = getattr(self.law, "logsf_at_log", None)
        if hook is not None:
            return lambda u: np.asarray(hook(u), dtype=float)
        u = _T_TOP - _FIT_POINTS
        values = np.asarray(self.law.logsf(np.exp(u)), dtype=float).reshape(-1)
        top = values[-1]
        if not np.isfinite(top) or (math.isinf(self.alpha) and top < _NEGLIGIBLE_LOGSF):
            return lambda u: np.full(np.shape(u), -np.inf)
        if math.isfinite(self.alpha):
            alpha = self.alpha
            return lambda u: top - alpha * (u - _T_TOP)
        model = _fit_lognormal_tail(u, values)
        if model is not None:
            return model
        warnings.warn(
            "the delay law has no logsf_at_log and its tail beyond the largest float is not "
            "lognormal-like: it was extrapolated quadratically in log x; the expectation is "
            "approximate",
            RuntimeWarning,
            stacklevel=2,
        )
        c2, c1, c0 = np.polyfit(u - _T_TOP, values, 2)
        c2 = min(c2, 0.0)
        c1 = min(c1, 0.0)
        return lambda u: np.minimum(c0 + (u - _T_TOP) * (c1 + c2 * (u - _T_TOP)), 0.0)


def _fit_lognormal_tail(
    u: np.ndarray, values: np.ndarray
) -> Callable[[np.ndarray], np.ndarray] | None:
    """``c + log Phi((m - u) / s)`` through ``(u, values)``, or ``None`` if it does not fit."""
    scale = max(1.0, float(np.max(np.abs(values))))
    c2, c1, _ = np.polyfit(u - _T_TOP, values, 2)
    if not c2 < 0:
        return None
    s0 = math.sqrt(-0.5 / c2)
    m0 = _T_TOP - c1 / (2.0 * c2)

    def model(p: np.ndarray, v: np.ndarray) -> np.ndarray:
        return p[2] + special.log_ndtr((p[0] - v) / math.exp(p[1]))

    with np.errstate(all="ignore"):
        start = np.array([m0, math.log(s0), 0.0])
        start[2] = float(np.mean(values - model(start, u)))
        if not np.all(np.isfinite(start)):
            return None
        from scipy import optimize  # imported on first use: it is slow to import

        fit = optimize.least_squares(
            lambda p: (model(p, u) - values) / scale,
            start,
            method="lm",
            xtol=1e-15,
            ftol=1e-15,
            gtol=1e-15,
        )
    if not (fit.success and np.max(np.abs(fit.fun)) < 1e-11):
        return None
    params = fit.x
    return lambda v: np.minimum(model(params, np.asarray(v, dtype=float)), 0.0)


# --- targets: P(Y > lo + e^t) and its far-tail terms ------------------------------------------


class _MaxTarget:
    """``Y = max over classes`` (``max_of_minima``: one class with ``r`` draws per worker)."""

    def __init__(self, classes: list[_Class]):
        self.classes = classes
        self.lo = max(c.lower for c in classes)
        for c in classes:
            c.set_lower_end(self.lo)

    def log_tail(self, t: np.ndarray) -> np.ndarray:
        return _combine_max([c.logsf(t) for c in self.classes], self.classes)

    def log_tail_scalar(self, t: float) -> float:
        return _combine_max_scalar([c.logsf_scalar(t) for c in self.classes], self.classes)

    def far_terms(self, t: np.ndarray) -> list[tuple[_Class, np.ndarray, np.ndarray, float]]:
        """Per class: the log of the parameter that must be small for the far-tail form, the
        far-tail value ``log(n_c p_c)`` of ``P(Y > lo + e^t)`` (both the same here) and its
        power ``r_c * alpha_c``."""
        out = []
        with np.errstate(over="ignore", invalid="ignore"):
            for c in self.classes:
                term = c.log_count + c.r * c.logsf(t)
                out.append((c, term, term, c.r * c.alpha))
        return out


class _OrderTarget:
    """``Y = X_(k:n)``, ``a = n - k + 1``, ``b = k``."""

    def __init__(self, law_class: _Class, a: int, b: int):
        self.classes = [law_class]
        self.a, self.b = a, b
        self.lo = law_class.lower
        law_class.set_lower_end(self.lo)

    def log_tail(self, t: np.ndarray) -> np.ndarray:
        return _combine_order(self.classes[0].logsf(t), self.a, self.b)

    def log_tail_scalar(self, t: float) -> float:
        return _combine_order_scalar(self.classes[0].logsf_scalar(t), self.a, self.b)

    def far_terms(self, t: np.ndarray) -> list[tuple[_Class, np.ndarray, np.ndarray, float]]:
        """As :meth:`_MaxTarget.far_terms`: ``I_S(a, b)`` is ``C S^a`` up to a relative
        ``(a + b) / (a + 1) S``."""
        c = self.classes[0]
        logs = c.logsf(t)
        small = logs + math.log((self.a + self.b) / (self.a + 1.0))
        return [(c, small, _combine_order(logs, self.a, self.b), self.a * c.alpha)]


# --- the expectations -----------------------------------------------------------------------


def _max_expectation(classes: list[_Class]) -> Expectation:
    if all(c.atoms is not None for c in classes):
        return _atomic_expectation(classes, lambda logs: _combine_max(logs, classes))
    return _integrate(_MaxTarget(classes))


def _atomic_expectation(
    classes: list[_Class], combine: Callable[[list[np.ndarray]], np.ndarray]
) -> Expectation:
    """Exact ``E[Y] = y_0 + sum_i (y_{i+1} - y_i) P(Y > y_i)`` over the support of ``Y``."""
    lo = max(c.lower for c in classes)
    points = np.unique(np.concatenate([c.shifted_values for c in classes]))
    points = points[points >= lo]
    if points.size == 1:
        return Expectation(float(points[0]))
    log_tail = combine([c.log_sf_shifted(points[:-1]) for c in classes])
    with np.errstate(under="ignore"):
        steps = np.diff(points) * np.exp(log_tail)
    return Expectation(float(points[0]) + math.fsum(steps))


def _integrate(target: _MaxTarget | _OrderTarget) -> Expectation:
    log_integral = _log_integral(target)
    lo = target.lo
    if log_integral < _LOG_MAX - 1:
        value = lo + math.exp(log_integral)
        if math.isfinite(value):
            return Expectation(value)
    log_lo = math.log(lo) if lo > 0 else -math.inf
    return _from_log(float(np.logaddexp(log_lo, log_integral)))


def _h(target: _MaxTarget | _OrderTarget, t: np.ndarray) -> np.ndarray:
    """``h(t) = t + log P(Y > lo + e^t)``."""
    with np.errstate(all="ignore"):
        out = t + target.log_tail(t)
    return np.where(np.isnan(out), -np.inf, out)


def _beyond_grid(target: _MaxTarget | _OrderTarget, end: float, hmax: float) -> bool:
    """Whether the integrand may still matter beyond ``t = end`` other than through the
    analytic power tail: a light tail not yet negligible, or a power tail whose
    ``log(n_c p_c)`` is not yet small enough for ``P(Y > y) = sum_c n_c p_c``."""
    for c, small, term, power in target.far_terms(np.array([end])):
        if c.atoms is not None:
            continue
        if math.isfinite(power):
            if small[0] > _UNION:
                return True
        elif end + term[0] > hmax - _DROP - 10:
            return True
    return False


def _log_integral(target: _MaxTarget | _OrderTarget) -> float:
    """``log int_{-inf}^{inf} exp(h(t)) dt = log int_0^inf P(Y > lo + z) dz``.

    With ``hmax`` the grid maximum of ``h`` at ``t_p``, the scaled integral
    ``int exp(h - hmax)`` is at least 1 (``P`` decreases, so ``h(t) >= hmax + t - t_p`` for
    ``t < t_p``), whence the absolute tolerance given to ``quad``.
    """
    grid = _BASE_GRID
    h = _h(target, grid)
    hmax = float(np.max(h))
    # tails still significant at the largest float: extend the grid beyond it
    for _ in range(64):
        end = grid[-1]
        if not _beyond_grid(target, end, hmax):
            break
        extra = np.linspace(end, 2 * end, 2001)[1:]
        grid = np.concatenate([grid, extra])
        h = np.concatenate([h, _h(target, extra)])
        hmax = float(np.max(h))
    else:  # pragma: no cover - a light tail decays before t = 709 * 2**64
        raise ArithmeticError("the delay law's tail does not decay")
    if not math.isfinite(hmax):
        return -math.inf
    peak = int(np.argmax(h))
    t_peak = float(grid[peak])
    # right end: from there on h stays below hmax - _DROP on the whole grid
    suffix_max = np.maximum.accumulate(h[::-1])[::-1]
    below = np.flatnonzero((suffix_max < hmax - _DROP) & (np.arange(grid.size) > peak))
    last = int(below[0]) if below.size else grid.size - 1
    t_last = float(grid[last])

    # left of the peak: below t_left, where P(Y > lo + e^t) >= 0.9, integrate in
    # z = e^t = e^t_left u, where P is smooth and near 1; from there on in t, on pieces cut
    # where h is _LEVELS or _DROP below hmax, at local maxima, at the switch _T_TOP, at jumps,
    # and, for slowly decaying power tails, at geometrically growing widths
    near_one = np.flatnonzero(h[: peak + 1] - grid[: peak + 1] >= _NEAR_ONE)
    t_left = float(grid[near_one[-1]]) if near_one.size else t_peak
    cuts = [t_left, t_peak, t_last, _T_TOP]
    before, after = h[: peak + 1], h[peak : last + 1]
    for level in (*_LEVELS, _DROP):
        crossing = np.flatnonzero(before < hmax - level)
        if crossing.size:
            cuts.append(float(grid[crossing[-1]]))
    right = []
    for level in _LEVELS:
        crossing = np.flatnonzero(after < hmax - level)
        if crossing.size:
            right.append(float(grid[peak + crossing[0]]))
    start = max(right, default=t_peak)
    width = max(2.0, start - t_peak)
    while start + width < t_last:
        right.append(start + width)
        width *= 2.0
    inner = h[1:-1]
    modes = np.flatnonzero((inner > h[:-2]) & (inner >= h[2:]) & (inner > hmax - _DROP)) + 1
    jumps = _jumps(target)
    cuts += right + [float(grid[i]) for i in modes[:50]] + jumps
    cuts = np.unique([c for c in cuts if t_left <= c <= t_last])

    def integrand(t: float) -> float:
        value = t + target.log_tail_scalar(t) - hmax
        return math.exp(min(value, 600.0)) if value == value else 0.0  # nan: P = 0

    def left_integrand(u: float) -> float:  # P(Y > lo + e^t_left u), u in (0, 1]
        if u <= 0.0:
            return 1.0
        value = target.log_tail_scalar(t_left + math.log(u))
        return math.exp(value) if value == value else 0.0

    errors = []

    def quad(f: Callable[[float], float], a: float, b: float, points=None) -> float:
        from scipy import integrate  # imported on first use: it is slow to import

        out = integrate.quad(
            f,
            a,
            b,
            epsabs=_QUAD_EPSABS,
            epsrel=_QUAD_EPSREL,
            limit=_QUAD_LIMIT,
            points=points,
            full_output=1,
        )
        errors.append(out[1])
        return out[0]

    pieces = []
    with np.errstate(all="ignore"):
        if -_LOG_MAX < t_left - hmax < _LOG_MAX:  # the integral below t_left, ~exp(t_left)
            left_jumps = [math.exp(t - t_left) for t in jumps if t < t_left]
            first = len(errors)
            if len(left_jumps) <= _QUAD_POINTS:
                left = quad(left_integrand, 0.0, 1.0, left_jumps or None)
            else:  # every jump a breakpoint: consecutive pieces of _QUAD_POINTS each
                ends, step = sorted(set(left_jumps)), _QUAD_POINTS + 1
                bounds = [0.0, *ends[_QUAD_POINTS::step], 1.0]
                inner = [ends[i:i + _QUAD_POINTS] for i in range(0, len(ends), step)]
                left = math.fsum(quad(left_integrand, a, b, points or None) for (a, b), points
                                 in zip(itertools.pairwise(bounds), inner, strict=True))
            pieces.append(math.exp(t_left - hmax) * left)
            errors[first:] = [e * math.exp(t_left - hmax) for e in errors[first:]]
        for a, b in itertools.pairwise(cuts):
            pieces.append(quad(integrand, a, b))
    # beyond t_last: power tails n_c C x**-b (x = d_c + z: exact for Pareto tails), whose
    # integral over z > e^t_last is n_c C x**(1-b) / (b - 1); light tails are negligible there
    for c, _, term, power in target.far_terms(np.array([t_last])):
        if math.isfinite(power) and c.atoms is None:
            log_x = float(np.logaddexp(c.log_d, t_last))
            log_end = log_x + float(term[0]) - hmax
            if log_end > -700:
                pieces.append(math.exp(log_end) / (power - 1.0))
    total = math.fsum(pieces)
    if math.fsum(errors) > _QUAD_WARN * total:
        warnings.warn(
            f"orderstats: the quadrature error estimate is {math.fsum(errors) / total:.1e} "
            "of the expectation",
            RuntimeWarning,
            stacklevel=4,
        )
    return hmax + math.log(total)


def _jumps(target: _MaxTarget | _OrderTarget) -> list[float]:
    """Points ``t`` where ``P(Y > lo + e^t)`` jumps: the atoms of every class, of discrete
    laws and of mixtures with a discrete component alike."""
    out: list[float] = []
    for c in target.classes:
        z = c.shifted_jumps - target.lo
        out += [math.log(v) for v in z[z > 0]]
    return out
