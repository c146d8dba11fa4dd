"""Ctrl-C and SIGTERM on a real ``ltsim run`` keep the finished trials as a complete folder."""

import json
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from click.testing import CliRunner

from simulator.cli import main

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


def wait_for_trials(proc, seconds):
    """Give the run time to start and finish a few batches."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"run ended early: {proc.communicate()}")
        time.sleep(0.1)


@pytest.mark.parametrize(("sig", "jobs"), [(signal.SIGINT, 1), (signal.SIGTERM, 2),
                                           (signal.SIGINT, 2)])
def test_signal_keeps_a_complete_partial_folder(tmp_path, sig, jobs):
    config = tmp_path / "long.yaml"
    config.write_text(CONFIG)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "run", str(config), "-o", str(out), "--quiet",
         "--jobs", str(jobs)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_trials(proc, 4.0)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "interrupted" and meta["stop_reason"] == "interrupted"
    n = meta["trials"]
    assert 0 < n < 1_000_000
    latencies = pd.read_csv(out / "latencies.csv")
    assert (latencies.groupby("scheme")["trial"].count() == n).all()
    assert (pd.read_csv(out / "summary.csv")["trials"] == n).all()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    shown = CliRunner().invoke(main, ["show", str(out)])
    assert shown.exit_code == 0 and "PARTIAL" in shown.output
    plotted = CliRunner().invoke(main, ["plot", str(out)])
    assert plotted.exit_code == 0 and (out / "tail.png").exists()
    assert "partial run (interrupted" in plotted.stderr
