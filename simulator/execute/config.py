"""``ltsim execute`` configuration: YAML -> validated, frozen :class:`ExecuteConfig`.

The scheme entries, the delay families and the one-line error messages are those of
``ltsim run`` (:mod:`simulator.config`): the same helpers are reused here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from .. import config as sim_config
from ..delays import Delay
from ..schemes import CrossFieldError
from ..validation import StrictModel
from .workload import GaussianKernel


class FailSpec(StrictModel):
    """Logical workers that never return: those listed plus each other with ``probability``.

    ``mode: raise`` makes them raise after their start-up delay (a crashed worker);
    ``mode: hang`` makes them wait until cancelled (a worker that is lost silently).
    """

    workers: list[Annotated[int, Field(ge=0)]] = Field(default_factory=list)
    probability: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.0
    mode: Literal["raise", "hang"] = "raise"


class ExecuteConfig(StrictModel):
    """A real execution: workload, schemes (as in ``ltsim run``), delays and failures.

    ``delay`` (optional) is an injected start-up delay per logical worker, drawn like the
    simulator's and multiplied by ``time_scale``; ``timeout`` (seconds) bounds one scheme's
    trial, after which it is reported as failed.
    """

    foreign_keys: ClassVar[dict[str, str]] = {"m": "ltsim run", "tau": "ltsim run"}

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]
    workload: GaussianKernel
    workers: Annotated[int, Field(ge=1)] | None = None
    schemes: Annotated[list[sim_config.AnyScheme], Field(min_length=1)]
    trials: Annotated[int, Field(ge=1, le=10**6)]
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    delay: Delay | None = None
    time_scale: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 1.0
    timeout: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 60.0
    fail: FailSpec | None = None

    @model_validator(mode="after")
    def _cross_fields(self) -> ExecuteConfig:
        sim_config.check_system(self.m, self.workers, self.schemes)
        if self.fail is not None:
            for i, worker in enumerate(self.fail.workers):
                if worker >= self.n_workers:
                    raise CrossFieldError(
                        f"fail.workers[{i}]", f"must be below workers ({self.n_workers})", worker
                    )
        return self

    @property
    def m(self) -> int:
        """Number of kernel terms."""
        return self.workload.m

    @property
    def n_workers(self) -> int:
        """Number of logical workers (``m`` unless ``workers`` is given)."""
        return self.workers or self.m

    @property
    def terms_per_unit(self) -> int:
        """Kernel terms in one worker-level function ``f_j``: ``m / workers``."""
        return self.m // self.n_workers

    def resolved(self) -> dict[str, Any]:
        """The configuration with every default filled in, as plain data."""
        data = self.model_dump(mode="json")
        data["workers"] = self.n_workers
        data["workload"]["sigma"] = self.workload.bandwidth
        return data


def validate(data: Any, base_dir: Path | None = None) -> ExecuteConfig:
    """Validate plain data; raise :class:`ConfigError` with one line on the first problem."""
    return sim_config.validate(data, base_dir, model=ExecuteConfig)


def load(path: str | Path, overrides: dict[str, Any] | None = None) -> ExecuteConfig:
    """Read, override (top-level keys such as ``trials``) and validate a config file."""
    return sim_config.load(path, overrides, model=ExecuteConfig)
