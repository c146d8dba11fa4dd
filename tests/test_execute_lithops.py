"""``ltsim execute`` on lithops' localhost backend (one process per call: seconds)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

pytest.importorskip("lithops")

from ltsim.cli import main

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def test_the_readmes_lithops_command_runs(monkeypatch, tmp_path):
    """``ltsim execute configs/execute-lithops.yaml --backend lithops``: the workload travels
    as its description (seed and sizes), each call draws its points."""
    monkeypatch.setenv("HOME", str(tmp_path))  # no user lithops config: localhost backend
    monkeypatch.delenv("LITHOPS_CONFIG_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["execute", str(ROOT / "configs/execute-lithops.yaml"),
                                       "--backend", "lithops", "-q"])
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "results" / "execute-lithops"
    runs = pd.read_csv(out / "executions.csv")
    assert (runs["status"] == "ok").all() and (runs["rel_error"] <= 1e-9).all()
    tasks = pd.read_csv(out / "tasks.csv")
    done = tasks["status"] == "done"
    assert (tasks.loc[done, "units"] == tasks.loc[done, "planned_units"]).all()
    assert (tasks.loc[~done, "units"] < tasks.loc[~done, "planned_units"]).all()
