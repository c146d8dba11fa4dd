"""Experiment configuration: YAML -> dict -> validated, frozen :class:`Experiment`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, TypeVar, Union

from pydantic import BaseModel, Field, ValidationError, model_validator

from .delays import Delay
from .schemes import SCHEMES, CrossFieldError, Scheme
from .validation import (
    ConfigError,
    StrictModel,
    describe_error,
    key_path,
    one_line,
    short_repr,
    sorted_errors,
    unknown_key_message,
)
from .yamlio import MAX_NESTING, read_yaml

AnyScheme = Annotated[
    Union[tuple(SCHEMES.values())],  # noqa: UP007 - built from the registry
    Field(discriminator="kind"),
]
_UNION_FIELDS = {"delay": "dist", "schemes": "kind"}
M = TypeVar("M", bound=BaseModel)


class Experiment(StrictModel):
    """A Monte-Carlo experiment: the system, the delay model and the schemes to compare.

    ``m`` functions run on ``workers`` workers (default ``m``; it must divide ``m``, each worker
    then holding ``m / workers`` functions as one task), one function taking time ``tau``.
    """

    foreign_keys: ClassVar[dict[str, str]] = {"workload": "ltsim execute"}

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]
    m: Annotated[int, Field(ge=1, le=10**12)]
    workers: Annotated[int, Field(ge=1)] | None = None
    tau: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    trials: Annotated[int, Field(ge=1, le=10**9)]
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    delay: Delay
    schemes: Annotated[list[AnyScheme], Field(min_length=1)]

    @model_validator(mode="after")
    def _cross_fields(self) -> Experiment:
        check_system(self.m, self.workers, self.schemes)
        return self

    @property
    def n_workers(self) -> int:
        """Number of workers ``n`` (``m`` unless ``workers`` is given)."""
        return self.workers or self.m

    @property
    def unit_time(self) -> float:
        """Time of one worker-level function: ``tau * m / n``."""
        return self.tau * (self.m // self.n_workers)

    def resolved(self) -> dict[str, Any]:
        """The configuration with every default filled in, as plain data."""
        data = self.model_dump(mode="json")
        data["workers"] = self.n_workers
        return data


def check_system(m: int, workers: int | None, schemes: list[Scheme]) -> None:
    """Cross-field rules shared by every config holding a system and its schemes: the
    workers divide ``m``, each scheme fits the workers, scheme ids are unique."""
    if workers is not None and m % workers:
        raise CrossFieldError("workers", f"must divide m ({m})", workers)
    n = workers or m
    seen: dict[str, int] = {}
    for i, scheme in enumerate(schemes):
        try:
            scheme.check(n)
        except CrossFieldError as exc:
            raise exc.under(f"schemes[{i}]") from None
        if scheme.scheme_id in seen:
            raise CrossFieldError(
                f"schemes[{i}]",
                f"scheme id repeats schemes[{seen[scheme.scheme_id]}]; add a distinct 'label'",
                scheme.scheme_id,
            )
        seen[scheme.scheme_id] = i


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop the discriminator tag pydantic inserts into locations inside tagged unions."""
    out: list[Any] = []
    skip_next_tag = False
    for part in loc:
        if skip_next_tag and isinstance(part, str):
            skip_next_tag = False
            continue
        out.append(part)
        skip_next_tag = part == "delay" or (
            isinstance(part, int) and len(out) >= 2 and out[-2] == "schemes"
        )
    return tuple(out)


def _message(error: dict[str, Any], model: type[BaseModel] | None = None) -> str:
    """One line for one pydantic error of a config; ``model`` (the top-level model) lets an
    unknown key be answered with the closest allowed key."""
    loc = _clean_loc(tuple(error["loc"]))
    kind = error["type"]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        field = _UNION_FIELDS.get(loc[0], "kind") if loc else "kind"
        allowed = ", ".join(sorted(SCHEMES)) if field == "kind" else _delay_families()
        path = key_path((*loc, field))
        if kind == "union_tag_not_found":
            return f"{path}: required key is missing (one of {allowed})"
        got = error["input"].get(field) if isinstance(error["input"], dict) else None
        return one_line(f"{path}: must be one of {allowed}, got {short_repr(got)}", 400)
    if kind == "value_error" and isinstance(error.get("ctx", {}).get("error"), CrossFieldError):
        return one_line(str(error["ctx"]["error"]), 400)
    if kind == "extra_forbidden" and model is not None:
        return unknown_key_message(error, model, key_path(loc))
    return describe_error({**error, "loc": loc})


def _delay_families() -> str:
    from .delays import DELAY_FAMILIES

    return ", ".join(DELAY_FAMILIES)


def _kind_of(data: Any) -> str:
    """What YAML value ``data`` is, in YAML's words."""
    kinds = {type(None): "null (no value)", bool: "a boolean", int: "a number",
             float: "a number", str: "a string", list: "a list", dict: "a mapping"}
    return kinds.get(type(data), type(data).__name__)


def validate(data: Any, base_dir: Path | None = None, model: type[M] = Experiment) -> M:
    """Validate plain data as ``model`` (an :class:`Experiment` unless told otherwise);
    raise :class:`ConfigError` with one line on the first problem found.

    ``base_dir`` is the folder relative file names (empirical delays) are read from.
    """
    if not isinstance(data, dict):
        raise ConfigError(
            f"(top level): must be a mapping of keys to values, got {_kind_of(data)}"
        )
    for key, command in getattr(model, "foreign_keys", {}).items():
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


def load(path: str | Path, overrides: dict[str, Any] | None = None,
         model: type[M] = Experiment) -> M:
    """Read, override and validate a config file.

    Parameters
    ----------
    path : str or Path
        The YAML file.
    overrides : dict, optional
        Top-level keys replaced before validation (``trials``, ``seed``, ...).
    model : type
        The config model (default :class:`Experiment`).
    """
    path = Path(path)
    data = read_yaml(path)
    if isinstance(data, dict) and overrides:
        data = {**data, **{k: v for k, v in overrides.items() if v is not None}}
    return validate(data, base_dir=path.parent, model=model)
