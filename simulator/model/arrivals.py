"""Arrival processes of jobs (``arrivals:``): when the jobs of a queueing run reach the
cluster.

Each is a small validated class with ``times(rng, jobs)`` (the arrival times of ``jobs`` jobs,
non-decreasing, the first after time 0), ``rate`` (jobs per second in the long run) and
``label()``. :data:`ARRIVALS` lists them by their ``process`` name; the config union
:data:`Arrivals` is built from it.

* ``poisson``: exponential gaps of mean ``1 / rate`` (the first job arrives after one gap);
* ``periodic``: one job every ``interval`` seconds (the first at ``interval``);
* ``trace``: the arrival times read from a CSV file (one time a line, a header allowed, the
  column chosen as for an ``empirical`` delay law): the run's ``jobs`` are the first ones of
  the trace, which must hold that many (a run never wraps a trace around).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from ..util.samples import cached_samples
from ..util.text import reason
from ..util.validation import CrossFieldError, StrictModel

Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class ArrivalProcess(StrictModel):
    """Base of every arrival process; each also has ``rate``, the jobs per second in the long
    run."""

    def times(self, rng: np.random.Generator, jobs: int) -> np.ndarray:
        """Arrival times of ``jobs`` jobs, shape ``(jobs,)``, drawn from ``rng`` only."""
        raise NotImplementedError

    def label(self) -> str:
        """Short text for tables and plots."""
        raise NotImplementedError

    def check_jobs(self, jobs: int) -> None:
        """Refuse a run of ``jobs`` jobs the process cannot give (:class:`CrossFieldError`)."""


class Poisson(ArrivalProcess):
    """A Poisson process of ``rate`` jobs per second."""

    process: Literal["poisson"] = "poisson"
    rate: Positive

    def times(self, rng, jobs):
        return np.cumsum(rng.exponential(1.0 / self.rate, jobs))

    def label(self) -> str:
        return f"Poisson({self.rate:g})"


class Periodic(ArrivalProcess):
    """One job every ``interval`` seconds."""

    process: Literal["periodic"] = "periodic"
    interval: Positive

    def times(self, rng, jobs):
        return self.interval * np.arange(1, jobs + 1, dtype=np.float64)

    @property
    def rate(self) -> float:
        return 1.0 / self.interval

    def label(self) -> str:
        return f"every {self.interval:g} s"


class Trace(ArrivalProcess):
    """Arrival times read from a CSV file (see the module docstring); they must be finite,
    non-negative and non-decreasing. A relative ``path`` is taken from the config's folder."""

    process: Literal["trace"] = "trace"
    path: str
    column: str | Annotated[int, Field(ge=0)] | None = None
    _times: np.ndarray = PrivateAttr()

    @field_validator("path")
    @classmethod
    def _resolve(cls, path: str, info: ValidationInfo) -> str:
        base = (info.context or {}).get("base_dir")
        try:
            p = Path(path).expanduser()
            if not p.is_absolute() and base is not None:
                p = Path(base) / p
            p = p.resolve()
        except (OSError, RuntimeError, ValueError) as exc:
            raise ValueError(f"not a usable file path ({reason(exc)})") from None
        cached_samples(p, info.data.get("column"))  # fail here, under the key 'path'
        return str(p)

    @model_validator(mode="after")
    def _load(self) -> Trace:
        times = np.asarray(cached_samples(Path(self.path), self.column), dtype=np.float64)
        steps = np.diff(times)
        if steps.size and (steps < 0).any():
            row = int(np.argmax(steps < 0)) + 2
            raise CrossFieldError("path", f"arrival times must not decrease (value {row} is "
                                  f"below the one before it)", self.path)
        self._times = times
        return self

    def times(self, rng, jobs):
        return self._times[:jobs].copy()

    @property
    def rate(self) -> float:
        t = self._times
        return (t.size - 1) / (t[-1] - t[0]) if t.size > 1 and t[-1] > t[0] else float("inf")

    def label(self) -> str:
        return f"trace ({Path(self.path).name})"

    def check_jobs(self, jobs: int) -> None:
        if jobs > self._times.size:
            raise CrossFieldError("jobs", f"the trace holds {self._times.size} arrivals; a run "
                                  "never wraps it around", jobs)


ARRIVALS: dict[str, type[ArrivalProcess]] = {
    "poisson": Poisson,
    "periodic": Periodic,
    "trace": Trace,
}
"""Every arrival process by its ``process`` name."""

Arrivals = Annotated[Union[tuple(ARRIVALS.values())], Field(discriminator="process")]  # noqa: UP007
"""The config type of an ``arrivals:`` entry."""
