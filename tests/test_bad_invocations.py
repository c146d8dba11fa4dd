"""Every command line in ``tests/bad_invocations/cases.yaml`` is refused in one line
``ltsim: error: ...`` with its exit code, no traceback, and nothing written.

Adding a case is adding an entry to ``cases.yaml``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ltsim.cli import main
from tests.helpers import TINY_CONFIG

HERE = Path(__file__).parent
CASES: dict = yaml.safe_load((HERE / "bad_invocations" / "cases.yaml").read_text("utf-8"))
EXECUTE = HERE.parent / "configs" / "execute-lithops.yaml"


def fixtures(tmp: Path) -> set[Path]:
    """The fixture files of a case's folder; returns every path in it."""
    (tmp / "precious").mkdir()
    (tmp / "precious" / "thesis.tex").write_text("x")
    (tmp / "afile").write_text("a file")
    (tmp / "tiny.yaml").write_text(TINY_CONFIG)
    (tmp / "good.csv").write_text("0.5\n1.5\n")
    (tmp / "pandas.csv").write_text(",delay\n0,0.5\n1,1.5\n")
    broken = tmp / "broken"
    broken.mkdir()
    (broken / "meta.json").write_text('{"generator": "ltsim", "status": "complete"}\n')
    (broken / "summary.csv").write_text("scheme,trials,mean\none,500,10.3")
    sweeps = {
        "grid-trials": "base: tiny.yaml\ngrid: {trials: [10, 20]}\n",
        "base-text": "base: notes.txt\ngrid: {tau: [0.1]}\n",
        "huge": (f"base: tiny.yaml\ngrid: {{tau: {[i / 1000 for i in range(1, 101)]}, "
                 f"m: {[24 * i for i in range(1, 101)]}, delay.rate: {list(range(1, 101))}}}\n"),
        "equal": "base: tiny.yaml\ngrid: {delay.rate: [1, 1.0]}\n",
        "ok": "base: tiny.yaml\ngrid: {tau: [0.01]}\n",
    }
    for name, text in sweeps.items():
        (tmp / f"{name}.sweep.yaml").write_text(text)
    (tmp / "notes.txt").write_text("my private notes, not a config\n")
    (tmp / "dangling").symlink_to(tmp / "nowhere")
    bad_sweep = tmp / "badsweep"
    bad_sweep.mkdir()
    (bad_sweep / "meta.json").write_text('{"generator": "ltsim", "status": "complete"}\n')
    (bad_sweep / "sweep.yaml").write_text("base: [unclosed\n")
    return set(tmp.rglob("*"))


def test_cases_are_well_formed():
    assert len(CASES) >= 20
    for name, case in CASES.items():
        assert set(case) == {"args", "code", "fragments"}, name
        assert case["code"] in (1, 2) and case["fragments"], name


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_invocation_is_refused_in_one_line(name, tmp_path):
    case = CASES[name]
    work = tmp_path / "work"
    work.mkdir()
    before = fixtures(work)
    args = [str(a).replace("{config}", str(work / "tiny.yaml"))
            .replace("{exec}", str(EXECUTE)).replace("{tmp}", str(work))
            for a in case["args"]]
    old = Path.cwd()
    os.chdir(work)
    try:
        result = CliRunner().invoke(main, args)
    finally:
        os.chdir(old)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == case["code"], (result.exit_code, result.stderr, result.stdout)
    assert len(lines) == 1 and lines[0].startswith("ltsim: error: "), lines
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in case["fragments"]:
        assert fragment in lines[0], (fragment, lines[0])
    assert set(work.rglob("*")) == before, "something was written"
    assert (work / "precious" / "thesis.tex").read_text() == "x"
