"""Plugins: a code and a delay law in a package of their own, declared through the entry
point groups ``ltsim.codes`` and ``ltsim.laws``, work in every command with no change to
ltsim. The package is a real distribution on the path (a ``.dist-info`` folder with its
``entry_points.txt``), as ``pip install`` would leave it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PACKAGE = '''
"""A plugin of ltsim: a code and a delay law."""

from typing import Literal

import numpy as np

from ltsim.codes.base import Code, CrossFieldError, Outcome, Plan, SumMaster, TaskPlan, Work
from ltsim.laws import DelayLaw


class Halves(Code):
    """Every worker computes one half of the units; F(x) is known once one worker of each
    half has returned."""

    kind: Literal["halves"] = "halves"

    @property
    def default_id(self):
        return "halves"

    def display_name(self):
        return self.label or "Halves"

    def check(self, workers):
        if workers % 2:
            raise CrossFieldError("kind", "needs an even number of workers", workers)

    def simulate(self, block):
        d = block.delays
        first = np.maximum(d[:, 0::2].min(axis=1), d[:, 1::2].min(axis=1))
        return Outcome.uncoded(first + block.unit * block.workers / 2)

    def plan(self, workers, rng, streaming, fresh=None, delays=None, unit_times=None):
        tasks = [TaskPlan(j, (Work(np.arange(j % 2, workers, 2)),)) for j in range(workers)]
        return Plan(tasks, SumMaster(2, lambda worker, index: worker % 2))


class Uniform(DelayLaw):
    """Uniform on [0, high]."""

    dist: Literal["uniform"] = "uniform"
    high: float
    short = "U"

    def sample(self, rng, size):
        return rng.uniform(0.0, self.high, size)

    def logsf(self, x):
        x = np.clip(np.asarray(x, dtype=float) / self.high, 0.0, 1.0)
        with np.errstate(divide="ignore"):
            return np.log1p(-x)

    @property
    def mean(self):
        return self.high / 2

    @property
    def variance(self):
        return self.high ** 2 / 12
'''

ENTRY_POINTS = """\
[ltsim.codes]
halves = ltsim_demo_plugin:Halves

[ltsim.laws]
uniform = ltsim_demo_plugin:Uniform
"""

RUN = """name: plug
m: 16
tau: 0.01
trials: 30
seed: 3
delay: {dist: mixture, components: [{weight: 0.5, dist: uniform, high: 2.0},
                                    {weight: 0.5, dist: exponential, rate: 1.0}]}
classes: [{fraction: 0.5}, {fraction: 0.5, delay: {dist: uniform, high: 4.0}}]
schemes: [{kind: uncoded}, {kind: halves}]
"""

EXECUTE = """name: plug-x
workload: {kind: gaussian_kernel, m: 16, dim: 4, seed: 1}
workers: 8
trials: 2
seed: 3
delay: {dist: uniform, high: 2.0}
time_scale: 0.01
schemes: [{kind: halves}, {kind: one}]
"""


@pytest.fixture
def plugin(tmp_path) -> dict[str, str]:
    """A folder holding the plugin package and its distribution metadata; the environment
    that puts it on the path."""
    site = tmp_path / "site"
    (site / "ltsim_demo_plugin").mkdir(parents=True)
    (site / "ltsim_demo_plugin" / "__init__.py").write_text(textwrap.dedent(PACKAGE))
    info = site / "ltsim_demo_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ltsim-demo-plugin\n"
                                   "Version: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(site), os.environ.get("PYTHONPATH", "")])}


def ltsim(env, *args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ltsim", *map(str, args)], env=env, cwd=cwd,
                          capture_output=True, text=True, check=False)


def test_a_plugin_code_and_law_work_in_every_command(plugin, tmp_path):
    (tmp_path / "run.yaml").write_text(RUN)
    (tmp_path / "exec.yaml").write_text(EXECUTE)
    (tmp_path / "s.yaml").write_text("base: run.yaml\ngrid:\n  delay.components[0].high: "
                                     "[1.0, 3.0]\n")
    checked = ltsim(plugin, "validate", "run.yaml", "exec.yaml", "s.yaml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    ran = ltsim(plugin, "run", "run.yaml", "-o", "out", "-q", "--jobs", "2", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    summary = (tmp_path / "out" / "summary.csv").read_text()
    assert "halves" in summary
    shown = ltsim(plugin, "show", "out", cwd=tmp_path)
    assert shown.returncode == 0 and "halves" in shown.stdout
    plotted = ltsim(plugin, "plot", "out", cwd=tmp_path)
    assert plotted.returncode == 0 and (tmp_path / "out" / "tail.png").is_file()
    swept = ltsim(plugin, "sweep", "s.yaml", "-o", "sw", "-q", "--jobs", "1", cwd=tmp_path)
    assert swept.returncode == 0, swept.stderr
    executed = ltsim(plugin, "execute", "exec.yaml", "-o", "ex", "-q", cwd=tmp_path)
    assert executed.returncode == 0, executed.stderr
    assert json.loads((tmp_path / "ex" / "meta.json").read_text())["failures"] == 0
    bad = (tmp_path / "bad.yaml")
    bad.write_text(RUN.replace("high: 4.0", "high: nope"))
    refused = ltsim(plugin, "validate", "bad.yaml", cwd=tmp_path)
    assert refused.returncode == 2 and "classes[1].delay.high" in refused.stderr
    without = ltsim({k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "validate",
                    "run.yaml", cwd=tmp_path)
    assert without.returncode == 2 and "must be one of" in without.stderr
