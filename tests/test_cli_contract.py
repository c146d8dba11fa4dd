"""The command line's promises: values read as in a file, a command that reruns, every config
validated, exit codes that say what happened, strict JSON, strict reading of result files."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from ltsim.cli import main

ROOT = Path(__file__).resolve().parents[1]


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def strict_json(path: Path):
    def refuse(constant):
        raise ValueError(f"{path} holds {constant}")

    return json.loads(path.read_text(), parse_constant=refuse)


def test_set_values_are_read_as_the_same_text_in_the_file(tiny_config, tmp_path):
    out = tmp_path / "out"
    result = cli("run", tiny_config, "-o", out, "-q", "--set", "tau=5e-3",
                 "--set", "delay.rate=2E-1")
    assert result.exit_code == 0, result.stderr
    resolved = (out / "config.yaml").read_text()
    assert "tau: 0.005" in resolved and "rate: 0.2" in resolved


@pytest.mark.slow
def test_the_recorded_command_reruns_the_run(tiny_config, tmp_path):
    out = tmp_path / "out"
    args = [sys.executable, "-m", "ltsim", "run", str(tiny_config), "-o", str(out), "-q",
            "--trials", "12", "--set", "schemes[3].c=0.05", "--set", "delay={dist: "
            "exponential, rate: 0.25}"]
    subprocess.run(args, check=True, capture_output=True, cwd=tmp_path)
    first = (out / "latencies.csv").read_bytes()
    command = strict_json(out / "meta.json")["command"]
    assert command.startswith("ltsim run ") and "'delay={dist: exponential, rate: 0.25}'" in command
    shutil.rmtree(out)
    ltsim = Path(sys.executable).with_name("ltsim")
    subprocess.run(command.replace("ltsim", str(ltsim), 1), shell=True, check=True,
                   capture_output=True, cwd=tmp_path)
    assert (out / "latencies.csv").read_bytes() == first


def test_validate_reports_every_file_of_both_kinds(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nm: 8\ntau: 0.1\ntrials: 1\ndelay: {dist: exponential, "
                   "rate: 1}\nschemes: [{kind: lt, delta: 2}]\n")
    files = sorted((ROOT / "configs").glob("*.yaml"))
    result = cli("validate", *files, bad)
    assert result.exit_code == 2
    ok = result.stdout.strip().splitlines()
    assert len(ok) == len(files) and all(": ok (" in line for line in ok)
    assert any("ltsim execute config" in line for line in ok)
    assert any("ltsim run config" in line for line in ok)
    assert any("ltsim sweep file" in line for line in ok)
    errors = result.stderr.strip().splitlines()
    assert errors == [f"ltsim: error: {bad}: schemes[0].delta: must be less than 1, got 2"]
    assert cli("validate", *files).exit_code == 0


def test_strict_json_and_numbers_of_the_run(tiny_config, tmp_path):
    out = tmp_path / "out"
    assert cli("run", tiny_config, "-o", out, "-q", "--target-rel-ci", "0.5").exit_code == 0
    meta = strict_json(out / "meta.json")
    assert meta["generator"] == "ltsim" and meta["target_rel_ci"] == 0.5


def test_execute_exits_1_when_trials_fail_and_still_writes(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text((ROOT / "configs" / "execute-lithops.yaml").read_text()
                      .replace("timeout: 120", "timeout: 0.001")
                      .replace("time_scale: 0.01", "time_scale: 1.0"))
    out = tmp_path / "out"
    result = cli("execute", config, "-o", out, "-q")
    assert result.exit_code == 1, result.stderr
    runs = pd.read_csv(out / "executions.csv")
    assert (runs["status"] == "timeout").all()
    assert strict_json(out / "meta.json")["failures"] == len(runs)
    assert "did not recover F(x)" in result.stderr


@pytest.mark.slow
def test_plot_draws_the_good_folders_and_names_the_bad_one(tiny_config, tmp_path):
    root = tmp_path / "res"
    for name in ("a", "c"):
        assert cli("run", tiny_config, "-o", root / name, "-q", "--trials", 5).exit_code == 0
    shutil.copytree(root / "a", root / "b")
    tail = (root / "b" / "tail.csv").read_text().splitlines()
    tail[2] = tail[2].rsplit(",", 1)[0] + ",oops"
    (root / "b" / "tail.csv").write_text("\n".join(tail) + "\n")
    result = cli("plot", root)
    assert result.exit_code == 1
    assert (root / "a" / "tail.png").is_file() and (root / "c" / "tail.png").is_file()
    errors = [line for line in result.stderr.splitlines() if line.startswith("ltsim: error")]
    assert errors == [f"ltsim: error: {root / 'b' / 'tail.csv'}: row 2, column tail: not a "
                      "number, got 'oops'"]


def test_show_refuses_results_it_cannot_trust(tiny_config, tmp_path):
    out = tmp_path / "out"
    assert cli("run", tiny_config, "-o", out, "-q", "--trials", 5).exit_code == 0
    summary = (out / "summary.csv").read_text()
    cases = {
        "header only": summary.splitlines()[0] + "\n",
        "truncated": summary[: len(summary) // 2],
        "a word": summary.replace(",0.0,", ",zero,", 1),
        "rows missing": "\n".join(summary.splitlines()[:3]) + "\n",
    }
    for why, text in cases.items():
        (out / "summary.csv").write_text(text)
        result = cli("show", out)
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == 1 and len(lines) == 1, (why, result.stderr, result.stdout)
        assert lines[0].startswith(f"ltsim: error: {out / 'summary.csv'}: "), (why, lines)
        assert result.stdout == "", why


def test_help_texts():
    help_text = cli("run", "--help").stdout
    assert "%%" not in help_text and "95 %" in help_text
    assert "summary" in cli("execute", "--help").stdout.split("--quiet")[1]


def test_execution_figure_never_shows_negative_latency():
    import numpy as np

    from ltsim.plots.execution import mean_interval

    skewed = np.array([0.001, 0.002, 0.001, 0.003, 0.25])  # One's 0.047 +- 0.057 case
    mean, low, high = mean_interval(skewed)
    assert 0 < low <= mean <= high <= skewed.max()
    assert math.isnan(mean_interval(np.array([math.inf, math.inf]))[0])
