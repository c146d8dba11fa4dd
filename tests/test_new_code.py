"""A code is one module and one registry line: a throwaway code defined here, and nowhere in
the package, runs through validate, run, show, plot and execute."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from ltsim.cli import main
from ltsim.codes import CODES, register
from ltsim.codes.base import Code, CrossFieldError, Outcome, Plan, SumMaster, TaskPlan, Work


class Halves(Code):
    """Every worker computes one half of the units (even workers the even units, odd workers
    the odd ones); F(x) is known once one worker of each half has returned:
    ``T = max(min over even workers, min over odd workers) + u n / 2``."""

    kind: Literal["halves"]

    @property
    def default_id(self) -> str:
        return "halves"

    def display_name(self) -> str:
        return self.label or "Halves"

    def check(self, workers: int) -> None:
        if workers % 2:
            raise CrossFieldError("kind", "needs an even number of workers", workers)

    def simulate(self, block) -> Outcome:
        d = block.delays
        first = np.maximum(d[:, 0::2].min(axis=1), d[:, 1::2].min(axis=1))
        return Outcome.uncoded(first + block.unit * block.workers / 2)

    def plan(self, workers, rng, streaming, fresh=None, delays=None, unit_times=None) -> Plan:
        tasks = [TaskPlan(j, (Work(np.arange(j % 2, workers, 2)),)) for j in range(workers)]
        return Plan(tasks, SumMaster(2, lambda worker, index: worker % 2))


@pytest.fixture
def halves():
    register(Halves)
    yield Halves
    CODES.pop("halves")


RUN = """name: halves
m: 16
tau: 0.01
trials: 30
seed: 3
delay: {dist: exponential, rate: 2.0}
schemes: [{kind: uncoded}, {kind: halves}]
"""
EXECUTE = """name: halves-x
workload: {kind: gaussian_kernel, m: 16, dim: 4, seed: 1}
workers: 8
trials: 2
seed: 3
delay: {dist: exponential, rate: 2.0}
time_scale: 0.01
schemes: [{kind: halves}, {kind: one}]
"""


@pytest.mark.slow
def test_a_registered_code_runs_everywhere(halves, tmp_path):
    runner = CliRunner()
    run_cfg, exec_cfg = tmp_path / "run.yaml", tmp_path / "exec.yaml"
    run_cfg.write_text(RUN)
    exec_cfg.write_text(EXECUTE)
    assert runner.invoke(main, ["validate", str(run_cfg), str(exec_cfg)]).exit_code == 0

    out = tmp_path / "sim"
    result = runner.invoke(main, ["run", str(run_cfg), "-o", str(out), "-q", "--jobs", "2"])
    assert result.exit_code == 0, result.stderr
    lat = pd.read_csv(out / "latencies.csv")
    halves_t = lat.loc[lat.scheme == "halves", "latency"].to_numpy()
    uncoded_t = lat.loc[lat.scheme == "uncoded", "latency"].to_numpy()
    assert (halves_t <= uncoded_t + 0.08).all()  # never waits for the slowest worker
    shown = runner.invoke(main, ["show", str(out)])
    assert shown.exit_code == 0 and "halves" in shown.stdout
    plotted = runner.invoke(main, ["plot", str(out)])
    assert plotted.exit_code == 0 and (out / "tail.png").is_file()
    from ltsim.io.report import read_config
    from ltsim.plots.common import display_name, legend_names

    assert display_name("halves", legend_names(read_config(out)["schemes"])) == "Halves"

    real = tmp_path / "real"
    result = runner.invoke(main, ["execute", str(exec_cfg), "-o", str(real), "-q",
                                  "--backend", "local"])
    assert result.exit_code == 0, result.stderr
    runs = pd.read_csv(real / "executions.csv")
    assert (runs["status"] == "ok").all() and (runs["rel_error"] <= 1e-9).all()


def test_an_unregistered_kind_is_refused_by_name(tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text(RUN)
    result = CliRunner().invoke(main, ["validate", str(cfg)])
    assert result.exit_code == 2
    assert "schemes[1].kind: must be one of" in result.stderr and "'halves'" in result.stderr


def test_cross_field_rule_of_a_registered_code(halves, tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text(RUN.replace("m: 16", "m: 15"))
    result = CliRunner().invoke(main, ["validate", str(cfg)])
    assert "schemes[1].kind: needs an even number of workers, got 15" in result.stderr


def test_no_isinstance_dispatch_on_code_classes():
    """No ``isinstance(x, <a code class>)`` anywhere in the package: every code is reached
    through the interface."""
    import ast

    root = Path(__file__).resolve().parents[1] / "simulator"
    names = {cls.__name__ for cls in CODES.values()} | {"Code"}
    found = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "isinstance"
                    and len(node.args) == 2):
                classes = node.args[1].elts if isinstance(node.args[1], ast.Tuple) \
                    else [node.args[1]]
                found += [(path.name, c.id) for c in classes
                          if isinstance(c, ast.Name) and c.id in names]
    assert found == []
