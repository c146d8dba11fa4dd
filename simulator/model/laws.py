"""Start-up delay laws ``X_j`` of the workers: one small validated class a law.

Every law is a :class:`DelayLaw` with

* ``sample(rng, size)``: i.i.d. delays drawn from ``rng`` only;
* ``mean`` and ``variance``: analytic (``inf`` where the moment does not exist), so every law is
  also a free statistical test of its sampler;
* ``logsf(x)``: ``log P(X > x)``, accurate in the far tail, with ``support_min`` and
  ``tail_index`` (the power of a Pareto-like tail, ``inf`` for lighter tails): what
  :mod:`ltsim.model.orderstats` needs for exact expected latencies;
* continuous laws: ``isf(p)``, the inverse survival function; discrete laws (constant,
  empirical, a mixture of them): ``atoms()``, the support points and their probabilities;
  ``jumps()``: the points where ``P(X > x)`` jumps, also for a mixture of a discrete and a
  continuous law (where quadratures must split);
* ``label()``: the short text of plots (``Exp(0.2)``), and ``fit`` (see
  :mod:`ltsim.model.estimation`): the censored maximum-likelihood fitter ``ltsim fit`` uses.

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

from ..util.text import UnreadableFile, read_text, reason, shown
from ..util.validation import CrossFieldError, StrictModel

Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
MAX_SAMPLES_BYTES = 64 << 20
"""Largest delay-sample file (``dist: empirical``) read."""


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


class DelayLaw(StrictModel):
    """Base of every delay law (see the module docstring for the interface)."""

    short: ClassVar[str] = "?"
    """Name in plot labels, e.g. ``Exp``."""
    fit_parameters: ClassVar[tuple[str, ...]] = ()
    """Parameters ``ltsim fit`` estimates; empty if the law is not a fit candidate."""

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        """I.i.d. delays, an ndarray of shape ``size``, drawn from ``rng`` only."""
        raise NotImplementedError

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

    def isf(self, p: np.ndarray) -> np.ndarray:
        """Inverse survival function: the ``x`` with ``P(X > x) = p``."""
        return -np.log(p) / self.rate

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

    def isf(self, p: np.ndarray) -> np.ndarray:
        """Inverse survival function: the ``x`` with ``P(X > x) = p``."""
        return self.shift - np.log(p) / self.rate

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

    def isf(self, p: np.ndarray) -> np.ndarray:
        """Inverse survival function: the ``x`` with ``P(X > x) = p``."""
        return self.scale * np.power(p, -1.0 / self.shape)

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

    def isf(self, p: np.ndarray) -> np.ndarray:
        """Inverse survival function: the ``x`` with ``P(X > x) = p``."""
        return self.scale * np.power(-np.log(p), 1.0 / self.shape)

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

    def logsf_at_log(self, t: np.ndarray) -> np.ndarray:
        """``log P(X > exp(t))``, for ``t`` beyond what a float ``x`` can hold."""
        return special.log_ndtr((self.mu - np.asarray(t, dtype=float)) / self.sigma)

    def isf(self, p: np.ndarray) -> np.ndarray:
        """Inverse survival function: the ``x`` with ``P(X > x) = p``."""
        with np.errstate(over="ignore"):
            return np.exp(self.mu - self.sigma * special.ndtri(np.asarray(p, dtype=float)))

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
        _cached_samples(p, info.data.get("column"), info.data.get("worker"))
        return str(p)

    @model_validator(mode="after")
    def _load(self) -> Empirical:
        samples = _cached_samples(Path(self.path), self.column, self.worker)
        if self.worker is None:
            self._samples = samples
        else:
            self._samples, self._workers = samples
        return self

    @property
    def per_worker(self) -> bool:
        """Whether worker ``j`` replays the delays of worker ``j`` of the trace."""
        return self._workers is not None

    @property
    def trace_workers(self) -> int:
        """Workers in the trace (``worker`` given), else 0."""
        return 0 if self._workers is None else int(self._workers.shape[0] - 1)

    def sample(self, rng, size):
        return rng.choice(self._samples, size=size, replace=True)

    def sample_workers(self, rng: np.random.Generator, workers: np.ndarray) -> np.ndarray:
        """One delay for each of ``workers``, drawn from that worker's own trace samples
        (the trace's workers in the order of their ids)."""
        ptr = self._workers
        workers = np.asarray(workers, dtype=np.int64)
        count = ptr[workers + 1] - ptr[workers]
        pick = np.minimum((rng.random(workers.size) * count).astype(np.int64), count - 1)
        return self._samples[ptr[workers] + pick]

    def sample_any(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Delays of new workers, each replaying a trace worker chosen at random."""
        return self.sample_workers(rng, rng.integers(0, self.trace_workers, size))

    @property
    def samples(self) -> np.ndarray:
        return self._samples

    def atoms(self):
        return self._cached()[1:3]

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


def _cached_samples(path: Path, column: str | int | None, worker: str | None = None):
    """:func:`read_samples` (or :func:`read_trace` with a ``worker`` column), remembered for
    the file's current size and modification time."""
    def read():
        return read_samples(path, column) if worker is None else read_trace(path, column, worker)

    try:
        stat = path.stat()
        key = (str(path), column, worker, stat.st_size, stat.st_mtime_ns)
    except OSError:
        return read()
    if key not in _SAMPLES:
        if len(_SAMPLES) > 8:
            _SAMPLES.clear()
        _SAMPLES[key] = read()
    return _SAMPLES[key]


_SAMPLES: dict[tuple, Any] = {}
_ATOMS: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}


class SamplesError(ValueError):
    """A delay-sample file that cannot be used; reported under the key ``path``."""


def _read_table(path: Path) -> tuple[list[str] | None, list[list[str]], str]:
    """The header (or ``None``) and rows of a CSV file of samples, and its name to show."""
    where = shown(path)
    try:
        text = read_text(path, MAX_SAMPLES_BYTES, "file")
    except UnreadableFile as exc:
        message = str(exc)
        if message == "file not found":
            raise SamplesError(f"file not found: {where}") from None
        if message == "file is not a regular file":
            raise SamplesError(f"not a regular file: {where}") from None
        raise SamplesError(f"cannot read {where} as text ({message})") from None
    lines = [line for line in text.splitlines() if line.strip()]
    rows = [[cell.strip() for cell in line.split(",")] for line in lines]
    header = None
    if rows and not all(_is_number(cell) for cell in rows[0]):
        header, rows = rows[0], rows[1:]
    return header, rows, where


def _column_index(header, rows, where, column, role: str = "delays") -> int:
    width = max((len(r) for r in ([header] if header else []) + rows), default=1)
    if column is None:
        if width > 1:
            names = ", ".join(repr(h) for h in header) if header else f"{width} unnamed columns"
            raise SamplesError(f"{where} has {width} columns ({names}); give `column:` (a name "
                               f"or a 0-based position) to say which holds the {role}")
        return 0
    if isinstance(column, str):
        if header is None or column not in header:
            found = ", ".join(repr(h) for h in header) if header else "no header line"
            raise SamplesError(f"{where} has no column {column!r} (found {found})")
        return header.index(column)
    if column >= width:
        raise SamplesError(f"{where} has {width} column(s); column {column} does not exist")
    return column


def _values(rows, index: int, where: str) -> np.ndarray:
    if not rows:
        raise SamplesError(f"no samples in {where}")
    values = []
    for lineno, row in enumerate(rows, start=1):
        cell = row[index] if index < len(row) else ""
        if not _is_number(cell):
            raise SamplesError(f"sample {lineno} of {where} is not a number: {cell[:30]!r}")
        values.append(float(cell))
    samples = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(samples) | (samples < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise SamplesError(
            f"samples must be finite and >= 0; sample {i + 1} of {where} is {float(samples[i])!r}"
        )
    return samples


def read_samples(path: Path, column: str | int | None = None) -> np.ndarray:
    """Read delay samples from a CSV file; raise :class:`SamplesError` naming what is wrong.

    Parameters
    ----------
    path : Path
        The CSV file: one sample per line, a header line allowed.
    column : str or int, optional
        The column to read when the file has several (header name or 0-based position).
    """
    header, rows, where = _read_table(path)
    return _values(rows, _column_index(header, rows, where, column), where)


def read_trace(path: Path, column: str | int | None, worker: str
               ) -> tuple[np.ndarray, np.ndarray]:
    """Delay samples of a trace with a ``worker`` column: the samples grouped by worker (in
    the order of the worker ids) and the offsets of each worker's group (CSR)."""
    header, rows, where = _read_table(path)
    if header is None or worker not in header:
        found = ", ".join(repr(h) for h in header) if header else "no header line"
        raise SamplesError(f"{where} has no worker column {worker!r} (found {found})")
    index = _column_index(header, rows, where, column if column is not None else
                          next((h for h in header if h != worker), None), "delays")
    samples = _values(rows, index, where)
    ids = [row[header.index(worker)] if header.index(worker) < len(row) else ""
           for row in rows]
    keys = sorted(set(ids), key=lambda v: (not _is_number(v), float(v) if _is_number(v)
                                           else 0.0, v))
    position = {key: i for i, key in enumerate(keys)}
    owner = np.array([position[v] for v in ids])
    order = np.argsort(owner, kind="stable")
    ptr = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=len(keys)), out=ptr[1:])
    return samples[order], ptr


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


_SIMPLE = (Exponential, ShiftedExponential, Pareto, Weibull, Lognormal, Constant, Empirical)
"""The built-in laws a mixture can mix (every law but a mixture)."""


class Component(StrictModel):
    """One law of a mixture with its ``weight``; in a config the law's keys sit beside the
    weight: ``{weight: 0.9, dist: exponential, rate: 1.66}``."""

    weight: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
    law: Annotated[Union[tuple(_SIMPLE)], Field(discriminator="dist")]  # noqa: UP007

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
            if getattr(component.law, "worker", None) is not None:
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


def law_types(laws: tuple[type[DelayLaw], ...]) -> tuple[Any, Any]:
    """The config types of a ``delay:`` entry and of a mixture's component law, for the laws
    ``laws`` (the registry's; the built-in ones give exactly :data:`Law`).

    A law registered beside the built-in ones (:func:`register`) needs a mixture that can
    hold it: a subclass of :class:`Mixture` whose components accept every law but a
    mixture, made here (and named at module level, so that configs pickle).
    """
    simple = tuple(law for law in laws if not issubclass(law, Mixture))
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
        globals()[model.__name__] = model
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


def __getattr__(name: str):
    """The mixture and component models made for plugin laws (:func:`law_types`), when a
    config that holds one is unpickled in a fresh process."""
    if name.startswith(("Mixture_", "Component_")):
        from ..plugins import load_plugins

        load_plugins()
        law_types(tuple(LAWS.values()))
        if name in globals():
            return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
