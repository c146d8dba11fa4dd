"""Nothing lost: what --force may replace, outputs checked before any work, a lock per target,
what a failed write keeps, and --extend."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from ltsim.cli import main
from ltsim.io import folders, results

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, cwd: Path | None = None):
    if cwd is not None:
        old = Path.cwd()
        os.chdir(cwd)
    try:
        return CliRunner().invoke(main, [str(a) for a in args])
    finally:
        if cwd is not None:
            os.chdir(old)


def one_error_line(result, code: int = 2, *fragments: str) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == code, (result.exit_code, result.stderr, result.stdout)
    assert len(lines) == 1 and lines[0].startswith("ltsim: error: "), lines
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture
def precious(tmp_path):
    folder = tmp_path / "precious"
    folder.mkdir()
    (folder / "thesis.tex").write_text("x")
    return folder


@pytest.mark.parametrize("command", ["run", "execute"])
def test_force_never_replaces_a_folder_ltsim_did_not_write(command, tiny_config, precious):
    config = tiny_config if command == "run" else ROOT / "configs/execute-lithops.yaml"
    result = cli(command, config, "-o", precious, "--force", "-q")
    one_error_line(result, 2, "-o: exists and was not written by ltsim", "precious")
    assert (precious / "thesis.tex").read_text() == "x"
    assert sorted(p.name for p in precious.parent.iterdir()) == [precious.name, "tiny.yaml"] \
        if command == "run" else [precious.name]


def test_force_refuses_results_itself_and_the_current_folders_ancestors(tiny_config, tmp_path):
    work = tmp_path / "work"
    (work / "results" / "figures").mkdir(parents=True)
    (work / "results" / "figures" / "fig.png").write_text("png")
    for target, why in ((".", "current folder"), ("..", "current folder"),
                        ("results", "results folder itself"), ("results/", "results folder")):
        result = cli("run", tiny_config, "-o", target, "--force", "-q", cwd=work)
        one_error_line(result, 2, why)
    assert (work / "results" / "figures" / "fig.png").read_text() == "png"


@pytest.mark.slow
def test_force_replaces_ltsim_folders_and_empty_ones(tiny_config, tmp_path):
    out = tmp_path / "out"
    assert cli("run", tiny_config, "-o", out, "-q", "--seed", 1).exit_code == 0
    assert cli("run", tiny_config, "-o", out, "-q", "--force", "--seed", 2).exit_code == 0
    assert json.loads((out / "meta.json").read_text())["seed"] == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli("run", tiny_config, "-o", empty, "-q", "--force").exit_code == 0
    assert (empty / "latencies.csv").is_file()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_output_problems_are_found_before_simulating(tiny_config, tmp_path, monkeypatch):
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    one_error_line(cli("run", tiny_config, "-o", afile / "sub", "-q"), 2,
                   "afile is a file, not a folder")
    one_error_line(cli("run", tiny_config, "-o", afile, "--force", "-q"), 2,
                   "exists and is not a folder")
    simulated = []
    from ltsim.montecarlo import trials

    monkeypatch.setattr(trials, "simulate_trials", lambda *a: simulated.append(a))
    real_access = os.access
    monkeypatch.setattr(folders.os, "access",
                        lambda path, mode: Path(path) != tmp_path and real_access(path, mode))
    one_error_line(cli("run", tiny_config, "-o", tmp_path / "ro" / "out", "-q"), 2,
                   "cannot write into", "permission denied")
    assert simulated == [] and not (tmp_path / "ro").exists()


def test_a_second_run_into_a_locked_target_is_refused_at_once(tiny_config, tmp_path):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / ".out.lock").write_text(f"{holder.pid}\n")
        one_error_line(cli("run", tiny_config, "-o", out, "-q"), 2,
                       f"another ltsim process (pid {holder.pid}) is writing this folder")
        assert not out.exists()
    finally:
        holder.kill()
        holder.wait()
    # its process gone, the lock is stale and taken over
    assert cli("run", tiny_config, "-o", out, "-q").exit_code == 0
    assert not (tmp_path / ".out.lock").exists()


def test_a_failed_final_write_keeps_the_trials_and_names_them(tiny_config, tmp_path,
                                                              monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(results, "write_tables", disk_full)
    out = tmp_path / "out"
    line = one_error_line(cli("run", tiny_config, "-o", out, "-q", "--jobs", 1), 1,
                          "No space left on device", "40 trials computed are kept in")
    kept = Path(line.rsplit(" kept in ", 1)[1])
    assert kept.is_dir() and kept.parent == tmp_path and not out.exists()
    rows = (kept / "latencies.csv").read_text().splitlines()
    assert len(rows) == 1 + 5 * 40
    assert not (tmp_path / ".out.lock").exists()


@pytest.mark.slow
def test_extend_gives_the_bytes_of_a_direct_run(tiny_config, tmp_path):
    part, whole = tmp_path / "part", tmp_path / "whole"
    assert cli("run", tiny_config, "-o", part, "-q", "--trials", 130).exit_code == 0
    assert cli("run", tiny_config, "--extend", part, "-q", "--trials", 300).exit_code == 0
    assert cli("run", tiny_config, "-o", whole, "-q", "--trials", 300).exit_code == 0
    for name in ("latencies.csv", "tail.csv"):
        assert (part / name).read_bytes() == (whole / name).read_bytes(), name
    meta = json.loads((part / "meta.json").read_text())
    assert meta["trials"] == 300 and meta["extended_from"] == 130
    again = cli("run", tiny_config, "--extend", part, "-q", "--trials", 300)
    assert again.exit_code == 0 and "nothing to do" in again.stderr


def test_extend_refuses_another_config_and_foreign_folders(tiny_config, tmp_path, precious):
    out = tmp_path / "out"
    assert cli("run", tiny_config, "-o", out, "-q", "--trials", 20).exit_code == 0
    one_error_line(cli("run", tiny_config, "--extend", out, "-q", "--seed", 99), 2,
                   "--extend: the folder's resolved config differs", "seed")
    one_error_line(cli("run", tiny_config, "--extend", out, "-q", "--set", "delay.rate=2"),
                   2, "delay")
    one_error_line(cli("run", tiny_config, "--extend", precious, "-q"), 2,
                   "not a results folder written by ltsim")
    one_error_line(cli("run", tiny_config, "--extend", tmp_path / "none", "-q"), 2,
                   "no such results folder")
    one_error_line(cli("run", tiny_config, "--extend", out, "-o", tmp_path / "x", "-q"), 2,
                   "--extend")


def test_fit_never_overwrites_a_file_it_did_not_write(tmp_path):
    from tests.helpers import small_config  # noqa: F401 - the execute config model loads

    folder = tmp_path / "exec"
    folder.mkdir()
    (folder / "tasks.csv").write_text("scheme\n")
    (folder / "config.yaml").write_text("name: x\n")
    mine = tmp_path / "mine.yaml"
    mine.write_text("my notes\n")
    one_error_line(cli("fit", folder, "-o", mine), 2, "file already exists; pass --force")
    one_error_line(cli("fit", folder, "-o", mine, "--force"), 2,
                   "not written by ltsim fit")
    assert mine.read_text() == "my notes\n"


@pytest.mark.slow
def test_a_code_with_columns_of_its_own_anywhere_gives_a_regular_table(tmp_path):
    """``backup`` reports a ``backups`` column the others lack: the header has it, the other
    schemes leave it empty, pandas reads the file, and --extend keeps the bytes."""
    config = tmp_path / "c.yaml"
    config.write_text("name: c\nm: 24\ntau: 0.01\ntrials: 60\nseed: 5\n"
                      "delay: {dist: exponential, rate: 0.5}\nschemes:\n"
                      "  - {kind: uncoded}\n  - {kind: backup}\n  - {kind: lt, r: 2, c: 0.1}\n")
    part, whole = tmp_path / "part", tmp_path / "whole"
    assert cli("run", config, "-o", part, "-q", "--trials", 25).exit_code == 0
    extended = cli("run", config, "--extend", part, "-q")
    assert extended.exit_code == 0, extended.stderr
    assert cli("run", config, "-o", whole, "-q").exit_code == 0
    for name in ("latencies.csv", "tail.csv", "summary.csv"):
        frame = pd.read_csv(whole / name)
        assert len(frame) > 0
    for name in ("latencies.csv", "tail.csv"):
        assert (part / name).read_bytes() == (whole / name).read_bytes(), name
    rows = pd.read_csv(whole / "latencies.csv")
    assert list(rows.columns[-3:]) == ["worker_seconds", "units", "backups"]
    assert rows.loc[rows["scheme"] == "backup", "backups"].notna().all()
    assert rows.loc[rows["scheme"] != "backup", "backups"].isna().all()
