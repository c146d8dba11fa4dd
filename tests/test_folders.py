"""Result folders: one writer per folder (sweeps included), links written through, the staging
folders of killed runs cleaned up, the folders of failed writes kept under a name that says
so."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from ltsim.cli import main
from ltsim.io import folders
from tests.helpers import TINY_CONFIG


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_CONFIG)
    return path


def dead_pid() -> int:
    """The process id of a process that has exited."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_the_lock_is_reentrant_and_refuses_other_live_processes(tmp_path):
    target = tmp_path / "sweep"
    with folders.Lock(target) as lock:
        assert lock.path.read_text().strip() == str(os.getpid())
        with folders.Lock(target), folders.Staging(target / "points" / "a"):
            pass
        assert lock.path.exists()  # the inner exit did not release the outer lock
    assert not lock.path.exists()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        lock.path.write_text(f"{other.pid}\n")
        with pytest.raises(folders.TargetError, match=f"another ltsim process .pid {other.pid}"):
            folders.Lock(target).__enter__()
    finally:
        other.kill()
        other.wait()
    with folders.Lock(target):  # its process is gone: the lock is taken over
        pass


def test_force_through_a_symlink_writes_where_it_points_and_keeps_the_link(config, tmp_path):
    real = tmp_path / "real"
    assert cli("run", config, "-o", real, "-q", "--trials", 5).exit_code == 0
    link = tmp_path / "latest"
    link.symlink_to(real)
    result = cli("run", config, "-o", link, "-q", "--trials", 7, "--force")
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert json.loads((real / "meta.json").read_text())["trials"] == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "real", "tiny.yaml"]
    broken = tmp_path / "broken"
    broken.symlink_to(tmp_path / "nowhere")
    refused = cli("run", config, "-o", broken, "-q", "--force")
    assert refused.exit_code == 2 and "-o: is a broken link" in refused.stderr


def test_a_publish_removes_staging_folders_of_dead_runs_only(config, tmp_path):
    out = tmp_path / "out"
    stale = tmp_path / f".out.tmp-{dead_pid()}-0123abcd"
    stale.mkdir()
    (stale / ".latencies.0.part").write_text("one,0,1.0,,true\n")
    live = tmp_path / f".out.tmp-{os.getppid()}-89abcdef"  # a live process's
    live.mkdir()
    kept = tmp_path / f".out.kept-{dead_pid()}-0123abcd"  # named to a user: never removed
    kept.mkdir()
    other = tmp_path / f".other.tmp-{dead_pid()}-0123abcd"  # another target's
    other.mkdir()
    assert cli("run", config, "-o", out, "-q", "--trials", 5).exit_code == 0
    assert not stale.exists()
    assert live.exists() and kept.exists() and other.exists()


def test_a_failed_final_write_keeps_the_trials_under_a_kept_name(config, tmp_path,
                                                                 monkeypatch):
    from ltsim.io import results

    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(results, "write_tables", refuse)
    out = tmp_path / "out"
    result = cli("run", config, "-o", out, "-q", "--trials", 5)
    assert result.exit_code == 1
    kept = [p for p in tmp_path.iterdir() if ".kept-" in p.name]
    assert len(kept) == 1 and str(kept[0].name) in result.stderr
    assert "No space left on device" in result.stderr and not out.exists()
    assert (kept[0] / "latencies.csv").read_text().count("\n") == 1 + 5 * 5
