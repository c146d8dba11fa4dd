"""Parsing config text: safe, strict YAML with one-line errors."""

from __future__ import annotations

import re
from typing import Any

import yaml

from ..util.validation import ConfigError, key_path, one_line

MAX_CONFIG_BYTES = 1 << 20
MAX_NESTING = 32
"""Deepest nesting of mappings and lists accepted in a config file (real ones use 4)."""


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
