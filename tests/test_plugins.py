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


@pytest.fixture
def loaded(plugin, monkeypatch):
    """The plugin loaded in this process as a fresh ltsim process loads it (registries
    restored afterwards)."""
    from ltsim import plugins
    from ltsim.codes import CODES
    from ltsim.model.laws import LAWS

    site = plugin["PYTHONPATH"].split(os.pathsep)[0]
    monkeypatch.syspath_prepend(site)
    codes, laws = dict(CODES), dict(LAWS)
    monkeypatch.setattr(plugins, "_loaded", [])
    assert sorted(plugins.load_plugins()) == ["ltsim.codes:halves", "ltsim.laws:uniform"]
    yield
    CODES.clear()
    CODES.update(codes)
    LAWS.clear()
    LAWS.update(laws)
    sys.modules.pop("ltsim_demo_plugin", None)


def test_a_fresh_process_finds_the_plugin_and_refuses_it_when_absent(plugin, tmp_path):
    (tmp_path / "run.yaml").write_text(RUN)
    checked = ltsim(plugin, "validate", "run.yaml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    without = ltsim({k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "validate",
                    "run.yaml", cwd=tmp_path)
    assert without.returncode == 2 and "must be one of" in without.stderr


def test_a_plugin_code_and_law_work_in_every_command(loaded, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from ltsim.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "run.yaml").write_text(RUN)
    (tmp_path / "exec.yaml").write_text(EXECUTE)
    (tmp_path / "s.yaml").write_text("base: run.yaml\ngrid:\n  delay.components[0].high: "
                                     "[1.0, 3.0]\n")

    def cli(*args):
        return CliRunner().invoke(main, [str(a) for a in args])

    checked = cli("validate", "run.yaml", "exec.yaml", "s.yaml")
    assert checked.exit_code == 0, checked.stderr
    ran = cli("run", "run.yaml", "-o", "out", "-q", "--jobs", "2")  # forked workers too
    assert ran.exit_code == 0, ran.stderr
    assert "halves" in (tmp_path / "out" / "summary.csv").read_text()
    shown = cli("show", "out")
    assert shown.exit_code == 0 and "halves" in shown.stdout
    plotted = cli("plot", "out")
    assert plotted.exit_code == 0 and (tmp_path / "out" / "tail.png").is_file()
    swept = cli("sweep", "s.yaml", "-o", "sw", "-q", "--jobs", "1")
    assert swept.exit_code == 0, swept.stderr
    executed = cli("execute", "exec.yaml", "-o", "ex", "-q")
    assert executed.exit_code == 0, executed.stderr
    assert json.loads((tmp_path / "ex" / "meta.json").read_text())["failures"] == 0
    (tmp_path / "bad.yaml").write_text(RUN.replace("high: 4.0", "high: nope"))
    refused = cli("validate", "bad.yaml")
    assert refused.exit_code == 2 and "classes[1].delay.high" in refused.stderr
