"""Fixtures of the test suite (helpers live in ``tests/helpers.py``)."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from tests.helpers import TINY_CONFIG

# CI explores the same hypothesis examples on every run; locally they vary between runs.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def tiny_config(tmp_path):
    """A small valid config file."""
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_CONFIG)
    return path


def pytest_collection_finish(session):
    """Every test module is imported by now: none may have imported the source folder as
    ``simulator`` (a second copy of ltsim, with registries of its own)."""
    import sys

    copies = sorted(name for name in sys.modules if name.split(".")[0] == "simulator")
    if copies:
        raise pytest.UsageError(f"the source folder was imported as `simulator`: {copies[:3]}")
