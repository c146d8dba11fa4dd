"""The error of an invalid configuration (apart, so that the command line can catch it
without importing the validation machinery)."""

from __future__ import annotations


class ConfigError(ValueError):
    """An invalid configuration; ``str(error)`` is one line naming key, rule and value."""
