"""Every malformed config in ``tests/bad_configs`` must be refused cleanly by ``ltsim run``:
exit code 2, one stderr line ``ltsim: error: ...`` naming key, rule and value, no traceback,
and nothing written.

Adding a case is adding a file to ``tests/bad_configs`` and one line to its
``expected.yaml`` (the fragments its message must contain).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from ltsim.api import budget as runner
from ltsim.cli import main
from ltsim.io import config

CORPUS = Path(__file__).parent / "bad_configs"
DATA = CORPUS / "data"
EXPECTED: dict[str, list[str]] = yaml.safe_load((CORPUS / "expected.yaml").read_text("utf-8"))
CASES = sorted(p.name for p in CORPUS.glob("*.yaml") if p.name != "expected.yaml")
FAKE_MEMORY = 8 * 2**30


@pytest.fixture(autouse=True)
def fixed_memory(monkeypatch):
    """The memory check must not depend on the machine running the tests."""
    monkeypatch.setattr(runner, "available_memory", lambda: FAKE_MEMORY)


def assert_refused(code: int, stderr: str, stdout: str, out: Path, fragments: list[str]):
    lines = stderr.splitlines()
    assert code == 2, f"exit code {code}; stderr: {stderr!r}"
    assert len(lines) == 1, f"expected one stderr line, got {lines!r}"
    line = lines[0]
    assert line.startswith("ltsim: error: "), line
    assert "Traceback" not in stderr + stdout
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    assert not out.exists(), f"{out} was written"
    leftovers = sorted(p.name for p in out.parent.iterdir())
    assert leftovers == [], f"left behind: {leftovers}"


def test_corpus_is_large_and_expected_yaml_lists_exactly_the_corpus():
    assert len(CASES) >= 35
    assert sorted(EXPECTED) == CASES, (
        f"no file for {sorted(set(EXPECTED) - set(CASES))}; "
        f"no expected.yaml line for {sorted(set(CASES) - set(EXPECTED))}"
    )
    for name, fragments in EXPECTED.items():
        assert isinstance(fragments, list) and fragments, name
        assert all(isinstance(f, str) and f for f in fragments), name


@pytest.mark.parametrize("name", CASES)
def test_bad_config_is_refused_in_one_line(name, tmp_path):
    assert name in EXPECTED, f"add a line for {name} to {CORPUS / 'expected.yaml'}"
    out = tmp_path / "out"
    path = CORPUS / name
    result = CliRunner().invoke(main, ["run", str(path), "-o", str(out), "--quiet",
                                       "--jobs", "1"])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"uncaught {result.exception!r}"
    )
    assert_refused(result.exit_code, result.stderr, result.stdout, out,
                   [f"ltsim: error: {path}: ", *EXPECTED[name]])


@pytest.mark.slow
@pytest.mark.parametrize("name", [
    "lt_delta_above_one.yaml", "yaml_billion_laughs.yaml", "empirical_non_numeric.yaml",
])
def test_bad_config_in_a_real_process(name, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "ltsim", "run", str(CORPUS / name), "-o", str(out)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert_refused(proc.returncode, proc.stderr, proc.stdout, out, EXPECTED[name])


GOOD_SAMPLES = {
    "good_with_header.csv": [0.5, 1.25, 2.0, 0.0],
    "good_no_header.csv": [0.5, 1.25, 2.0],
    "good_two_columns.csv": [0.75, 0.5, 3.5],
    "good_crlf_exponents.csv": [1e-3, 0.25],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(GOOD_SAMPLES))
def test_good_empirical_samples_are_read(name, tmp_path):
    samples = DATA / name
    cfg = tmp_path / "cfg" / "good.yaml"
    cfg.parent.mkdir()
    (cfg.parent / name).write_bytes(samples.read_bytes())  # a path relative to the config
    column = ", column: delay" if name == "good_two_columns.csv" else ""
    cfg.write_text(
        "name: good\nm: 8\ntau: 1.0e-3\ntrials: 3\nseed: 1\n"
        f"delay: {{dist: empirical, path: {name}{column}}}\n"
        "schemes:\n  - {kind: uncoded}\n  - {kind: lt, r: 2}\n"
    )
    experiment = config.load(cfg)
    assert np.array_equal(experiment.delay.samples, GOOD_SAMPLES[name])
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(cfg), "-o", str(out), "-q", "--jobs", "1"])
    assert result.exit_code == 0, result.stderr
    assert (out / "summary.csv").is_file() and (out / "latencies.csv").is_file()


def test_yaml_exponent_without_dot_or_sign_is_a_number(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "name: e\nm: 4\ntau: 5e-3\ntrials: 1\ndelay: {dist: exponential, rate: 2E1}\n"
        "schemes: [{kind: uncoded}]\n"
    )
    experiment = config.load(path)
    assert experiment.tau == 5e-3 and experiment.delay.rate == 20.0
