"""Configs: YAML -> dict -> validated, frozen models, one line per problem.

Two kinds of config share one system model (:class:`System`: name, workers, trials, seed,
delay, schemes): ``ltsim run`` configs (:class:`RunConfig`, adding ``m`` and ``tau``) and
``ltsim execute`` configs (:class:`ExecuteConfig`, adding the workload, the delay injection and
the failures). The scheme entries are the registered codes (:data:`ltsim.codes.CODES`);
the models are built from the registry, so a code registered at run time is accepted at once.
"""

from __future__ import annotations

import functools
import math
import typing
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union

import numpy as np
from pydantic import BaseModel, Field, ValidationError, model_validator

from ..codes import CODES, Code, CrossFieldError, code_kind
from ..codes.backup import ENGINES
from ..model.arrivals import ARRIVALS, Arrivals
from ..model.cluster import Cluster, Persistence, WorkerClass, stationary
from ..model.laws import LAWS, LAWS_BUILT_IN, Law, Mixture, law_types
from ..model.skew import Skew
from ..model.system import SystemView
from ..util.text import UnreadableFile, read_text
from ..util.validation import (
    ConfigError,
    StrictModel,
    describe_error,
    key_path,
    one_line,
    short_repr,
    sorted_errors,
    unknown_key_message,
)
from . import overrides
from .yamlio import MAX_CONFIG_BYTES, MAX_NESTING, parse_yaml

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]
DEFAULT_JOBS = 1000
"""Jobs per trial of a queueing run unless ``jobs:`` says otherwise."""
Seed = Annotated[int, Field(ge=0, lt=2**63)]
_UNION_FIELDS = {"delay": "dist", "speed": "dist", "components": "dist", "schemes": "kind",
                 "arrivals": "process", "policy": "engine"}


class System(StrictModel):
    """What run and execute configs share: the workers, the trials, the delay law, the
    schemes. ``workers`` defaults to the number of functions ``m`` and must divide it."""

    kind_name: ClassVar[str] = "?"
    command: ClassVar[str] = "?"
    foreign_keys: ClassVar[dict[str, str]] = {}

    name: Name
    workers: Annotated[int, Field(ge=1)] | None = None
    seed: Seed = 0
    schemes: list[Code]
    classes: Annotated[list[WorkerClass], Field(min_length=1)] | None = None
    speed: Law | None = None
    price_per_second: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    rounds: Annotated[int, Field(ge=1, le=10**6)] | None = None
    persistence: Persistence | None = None

    @property
    def iterative(self) -> bool:
        """An iterative job of ``rounds`` > 1 rounds, each released when the previous one
        completes (``rounds: 1`` is a plain run)."""
        return self.rounds is not None and self.rounds > 1

    @property
    def job_stream(self) -> bool:
        """Jobs one after another on the same workers (rounds; in a run, also arrivals)."""
        return self.iterative

    @property
    def stream_jobs(self) -> int:
        """Rounds or jobs of a trial (1 for a single job)."""
        return self.rounds or 1

    def check_streams(self) -> None:
        """What needs rounds (or arrivals): persistent classes, traces by iteration."""
        if self.persistence is not None:
            self.check_persistence()
        if getattr(self.delay, "per_iteration", False):
            if not self.job_stream:
                raise CrossFieldError("delay.iteration", "only with rounds > 1 or arrivals (a "
                                      "trace by iteration replays iteration k in round or job "
                                      "k)", self.delay.iteration)
            if self.delay.trace_iterations < self.stream_jobs:
                raise CrossFieldError("delay.iteration", f"the trace holds "
                                      f"{self.delay.trace_iterations} iterations of a worker "
                                      f"(its fewest), fewer than the {self.stream_jobs} "
                                      "rounds or jobs (it is never wrapped around)",
                                      self.delay.iteration)

    def check_persistence(self) -> None:
        """``persistence``: one of ``stay`` and ``transition``, with two classes or more, in
        rounds or a queueing run; a transition matrix over the classes, rows summing to 1,
        whose stationary law is the fractions."""
        spec = self.persistence
        if (spec.stay is None) == (spec.transition is None):
            raise CrossFieldError("persistence", "give exactly one of stay and transition",
                                  spec.model_dump(exclude_none=True))
        classes = len(self.classes or ())
        if classes < 2:
            raise CrossFieldError("persistence", "needs two worker classes or more (a "
                                  "machine's class is what persists)", classes)
        if not self.job_stream:
            raise CrossFieldError("persistence", "only with rounds > 1 or arrivals (a class "
                                  "evolves from one round or job to the next)",
                                  spec.model_dump(exclude_none=True))
        if spec.transition is None:
            return
        matrix = np.array(spec.transition, dtype=np.float64)
        if matrix.shape != (classes, classes):
            raise CrossFieldError("persistence.transition", f"must be a {classes} x {classes} "
                                  "matrix (one row and column per class)", spec.transition)
        sums = matrix.sum(axis=1)
        if np.abs(sums - 1.0).max() > 1e-9:
            raise CrossFieldError("persistence.transition", "every row must sum to 1",
                                  [float(x) for x in sums])
        law = stationary(matrix)
        fractions = np.array([c.fraction for c in self.classes])
        if np.abs(law - fractions).max() > 1e-6:
            raise CrossFieldError("persistence.transition", "its stationary law "
                                  f"{[round(float(x), 6) for x in law]} must be the classes' "
                                  "fractions", [c.fraction for c in self.classes])

    @property
    def n_workers(self) -> int:
        """Number of workers ``n`` (``m`` unless ``workers`` is given)."""
        return self.workers or self.m

    def check_system(self) -> None:
        """Cross-field rules: the workers divide ``m``, each scheme fits the workers, scheme
        ids are unique."""
        if self.workers is not None and self.m % self.workers:
            raise CrossFieldError("workers", f"must divide m ({self.m})", self.workers)
        n = self.n_workers
        seen: dict[str, int] = {}
        for i, scheme in enumerate(self.schemes):
            try:
                scheme.check(n)
                scheme.check_functions(self.m)
            except CrossFieldError as exc:
                raise exc.under(f"schemes[{i}]") from None
            if scheme.scheme_id in seen:
                raise CrossFieldError(
                    f"schemes[{i}]",
                    f"scheme id repeats schemes[{seen[scheme.scheme_id]}]; add a distinct "
                    "'label'",
                    scheme.scheme_id,
                )
            seen[scheme.scheme_id] = i

    def check_cluster(self) -> None:
        """Rules of worker classes and traces: fractions summing to 1 that leave every class
        its workers, a per-worker trace with one worker per worker and no classes."""
        n = self.n_workers
        if self.classes is not None:
            total = math.fsum(c.fraction for c in self.classes)
            if abs(total - 1.0) > 1e-9:
                raise CrossFieldError("classes", "the fractions must sum to 1", total)
            counts = self.cluster().counts(n)
            if counts[0] < 0:
                raise CrossFieldError("classes", f"the rounded class sizes exceed the {n} "
                                      "workers", counts)
        if self.speed is not None and self.speed.per_worker:
            raise CrossFieldError("speed.worker", "speed factors are drawn per worker from "
                                  "the law; a per-worker trace is a delay law only",
                                  self.speed.worker)
        if self.speed is not None and not self.speed.mean > 0:
            raise CrossFieldError("speed", "the speed law must have a positive mean",
                                  self.speed.mean)
        laws = [("delay", self.delay)] + [(f"classes[{i}].delay", c.delay)
                                          for i, c in enumerate(self.classes or [])]
        for key, law in laws:
            if law is not None and law.per_worker:
                if self.classes is not None:
                    raise CrossFieldError(key, "a per-worker trace cannot be combined with "
                                          "classes", law.worker)
                if law.trace_workers != n:
                    raise CrossFieldError(key + ".worker", f"the trace has {law.trace_workers} "
                                          f"workers; the system has {n}", law.worker)

    def cluster(self) -> Cluster:
        """How the workers of a trial are drawn, their classes evolving with
        ``persistence``."""
        return Cluster(self.delay, tuple(self.classes or ()), self.speed, self.persistence)

    def resolved(self) -> dict[str, Any]:
        """The configuration with every default filled in, as plain data (``rounds: 1`` is
        a single job, written as one)."""
        data = self.model_dump(mode="json")
        data["workers"] = self.n_workers
        for key in ("classes", "speed", "price_per_second", "persistence"):
            if data.get(key) is None:
                data.pop(key, None)
        if self.persistence is not None:
            data["persistence"] = self.persistence.model_dump(mode="json", exclude_none=True)
        if not self.iterative:
            data.pop("rounds", None)
        return data


class RunConfig(System):
    """A Monte-Carlo experiment: ``m`` functions of time ``tau`` on ``workers`` workers, the
    delay law and the schemes to compare."""

    kind_name: ClassVar[str] = "run"
    command: ClassVar[str] = "ltsim run"
    foreign_keys: ClassVar[dict[str, str]] = {"workload": "ltsim execute",
                                              "time_scale": "ltsim execute",
                                              "timeout": "ltsim execute",
                                              "fail": "ltsim execute"}

    m: Annotated[int, Field(ge=1, le=10**12)]
    tau: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    trials: Annotated[int, Field(ge=1, le=10**9)]
    delay: Law
    computation: Literal["nonlinear", "linear"] = "nonlinear"
    arrivals: Arrivals | None = None
    jobs: Annotated[int, Field(ge=1, le=10**7)] | None = None
    warmup: Annotated[int, Field(ge=0)] | None = None
    cancel_delay: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    skew: Skew | None = None

    @property
    def unit_time(self) -> float:
        """Time of one worker-level function: ``tau * m / n``."""
        return self.tau * (self.m // self.n_workers)

    @property
    def linear(self) -> bool:
        """``computation: linear``: an encoded symbol costs one source symbol."""
        return self.computation == "linear"

    @property
    def queueing(self) -> bool:
        """A stream of jobs (``arrivals:``) rather than one job on an idle cluster."""
        return self.arrivals is not None

    @property
    def job_stream(self) -> bool:
        """Jobs one after another on the same workers: a queueing run or rounds."""
        return self.queueing or self.iterative

    @property
    def stream_jobs(self) -> int:
        """Jobs of a queueing run, rounds of an iterative job, else 1."""
        return self.queue_jobs if self.job_stream else 1

    @property
    def queue_jobs(self) -> int:
        """Jobs per trial of a queueing run (default 1000), or the rounds of an iterative
        job."""
        if self.iterative:
            return self.rounds
        return self.jobs if self.jobs is not None else DEFAULT_JOBS

    @property
    def queue_warmup(self) -> int:
        """Jobs discarded at the start of every trial (default a tenth of the jobs; none of
        the rounds of an iterative job)."""
        if self.iterative:
            return 0
        return self.warmup if self.warmup is not None else self.queue_jobs // 10

    @property
    def queue_cancel(self) -> float:
        """Seconds a worker takes to stop a task of a completed job (default 0)."""
        return self.cancel_delay if self.cancel_delay is not None else 0.0

    def view(self) -> SystemView:
        """The system as the closed forms see it."""
        return SystemView(self.delay, self.n_workers, self.unit_time, self.cluster(),
                          self.linear, self.skew)

    def task_work(self) -> np.ndarray | None:
        """Every task's work in nominal units (``skew:``), or ``None``."""
        return None if self.skew is None else self.skew.task_work(self.n_workers)

    def check_run(self) -> None:
        """Rules of the computation and of queueing runs: the codes defined for a linear
        computation or in a queue; jobs, warm-up and cancel delay only with arrivals, the
        warm-up below the jobs, a trace holding the jobs."""
        for i, scheme in enumerate(self.schemes):
            if self.linear and not type(scheme).linear:
                raise CrossFieldError(f"schemes[{i}].kind", "is not defined for "
                                      "computation: linear", code_kind(type(scheme)))
            try:
                scheme.check_computation(self.n_workers, self.linear)
            except CrossFieldError as exc:
                raise exc.under(f"schemes[{i}]") from None
            if self.job_stream and not type(scheme).queues:
                raise CrossFieldError(f"schemes[{i}].kind", "is not defined in a queueing "
                                      "run (arrivals) or rounds", code_kind(type(scheme)))
        self.check_streams()
        if self.skew is not None:
            self.check_skew()
        if self.rounds is not None and self.queueing:
            raise CrossFieldError("rounds", "not with arrivals: a round is released when the "
                                  "previous one completes", self.rounds)
        if not self.queueing:
            for key in ("jobs", "warmup") if self.iterative else ("jobs", "warmup",
                                                                   "cancel_delay"):
                if getattr(self, key) is not None:
                    raise CrossFieldError(key, "only with arrivals (a queueing run)"
                                          + (" or rounds > 1" if key == "cancel_delay"
                                             else ""), getattr(self, key))
            return
        if self.queue_warmup >= self.queue_jobs:
            raise CrossFieldError("warmup", f"must be below jobs ({self.queue_jobs}): the "
                                  "warm-up jobs are discarded", self.queue_warmup)
        try:
            self.arrivals.check_jobs(self.queue_jobs)
        except CrossFieldError as exc:
            raise exc if exc.key == "jobs" else exc.under("arrivals") from None

    def check_skew(self) -> None:
        """``skew``: at least one heavy task, only with codes whose task is a fixed
        partition (:attr:`~ltsim.codes.base.Code.skews`)."""
        if self.skew.heavy(self.n_workers) < 1:
            raise CrossFieldError("skew.fraction", f"leaves no heavy task among the "
                                  f"{self.n_workers} tasks (floor(fraction n + 1/2) is 0)",
                                  self.skew.fraction)
        for i, scheme in enumerate(self.schemes):
            if not type(scheme).skews:
                raise CrossFieldError(f"schemes[{i}].kind", "is not defined with skew (a "
                                      "heavy task is a partition; defined for uncoded and "
                                      "backup)", code_kind(type(scheme)))

    def resolved(self) -> dict[str, Any]:
        data = super().resolved()
        if data.get("skew", 0) is None:
            data.pop("skew")
        if data.get("computation") == "nonlinear":
            data.pop("computation")  # the paper's (and earlier versions') default
        for key in ("arrivals", "jobs", "warmup", "cancel_delay"):
            data.pop(key, None)
        if self.queueing:
            data.update(arrivals=self.arrivals.model_dump(mode="json"), jobs=self.queue_jobs,
                        warmup=self.queue_warmup, cancel_delay=self.queue_cancel)
        if self.iterative:
            data.update(cancel_delay=self.queue_cancel)
        return _ordered(data, ["name", "m", "workers", "tau", "trials", "seed", "computation",
                               "arrivals", "jobs", "warmup", "rounds", "cancel_delay", "delay",
                               "classes", "persistence", "speed", "skew", "schemes"])


class FailSpec(StrictModel):
    """Logical workers that never return, in every scheme of a trial: the union of two sets.

    * ``workers``: these fail in every trial (``probability`` does not apply to them);
    * ``probability`` ``p``: in every trial, independently, *every* worker (listed or not)
      fails with probability ``p`` (one uniform ``U_j`` per worker from child
      ``1 + len(schemes)`` of the trial's seed sequence, drawn only when ``p > 0``: worker
      ``j`` fails when ``U_j < p``). So ``{workers: [3], probability: 1.0}`` fails every
      worker, and ``{workers: [3], probability: 0.1}`` fails worker 3 and about 10 % of the
      others.

    ``mode: raise`` makes them raise after their start-up delay (a crashed worker);
    ``mode: hang`` makes them wait until cancelled (a worker that is lost silently).
    """

    workers: list[Annotated[int, Field(ge=0)]] = Field(default_factory=list)
    """Workers (0-based, below ``workers``) that fail in every trial."""
    probability: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.0
    """Probability that each worker, listed or not, fails in a trial (independently)."""
    mode: Literal["raise", "hang"] = "raise"


class GaussianKernel(StrictModel):
    """``m`` points ``a_i`` in ``R^dim`` and the query ``x``, all standard normal from ``seed``.

    ``sigma`` defaults to ``sqrt(dim)``, which keeps the kernel values near ``exp(-1)`` so that
    no term underflows. ``term_seconds`` (default 0) adds an emulated compute time per kernel
    term, slept by the worker: a stand-in for slower hardware, as ``time_scale`` is for
    start-up delays.
    """

    kind: Literal["gaussian_kernel"] = "gaussian_kernel"
    m: Annotated[int, Field(ge=1, le=10**7)]
    dim: Annotated[int, Field(ge=1, le=10**5)]
    sigma: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    seed: Seed = 0
    term_seconds: Annotated[float, Field(ge=0, le=60, allow_inf_nan=False)] = 0.0

    @property
    def bandwidth(self) -> float:
        """The kernel width actually used."""
        return self.sigma if self.sigma is not None else math.sqrt(self.dim)


class ExecuteConfig(System):
    """A real execution: workload, schemes (as in ``ltsim run``), delays and failures.

    ``delay`` (optional) is an injected start-up delay per logical worker, drawn like the
    simulator's and multiplied by ``time_scale``; ``timeout`` (seconds) bounds one scheme's
    trial, after which it is reported as failed.
    """

    kind_name: ClassVar[str] = "execute"
    command: ClassVar[str] = "ltsim execute"
    foreign_keys: ClassVar[dict[str, str]] = {"m": "ltsim run", "tau": "ltsim run",
                                              "skew": "ltsim run"}

    workload: GaussianKernel
    trials: Annotated[int, Field(ge=1, le=10**6)]
    delay: Law | None = None
    time_scale: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 1.0
    timeout: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 60.0
    fail: FailSpec | None = None

    @property
    def m(self) -> int:
        """Number of kernel terms."""
        return self.workload.m

    @property
    def terms_per_unit(self) -> int:
        """Kernel terms in one worker-level function ``f_j``: ``m / workers``."""
        return self.m // self.n_workers

    def check_execution(self) -> None:
        """Rules of real runs: every scheme can execute, failing workers exist."""
        for i, scheme in enumerate(self.schemes):
            if not scheme.executable:
                raise CrossFieldError(
                    f"schemes[{i}].kind", "runs in simulation only (ltsim run), not in "
                    "ltsim execute", code_kind(type(scheme)))
            try:
                scheme.check_execution(self.n_workers)
            except CrossFieldError as exc:
                raise exc.under(f"schemes[{i}]") from None
        if self.fail is not None:
            for i, worker in enumerate(self.fail.workers):
                if worker >= self.n_workers:
                    raise CrossFieldError(f"fail.workers[{i}]",
                                          f"must be below workers ({self.n_workers})", worker)
        self.check_streams()

    def resolved(self) -> dict[str, Any]:
        data = super().resolved()
        data["workload"]["sigma"] = self.workload.bandwidth
        return data


def _ordered(data: dict[str, Any], first: list[str]) -> dict[str, Any]:
    return {**{k: data[k] for k in first if k in data},
            **{k: v for k, v in data.items() if k not in first}}


@functools.lru_cache(maxsize=8)
def _models(codes: tuple[type[Code], ...], laws: tuple[type, ...] = tuple(LAWS.values())
            ) -> dict[str, type[System]]:
    """Concrete config models whose ``schemes`` accept exactly ``codes`` and whose laws
    (``delay``, ``speed``, the classes' delays, a mixture's components) exactly ``laws``."""
    scheme = Annotated[Union[codes], Field(discriminator="kind")]  # noqa: UP007
    schemes = Annotated[list[scheme], Field(min_length=1)]
    plugin_laws = set(laws) != set(LAWS_BUILT_IN.values())
    law = law_types(laws, globals(), __name__)[0]

    class Classes(WorkerClass):
        __doc__ = WorkerClass.__doc__
        delay: law | None = None

    class Run(RunConfig):
        __doc__ = RunConfig.__doc__
        schemes: schemes
        if plugin_laws:
            delay: law
            speed: law | None = None
            classes: Annotated[list[Classes], Field(min_length=1)] | None = None

        @model_validator(mode="after")
        def _cross_fields(self):
            self.check_system()
            self.check_cluster()
            self.check_run()
            return self

    class Execute(ExecuteConfig):
        __doc__ = ExecuteConfig.__doc__
        schemes: schemes
        if plugin_laws:
            delay: law | None = None
            speed: law | None = None
            classes: Annotated[list[Classes], Field(min_length=1)] | None = None

        @model_validator(mode="after")
        def _cross_fields(self):
            self.check_system()
            self.check_cluster()
            self.check_execution()
            return self

    # Module-level names, so that configs pickle (they are sent to worker processes).
    kinds = [code_kind(c) for c in codes]
    if plugin_laws:
        kinds += [typing.get_args(c.model_fields["dist"].annotation)[0] for c in laws
                  if c not in LAWS_BUILT_IN.values()]
        Classes.__name__ = Classes.__qualname__ = "Classes_" + "_".join(kinds)
        globals()[Classes.__name__] = Classes
    suffix = "_" + "_".join("".join(ch if ch.isalnum() else "_" for ch in k) for k in kinds)
    for model, stem in ((Run, "RunModel"), (Execute, "ExecuteModel")):
        model.__name__ = model.__qualname__ = stem + suffix
        globals()[model.__name__] = model
    return {"run": Run, "execute": Execute}


def __getattr__(name: str):
    """Config models are built for the registered codes on first use (see :func:`_models`);
    unpickling one in a fresh process builds them."""
    if name.startswith(("RunModel_", "ExecuteModel_", "Classes_", "Mixture_", "Component_")):
        model_of("run")
        if name in globals():
            return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def model_of(kind: str) -> type[System]:
    """The config model of ``kind`` (``run`` or ``execute``) for the registered codes and
    laws (the plugins' among them, loaded on first use)."""
    from ..plugins import load_plugins

    load_plugins()
    return _models(tuple(CODES.values()), tuple(LAWS.values()))[kind]


def config_kind(data: Any) -> str:
    """``execute`` for data with execute-only keys (``workload``), else ``run``."""
    return "execute" if isinstance(data, dict) and "workload" in data else "run"


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The location of an error as the user wrote it: without the discriminator tags pydantic
    inserts inside tagged unions (after ``delay``, ``speed``, a mixture's ``law``, a scheme
    entry) and without the ``law`` level of a mixture component."""
    out: list[Any] = []
    for part in loc:
        previous = out[-1] if out else None
        is_law_tag = part in LAWS and previous in ("delay", "speed", "law")
        is_law_tag = is_law_tag or (part in ARRIVALS and previous == "arrivals")
        is_code_tag = (part in CODES and isinstance(previous, int) and len(out) >= 2
                       and out[-2] == "schemes")
        is_code_tag = is_code_tag or (part in ENGINES and previous == "policy")
        if isinstance(part, str) and (is_law_tag or is_code_tag):
            continue
        out.append(part)
    return tuple(p for p in out if p != "law")


def _message(error: dict[str, Any], model: type[BaseModel]) -> str:
    """One line for one pydantic error; an unknown key is answered with the closest allowed
    key of ``model``."""
    loc = _clean_loc(tuple(error["loc"]))
    kind = error["type"]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        names = [p for p in loc if isinstance(p, str)]
        field = _UNION_FIELDS.get(names[-1], "dist") if names else "kind"
        laws = ([k for k, v in LAWS.items() if not issubclass(v, Mixture)]
                if "components" in loc else LAWS)
        allowed = (", ".join(sorted(CODES)) if field == "kind" else ", ".join(ARRIVALS)
                   if field == "process" else ", ".join(ENGINES) if field == "engine"
                   else ", ".join(laws))
        path = key_path((*loc, field))
        if kind == "union_tag_not_found":
            return f"{path}: required key is missing (one of {allowed})"
        got = error["input"].get(field) if isinstance(error["input"], dict) else None
        return one_line(f"{path}: must be one of {allowed}, got {short_repr(got)}", 400)
    if kind == "value_error" and isinstance(error.get("ctx", {}).get("error"), CrossFieldError):
        cross = error["ctx"]["error"]
        return one_line(str(cross.under(key_path(loc)) if loc else cross), 400)
    if kind == "extra_forbidden":
        return unknown_key_message(error, model, key_path(loc))
    return describe_error({**error, "loc": loc})


def _yaml_kind(data: Any) -> str:
    """What YAML value ``data`` is, in YAML's words."""
    kinds = {type(None): "null (no value)", bool: "a boolean", int: "a number",
             float: "a number", str: "a string", list: "a list", dict: "a mapping"}
    return kinds.get(type(data), type(data).__name__)


def validate(data: Any, base_dir: Path | None = None, kind: str = "run") -> System:
    """Validate plain data as a config of ``kind`` (``run`` or ``execute``); raise
    :class:`ConfigError` with one line on the first problem found.

    ``base_dir`` is the folder relative file names (empirical delays) are read from.
    """
    model = model_of(kind)
    if not isinstance(data, dict):
        raise ConfigError(
            f"(top level): must be a mapping of keys to values, got {_yaml_kind(data)}"
        )
    for key, command in model.foreign_keys.items():
        if key in data:
            raise ConfigError(f"{key}: this key belongs to `{command}` configs; run this file "
                              f"with `{command}`")
    try:
        return model.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        errors = sorted_errors(exc)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(_message(errors[0], model) + more) from None
    except RecursionError:
        raise ConfigError(f"(top level): nesting deeper than {MAX_NESTING} levels") from None


def read_config(path: Path) -> Any:
    """The data of a config file (bounded, UTF-8, safe YAML); :class:`ConfigError` with one
    line (not repeating ``path``) on any problem."""
    try:
        text = read_text(Path(path), MAX_CONFIG_BYTES, "config file")
    except UnreadableFile as exc:
        raise ConfigError(str(exc)) from None
    if not text.strip():
        raise ConfigError("config file is empty")
    return parse_yaml(text)


def load(path: str | Path, kind: str | None = "run", top: dict[str, Any] | None = None,
         sets: tuple[str, ...] | list[str] = ()) -> System:
    """Read, override and validate a config file.

    Parameters
    ----------
    path : str or Path
        The YAML file.
    kind : {"run", "execute"} or None
        The config kind expected; ``None`` tells it from the keys (:func:`config_kind`).
    top : dict, optional
        Top-level keys replaced before validation (``trials``, ``seed``; ``None`` values are
        ignored).
    sets : sequence of str
        ``KEY=VALUE`` overrides (``--set``), applied after ``top``.

    Raises
    ------
    ConfigError
        With one line that does not repeat ``path``.
    """
    path = Path(path)
    data = read_config(path)
    if isinstance(data, dict) and top:
        data = {**data, **{k: v for k, v in top.items() if v is not None}}
    data = overrides.apply(data, list(sets))
    return validate(data, base_dir=path.parent, kind=kind or config_kind(data))
