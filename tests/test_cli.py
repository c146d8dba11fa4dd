"""The command line, end to end, on tiny configs."""

import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from ltsim.cli import main

FILES = ["latencies.csv", "summary.csv", "tail.csv", "config.yaml", "meta.json"]


def run_cli(*args):
    return CliRunner().invoke(main, list(map(str, args)), catch_exceptions=False)


def test_run_writes_every_result_file(tiny_config, tmp_path):
    out = tmp_path / "res"
    result = run_cli("run", tiny_config, "-o", out, "--quiet", "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    lat = pd.read_csv(out / "latencies.csv", dtype=str, keep_default_na=False)
    assert list(lat.columns) == ["scheme", "trial", "latency", "symbols", "decoded",
                                 "worker_seconds", "units"]
    assert lat["scheme"].unique().tolist() == ["one", "uncoded", "rep2", "lt1", "lt2"]
    assert (lat.groupby("scheme")["trial"].count() == 40).all()
    assert (lat.loc[lat.scheme == "uncoded", "symbols"] == "").all()
    assert set(lat["decoded"]) <= {"true", "false"}
    summary = pd.read_csv(out / "summary.csv")
    assert summary["trials"].tolist() == [40] * 5
    tail = pd.read_csv(out / "tail.csv")
    assert list(tail.columns) == ["scheme", "t", "tail"]
    resolved = yaml.safe_load((out / "config.yaml").read_text())
    assert resolved["workers"] == 24 and resolved["schemes"][3]["returns"] == "symbol"
    meta = json.loads((out / "meta.json").read_text())
    assert meta["status"] == "complete" and meta["seed"] == 5 and meta["trials"] == 40
    assert {"numpy", "numba", "python", "ltsim"} <= set(meta["versions"])
    assert "run" in meta["command"] and meta["input_files"] == {}


def test_empirical_samples_are_fingerprinted(tiny_config, tmp_path):
    import hashlib

    samples = tmp_path / "delays.csv"
    samples.write_text("0.5\n1.5\n")
    out = tmp_path / "res"
    result = run_cli("run", tiny_config, "-o", out, "-q", "--set",
                     f"delay={{dist: empirical, path: {samples}}}")
    assert result.exit_code == 0
    meta = json.loads((out / "meta.json").read_text())
    assert meta["input_files"] == {str(samples.resolve()):
                                   hashlib.sha256(samples.read_bytes()).hexdigest()}


def test_overrides_and_default_folder(tiny_config, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli("run", tiny_config, "--trials", 7, "--seed", 3, "-q", "-j", "1")
    assert result.exit_code == 0
    meta = json.loads((tmp_path / "results" / "tiny" / "meta.json").read_text())
    assert meta["trials"] == 7 and meta["seed"] == 3


@pytest.mark.slow
def test_same_seed_gives_identical_files_for_any_jobs(tiny_config, tmp_path):
    outs = []
    for i, jobs in enumerate([1, 2, 1]):
        out = tmp_path / f"r{i}"
        assert run_cli("run", tiny_config, "-o", out, "-q", "--jobs", jobs,
                       "--trials", 300).exit_code == 0
        outs.append(out)
    for name in ("latencies.csv", "tail.csv"):
        first = (outs[0] / name).read_bytes()
        assert all((o / name).read_bytes() == first for o in outs[1:]), name
    drop = ["decode_ms"]  # the one measured (wall-clock) column
    summaries = [pd.read_csv(o / "summary.csv").drop(columns=drop) for o in outs]
    for s in summaries[1:]:
        pd.testing.assert_frame_equal(s, summaries[0])


def test_another_seed_changes_results(tiny_config, tmp_path):
    for seed in (1, 2):
        run_cli("run", tiny_config, "-o", tmp_path / str(seed), "-q", "--seed", seed)
    assert (tmp_path / "1" / "latencies.csv").read_bytes() != (
        tmp_path / "2" / "latencies.csv").read_bytes()


def test_existing_folder_needs_force(tiny_config, tmp_path):
    out = tmp_path / "res"
    assert run_cli("run", tiny_config, "-o", out, "-q").exit_code == 0
    again = CliRunner().invoke(main, ["run", str(tiny_config), "-o", str(out), "-q"])
    assert again.exit_code == 2
    assert "--force" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    forced = run_cli("run", tiny_config, "-o", out, "-q", "--force", "--seed", 9)
    assert forced.exit_code == 0
    assert json.loads((out / "meta.json").read_text())["seed"] == 9
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_bad_config_exits_2_with_one_line_and_writes_nothing(tiny_config, tmp_path):
    text = tiny_config.read_text().replace("delta: 0.5}\n", "delta: 1.5}\n", 1)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    result = CliRunner().invoke(main, ["run", str(bad), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "schemes[3].delta" in lines[0] and "1.5" in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_plot_one_folder_and_a_tree(tiny_config, tmp_path):
    for name in ("a", "b"):
        run_cli("run", tiny_config, "-o", tmp_path / "res" / name, "-q")
    result = run_cli("plot", tmp_path / "res")
    assert result.exit_code == 0
    for name in ("a", "b"):
        for suffix in ("png", "pdf"):
            assert (tmp_path / "res" / name / f"tail.{suffix}").stat().st_size > 1000
    missing = CliRunner().invoke(main, ["plot", str(tmp_path / "nothing")])
    assert missing.exit_code == 2


def test_version_and_help_do_not_import_heavy_modules():
    code = ("import sys; from ltsim.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('numpy', 'numba', 'pandas', 'matplotlib', 'pydantic')"
            " if m in sys.modules]\nprint(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip().endswith("[]"), out.stdout


@pytest.mark.parametrize("command", ["run", "plot", "show", "validate", "execute", "fit"])
def test_every_command_has_an_example(command):
    result = run_cli(command, "--help")
    assert "Example" in result.output


@pytest.mark.slow
def test_extreme_valid_values_run_without_warnings(tmp_path):
    config = tmp_path / "ext.yaml"
    config.write_text("name: ext\nm: 8\ntau: 1.0e+308\ntrials: 3\nseed: 1\n"
                      "delay: {dist: constant, value: 1.0e+308}\n"
                      "schemes: [{kind: one}, {kind: lt}]\n")
    proc = subprocess.run([sys.executable, "-m", "ltsim", "run", str(config), "-o",
                           str(tmp_path / "out"), "-q", "-j", "1"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0
    assert proc.stderr.strip().splitlines() == [f"results in {tmp_path / 'out'}"]
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert (summary["p50"] == float("inf")).all()


def test_set_overrides_keys_and_is_validated(tiny_config, tmp_path):
    out = tmp_path / "res"
    result = run_cli("run", tiny_config, "-o", out, "-q", "--set", "delay.rate=2.0",
                     "--set", "schemes[2].r=4", "--set", "schemes[3].label=fast")
    assert result.exit_code == 0
    resolved = yaml.safe_load((out / "config.yaml").read_text())
    assert resolved["delay"]["rate"] == 2.0 and resolved["schemes"][2]["r"] == 4
    lat = pd.read_csv(out / "latencies.csv")
    assert {"rep4", "fast"} <= set(lat["scheme"])
    for bad, fragment in [("schemes[2].r=5", "schemes[2].r: must divide"),
                          ("schemes[9].r=2", "no item [9]"),
                          ("delay.rat=2", "delay.rat: unknown key"),
                          ("delay=", "delay: "),
                          ("=3", "expected KEY=VALUE")]:
        res = CliRunner().invoke(main, ["run", str(tiny_config), "-o", str(tmp_path / "x"),
                                        "--set", bad])
        assert res.exit_code == 2, bad
        assert len(res.stderr.strip().splitlines()) == 1 and fragment in res.stderr, res.stderr
        assert not (tmp_path / "x").exists()


def test_dry_run_prints_the_resolved_config_and_estimates(tiny_config, tmp_path):
    result = run_cli("run", tiny_config, "-o", tmp_path / "res", "--dry-run")
    assert result.exit_code == 0
    assert "symbols_per_worker: 2" in result.output and "# memory: about" in result.output
    assert "# time: about" in result.output
    assert not (tmp_path / "res").exists()


def test_validate_and_show(tiny_config, tmp_path):
    ok = run_cli("validate", tiny_config, "configs/exp02.yaml", "configs/pareto11.yaml")
    assert ok.exit_code == 0 and ok.output.count(": ok (") == 3
    shown = run_cli("validate", tiny_config, "--show")
    assert "returns: symbol" in shown.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(tiny_config.read_text().replace("m: 24", "m: 25"))
    res = CliRunner().invoke(main, ["validate", str(bad)])
    assert res.exit_code == 2 and "must divide" in res.stderr
    run_cli("run", tiny_config, "-o", tmp_path / "res", "-q")
    table = run_cli("show", tmp_path / "res")
    assert table.exit_code == 0 and "lt2" in table.output and "PARTIAL" not in table.output
