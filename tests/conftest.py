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
