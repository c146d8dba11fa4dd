"""Start-up delay distributions ``X_j`` of the workers.

Each distribution is a small validated model with ``sample(rng, size)`` and analytic
``mean`` and ``variance`` (``inf`` where the moment does not exist), so every family is also a
free statistical test of the sampler.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from .validation import StrictModel

Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]


class Exponential(StrictModel):
    """Exponential with ``rate`` (mean ``1/rate``)."""

    dist: Literal["exponential"]
    rate: Positive

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        return rng.exponential(1.0 / self.rate, size)

    @property
    def mean(self) -> float:
        return 1.0 / self.rate

    @property
    def variance(self) -> float:
        return 1.0 / self.rate**2


class ShiftedExponential(StrictModel):
    """``shift`` plus an exponential with ``rate``."""

    dist: Literal["shifted_exponential"]
    shift: NonNegative
    rate: Positive

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        return self.shift + rng.exponential(1.0 / self.rate, size)

    @property
    def mean(self) -> float:
        return self.shift + 1.0 / self.rate

    @property
    def variance(self) -> float:
        return 1.0 / self.rate**2


class Pareto(StrictModel):
    """Classical (type I) Pareto: ``P(X > x) = (scale / x) ** shape`` for ``x >= scale``."""

    dist: Literal["pareto"]
    scale: Positive
    shape: Positive

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        # Inversion with U in (0, 1]; U = 0 would give an infinite delay.
        u = 1.0 - rng.random(size)
        return self.scale * u ** (-1.0 / self.shape)

    @property
    def mean(self) -> float:
        a = self.shape
        return a * self.scale / (a - 1.0) if a > 1 else math.inf

    @property
    def variance(self) -> float:
        a = self.shape
        return self.scale**2 * a / ((a - 1.0) ** 2 * (a - 2.0)) if a > 2 else math.inf


class Weibull(StrictModel):
    """Weibull with ``scale`` and ``shape``: ``P(X > x) = exp(-(x / scale) ** shape)``."""

    dist: Literal["weibull"]
    scale: Positive
    shape: Positive

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        return self.scale * rng.weibull(self.shape, size)

    @property
    def mean(self) -> float:
        return self.scale * math.gamma(1.0 + 1.0 / self.shape)

    @property
    def variance(self) -> float:
        g1 = math.gamma(1.0 + 1.0 / self.shape)
        g2 = math.gamma(1.0 + 2.0 / self.shape)
        return self.scale**2 * (g2 - g1**2)


class Lognormal(StrictModel):
    """``exp(N(mu, sigma**2))``."""

    dist: Literal["lognormal"]
    mu: Finite
    sigma: Positive

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        return rng.lognormal(self.mu, self.sigma, size)

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2.0)

    @property
    def variance(self) -> float:
        s2 = self.sigma**2
        return math.expm1(s2) * math.exp(2.0 * self.mu + s2)


class Constant(StrictModel):
    """The same delay ``value`` at every worker."""

    dist: Literal["constant"]
    value: NonNegative

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        return np.full(size, self.value, dtype=np.float64)

    @property
    def mean(self) -> float:
        return self.value

    @property
    def variance(self) -> float:
        return 0.0


class Empirical(StrictModel):
    """Resampling (with replacement) of measured delays read from a CSV file.

    The file holds one number per line (a header line is allowed, a first column is used when
    there are several). A relative ``path`` is taken from the folder of the config file.
    Samples must be finite and non-negative.
    """

    dist: Literal["empirical"]
    path: str
    _samples: np.ndarray = PrivateAttr()

    @field_validator("path")
    @classmethod
    def _resolve(cls, path: str, info: ValidationInfo) -> str:
        base = (info.context or {}).get("base_dir")
        p = Path(path).expanduser()
        if not p.is_absolute() and base is not None:
            p = Path(base) / p
        p = p.resolve()
        read_samples(p)  # fail here, under the key 'path'
        return str(p)

    @model_validator(mode="after")
    def _load(self) -> Empirical:
        self._samples = read_samples(Path(self.path))
        return self

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        return rng.choice(self._samples, size=size, replace=True)

    @property
    def samples(self) -> np.ndarray:
        return self._samples

    @property
    def mean(self) -> float:
        return float(np.mean(self._samples))

    @property
    def variance(self) -> float:
        return float(np.var(self._samples))


def read_samples(path: Path) -> np.ndarray:
    """Read delay samples from a CSV file; raise ``ValueError`` naming what is wrong."""
    if not path.is_file():
        raise ValueError(f"file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path} as text ({exc.__class__.__name__})") from None
    rows = [line.split(",")[0].strip() for line in text.splitlines() if line.strip()]
    if rows and not _is_number(rows[0]):
        rows = rows[1:]  # a header
    if not rows:
        raise ValueError(f"no samples in {path}")
    values = []
    for lineno, cell in enumerate(rows, start=1):
        if not _is_number(cell):
            raise ValueError(f"sample {lineno} of {path} is not a number: {cell[:30]!r}")
        values.append(float(cell))
    samples = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(samples) | (samples < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"samples must be finite and >= 0; sample {i + 1} of {path} is {samples[i]!r}"
        )
    return samples


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


Delay = Annotated[
    Union[Exponential, ShiftedExponential, Pareto, Weibull, Lognormal, Constant, Empirical],  # noqa: UP007
    Field(discriminator="dist"),
]
DELAY_FAMILIES = ("exponential", "shifted_exponential", "pareto", "weibull", "lognormal",
                  "constant", "empirical")
