"""Strict, frozen configuration models and one-line messages for invalid input."""

from __future__ import annotations

import difflib
import math
import types
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ConfigError  # noqa: F401  (re-exported: configs raise it)


class CrossFieldError(ValueError):
    """A parameter that is valid alone but not with the rest of the experiment."""

    def __init__(self, key: str, rule: str, value) -> None:
        super().__init__(f"{key}: {rule}, got {value!r}")
        self.key, self.rule, self.value = key, rule, value

    def under(self, prefix: str) -> CrossFieldError:
        """The same error with its key placed below ``prefix``."""
        return CrossFieldError(f"{prefix}.{self.key}", self.rule, self.value)


class StrictModel(BaseModel):
    """Base of every configuration model: no unknown keys, no type coercion, immutable."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def key_path(loc: tuple[Any, ...], prefix: str = "") -> str:
    """Render a pydantic location as ``schemes[3].delta``."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def one_line(text: str, limit: int = 200) -> str:
    """``text`` on one line (control characters escaped), cut to ``limit`` characters."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)`` on one line, cut to ``limit`` characters, for error messages."""
    try:
        text = repr(value)
    except RecursionError:  # pragma: no cover - nesting is limited when reading YAML
        text = f"<deeply nested {type(value).__name__}>"
    return one_line(text, limit)


_COMPARISONS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_RULES = {
    # pydantic's wording -> ours, by error type
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be a mapping (key: value)",
    "model_type": "must be a mapping (key: value)",
    "model_attributes_type": "must be a mapping (key: value)",
    "finite_number": "must be a finite number",
}


def describe_error(error: dict[str, Any], prefix: str = "") -> str:
    """One line for one pydantic error: ``<key>: <rule>, got <value>``."""
    return one_line(_describe(error, prefix), 400)


def _describe(error: dict[str, Any], prefix: str) -> str:
    kind = error["type"]
    loc = tuple(error["loc"])
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "extra_forbidden":
        return f"{key_path(loc, prefix)}: unknown key (check its spelling)"
    if kind == "missing":
        return f"{key_path(loc, prefix)}: required key is missing"
    if kind == "invalid_key":  # the last part of the location is the offending key itself
        return f"{key_path(loc[:-1], prefix)}: keys must be strings, got {short_repr(value)}"
    if kind in _RULES:
        rule = _RULES[kind]
        if kind == "float_type" and isinstance(value, int) and not isinstance(value, bool):
            rule = "must be a finite number"  # an integer too large for a float
    elif kind in _COMPARISONS and isinstance(value, float) and math.isnan(value):
        rule = "must be a finite number"
    elif kind == "too_short":
        rule = f"must have at least {ctx.get('min_length')} item(s)"
    elif kind == "too_long":
        rule = f"must have at most {ctx.get('max_length')} item(s)"
    elif kind == "string_pattern_mismatch":
        rule = f"must match the pattern {ctx.get('pattern')}"
    else:
        rule = str(error["msg"])
        for lead in ("Value error, ", "Assertion failed, "):
            if rule.startswith(lead):
                rule = rule[len(lead) :]
        if rule.startswith("Input should be "):
            rule = "must be " + rule[len("Input should be ") :]
        rule = rule[:1].lower() + rule[1:]
    return f"{key_path(loc, prefix)}: {rule}, got {short_repr(value)}"


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _members(tp: Any) -> list[Any]:
    tp = _unwrap(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [_unwrap(t) for t in typing.get_args(tp) if t is not type(None)]
    return [tp]


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _tags(model: type[BaseModel]) -> set[Any]:
    tags: set[Any] = set()
    for field in model.model_fields.values():
        if typing.get_origin(field.annotation) is typing.Literal:
            tags.update(typing.get_args(field.annotation))
    return tags


def allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """Keys accepted by the mapping at ``loc`` (a raw pydantic location, tags included) below
    ``model``, or ``None`` if that cannot be told."""
    current: list[Any] = [model]
    for part in loc:
        models = [t for tp in current for t in _members(tp) if _is_model(t)]
        lists = [t for tp in current for t in _members(tp) if typing.get_origin(t) is list]
        if isinstance(part, int) and lists:
            current = [typing.get_args(lists[0])[0]]
        elif len(models) > 1:  # a tagged union: the part is the tag
            current = [m for m in models if part in _tags(m)]
        elif len(models) == 1 and part in models[0].model_fields:
            current = [models[0].model_fields[part].annotation]
        else:
            return None
    models = [t for tp in current for t in _members(tp) if _is_model(t)]
    return list(models[0].model_fields) if len(models) == 1 else None


def unknown_key_message(error: dict[str, Any], model: type[BaseModel], path: str) -> str:
    """``path: unknown key ...`` with the closest allowed key or the list of allowed keys."""
    loc = tuple(error["loc"])
    allowed = allowed_keys(model, loc[:-1]) if loc else None
    if not allowed:
        return f"{path}: unknown key (check its spelling)"
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
    if close:
        return one_line(f"{path}: unknown key, did you mean '{close[0]}'?", 400)
    return one_line(f"{path}: unknown key (allowed: {', '.join(allowed)})", 400)


def sorted_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """The errors of ``exc``, unknown keys first (a misspelt key also reports its correct
    spelling as missing; the misspelling is the real problem)."""
    errors = exc.errors(include_url=False)
    return sorted(errors, key=lambda e: e["type"] != "extra_forbidden")
