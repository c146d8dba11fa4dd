"""End to end: ltsim execute -> ltsim fit -> ltsim run of the fitted config -> ltsim plot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from ltsim.cli import main

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def test_execute_fit_run_plot(tmp_path):
    runner = CliRunner()
    out = tmp_path / "small"
    result = runner.invoke(main, ["execute", str(ROOT / "configs/execute-small.yaml"),
                                  "--trials", "2", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    for name in ("executions.csv", "tasks.csv", "summary.csv", "config.yaml", "meta.json"):
        assert (out / name).is_file()
    runs = pd.read_csv(out / "executions.csv")
    assert len(runs) == 2 * 5
    ok = runs[runs["status"] == "ok"]
    assert (ok["rel_error"] <= 1e-9).all() and len(ok) >= 8
    meta = json.loads((out / "meta.json").read_text())
    assert meta["backend"] == "local" and meta["status"] == "complete"

    fitted = tmp_path / "fitted.yaml"
    result = runner.invoke(main, ["fit", str(out), "-o", str(fitted)])
    assert result.exit_code == 0, result.output
    assert "<- chosen" in result.output and fitted.is_file()

    sim = tmp_path / "sim"
    result = runner.invoke(main, ["run", str(fitted), "-o", str(sim), "-q", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert set(pd.read_csv(sim / "summary.csv")["scheme"]) == set(runs["scheme"])

    shown = runner.invoke(main, ["show", str(out)])
    assert shown.exit_code == 0 and "executed on local" in shown.output
    assert "mismatches" in shown.output

    result = runner.invoke(main, ["plot", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("execution.png", "execution.pdf", "timeline.png"):
        assert (out / name).is_file()


def test_errors_are_one_line_exit_2(tmp_path):
    runner = CliRunner()
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nworkload: {kind: gaussian_kernel, m: 8, dim: 2}\ntrials: 1\n"
                   "schemes: [{kind: lt, r: 3}]\n")
    result = runner.invoke(main, ["execute", str(bad), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "ltsim: error:" in result.output and "schemes[0].r: must divide" in result.output
    result = runner.invoke(main, ["fit", str(tmp_path)])
    assert result.exit_code == 2 and "tasks.csv not found" in result.output


def test_help_does_not_import_engines():
    code = ("import sys; from ltsim.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed', "
            "'lithops', 'pandas', 'numpy')]\n"
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().endswith("[]")
