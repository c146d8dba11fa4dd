"""Start-up delay laws ``X_j`` of the workers: one small validated class a law.

Every law is a :class:`DelayLaw` with

* ``sample(rng, size)``: i.i.d. delays drawn from ``rng`` only;
* ``mean`` and ``variance``: analytic (``inf`` where the moment does not exist), so every law is
  also a free statistical test of its sampler;
* ``logsf(x)``: ``log P(X > x)``, accurate in the far tail, with ``support_min`` and
  ``tail_index`` (the power of a Pareto-like tail, ``inf`` for lighter tails): what
  :mod:`ltsim.model.orderstats` needs for exact expected latencies;
* discrete laws (constant, empirical, a mixture of them): ``atoms()``, the support points
  and their probabilities; ``jumps()``: the points where ``P(X > x)`` jumps, also for a
  mixture of a discrete and a continuous law (where quadratures must split);
* ``to_scipy()``: the law as a frozen :mod:`scipy.stats` distribution (what the tests check
  the law against), from ``scipy_form()``: the scipy distribution and the arguments that
  freeze it (what the fitters of ``ltsim fit`` evaluate, see :mod:`ltsim.fitting`);
  ``fit_parameters``: the parameters ``ltsim fit`` estimates;
* ``per_worker``: whether worker ``j`` replays worker ``j`` of a trace (an ``empirical`` law
  with a ``worker`` column) instead of drawing i.i.d. delays; ``sample_workers`` and
  ``sample_new`` draw the delays of given workers and of new ones accordingly;
* ``label()``: the short text of plots (``Exp(0.2)``).

:data:`LAWS` lists them by their ``dist`` name; the config union :data:`Law`, the docs' list,
the plot labels and the candidates of ``ltsim fit`` are all built from it. A new law is one
class here and one entry in :data:`LAWS`.
"""

from __future__ import annotations

import functools
import math
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union

import numpy as np
from pydantic import (
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from scipy import special

from ..util.samples import cached_samples
from ..util.text import reason
from ..util.validation import CrossFieldError, StrictModel

Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]


def _moment(method: Callable[[Any], float]) -> property:
    """A moment as a property: ``inf`` where the closed form overflows (extreme but valid
    parameters, e.g. a lognormal with ``sigma = 30``) instead of an exception."""

    @functools.wraps(method)
    def guarded(self) -> float:
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                value = float(method(self))
        except (OverflowError, ZeroDivisionError):
            return math.inf
        return math.inf if math.isnan(value) else value

    return property(guarded)


def _format(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _stats():
    """:mod:`scipy.stats`, imported on first use (it is slow to import)."""
    from scipy import stats

    return stats


class DelayLaw(StrictModel):
    """Base of every delay law (see the module docstring for the interface)."""

    short: ClassVar[str] = "?"
    """Name in plot labels, e.g. ``Exp``."""
    fit_parameters: ClassVar[tuple[str, ...]] = ()
    """Parameters ``ltsim fit`` estimates; empty if the law is not a fit candidate."""

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        """I.i.d. delays, an ndarray of shape ``size``, drawn from ``rng`` only."""
        raise NotImplementedError

    @property
    def per_worker(self) -> bool:
        """Whether each worker has a law of its own (a per-worker trace): worker ``j``
        replays worker ``j`` of the trace. ``False``: every worker draws i.i.d. delays."""
        return False

    def sample_workers(self, rng: np.random.Generator, workers: np.ndarray) -> np.ndarray:
        """One delay for each of the system's ``workers`` (their 0-based numbers): i.i.d.
        draws, ``sample(rng, workers.size)``, unless the law is :attr:`per_worker`."""
        return self.sample(rng, workers.size)

    def sample_new(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Delays of ``size`` new workers, beyond the system's (speculative backups): i.i.d.
        draws, ``sample(rng, size)``, unless the law is :attr:`per_worker`."""
        return self.sample(rng, size)

    def scipy_form(self) -> tuple[Any, tuple, dict[str, Any]]:
        """The law in :mod:`scipy.stats` terms: a distribution and the arguments that freeze
        it, ``(rv, args, kwds)``; :meth:`to_scipy` is ``rv(*args, **kwds)``.

        Built from the law's parameters as they are: on a law made with ``model_construct``
        from parameter arrays, arguments that broadcast over them. The fitters of ``ltsim
        fit`` evaluate ``rv.logpdf(x, *args, **kwds)`` so at thousands of parameter points,
        where freezing each (scipy copies the distribution, about 1 ms) would cost more than
        the likelihood itself.
        """
        raise NotImplementedError(f"{type(self).__name__} has no scipy.stats form")

    def to_scipy(self) -> Any:
        """The law as a frozen :mod:`scipy.stats` distribution (``logsf``, ``sf``, ``mean``,
        ``var``, ...): its :meth:`scipy_form`, frozen."""
        rv, args, kwds = self.scipy_form()
        return rv(*args, **kwds)

    def logsf(self, x: np.ndarray) -> np.ndarray:
        """``log P(X > x)``, elementwise."""
        raise NotImplementedError

    def sf(self, x: np.ndarray) -> np.ndarray:
        """``P(X > x)``, elementwise."""
        return np.exp(self.logsf(np.asarray(x, dtype=float)))

    def atoms(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Support points and their probabilities of a discrete law; ``None`` otherwise."""
        return None

    def jumps(self) -> np.ndarray:
        """The points where ``P(X > x)`` jumps, sorted: the atoms, also those of a law with a
        continuous part (a mixture with a constant or empirical component); empty for a
        continuous law.

        Returns
        -------
        ndarray of float64
            The atoms' support points, increasing.
        """
        atoms = self.atoms()
        return np.empty(0) if atoms is None else np.asarray(atoms[0], dtype=float)

    @property
    def support_min(self) -> float:
        """The infimum of the support."""
        return 0.0

    @property
    def tail_index(self) -> float:
        """``a`` with ``P(X > x) ~ C x**-a``; ``inf`` for tails lighter than any power."""
        return math.inf

    def pareto_scale_shape(self) -> tuple[float, float] | None:
        """``(scale, shape)`` when the law is a classical Pareto (closed forms apply)."""
        return None

    def shift_rate(self) -> tuple[float, float] | None:
        """``(shift, rate)`` when the law is a (shifted) exponential: the paper's closed
        forms apply."""
        return None

    def label(self) -> str:
        """Short text for plots, e.g. ``Exp(0.2)``."""
        values = ", ".join(_format(getattr(self, name)) for name in self.parameter_names())
        return f"{self.short}({values})"

    @classmethod
    def parameter_names(cls) -> list[str]:
        """The law's parameters in config order (``dist`` excluded)."""
        return [name for name in cls.model_fields if name != "dist"]


class Exponential(DelayLaw):
    """Exponential with ``rate`` (mean ``1/rate``)."""

    dist: Literal["exponential"] = "exponential"
    rate: Positive
    short: ClassVar[str] = "Exp"
    fit_parameters: ClassVar[tuple[str, ...]] = ("rate",)

    def sample(self, rng, size):
        return rng.exponential(1.0 / self.rate, size)

    def logsf(self, x):
        return -self.rate * np.maximum(np.asarray(x, dtype=float), 0.0)

    def scipy_form(self):
        return _stats().expon, (), {"scale": 1.0 / self.rate}


    def shift_rate(self):
        return 0.0, self.rate

    @_moment
    def mean(self) -> float:
        return 1.0 / self.rate

    @_moment
    def variance(self) -> float:
        return 1.0 / self.rate**2


class ShiftedExponential(DelayLaw):
    """``shift`` plus an exponential with ``rate``."""

    dist: Literal["shifted_exponential"] = "shifted_exponential"
    shift: NonNegative
    rate: Positive
    short: ClassVar[str] = "ShiftedExp"
    fit_parameters: ClassVar[tuple[str, ...]] = ("shift", "rate")

    def sample(self, rng, size):
        with np.errstate(over="ignore"):  # extreme parameters: an infinite delay
            return self.shift + rng.exponential(1.0 / self.rate, size)

    def logsf(self, x):
        return -self.rate * np.maximum(np.asarray(x, dtype=float) - self.shift, 0.0)

    def scipy_form(self):
        return _stats().expon, (), {"loc": self.shift, "scale": 1.0 / self.rate}


    @property
    def support_min(self) -> float:
        return self.shift

    def shift_rate(self):
        return self.shift, self.rate

    @_moment
    def mean(self) -> float:
        return self.shift + 1.0 / self.rate

    @_moment
    def variance(self) -> float:
        return 1.0 / self.rate**2


class Pareto(DelayLaw):
    """Classical (type I) Pareto: ``P(X > x) = (scale / x) ** shape`` for ``x >= scale``."""

    dist: Literal["pareto"] = "pareto"
    scale: Positive
    shape: Positive
    short: ClassVar[str] = "Pareto"
    fit_parameters: ClassVar[tuple[str, ...]] = ("scale", "shape")

    def sample(self, rng, size):
        # Inversion with U in (0, 1]; U = 0 would give an infinite delay.
        u = 1.0 - rng.random(size)
        with np.errstate(over="ignore"):  # extreme parameters: an infinite delay
            return self.scale * u ** (-1.0 / self.shape)

    def logsf(self, x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            return self.shape * np.minimum(math.log(self.scale) - np.log(x), 0.0)

    def scipy_form(self):
        return _stats().pareto, (self.shape,), {"scale": self.scale}


    @property
    def support_min(self) -> float:
        return self.scale

    @property
    def tail_index(self) -> float:
        return self.shape

    def pareto_scale_shape(self):
        return self.scale, self.shape

    @_moment
    def mean(self) -> float:
        a = self.shape
        return a * self.scale / (a - 1.0) if a > 1 else math.inf

    @_moment
    def variance(self) -> float:
        a = self.shape
        return self.scale**2 * a / ((a - 1.0) ** 2 * (a - 2.0)) if a > 2 else math.inf


class Weibull(DelayLaw):
    """Weibull with ``scale`` and ``shape``: ``P(X > x) = exp(-(x / scale) ** shape)``."""

    dist: Literal["weibull"] = "weibull"
    scale: Positive
    shape: Positive
    short: ClassVar[str] = "Weibull"
    fit_parameters: ClassVar[tuple[str, ...]] = ("scale", "shape")

    def sample(self, rng, size):
        with np.errstate(over="ignore"):  # extreme parameters: an infinite delay
            return self.scale * rng.weibull(self.shape, size)

    def logsf(self, x):
        x = np.maximum(np.asarray(x, dtype=float), 0.0)
        with np.errstate(over="ignore"):
            return -np.power(x / self.scale, self.shape)

    def scipy_form(self):
        return _stats().weibull_min, (self.shape,), {"scale": self.scale}


    @_moment
    def mean(self) -> float:
        return self.scale * math.gamma(1.0 + 1.0 / self.shape)

    @_moment
    def variance(self) -> float:
        g1 = math.gamma(1.0 + 1.0 / self.shape)
        g2 = math.gamma(1.0 + 2.0 / self.shape)
        return self.scale**2 * (g2 - g1**2)


class Lognormal(DelayLaw):
    """``exp(N(mu, sigma**2))``."""

    dist: Literal["lognormal"] = "lognormal"
    mu: Finite
    sigma: Positive
    short: ClassVar[str] = "LogNormal"
    fit_parameters: ClassVar[tuple[str, ...]] = ("mu", "sigma")

    def sample(self, rng, size):
        return rng.lognormal(self.mu, self.sigma, size)

    def logsf(self, x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            z = (np.log(np.maximum(x, 0.0)) - self.mu) / self.sigma
        return special.log_ndtr(-z)

    def scipy_form(self):
        return _stats().lognorm, (self.sigma,), {"scale": np.exp(self.mu)}

    def logsf_at_log(self, t: np.ndarray) -> np.ndarray:
        """``log P(X > exp(t))``, for ``t`` beyond what a float ``x`` can hold."""
        return special.log_ndtr((self.mu - np.asarray(t, dtype=float)) / self.sigma)


    @_moment
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2.0)

    @_moment
    def variance(self) -> float:
        s2 = self.sigma**2
        return math.expm1(s2) * math.exp(2.0 * self.mu + s2)


def _tails_of(probs: np.ndarray) -> np.ndarray:
    """``[1, P(X > v_0), P(X > v_1), ...]`` from the probabilities of the sorted atoms
    ``v_i`` (summed from the top, so that small tails keep their digits)."""
    above = np.concatenate([np.cumsum(probs[::-1])[::-1][1:], [0.0]])
    return np.concatenate([[1.0], above])


class _Atomic(DelayLaw):
    """A law with finitely many support points (see :meth:`atoms`)."""

    def logsf(self, x):
        values, tails = self._tails()
        i = np.searchsorted(values, np.asarray(x, dtype=float), side="right")
        with np.errstate(divide="ignore"):
            return np.log(tails[i])

    def _tails(self) -> tuple[np.ndarray, np.ndarray]:
        """The support points, and ``P(X > x)`` left of the first and at each of them."""
        values, probs = self.atoms()
        return values, _tails_of(probs)

    @property
    def support_min(self) -> float:
        return float(self.atoms()[0][0])


class Constant(_Atomic):
    """The same delay ``value`` at every worker."""

    dist: Literal["constant"] = "constant"
    value: NonNegative
    short: ClassVar[str] = "Const"

    def sample(self, rng, size):
        return np.full(size, self.value, dtype=np.float64)

    def atoms(self):
        return np.array([self.value]), np.array([1.0])

    def scipy_form(self):
        return _stats().rv_discrete(values=self.atoms()), (), {}

    @_moment
    def mean(self) -> float:
        return self.value

    @_moment
    def variance(self) -> float:
        return 0.0


class Empirical(_Atomic):
    """Resampling (with replacement) of measured delays read from a CSV file.

    The file holds one number per line, a header line allowed. A file with several columns
    (``pandas.DataFrame.to_csv`` writes the index first) needs ``column``: the header name of
    the column to read, or its 0-based position; ltsim never guesses. A relative ``path`` is
    taken from the folder of the config file. Samples must be finite and non-negative.
    """

    dist: Literal["empirical"] = "empirical"
    column: str | Annotated[int, Field(ge=0)] | None = None
    worker: str | None = None
    iteration: str | None = None
    path: str
    short: ClassVar[str] = "empirical"
    _samples: np.ndarray = PrivateAttr()
    _workers: np.ndarray | None = PrivateAttr(default=None)

    @field_validator("path")
    @classmethod
    def _resolve(cls, path: str, info: ValidationInfo) -> str:
        base = (info.context or {}).get("base_dir")
        try:
            p = Path(path).expanduser()
            if not p.is_absolute() and base is not None:
                p = Path(base) / p
            p = p.resolve()
        except (OSError, RuntimeError, ValueError) as exc:  # ~nobody, NUL byte, too long
            raise ValueError(f"not a usable file path ({reason(exc)})") from None
        # fail here, under the key 'path'
        cached_samples(p, info.data.get("column"), info.data.get("worker"),
                       info.data.get("iteration"))
        return str(p)

    @field_validator("iteration")
    @classmethod
    def _with_worker(cls, iteration: str | None, info: ValidationInfo) -> str | None:
        if iteration is not None and info.data.get("worker") is None:
            raise ValueError("needs `worker:` (the trace's worker column): iterations are "
                             "replayed worker by worker")
        return iteration

    @model_validator(mode="after")
    def _load(self) -> Empirical:
        samples = cached_samples(Path(self.path), self.column, self.worker, self.iteration)
        if self.worker is None:
            self._samples = samples
        else:
            self._samples, self._workers = samples
        return self

    @property
    def per_worker(self) -> bool:
        """With a ``worker`` column: worker ``j`` replays the delays of worker ``j`` of the
        trace."""
        return self._workers is not None

    @property
    def per_iteration(self) -> bool:
        """With an ``iteration`` column: round (or job) ``k`` replays worker ``j``'s ``k``-th
        iteration of the trace (in the order of the iteration numbers)."""
        return self._workers is not None and self.iteration is not None

    @property
    def trace_iterations(self) -> int:
        """The fewest iterations a worker of the trace holds (``iteration`` given), else 0."""
        return 0 if not self.per_iteration else int(np.diff(self._workers).min())

    def replay(self, workers: np.ndarray, job: int) -> np.ndarray:
        """The delays of ``workers`` at their iteration ``job`` (no randomness)."""
        workers = np.asarray(workers, dtype=np.int64)
        return self._samples[self._workers[workers] + job]

    @property
    def trace_workers(self) -> int:
        """Workers in the trace (``worker`` given), else 0."""
        return 0 if self._workers is None else int(self._workers.shape[0] - 1)

    def sample(self, rng, size):
        return rng.choice(self._samples, size=size, replace=True)

    def sample_workers(self, rng: np.random.Generator, workers: np.ndarray) -> np.ndarray:
        """One delay for each of ``workers``; with a trace, drawn from that worker's own
        samples (the trace's workers in the order of their ids)."""
        if not self.per_worker:
            return super().sample_workers(rng, workers)
        ptr = self._workers
        workers = np.asarray(workers, dtype=np.int64)
        count = ptr[workers + 1] - ptr[workers]
        pick = np.minimum((rng.random(workers.size) * count).astype(np.int64), count - 1)
        return self._samples[ptr[workers] + pick]

    def sample_new(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Delays of new workers; with a trace, each replays a trace worker chosen at
        random."""
        if not self.per_worker:
            return super().sample_new(rng, size)
        return self.sample_workers(rng, rng.integers(0, self.trace_workers, size))

    @property
    def samples(self) -> np.ndarray:
        return self._samples

    def atoms(self):
        return self._cached()[1:3]

    def scipy_form(self):
        return _stats().rv_discrete(values=self.atoms()), (), {}

    def _tails(self):
        values, _, tails = self._cached()[1:]
        return values, tails

    def _cached(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(samples, values, probabilities, tails)``, remembered for the samples array (the
        survival function inside quadratures calls for them at every point); kept off the
        model, whose equality compares private state."""
        entry = _ATOMS.get(id(self._samples))
        if entry is None or entry[0] is not self._samples:
            if len(_ATOMS) > 8:
                _ATOMS.clear()
            values, counts = np.unique(self._samples, return_counts=True)
            probs = counts / counts.sum()
            tails = _tails_of(probs)
            values.flags.writeable = probs.flags.writeable = tails.flags.writeable = False
            entry = _ATOMS[id(self._samples)] = (self._samples, values, probs, tails)
        return entry

    def label(self) -> str:
        return f"empirical ({Path(self.path).name})"

    @_moment
    def mean(self) -> float:
        return float(np.mean(self._samples))

    @_moment
    def variance(self) -> float:
        return float(np.var(self._samples))


_ATOMS: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}


class Component(StrictModel):
    """One law of a mixture with its ``weight``; in a config the law's keys sit beside the
    weight: ``{weight: 0.9, dist: exponential, rate: 1.66}``."""

    weight: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
    law: SimpleLaw  # every built-in law but a mixture, from LAWS (defined below)

    @model_validator(mode="before")
    @classmethod
    def _lift(cls, data: Any) -> Any:
        if isinstance(data, dict) and "law" not in data:
            law = {k: v for k, v in data.items() if k != "weight"}
            return {**({"weight": data["weight"]} if "weight" in data else {}), "law": law}
        return data

    @model_serializer(mode="wrap")
    def _flat(self, handler) -> dict[str, Any]:
        data = handler(self)
        return {"weight": data["weight"], **data["law"]}


class Mixture(DelayLaw):
    """A mixture: each delay is drawn from component ``i`` with probability ``weight_i``
    (the weights sum to 1), e.g. a fast exponential body and a Pareto tail (the PBS latency
    traces). Its survival function is the weighted sum of the components'."""

    dist: Literal["mixture"] = "mixture"
    components: Annotated[list[Component], Field(min_length=1)]
    short: ClassVar[str] = "Mixture"

    @model_validator(mode="after")
    def _weights(self) -> Mixture:
        total = math.fsum(c.weight for c in self.components)
        if abs(total - 1.0) > 1e-9:
            raise CrossFieldError("components", "the weights must sum to 1", total)
        for i, component in enumerate(self.components):
            if component.law.per_worker:
                raise CrossFieldError(f"components[{i}].worker", "a per-worker trace cannot "
                                      "be a mixture component (replay it as the delay law)",
                                      component.law.worker)
        return self

    @property
    def weights(self) -> np.ndarray:
        return np.array([c.weight for c in self.components])

    def sample(self, rng, size):
        """Component of each draw from one uniform, then each component's delays in order."""
        u = rng.random(size)
        kind = np.minimum(np.searchsorted(np.cumsum(self.weights), u, side="right"),
                          len(self.components) - 1)
        out = np.empty(np.shape(u))
        for k, component in enumerate(self.components):
            mine = kind == k
            out[mine] = component.law.sample(rng, int(mine.sum()))
        return out

    def logsf(self, x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            parts = [math.log(c.weight) + c.law.logsf(x) for c in self.components]
        return np.logaddexp.reduce(np.stack(parts), axis=0)

    def atoms(self) -> tuple[np.ndarray, np.ndarray] | None:
        """When every component is discrete, the support points of the mixture and their
        probabilities (equal points merged); ``None`` when some component is continuous (its
        components' atoms are then :meth:`jumps`)."""
        parts = [c.law.atoms() for c in self.components]
        if any(part is None for part in parts):
            return None
        values = np.concatenate([v for v, _ in parts])
        probs = np.concatenate([c.weight * np.asarray(p, dtype=float)
                                for c, (_, p) in zip(self.components, parts, strict=True)])
        points, where = np.unique(values, return_inverse=True)
        return points, np.bincount(where.reshape(-1), weights=probs, minlength=points.size)

    def jumps(self) -> np.ndarray:
        """The atoms of every component, sorted (see :meth:`DelayLaw.jumps`)."""
        return np.unique(np.concatenate([c.law.jumps() for c in self.components]))

    @property
    def support_min(self) -> float:
        return min(c.law.support_min for c in self.components)

    @property
    def tail_index(self) -> float:
        return min(c.law.tail_index for c in self.components)

    def to_scipy(self):
        """The weighted components' frozen laws (scipy has no mixture of them)."""
        return FrozenMixture(self.weights, [c.law.to_scipy() for c in self.components])

    def label(self) -> str:
        return " + ".join(f"{c.weight:g} {c.law.label()}" for c in self.components)

    @_moment
    def mean(self) -> float:
        return math.fsum(c.weight * c.law.mean for c in self.components)

    @_moment
    def variance(self) -> float:
        second = math.fsum(c.weight * (c.law.variance + c.law.mean**2)
                           for c in self.components)
        return second - self.mean**2


class FrozenMixture:
    """A mixture of frozen :mod:`scipy.stats` laws with the methods of one (``sf``,
    ``logsf``, ``cdf``, ``mean``, ``var``): what :meth:`Mixture.to_scipy` gives. scipy has no
    mixture of its frozen laws (the ``Mixture`` of scipy >= 1.15 mixes only continuous laws
    of its new interface; a mixture here may hold atoms)."""

    def __init__(self, weights: np.ndarray, parts: list[Any]) -> None:
        self.weights = np.asarray(weights, dtype=float)
        self.parts = list(parts)

    def sf(self, x):
        return sum(w * part.sf(x) for w, part in zip(self.weights, self.parts, strict=True))

    def logsf(self, x):
        with np.errstate(divide="ignore"):
            terms = [math.log(w) + part.logsf(x)
                     for w, part in zip(self.weights, self.parts, strict=True)]
        return special.logsumexp(np.stack(terms), axis=0)

    def cdf(self, x):
        return sum(w * part.cdf(x) for w, part in zip(self.weights, self.parts, strict=True))

    def mean(self) -> float:
        return math.fsum(w * part.mean() for w, part in zip(self.weights, self.parts,
                                                             strict=True))

    def var(self) -> float:
        second = math.fsum(w * (part.var() + part.mean() ** 2)
                           for w, part in zip(self.weights, self.parts, strict=True))
        return second - self.mean() ** 2


def _simple(laws) -> tuple[type[DelayLaw], ...]:
    """The laws of ``laws`` a mixture can mix: every one but a mixture."""
    return tuple(law for law in laws if not issubclass(law, Mixture))


def law_types(laws: tuple[type[DelayLaw], ...], namespace: dict[str, Any] | None = None,
              module: str | None = None) -> tuple[Any, Any]:
    """The config types of a ``delay:`` entry and of a mixture's component law, for the laws
    ``laws`` (the registry's; the built-in ones give exactly :data:`Law`).

    A law registered beside the built-in ones (:func:`register`) needs a mixture that can
    hold it: a subclass of :class:`Mixture` whose components accept every law but a
    mixture, made here and named in ``namespace`` as members of ``module`` (the config
    module's, whose configs hold them: so that they pickle).
    """
    simple = _simple(laws)
    if set(laws) == set(LAWS_BUILT_IN.values()):
        return Law, Annotated[Union[simple], Field(discriminator="dist")]  # noqa: UP007
    component_law = Annotated[Union[simple], Field(discriminator="dist")]  # noqa: UP007
    suffix = "_" + "_".join(sorted(law.__name__ for law in simple))

    class PluginComponent(Component):
        __doc__ = Component.__doc__
        law: component_law

    class PluginMixture(Mixture):
        __doc__ = Mixture.__doc__
        components: Annotated[list[PluginComponent], Field(min_length=1)]

    for model, stem in ((PluginComponent, "Component"), (PluginMixture, "Mixture")):
        model.__name__ = model.__qualname__ = stem + suffix
        if namespace is not None:
            model.__module__ = module or model.__module__
            namespace[model.__name__] = model
    union = tuple(PluginMixture if issubclass(law, Mixture) else law for law in laws)
    return (Annotated[Union[union], Field(discriminator="dist")],  # noqa: UP007
            component_law)


def register(cls: type[DelayLaw]) -> type[DelayLaw]:
    """Add a delay law to :data:`LAWS` (usable as a decorator): configs accept its ``dist``
    at once, as a delay, a class's delay, a speed law or a mixture's component."""
    dist = typing.get_args(cls.model_fields["dist"].annotation)[0]
    LAWS[dist] = cls
    return cls


LAWS: dict[str, type[DelayLaw]] = {
    "exponential": Exponential,
    "shifted_exponential": ShiftedExponential,
    "pareto": Pareto,
    "weibull": Weibull,
    "lognormal": Lognormal,
    "constant": Constant,
    "empirical": Empirical,
    "mixture": Mixture,
}
"""Every delay law by its ``dist`` name."""

LAWS_BUILT_IN = dict(LAWS)
"""The laws of ltsim itself (plugins add theirs to :data:`LAWS`)."""

Law = Annotated[Union[tuple(LAWS.values())], Field(discriminator="dist")]  # noqa: UP007
"""The config type of a ``delay:`` entry (for the built-in laws; see :func:`law_types`)."""

SimpleLaw = Annotated[Union[_simple(LAWS.values())], Field(discriminator="dist")]  # noqa: UP007
"""The config type of a mixture's component law: every built-in law but a mixture."""

Component.model_rebuild()
Mixture.model_rebuild()

