"""``--set KEY=VALUE`` overrides of config keys, e.g. ``--set schemes[1].r=4``."""

from __future__ import annotations

import copy
import re
from typing import Any

from ..util.validation import ConfigError
from .yamlio import parse_yaml

_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")


def parse_path(path: str) -> list[str | int]:
    """``"schemes[1].r"`` -> ``["schemes", 1, "r"]``."""
    parts: list[str | int] = []
    for piece in path.split("."):
        match = _PART.fullmatch(piece)
        if not match:
            raise ConfigError(f"--set {path}: not a key path like delay.rate or schemes[1].r")
        parts.append(match.group(1))
        parts += [int(i) for i in re.findall(r"\[(\d+)\]", match.group(2))]
    return parts


def parse_assignment(text: str) -> tuple[list[str | int], Any]:
    """``"delay.rate=0.5"`` -> ``(["delay", "rate"], 0.5)``.

    The value is read exactly as the same text in a config file would be (the same YAML
    loader: ``5e-3`` is a number, aliases and tags are refused).
    """
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE, e.g. delay.rate=0.5")
    try:
        value = parse_yaml(raw) if raw.strip() else None
    except ConfigError as exc:
        raise ConfigError(f"--set {key}: value {raw!r} is not a valid YAML value ({exc})"
                          ) from None
    return parse_path(key.strip()), value


def apply(data: Any, assignments: list[str]) -> Any:
    """Return a copy of ``data`` with every ``KEY=VALUE`` assignment applied in order.

    A mapping key may be new (validation then judges it); a list index must exist.
    """
    if not assignments:
        return data
    return set_values(data, [(*parse_assignment(text), text.partition("=")[0])
                             for text in assignments])


def set_values(data: Any, assignments: list[tuple]) -> Any:
    """A copy of ``data`` with each ``(key, value)`` set (``key`` a path string like
    ``schemes[1].r`` or a parsed path; an optional third item is the key as shown in
    messages)."""
    data = copy.deepcopy(data)
    for item in assignments:
        key, value = item[0], item[1]
        path = parse_path(key) if isinstance(key, str) else key
        shown = item[2] if len(item) > 2 else (key if isinstance(key, str) else str(key))
        node = data
        for depth, part in enumerate(path):
            last = depth == len(path) - 1
            if isinstance(part, int):
                if not isinstance(node, list) or part >= len(node):
                    size = len(node) if isinstance(node, list) else 0
                    raise ConfigError(f"--set {shown}: no item [{part}] (the list has {size})")
            elif not isinstance(node, dict):
                raise ConfigError(f"--set {shown}: '{part}' is inside a value, not a mapping")
            if last:
                node[part] = value
            else:
                if isinstance(part, str) and part not in node:
                    node[part] = {}
                node = node[part]
    return data
