"""Strict, frozen configuration models and one-line messages for invalid input."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class ConfigError(ValueError):
    """An invalid configuration; ``str(error)`` is one line naming key, rule and value."""


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


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_error(error: dict[str, Any], prefix: str = "") -> str:
    """One line for one pydantic error: ``<key>: <rule>, got <value>``."""
    kind = error["type"]
    loc = tuple(error["loc"])
    if kind == "extra_forbidden":
        return f"{key_path(loc, prefix)}: unknown key (check its spelling)"
    if kind == "missing":
        return f"{key_path(loc, prefix)}: required key is missing"
    msg = str(error["msg"])
    for lead in ("Value error, ", "Assertion failed, "):
        if msg.startswith(lead):
            msg = msg[len(lead) :]
    if msg.startswith("Input should be "):
        msg = "must be " + msg[len("Input should be ") :]
    msg = msg[:1].lower() + msg[1:]
    return f"{key_path(loc, prefix)}: {msg}, got {_short(error.get('input'))}"


def first_error(exc: ValidationError, prefix: str = "") -> ConfigError:
    """Turn a pydantic ``ValidationError`` into a :class:`ConfigError` for its first error."""
    errors = exc.errors(include_url=False)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ConfigError(describe_error(errors[0], prefix) + more)
