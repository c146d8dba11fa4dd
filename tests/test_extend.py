"""``ltsim run --extend`` adds trials only to a folder it can trust: the same config, the
same input files (SHA-256), the same random stream, rows a run can write, and it says
"nothing to do" when the folder already meets the stopping rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ltsim.cli import main
from tests.helpers import TINY_CONFIG


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def folder(tmp_path) -> tuple[Path, Path]:
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY_CONFIG)
    out = tmp_path / "out"
    assert cli("run", config, "-o", out, "-q", "--trials", 12, "-j", 1).exit_code == 0
    return config, out


def refused(result, *fragments: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.mark.parametrize(("row", "what"), [
    ("one,3,-1.0,,true", "latency < 0"),
    ("one,3,nan,,true", "latency is not a number"),
    ("one,3,1e999,,true", "a decoded trial with an infinite latency"),
    ("one,3,2.5,,false", "a failed trial with a finite latency"),
    ("one,3,abc,,true", "latency is not a number"),
])
def test_impossible_rows_are_refused_naming_the_file_and_line(folder, row, what):
    config, out = folder
    path = out / "latencies.csv"
    lines = path.read_text().splitlines(keepends=True)
    cells = lines[4].rstrip("\n").split(",")  # trial 3 of the first scheme, line 5
    lines[4] = ",".join(row.split(",") + cells[5:]) + "\n"
    path.write_text("".join(lines))
    before = path.read_bytes()
    result = cli("run", config, "--extend", out, "-q", "--trials", 20)
    refused(result, "--extend:", "latencies.csv line 5", what)
    assert path.read_bytes() == before


def test_a_latencies_file_cut_at_a_row_boundary_is_refused(folder):
    config, out = folder
    path = out / "latencies.csv"
    lines = path.read_text().splitlines(keepends=True)
    kept = [lines[0]] + [line for line in lines[1:] if int(line.split(",")[1]) < 10]
    path.write_text("".join(kept))  # every scheme's trials 10 and 11 lost: still consistent
    refused(cli("run", config, "--extend", out, "-q", "--trials", 20), "--extend:",
            "latencies.csv holds 10 trials and meta.json 12")


def test_a_changed_input_file_is_refused(tmp_path):
    samples = tmp_path / "delays.csv"
    samples.write_text("0.5\n1.5\n2.0\n")
    config = tmp_path / "trace.yaml"
    config.write_text(TINY_CONFIG.replace("delay: {dist: exponential, rate: 0.5}",
                                          f"delay: {{dist: empirical, path: {samples}}}"))
    out = tmp_path / "out"
    assert cli("run", config, "-o", out, "-q", "--trials", 6).exit_code == 0
    samples.write_text("0.5\n1.5\n9.0\n")
    refused(cli("run", config, "--extend", out, "-q", "--trials", 9), "--extend:",
            "changed since the folder was written", "mix two laws")
    assert json.loads((out / "meta.json").read_text())["trials"] == 6


def test_classes_and_mixtures_record_their_input_files(tmp_path):
    samples = tmp_path / "slow.csv"
    samples.write_text("3.0\n4.0\n")
    config = tmp_path / "c.yaml"
    config.write_text(TINY_CONFIG.replace(
        "delay: {dist: exponential, rate: 0.5}",
        "delay: {dist: mixture, components: [{weight: 0.5, law: {dist: exponential, rate: 1}},"
        f" {{weight: 0.5, law: {{dist: empirical, path: {samples}}}}}]}}"))
    out = tmp_path / "out"
    result = cli("run", config, "-o", out, "-q", "--trials", 4)
    assert result.exit_code == 0, result.stderr
    assert list(json.loads((out / "meta.json").read_text())["input_files"]) == [str(samples)]


def test_a_folder_of_another_random_stream_is_refused(folder):
    config, out = folder
    meta = json.loads((out / "meta.json").read_text())
    assert meta["stream"] == 2
    del meta["stream"]
    meta["versions"]["ltsim"] = "0.1.0"  # written before streams were recorded
    (out / "meta.json").write_text(json.dumps(meta))
    refused(cli("run", config, "--extend", out, "-q", "--trials", 20), "--extend:",
            "random stream 1", "this ltsim draws stream 2")
    meta["versions"]["ltsim"] = "0.2.0"  # 0.2.0 drew stream 2 without recording it
    (out / "meta.json").write_text(json.dumps(meta))
    assert cli("run", config, "--extend", out, "-q", "--trials", 20).exit_code == 0


def test_nothing_to_do_when_the_precision_target_is_already_met(folder):
    config, out = folder
    assert cli("run", config, "--extend", out, "-q", "--trials", 40).exit_code == 0
    before = (out / "latencies.csv").read_bytes()
    result = cli("run", config, "--extend", out, "-q", "--trials", 10**6,
                 "--target-rel-ci", 1e6)
    assert result.exit_code == 0, result.stderr
    assert "nothing to do" in result.stderr and "Error" not in result.stderr
    assert (out / "latencies.csv").read_bytes() == before


@pytest.mark.parametrize(("cell", "column", "what"), [
    ("1_0", 2, "latency is not a number"),
    (" 4.2", 2, "latency is not a number"),
    ("2.5", 3, "symbols is not a count"),
    ("0x3", 1, "trial is not an integer"),
])
def test_rows_python_would_read_but_ltsim_never_writes_are_refused(folder, cell, column,
                                                                  what):
    config, out = folder
    path = out / "latencies.csv"
    lines = path.read_text().splitlines(keepends=True)
    cells = lines[4].rstrip("\n").split(",")
    cells[column] = cell
    lines[4] = ",".join(cells) + "\n"
    path.write_text("".join(lines))
    result = cli("run", config, "--extend", out, "-q", "--trials", 20)
    refused(result, "latencies.csv line 5", what, repr(lines[4].rstrip("\n"))[:40])


def test_a_column_integer_in_one_scheme_and_fractional_in_another_reads_back_the_same(
        tmp_path):
    """A cost column that is an integer array for one scheme and a float one for another
    (a plugin code's, or units of 20 beside 20.0): every scheme's rows are read back with
    its own type, so rewriting the held trials gives the same bytes (what --extend does)."""
    import numpy as np

    from ltsim.io.results import LatencyWriter, read_latencies
    from ltsim.model.outcome import Outcome

    def outcome(units):
        n = len(units)
        return Outcome(np.linspace(1.0, 2.0, n), np.full(n, -1), np.ones(n, bool),
                       np.full(n, np.nan), {"units": units, "worker_seconds": np.full(n, 1.5)})

    held = [outcome(np.array([20, 21, 22])), outcome(np.array([20.0, 20.5, 21.0]))]
    first = tmp_path / "first"
    first.mkdir()
    writer = LatencyWriter(first, ["a", "b"])
    writer.append(0, held)
    writer.finish()
    text = (first / "latencies.csv").read_text()
    assert "a,0,1.0,,true,20,1.5" in text and "b,0,1.0,,true,20.0,1.5" in text
    trials, outcomes = read_latencies(first, ["a", "b"])
    again = tmp_path / "again"
    again.mkdir()
    writer = LatencyWriter(again, ["a", "b"])
    writer.append(0, outcomes)
    writer.finish()
    assert trials == 3
    assert (again / "latencies.csv").read_bytes() == (first / "latencies.csv").read_bytes()


def test_an_engine_policy_extends_to_the_bytes_of_a_run_done_in_one_go(tmp_path):
    """Uncoded, the generic backup and an engine's policy (its own rule and counts)."""
    config = tmp_path / "mixed.yaml"
    config.write_text("name: mixed\nm: 20\ntau: 0.05\ntrials: 8\nseed: 4\n"
                      "delay: {dist: exponential, rate: 0.2}\n"
                      "schemes: [{kind: uncoded}, {kind: backup}, "
                      "{kind: backup, policy: spark}]\n")
    part, whole = tmp_path / "part", tmp_path / "whole"
    assert cli("run", config, "-o", part, "-q", "--trials", 3, "-j", 1).exit_code == 0
    assert cli("run", config, "--extend", part, "-q", "-j", 1).exit_code == 0
    assert cli("run", config, "-o", whole, "-q", "-j", 1).exit_code == 0
    assert (part / "latencies.csv").read_bytes() == (whole / "latencies.csv").read_bytes()
