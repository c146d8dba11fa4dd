"""Experiment configuration: YAML -> dict -> validated, frozen :class:`Experiment`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Union

import yaml
from pydantic import Field, ValidationError, model_validator

from .delays import Delay
from .schemes import SCHEMES, CrossFieldError, Scheme
from .schemes.lt import LTCode
from .schemes.one import AllAtOne
from .schemes.replication import Replication
from .schemes.uncoded import Uncoded
from .validation import ConfigError, StrictModel, describe_error, key_path

MAX_CONFIG_BYTES = 1 << 20

AnyScheme = Annotated[
    Union[AllAtOne, Uncoded, Replication, LTCode],  # noqa: UP007
    Field(discriminator="kind"),
]
_UNION_FIELDS = {"delay": "dist", "schemes": "kind"}


class Experiment(StrictModel):
    """A Monte-Carlo experiment: the system, the delay model and the schemes to compare.

    ``m`` functions run on ``workers`` workers (default ``m``; it must divide ``m``, each worker
    then holding ``m / workers`` functions as one task), one function taking time ``tau``.
    """

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
        if self.workers is not None and self.m % self.workers:
            raise CrossFieldError("workers", f"must divide m ({self.m})", self.workers)
        for i, scheme in enumerate(self.schemes):
            try:
                scheme.check(self.n_workers)
            except CrossFieldError as exc:
                raise exc.under(f"schemes[{i}]") from None
        seen: dict[str, int] = {}
        for i, scheme in enumerate(self.schemes):
            if scheme.scheme_id in seen:
                raise CrossFieldError(
                    f"schemes[{i}]",
                    f"scheme id repeats schemes[{seen[scheme.scheme_id]}]; add a distinct 'label'",
                    scheme.scheme_id,
                )
            seen[scheme.scheme_id] = i
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


def _message(error: dict[str, Any]) -> str:
    loc = _clean_loc(tuple(error["loc"]))
    kind = error["type"]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        field = _UNION_FIELDS.get(loc[0], "kind") if loc else "kind"
        allowed = ", ".join(sorted(SCHEMES)) if field == "kind" else _delay_families()
        path = key_path((*loc, field))
        if kind == "union_tag_not_found":
            return f"{path}: required key is missing (one of {allowed})"
        got = error["input"].get(field) if isinstance(error["input"], dict) else None
        return f"{path}: must be one of {allowed}, got {got!r}"
    if kind == "value_error" and isinstance(error.get("ctx", {}).get("error"), CrossFieldError):
        return str(error["ctx"]["error"])
    return describe_error({**error, "loc": loc})


def _delay_families() -> str:
    from .delays import DELAY_FAMILIES

    return ", ".join(DELAY_FAMILIES)


def validate(data: Any, base_dir: Path | None = None) -> Experiment:
    """Validate plain data as an :class:`Experiment`; raise :class:`ConfigError` on the first
    problem found."""
    if not isinstance(data, dict):
        raise ConfigError(
            f"(top level): must be a mapping of keys to values, got {type(data).__name__}"
        )
    try:
        return Experiment.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(_message(errors[0]) + more) from None


class _NoAliasLoader(yaml.SafeLoader):
    """Safe YAML loader that refuses aliases (``*name``), the vehicle of "billion laughs"."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise ConfigError(
                f"line {event.start_mark.line + 1}: YAML aliases (*{event.anchor}) are not "
                "supported in ltsim configs; write the value out"
            )
        return super().compose_node(parent, index)


def read_yaml(path: Path) -> Any:
    """Parse a YAML config file, raising :class:`ConfigError` with a one-line message."""
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    size = path.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(f"config file is {size} bytes; the limit is {MAX_CONFIG_BYTES}")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None
    if "\x00" in text:
        raise ConfigError(f"{path}: not a text file (contains NUL bytes)")
    if not text.strip():
        raise ConfigError(f"{path}: config file is empty")
    try:
        return yaml.load(text, Loader=_NoAliasLoader)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: invalid YAML: {where}{problem}") from None


def load(path: str | Path, overrides: dict[str, Any] | None = None) -> Experiment:
    """Read, override and validate a config file.

    Parameters
    ----------
    path : str or Path
        The YAML file.
    overrides : dict, optional
        Top-level keys replaced before validation (``trials``, ``seed``, ...).
    """
    path = Path(path)
    data = read_yaml(path)
    if isinstance(data, dict) and overrides:
        data = {**data, **{k: v for k, v in overrides.items() if v is not None}}
    return validate(data, base_dir=path.parent)


def scheme_of(data: dict[str, Any]) -> Scheme:
    """Build one scheme from plain data (used by tests and tools)."""
    cls = SCHEMES[data["kind"]]
    return cls.model_validate(data)
