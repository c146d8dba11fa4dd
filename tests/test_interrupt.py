"""Ctrl-C and SIGTERM on a real ``ltsim run`` or ``ltsim execute`` keep the finished trials
as a complete folder (exit 130). The tests wait for progress on disk, not for a fixed time."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from ltsim.cli import main

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CONFIG = """\
name: long
m: 2000
tau: 0.001
trials: 1000000
seed: 1
delay: {dist: exponential, rate: 1.0}
schemes:
  - {kind: uncoded}
  - {kind: lt, r: 1}
"""


def wait_until(proc, ready, seconds: float = 60.0) -> None:
    """Poll until ``ready()`` (the run has made progress), failing if the run ends first."""
    deadline = time.monotonic() + seconds
    while not ready():
        if proc.poll() is not None:
            pytest.fail(f"run ended early: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("no progress within the time limit")
        time.sleep(0.05)


def trials_written(folder: Path) -> bool:
    """Whether a run writing ``folder`` has kept its first block of trials."""
    return any(p.stat().st_size > 0 for p in folder.parent.glob(f".{folder.name}.tmp-*/*.part"))


@pytest.mark.parametrize(("sig", "jobs"), [(signal.SIGINT, 1), (signal.SIGTERM, 2)])
def test_signal_keeps_a_complete_partial_folder(tmp_path, sig, jobs):
    config = tmp_path / "long.yaml"
    config.write_text(CONFIG)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ltsim", "run", str(config), "-o", str(out), "--quiet",
         "--jobs", str(jobs)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(proc, lambda: trials_written(out))
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "interrupted" and meta["stop_reason"] == "interrupted"
    n = meta["trials"]
    assert 0 < n < 1_000_000
    assert stderr.strip().splitlines()[-1] == f"results in {out} (interrupted after {n} trials)"
    latencies = pd.read_csv(out / "latencies.csv")
    assert (latencies.groupby("scheme")["trial"].count() == n).all()
    assert (pd.read_csv(out / "summary.csv")["trials"] == n).all()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    shown = CliRunner().invoke(main, ["show", str(out)])
    assert shown.exit_code == 0 and "PARTIAL" in shown.output
    # the interrupted run resumes where it stopped
    resumed = CliRunner().invoke(main, ["run", str(config), "--extend", str(out), "-q",
                                        "--trials", str(n + 7), "--jobs", "1"])
    assert resumed.exit_code == 0, resumed.stderr
    assert json.loads((out / "meta.json").read_text())["trials"] == n + 7


@pytest.mark.parametrize("backend", ["local", "dask"])
def test_sigterm_stops_an_execution_cleanly(tmp_path, backend):
    pytest.importorskip("distributed") if backend == "dask" else None
    config = tmp_path / "c.yaml"
    config.write_text((ROOT / "configs" / "execute-lithops.yaml").read_text()
                      .replace("trials: 1\n", "trials: 100000\n"))
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ltsim", "execute", str(config), "-o", str(out),
         "--backend", backend], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []

    def one_trial() -> bool:  # the per-trial lines of stderr say how far it got
        lines.append(proc.stderr.readline())
        return sum(line.startswith("trial ") for line in lines) >= 3

    wait_until(proc, one_trial, 120)
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=60)
    stderr = "".join(lines) + rest
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "Error" not in stderr.replace("rel_error", "")
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "interrupted" and meta["trials"] >= 1
    n = meta["trials"]
    assert stderr.strip().splitlines()[-1] == f"results in {out} (interrupted after {n} trials)"
    runs = pd.read_csv(out / "executions.csv")
    assert (runs.groupby("scheme")["trial"].count() == n).all()


def burst(proc, count: int = 12, gap: float = 0.005) -> None:
    """Ctrl-C, then more Ctrl-C and SIGTERM in quick succession (an impatient user)."""
    proc.send_signal(signal.SIGINT)
    for i in range(count):
        time.sleep(gap)
        if proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM if i % 3 == 2 else signal.SIGINT)


def test_repeated_signals_never_abort_the_partial_result_of_a_run_or_a_sweep(tmp_path):
    """A run and a sweep at once, each hit by a burst of Ctrl-C and SIGTERM."""
    config = tmp_path / "long.yaml"
    config.write_text(CONFIG)
    (tmp_path / "short.yaml").write_text(CONFIG.replace("trials: 1000000", "trials: 4000"))
    sweep = tmp_path / "s.yaml"
    sweep.write_text("base: short.yaml\ngrid: {tau: [0.001, 0.002, 0.003]}\n")
    out, swept = tmp_path / "out", tmp_path / "sw"
    run = subprocess.Popen(
        [sys.executable, "-m", "ltsim", "run", str(config), "-o", str(out), "--quiet",
         "--jobs", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sweeping = subprocess.Popen(
        [sys.executable, "-m", "ltsim", "sweep", str(sweep), "-o", str(swept), "--quiet",
         "--jobs", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(run, lambda: trials_written(out))
    burst(run)
    wait_until(sweeping, lambda: any(p.stat().st_size > 0 for p in
                                     swept.glob("points/.*.tmp-*/*.part")))
    burst(sweeping)
    for proc in (run, sweeping):
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130, stderr
        assert "Traceback" not in stderr
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "interrupted" and meta["trials"] > 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    meta = json.loads((swept / "meta.json").read_text())
    assert meta["status"] == "interrupted", meta
    for point in (swept / "points").iterdir():
        assert json.loads((point / "meta.json").read_text())["status"] in (
            "complete", "interrupted")
    assert not [p for p in (swept / "points").iterdir() if p.name.startswith(".")]


def children(pid: int) -> set[int]:
    """The process ids whose parent is ``pid`` (Linux ``/proc``)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def test_sigkill_leaves_no_pool_process_behind(tmp_path):
    """A run and a sweep at once, each killed by SIGKILL: their pool processes exit."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc")
    config = tmp_path / "long.yaml"
    config.write_text(CONFIG)
    sweep = tmp_path / "s.yaml"
    sweep.write_text("base: long.yaml\ngrid: {tau: [0.001, 0.002]}\n")
    procs = [subprocess.Popen(
        [sys.executable, "-m", "ltsim", command, str(target), "-o", str(tmp_path / command),
         "--quiet", "--jobs", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for command, target in (("run", config), ("sweep", sweep))]
    pool = set()
    for proc in procs:
        wait_until(proc, lambda proc=proc: len(children(proc.pid)) >= 2)
        pool |= children(proc.pid)
    for proc in procs:
        proc.kill()
        proc.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in pool):
        assert time.monotonic() < deadline, f"orphans left: {pool}"
        time.sleep(0.1)
