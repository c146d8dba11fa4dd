"""A Dask cluster that is lost under a run or a sweep: no workers at the start is refused;
workers or the scheduler lost midway end the command like an interruption (the trials done
published, ``"interrupted"``, exit 1, one line, resumable with ``--extend``), never a hang,
a traceback or a sweep left ``"running"``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from ltsim.cli import main
from tests.test_interrupt import CONFIG, trials_written, wait_until

pytestmark = pytest.mark.slow
pytest.importorskip("distributed")

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "dask"), *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.fixture
def scheduler():
    port = free_port()
    proc = start("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")
    address = f"tcp://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert time.monotonic() < deadline and proc.poll() is None, "no scheduler"
        time.sleep(0.1)
    yield proc, address
    stop(proc)


def worker(address: str) -> subprocess.Popen:
    return start("worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard")


def command(*args, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ltsim", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def test_no_workers_refused_lost_workers_and_a_lost_scheduler_end_cleanly(scheduler, tmp_path):
    """One scheduler: refused without workers; a run whose workers are killed ends as
    failed and resumes; a sweep whose scheduler is killed ends with its meta.json final."""
    proc, address = scheduler
    config = tmp_path / "long.yaml"
    config.write_text(CONFIG)
    refused = CliRunner().invoke(main, ["run", str(config), "-o", str(tmp_path / "none"),
                                        "--address", address, "-q"])
    assert refused.exit_code == 2, refused.stderr
    assert "the scheduler has no workers" in refused.stderr
    assert not (tmp_path / "none").exists()
    first = worker(address)
    out = tmp_path / "out"
    run = command("run", config, "-o", out, "-q", "--address", address,
                  env={"LTSIM_WORKER_TIMEOUT": "2"})
    try:
        wait_until(run, lambda: trials_written(out))
        stop(first)  # every worker lost
        _, stderr = run.communicate(timeout=60)
    finally:
        run.kill()
    lines = stderr.strip().splitlines()
    assert run.returncode == 1 and len(lines) == 1, stderr
    assert "no Dask worker for 2 s" in lines[0] and "--extend" in lines[0]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "interrupted" and meta["stop_reason"] == "failed"
    n = meta["trials"]
    resumed = CliRunner().invoke(main, ["run", str(config), "--extend", str(out), "-q",
                                        "--trials", str(n + 5), "--jobs", "1"])
    assert resumed.exit_code == 0, resumed.stderr
    assert json.loads((out / "meta.json").read_text())["trials"] == n + 5

    sweep = tmp_path / "s.yaml"
    sweep.write_text("base: long.yaml\ngrid: {tau: [0.001, 0.002]}\n")
    first = worker(address)
    out = tmp_path / "sw"
    run = command("sweep", sweep, "-o", out, "-q", "--address", address)
    try:
        wait_until(run, lambda: any(p.stat().st_size > 0
                                    for p in out.glob("points/.*.tmp-*/*.part")))
        stop(proc)  # the scheduler is gone
        _, stderr = run.communicate(timeout=90)
    finally:
        run.kill()
        stop(first)
    lines = stderr.strip().splitlines()
    assert run.returncode == 1 and len(lines) == 1 and "Traceback" not in stderr, stderr
    assert "lost the Dask scheduler" in lines[0] and "--extend" in lines[0]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "interrupted" and "lost the Dask scheduler" in meta["error"]
