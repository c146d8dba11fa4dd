"""``ltsim sweep`` and Monte Carlo on a Dask scheduler: validation of every point, seeds that
do not move when the grid grows, resuming, plots, and the same bytes on any engine."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from ltsim.io.sweep import load_sweep, point_seed
from tests.helpers import TINY_CONFIG, cli, sweep_file


@pytest.fixture
def base(tmp_path):
    path = tmp_path / "base.yaml"
    path.write_text(TINY_CONFIG.replace("trials: 40", "trials: 30"))
    return path


def test_every_point_is_validated_before_anything_runs(base, tmp_path):
    cases = {
        "grid:\n  delay.rate: [0.5, -1]\n": "point delay.rate=-1: delay.rate: must be "
                                             "greater than 0, got -1",
        "grid:\n  schemes[3].delta: [0.5, 1.5]\n": "point schemes[3].delta=1.5: "
                                                   "schemes[3].delta: must be less than 1",
        "zip:\n  tau: [0.1, 0.2]\n  delay.rate: [1]\n": "zip: every list must have the same "
                                                        "length",
        "grid:\n  tau: []\n": "grid.tau: must be a non-empty list",
        "gird:\n  tau: [1]\n": "gird: unknown key of a sweep file",
        "grid:\n  tau: [0.1, 0.1]\n": "grid.tau: values must not repeat",
        "trials: 5\n": "grid: a sweep needs a grid or a zip",
    }
    for body, message in cases.items():
        out = tmp_path / "out"
        result = cli("sweep", sweep_file(tmp_path, body), "-o", out, "-q")
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1, (body, result.stderr)
        assert message in lines[0], (message, lines[0])
        assert not out.exists()


def test_point_seeds_depend_on_values_not_positions(base, tmp_path):
    small = load_sweep(sweep_file(tmp_path, "grid:\n  tau: [0.01, 0.02]\n"))
    large = load_sweep(sweep_file(tmp_path, "grid:\n  tau: [0.005, 0.01, 0.02]\n", "l.yaml"))
    seeds = {p.slug: p.config.seed for p in large.points}
    assert all(seeds[p.slug] == p.config.seed for p in small.points)
    assert point_seed(5, {"tau": 0.01}) != point_seed(6, {"tau": 0.01})


@pytest.mark.slow
def test_sweep_extend_and_the_bytes_of_unchanged_points(base, tmp_path):
    out = tmp_path / "out"
    first = sweep_file(tmp_path, "grid:\n  tau: [0.01, 0.02]\n  delay.rate: [0.5, 2]\n")
    result = cli("sweep", first, "-o", out, "-q", "--jobs", 1)
    assert result.exit_code == 0, result.stderr
    points = pd.read_csv(out / "points.csv")
    assert len(points) == 4 * 5 and {"tau", "delay.rate", "p99_low", "p99_high"} <= set(points)
    assert (points["p99_low"] <= points["p99"]).all()
    assert (points["p99"] <= points["p99_high"]).all()
    folders = sorted((out / "points").iterdir())
    before = {f.name: (f / "latencies.csv").read_bytes() for f in folders}
    stamps = {f.name: (f / "meta.json").stat().st_mtime_ns for f in folders}
    bigger = sweep_file(tmp_path, "grid:\n  tau: [0.01, 0.02, 0.04]\n  delay.rate: [0.5, 2]\n",
                        "b.yaml")
    result = cli("sweep", bigger, "-o", out, "-q", "--jobs", 1, "--extend")
    assert result.exit_code == 0, result.stderr
    after = sorted((out / "points").iterdir())
    assert len(after) == 6
    for f in folders:  # the old points were kept, not recomputed
        assert (f / "meta.json").stat().st_mtime_ns == stamps[f.name]
    fresh = tmp_path / "fresh"
    assert cli("sweep", bigger, "-o", fresh, "-q", "--jobs", 2).exit_code == 0
    for name, data in before.items():  # the same numbers with the grid grown
        assert (fresh / "points" / name / "latencies.csv").read_bytes() == data
    shown = cli("show", out)
    assert shown.exit_code == 0 and "best by p99" in shown.stdout
    plotted = cli("plot", out)
    assert plotted.exit_code == 0, plotted.stderr
    for name in ("sweep-tau.png", "sweep-delay.rate.png", "wins.png"):
        assert (out / name).stat().st_size > 5000, name
    other = sweep_file(tmp_path, "grid:\n  tau: [0.01]\n  schemes[3].c: [0.1]\n", "o.yaml")
    refused = cli("sweep", other, "-o", out, "-q", "--extend")
    assert refused.exit_code == 2 and "the varied keys" in refused.stderr


@pytest.mark.slow
def test_an_interrupted_sweep_resumes(base, tmp_path):
    sweep = sweep_file(tmp_path, "grid:\n  tau: [0.01, 0.02, 0.03, 0.04]\ntrials: 1500\n")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "ltsim", "sweep", str(sweep), "-o",
                             str(out), "-q", "--jobs", "1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    deadline = time.monotonic() + 90
    while not list(out.glob("points/*/meta.json")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no point finished"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted after" in stderr and "Traceback" not in stderr
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "interrupted" and meta["points_done"] < 4
    resumed = cli("sweep", sweep, "-o", out, "-q", "--jobs", 1, "--extend")
    assert resumed.exit_code == 0, resumed.stderr
    assert json.loads((out / "meta.json").read_text())["points_done"] == 4
    assert len(pd.read_csv(out / "points.csv")) == 4 * 5


@pytest.mark.slow
def test_run_on_a_dask_scheduler_gives_the_bytes_of_a_local_run(tiny_config, tmp_path):
    distributed = pytest.importorskip("distributed")
    local = tmp_path / "local"
    assert cli("run", tiny_config, "-o", local, "-q", "--jobs", 2, "--trials", 300
               ).exit_code == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        remote = tmp_path / "remote"
        result = cli("run", tiny_config, "-o", remote, "-q", "--trials", 300, "--address",
                     cluster.scheduler_address)
        assert result.exit_code == 0, result.stderr
    assert (remote / "latencies.csv").read_bytes() == (local / "latencies.csv").read_bytes()
    assert (remote / "tail.csv").read_bytes() == (local / "tail.csv").read_bytes()
    assert json.loads((remote / "meta.json").read_text())["engine"] == "dask"


def test_the_ideal_bound_is_shown_but_never_wins(tmp_path):
    config = tmp_path / "base.yaml"
    config.write_text("name: b\nm: 40\ntau: 0.01\ntrials: 20\nseed: 3\n"
                      "delay: {dist: exponential, rate: 0.2}\n"
                      "schemes:\n  - {kind: uncoded}\n  - {kind: ideal}\n"
                      "  - {kind: replication, r: 2}\n")
    out = tmp_path / "out"
    ran = cli("sweep", sweep_file(tmp_path, "grid:\n  tau: [0.01, 0.1]\n"), "-o", out, "-j", "1")
    assert ran.exit_code == 0, ran.stderr
    points = pd.read_csv(out / "points.csv")
    assert set(points["scheme"]) == {"uncoded", "ideal", "rep2"}
    for command in (ran, cli("show", out, "--metric", "mean")):
        table = command.output.split("best by")[1].split("results in")[0]
        assert "ideal" not in table and ("uncoded" in table or "rep2" in table), command.output
