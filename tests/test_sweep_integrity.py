"""Sweeps under attack: one writer per sweep folder, a folder per distinct point, strict
reading of every point before it is reused, ranking by what a metric means, bounds per
point, and the limits, dry runs and messages of large or malformed sweeps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from ltsim.cli import main
from ltsim.io.sweep import load_sweep, slug
from tests.helpers import TINY_CONFIG, cli, sweep_file


@pytest.fixture
def base(tmp_path):
    path = tmp_path / "base.yaml"
    path.write_text(TINY_CONFIG.replace("trials: 40", "trials: 10"))
    return path


def one_line_error(result, code: int = 2) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == code and len(lines) == 1, (result.exit_code, result.stderr)
    assert lines[0].startswith("ltsim: error: ")
    return lines[0]


def test_a_sweep_being_written_is_neither_replaced_nor_extended(base, tmp_path):
    sweep = sweep_file(tmp_path, "grid:\n  tau: [0.01, 0.02]\n")
    out = tmp_path / "out"
    assert cli("sweep", sweep, "-o", out, "-q", "-j", 1).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:  # another live process holds the sweep's lock, as a running sweep does
        (tmp_path / ".out.lock").write_text(f"{writer.pid}\n")
        for extra in (["--force"], ["--extend"]):
            line = one_line_error(cli("sweep", sweep, "-o", out, "-q", *extra))
            assert f"another ltsim process (pid {writer.pid})" in line
        line = one_line_error(cli("run", base, "-o", out, "-q", "--force"))
        assert "another ltsim process" in line
    finally:
        writer.kill()
        writer.wait()
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_distinct_values_get_distinct_folders_whatever_the_key_order(base, tmp_path):
    close = load_sweep(sweep_file(tmp_path, "grid:\n  tau: [0.0050000001, 0.0050000002]\n"))
    assert len({p.slug for p in close.points}) == 2
    ab = load_sweep(sweep_file(tmp_path, "grid:\n  tau: [0.01, 0.02]\n  delay.rate: [1, 2]\n"))
    ba = load_sweep(sweep_file(tmp_path, "grid:\n  delay.rate: [1, 2]\n  tau: [0.01, 0.02]\n",
                               "b.yaml"))
    assert {p.slug for p in ab.points} == {p.slug for p in ba.points}
    assert slug({"tau": 1}) != slug({"tau": 1.5}) and slug({"a": 1, "b": 2}) == slug(
        {"b": 2, "a": 1})
    line = one_line_error(cli("sweep", sweep_file(tmp_path, "grid:\n  delay.rate: [1, 1.0]\n",
                                                  "r.yaml"), "-o", tmp_path / "x"))
    assert "grid.delay.rate: values must not repeat (1 and 1.0 are equal)" in line


@pytest.mark.parametrize(("body", "fragment"), [
    ("grid:\n  trials: [10, 20]\n", "grid.trials: cannot be varied"),
    ("grid:\n  seed: [1, 2]\n", "grid.seed: cannot be varied"),
    ("zip:\n  name: [a, b]\n  tau: [0.1, 0.2]\n", "zip.name: cannot be varied"),
])
def test_keys_a_sweep_sets_itself_are_refused_up_front(base, tmp_path, body, fragment):
    path = sweep_file(tmp_path, body)
    assert fragment in one_line_error(cli("validate", path))
    assert fragment in one_line_error(cli("sweep", path, "-o", tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_a_base_that_is_not_a_config_is_named_not_quoted(tmp_path):
    (tmp_path / "notes.txt").write_text("hello world, this is my secret text\n")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    for name, kind in (("notes.txt", "got text"), ("list.yaml", "got a list")):
        path = tmp_path / "s.yaml"
        path.write_text(f"base: {name}\ngrid: {{tau: [1]}}\n")
        line = one_line_error(cli("sweep", path, "-o", tmp_path / "out"))
        assert f"base: {tmp_path / name}: must hold a run config" in line and kind in line
        assert "secret" not in line


def test_null_values_are_one_cell_in_points_csv(base, tmp_path):
    out = tmp_path / "out"
    sweep = sweep_file(tmp_path, "grid:\n  price_per_second: [null, 0.5]\n")
    result = cli("sweep", sweep, "-o", out, "-q", "-j", 1)
    assert result.exit_code == 0, result.stderr
    text = (out / "points.csv").read_text()
    assert "..." not in text and "null\n" not in text
    points = pd.read_csv(out / "points.csv", keep_default_na=False)
    assert sorted(set(points["price_per_second"].astype(str))) == ["0.5", "null"]


@pytest.fixture
def done(base, tmp_path):
    """A complete sweep of two points."""
    sweep = sweep_file(tmp_path, "grid:\n  tau: [0.01, 0.02]\n")
    out = tmp_path / "out"
    result = cli("sweep", sweep, "-o", out, "-q", "-j", 1)
    assert result.exit_code == 0, result.stderr
    return sweep, out


def point_folders(out: Path) -> list[Path]:
    return sorted((out / "points").iterdir())


@pytest.mark.parametrize("damage", ["summary", "latencies", "latencies_rows", "no_latencies"])
def test_a_damaged_point_is_named_and_recomputed(done, damage):
    sweep, out = done
    point = point_folders(out)[1]
    good = (point / "latencies.csv").read_bytes()
    if damage == "summary":
        text = (point / "summary.csv").read_text()
        (point / "summary.csv").write_text(text[: len(text) * 2 // 3])
    elif damage == "latencies":
        (point / "latencies.csv").write_bytes(good[: len(good) // 2])
    elif damage == "latencies_rows":  # cut at a row boundary: looks whole
        lines = good.decode().splitlines(keepends=True)
        (point / "latencies.csv").write_text("".join(lines[: len(lines) // 2]))
    else:
        (point / "latencies.csv").unlink()
    result = cli("sweep", sweep, "-o", out, "-q", "-j", 1, "--extend")
    assert result.exit_code == 0, result.stderr
    assert f"point {point.name}:" in result.stderr and "recomputing it" in result.stderr
    assert (point / "latencies.csv").read_bytes() == good
    assert len(pd.read_csv(out / "points.csv")) == 2 * 5


def test_a_damaged_point_is_never_silently_dropped_from_the_table(done):
    sweep, out = done
    point = point_folders(out)[0]
    (point / "latencies.csv").unlink()
    from ltsim.api.sweep import points_table
    from ltsim.io.report import CorruptResults

    with pytest.raises(CorruptResults, match=r"latencies\.csv: missing"):
        points_table(out, load_sweep(sweep))


def test_extend_refuses_points_of_another_stream_or_changed_inputs(tmp_path):
    samples = tmp_path / "delays.csv"
    samples.write_text("0.5\n1.5\n2.0\n")
    (tmp_path / "base.yaml").write_text(TINY_CONFIG.replace(
        "delay: {dist: exponential, rate: 0.5}", f"delay: {{dist: empirical, path: {samples}}}"
    ).replace("trials: 40", "trials: 6"))
    sweep = sweep_file(tmp_path, "grid:\n  tau: [0.01, 0.02]\n")
    out = tmp_path / "out"
    assert cli("sweep", sweep, "-o", out, "-q", "-j", 1).exit_code == 0
    meta_before = (out / "meta.json").read_bytes()
    samples.write_text("0.5\n1.5\n7.0\n")
    line = one_line_error(cli("sweep", sweep, "-o", out, "-q", "-j", 1, "--extend",
                              "--trials", 8))
    assert "--extend: point" in line and "changed since the folder was written" in line
    assert (out / "meta.json").read_bytes() == meta_before
    samples.write_text("0.5\n1.5\n2.0\n")
    meta_path = point_folders(out)[0] / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["stream"] = 1
    meta_path.write_text(json.dumps(meta))
    line = one_line_error(cli("sweep", sweep, "-o", out, "-q", "--extend", "--trials", 8))
    assert "was drawn from random stream 1" in line


def test_extend_with_fewer_trials_than_held_has_nothing_to_do(done):
    sweep, out = done
    stamps = {p.name: (p / "meta.json").stat().st_mtime_ns for p in point_folders(out)}
    result = cli("sweep", sweep, "-o", out, "-q", "-j", 1, "--extend", "--trials", 4)
    assert result.exit_code == 0, result.stderr
    assert "Error" not in result.stderr
    assert {p.name: (p / "meta.json").stat().st_mtime_ns for p in point_folders(out)} == stamps


def test_corrupt_sweep_yaml_and_a_sweep_without_points_are_reported_in_one_line(done):
    sweep, out = done
    (out / "sweep.yaml").write_text("base: [unclosed\n")
    line = one_line_error(cli("show", out), 1)
    assert "sweep.yaml: not readable YAML" in line
    assert "sweep.yaml" in one_line_error(cli("plot", out), 1)
    assert "--extend:" in one_line_error(cli("sweep", sweep, "-o", out, "--extend"))
    (out / "sweep.yaml").write_text("")
    assert "sweep.yaml" in one_line_error(cli("show", out), 1)


def test_show_of_a_sweep_without_points_csv_and_of_a_tree(done, tmp_path):
    _, out = done
    (out / "points.csv").unlink()
    meta = json.loads((out / "meta.json").read_text())
    gone = subprocess.Popen([sys.executable, "-c", ""])
    gone.wait()
    meta.update(status="running", pid=gone.pid)
    (out / "meta.json").write_text(json.dumps(meta))
    shown = cli("show", out)
    assert shown.exit_code == 0, shown.stderr
    assert "killed (its process is gone" in shown.stdout and "no points.csv" in shown.stdout
    tree = cli("show", tmp_path)  # a folder of results folders: each is shown
    assert tree.exit_code == 0, tree.stderr
    assert "meta.json: missing" not in tree.output
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "show takes a folder written by ltsim" in one_line_error(cli("show", empty))


def test_failing_schemes_rank_by_what_the_metric_means():
    from ltsim.io.ranking import best_table

    points = pd.DataFrame({
        "point": ["a"] * 3 + ["b"] * 3,
        "tau": [0.1] * 3 + [0.2] * 3,
        "scheme": ["lt9", "rep2", "ideal"] * 2,
        "mean": [1.0, 5.0, 0.5, 1.0, 5.0, 0.5],
        "p99": [float("inf"), 9.0, 1.0, 3.0, 9.0, 1.0],
        "failure_rate": [0.74, 0.0, 0.0, 0.005, 0.0, 0.0],
    })
    bounds = {"a": {"ideal"}, "b": {"ideal"}}
    by_mean = best_table(points, ["tau"], "mean", bounds)
    assert list(by_mean["best by mean"]) == ["rep2", "rep2"]  # a mean with failures is inf
    assert list(by_mean["its mean"]) == [float("inf")] * 2
    assert list(by_mean["its failure_rate"]) == [0.74, 0.005]
    by_p99 = best_table(points, ["tau"], "p99", bounds)  # p99 counts failures as inf
    assert list(by_p99["best by p99"]) == ["rep2", "lt9"]
    assert list(by_p99["failure_rate"]) == [0.0, 0.005]


def test_bounds_never_win_when_schemes_is_a_varied_key(tmp_path):
    (tmp_path / "base.yaml").write_text(
        "name: b\nm: 40\ntau: 0.01\ntrials: 10\nseed: 3\n"
        "delay: {dist: exponential, rate: 0.2}\nschemes: [{kind: uncoded}]\n")
    sweep = sweep_file(tmp_path, "grid:\n  schemes:\n    - [{kind: uncoded}]\n"
                                 "    - [{kind: replication, r: 2}, {kind: ideal}]\n")
    out = tmp_path / "out"
    ran = cli("sweep", sweep, "-o", out, "-j", "1")
    assert ran.exit_code == 0, ran.stderr
    for result in (ran, cli("show", out, "--metric", "mean")):
        table = result.output.split("best by")[1].split("results in")[0]
        winners = [line.split("]")[-1].split()[0] for line in table.splitlines()[1:]]
        assert winners == ["uncoded", "rep2"], result.output
    plotted = cli("plot", out)
    assert plotted.exit_code == 0, plotted.stderr


def test_the_table_tells_close_values_apart(base, tmp_path):
    out = tmp_path / "out"
    sweep = sweep_file(tmp_path, "grid:\n  tau: [0.0100001, 0.0100002]\n  delay.rate: [1, 2]\n"
                                 "trials: 4\n")
    result = cli("sweep", sweep, "-o", out, "-j", 1)
    assert result.exit_code == 0, result.stderr
    for text in (result.stdout, cli("show", out).stdout):
        assert "0.0100001" in text and "0.0100002" in text


def test_a_huge_grid_is_refused_before_it_is_validated_unless_forced(base, tmp_path):
    values = list(range(1, 101))
    path = sweep_file(tmp_path, f"grid:\n  delay.rate: {values}\n  tau: {values}\n"
                                f"  m: {[24 * v for v in values]}\n")
    for command in (["validate", path], ["sweep", path, "-o", tmp_path / "out"]):
        line = one_line_error(cli(*command))
        assert "grid: 1000000 points, more than the 10000" in line and "--force" in line
    assert not (tmp_path / "out").exists()


def test_dry_run_prints_points_time_and_disk_and_writes_nothing(base, tmp_path):
    path = sweep_file(tmp_path, "grid:\n  tau: [0.01, 0.02, 0.03]\n")
    result = cli("sweep", path, "-o", tmp_path / "out", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "# points: 3 over tau" in result.output
    assert "# time: about" in result.output and "# disk: about" in result.output
    assert not (tmp_path / "out").exists()


def test_a_failing_point_ends_the_sweep_with_its_meta_final(done, monkeypatch):
    from ltsim.montecarlo import trials

    sweep, out = done
    bigger = sweep.with_name("big.yaml")
    bigger.write_text(sweep.read_text().replace("[0.01, 0.02]", "[0.01, 0.02, 0.03]"))

    def broken(*args, **kwargs):
        raise RuntimeError("a worker blew up")

    monkeypatch.setattr(trials, "simulate_block", broken)
    result = cli("sweep", bigger, "-o", out, "-q", "-j", 1, "--extend")
    line = one_line_error(result, 1)
    assert "a worker blew up" in line and "point tau=0.03" in line
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "interrupted" and "a worker blew up" in meta["error"]
    assert meta["points_done"] == 2 and os.getpid() == meta.get("pid", os.getpid())


@pytest.fixture
def figures(monkeypatch):
    """The figures the sweep plots save, by file stem (captured before they are closed)."""
    from ltsim.plots import sweep as plots

    captured = {}
    real = plots.save_figure

    def capture(fig, folder, stem, *args, **kwargs):
        fig.canvas.draw()
        captured[stem] = fig
        return real(fig, folder, stem, *args, **kwargs)

    monkeypatch.setattr(plots, "save_figure", capture)
    return captured


def test_failing_schemes_and_infinite_p99_are_drawn_not_dropped(tmp_path, figures):
    (tmp_path / "base.yaml").write_text(
        "name: b\nm: 24\ntau: 0.01\ntrials: 20\nseed: 3\n"
        "delay: {dist: exponential, rate: 0.5}\nschemes:\n  - {kind: uncoded}\n"
        "  - {kind: lt, r: 1, symbols_per_worker: 1, c: 0.1, delta: 0.5, label: fragile}\n")
    sweep = sweep_file(tmp_path, "grid:\n  tau: [0.01, 0.02]\n  delay.rate: [0.5, 1]\n")
    out = tmp_path / "out"
    assert cli("sweep", sweep, "-o", out, "-q", "-j", 1).exit_code == 0
    points = pd.read_csv(out / "points.csv")
    assert (points.loc[points["scheme"] == "fragile", "failure_rate"] > 0).all()
    assert cli("plot", out).exit_code == 0
    ax = figures["sweep-tau"].axes[0]
    fragile = next(line for line in ax.get_lines() if line.get_label() == "fragile")
    assert pd.isna(fragile.get_ydata()).all()  # a mean with failures is not a low point
    assert [line for line in ax.get_lines() if line.get_marker() == "^"]
    legends = [a.get_legend() for a in figures["sweep-tau"].axes if a.get_legend()]
    assert "infinite" in legends[0].get_title().get_text()
    texts = [t.get_text() for t in figures["wins"].axes[0].texts]
    assert texts and not any(t.startswith("fragile") for t in texts)


def test_wins_map_names_schemes_and_lists_by_their_legend_names(tmp_path, figures):
    (tmp_path / "base.yaml").write_text(
        "name: b\nm: 24\ntau: 0.01\ntrials: 10\nseed: 3\n"
        "delay: {dist: exponential, rate: 0.5}\nschemes: [{kind: uncoded}]\n")
    sweep = sweep_file(tmp_path, "grid:\n  schemes:\n    - [{kind: uncoded}]\n"
                                 "    - [{kind: replication, r: 2}, {kind: one}]\n"
                                 "  tau: [0.01, 0.02]\n")
    out = tmp_path / "out"
    assert cli("sweep", sweep, "-o", out, "-q", "-j", 1).exit_code == 0
    assert cli("plot", out).exit_code == 0
    ax = figures["wins"].axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["Uncoded", "2-Rep + One"], labels
    names = {t.get_text().split("\n")[0] for t in ax.texts}
    assert names <= {"Uncoded", "2-Rep", "One"}, names


def test_nothing_is_written_inside_a_sweep_another_process_holds(done, tmp_path, base):
    sweep, out = done
    point = point_folders(out)[0]
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / ".out.lock").write_text(f"{holder.pid}\n")
        before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
        for args in (["run", base, "-o", point, "--force", "-q"],
                     ["run", base, "-o", out / "points" / "new", "-q"],
                     ["sweep", sweep, "-o", out / "points" / "sub", "-q"]):
            line = one_line_error(cli(*args))
            assert f"which another ltsim process (pid {holder.pid}) is writing" in line
        assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    finally:
        holder.kill()
        holder.wait()


def test_an_interrupted_point_holding_enough_trials_has_nothing_to_do(done):
    sweep, out = done
    point = point_folders(out)[0]
    meta = json.loads((point / "meta.json").read_text())
    meta.update(status="interrupted", stop_reason="interrupted")
    (point / "meta.json").write_text(json.dumps(meta))
    result = cli("sweep", sweep, "-o", out, "-q", "-j", 1, "--extend", "--trials", 4)
    assert result.exit_code == 0, result.stderr
    assert "nothing to do" in result.stderr and "(interrupted" not in result.stderr


@pytest.mark.parametrize("damage", ["grid: 5\n", "zip: 7\n", "grid: {}\n",
                                    "grid: {nope: [1, 2]}\n"])
def test_a_sweep_yaml_of_the_wrong_shape_is_one_line(done, damage):
    sweep, out = done
    text = (out / "sweep.yaml").read_text()
    grid = text[text.index("grid:"):text.index("trials:")]
    (out / "sweep.yaml").write_text(text.replace(grid, damage))
    assert "sweep.yaml" in one_line_error(cli("show", out), 1) or "points.csv" in \
        one_line_error(cli("show", out), 1)
    plotted = cli("plot", out)
    assert plotted.exit_code == 1 and "Traceback" not in plotted.output
    assert "internal error" not in plotted.output
    refused = cli("sweep", sweep, "-o", out, "--extend")
    assert refused.exit_code == 2 and "internal error" not in refused.stderr, refused.stderr


def test_an_over_limit_sweep_is_refused_before_any_point_is_validated(base, tmp_path,
                                                                      monkeypatch):
    from ltsim.io import sweep as sweeps

    def never(*args, **kwargs):
        raise AssertionError("a point was validated")

    monkeypatch.setattr(sweeps, "_point", never)
    path = sweep_file(tmp_path, f"zip:\n  tau: {[i / 1e5 for i in range(1, 10002)]}\n"
                                f"  delay.rate: {list(range(1, 10002))}\n")
    with pytest.raises(sweeps.ConfigError, match=r"zip: 10001 points, more than the 10000"):
        load_sweep(path)
    values = [*range(20000), 7.0]  # a repeat found among many values
    with pytest.raises(sweeps.ConfigError, match=r"values must not repeat \(7 and 7.0"):
        sweeps._distinct({"tau": values}, "grid")


def test_a_null_value_is_named_null(base, tmp_path):
    points = load_sweep(sweep_file(tmp_path, "grid:\n  price_per_second: [null, 0.5]\n"))
    assert points.points[0].slug.startswith("price_per_second=null-")


def test_a_bad_worker_timeout_is_refused_in_one_line(base):
    result = CliRunner().invoke(main, ["run", str(base), "-q", "--address",
                                       "tcp://127.0.0.1:1"],
                                env={"LTSIM_WORKER_TIMEOUT": "abc"})
    line = one_line_error(result)
    assert "LTSIM_WORKER_TIMEOUT: must be a finite number of seconds > 0, got 'abc'" in line
