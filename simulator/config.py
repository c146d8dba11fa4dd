"""Experiment configuration: YAML -> dict -> validated, frozen :class:`Experiment`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Union

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from .delays import Delay
from .schemes import SCHEMES, CrossFieldError, Scheme
from .schemes.lt import LTCode
from .schemes.one import AllAtOne
from .schemes.replication import Replication
from .schemes.uncoded import Uncoded
from .validation import (
    ConfigError,
    StrictModel,
    _short,
    describe_error,
    key_path,
    one_line,
    sorted_errors,
    unknown_key_message,
)

MAX_CONFIG_BYTES = 1 << 20
MAX_NESTING = 32
"""Deepest nesting of mappings and lists accepted in a config file (real ones use 4)."""

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
        return one_line(f"{path}: must be one of {allowed}, got {_short(got)}", 400)
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


def validate(data: Any, base_dir: Path | None = None) -> Experiment:
    """Validate plain data as an :class:`Experiment`; raise :class:`ConfigError` on the first
    problem found."""
    if not isinstance(data, dict):
        raise ConfigError(
            f"(top level): must be a mapping of keys to values, got {_kind_of(data)}"
        )
    try:
        return Experiment.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        errors = sorted_errors(exc)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(_message(errors[0], Experiment) + more) from None
    except RecursionError:
        raise ConfigError(f"(top level): nesting deeper than {MAX_NESTING} levels") from None


class _ConfigLoader(yaml.SafeLoader):
    """Safe YAML loader for configs.

    * refuses aliases (``*name``), the vehicle of "billion laughs";
    * refuses nesting deeper than :data:`MAX_NESTING` (deep nesting exhausts the stack);
    * reads ``1e-3`` and ``2.5E6`` as numbers, as YAML 1.2 does (YAML 1.1, and so PyYAML,
      reads them as strings).
    """

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._depth = 0

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError) as exc:  # e.g. the date 2021-02-30
            if isinstance(exc, ConfigError):
                raise
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {node.value!r} as {node.tag.rsplit(':', 1)[-1]} "
                f"({exc})", node.start_mark) from None

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise ConfigError(
                f"line {event.start_mark.line + 1}: YAML aliases (*{event.anchor}) are not "
                "supported in ltsim configs; write the value out"
            )
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                line = self.peek_event().start_mark.line + 1
                raise ConfigError(f"line {line}: nesting deeper than {MAX_NESTING} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def _duplicate_keys(node: yaml.Node, path: tuple[Any, ...] = ()) -> None:
    """Raise :class:`ConfigError` for a key given twice in one mapping (YAML would silently
    keep the last one)."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[tuple[str, str], int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                line = key.start_mark.line + 1
                if (key.tag, key.value) in seen:
                    raise ConfigError(one_line(
                        f"{key_path((*path, key.value))}: key given twice "
                        f"(lines {seen[key.tag, key.value]} and {line})", 400))
                seen[key.tag, key.value] = line
                _duplicate_keys(value, (*path, key.value))
            else:
                _duplicate_keys(value, (*path, "?"))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _duplicate_keys(item, (*path, i))


def parse_yaml(text: str) -> Any:
    """Parse config text with :class:`_ConfigLoader`; raise :class:`ConfigError` with one
    line on any problem."""
    loader = None
    try:
        loader = _ConfigLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        _duplicate_keys(node)
        return loader.construct_document(node)
    except ConfigError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(one_line(f"invalid YAML: {where}{problem}", 400)) from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a date like 2021-02-30
        raise ConfigError(one_line(f"invalid YAML value: {exc}", 400)) from None
    except RecursionError:
        raise ConfigError(f"nesting deeper than {MAX_NESTING} levels") from None
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml(path: Path) -> Any:
    """Parse a YAML config file, raising :class:`ConfigError` with a one-line message.

    The message does not repeat ``path``: callers put it in front.
    """
    try:
        if not path.is_file():
            raise ConfigError("config file not found" if not path.exists()
                              else "config file is not a regular file")
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(f"config file is {size} bytes; the limit is {MAX_CONFIG_BYTES}")
        raw = path.read_bytes()
    except OSError as exc:
        reason = one_line(exc.strerror or str(exc))
        raise ConfigError(f"cannot read the config file ({reason})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not a UTF-8 text file (byte {exc.start} is {raw[exc.start]:#04x})"
                          ) from None
    if "\x00" in text:
        raise ConfigError("not a text file (contains NUL bytes)")
    if not text.strip():
        raise ConfigError("config file is empty")
    return parse_yaml(text)


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
