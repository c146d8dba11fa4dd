"""The library: ``import ltsim`` builds, simulates, sweeps, saves and loads exactly as the
command line does, prints nothing unless asked, and records the Python call it ran."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import ltsim
from ltsim.cli import main
from tests.helpers import TINY_CONFIG


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_CONFIG)
    return path


def small(**changes) -> ltsim.Experiment:
    values = dict(m=24, tau=0.01, trials=30, seed=5, delay=ltsim.laws.Exponential(rate=0.5),
                  schemes=[ltsim.codes.One(), ltsim.codes.Uncoded(),
                           ltsim.codes.Replication(r=2),
                           ltsim.codes.LT(r=1, symbols_per_worker=2, c=0.1)])
    values.update(changes)
    return ltsim.Experiment(**values)


def test_the_public_names_are_curated():
    assert set(ltsim.__all__) >= {"Experiment", "simulate", "sweep", "execute", "fit", "load",
                                  "Results", "SweepResults", "codes", "laws"}
    assert all(not name.startswith("_") for name in ltsim.__all__ if name != "__version__")
    assert ltsim.laws.Exponential(rate=0.2).mean == 5.0
    law = ltsim.laws.Pareto(scale=1.0, shape=2.0)
    assert law.sf(np.array([2.0]))[0] == pytest.approx(0.25)
    assert law.sample(np.random.default_rng(1), 5).shape == (5,)
    assert ltsim.codes.LT(r=2).scheme_id == "lt2"


def test_an_experiment_is_validated_as_a_yaml_file_is(config):
    with pytest.raises(ltsim.ConfigError, match=r"^tau: must be greater than or equal to 0"):
        small(tau=-1)
    exp = small()
    with pytest.raises(ltsim.ConfigError, match=r"schemes\[2\]\.r: must divide"):
        exp.replace(**{"schemes[2].r": 5})
    with pytest.raises(AttributeError):
        exp.tau = 3  # immutable
    assert exp.replace(m=48).n_workers == 48  # workers follow m, as in a YAML file
    assert exp.replace(**{"delay.rate": 2.0}).delay.rate == 2.0
    from_file = ltsim.Experiment.from_yaml(config)
    back = ltsim.Experiment.from_dict(__import__("yaml").safe_load(from_file.to_yaml()))
    assert back == from_file and pickle.loads(pickle.dumps(from_file)) == from_file
    assert from_file.replace(trials=7).trials == 7 and from_file.trials == 40


def test_every_key_of_a_run_config_is_a_keyword_of_an_experiment():
    """The API keeps up with the YAML config: each of its keys (skew included) is an
    argument of ``Experiment`` and is shown in its repr, and an experiment built with skew
    runs it (heavy tasks never shorten Uncoded's job, and lengthen it on average)."""
    import inspect

    from ltsim.api.experiment import FIELDS
    from ltsim.io.config import RunConfig

    keywords = set(inspect.signature(ltsim.Experiment.__init__).parameters)
    assert set(RunConfig.model_fields) <= keywords and set(RunConfig.model_fields) == set(
        FIELDS)
    common = dict(name="s", m=20, tau=0.05, trials=30, seed=1, schemes=[{"kind": "uncoded"}],
                  delay={"dist": "exponential", "rate": 0.5})
    skewed = ltsim.Experiment(**common, skew={"fraction": 0.1, "work": 5.0})
    assert "skew=" in repr(skewed)
    assert skewed == ltsim.Experiment.from_dict({**common, "skew": {"fraction": 0.1,
                                                                   "work": 5.0}})
    plain = ltsim.simulate(ltsim.Experiment(**common), progress=False, jobs=1)
    heavy = ltsim.simulate(skewed, progress=False, jobs=1)
    longer, before = heavy.latencies["latency"], plain.latencies["latency"]
    assert (longer >= before).all() and longer.mean() > before.mean()


EXP02 = Path(__file__).resolve().parents[1] / "configs" / "exp02.yaml"


def test_simulate_of_exp02_saved_is_the_bytes_of_ltsim_run(tmp_path, capsys):
    cli = tmp_path / "cli"
    assert CliRunner().invoke(main, ["run", str(EXP02), "-o", str(cli), "-q"]).exit_code == 0
    capsys.readouterr()
    results = ltsim.simulate(ltsim.Experiment.from_yaml(EXP02), jobs=2)
    assert capsys.readouterr() == ("", "")  # nothing printed unless asked
    saved = results.save(tmp_path / "py")
    for name in ("latencies.csv", "tail.csv", "config.yaml"):
        assert (saved / name).read_bytes() == (cli / name).read_bytes(), name
    meta = json.loads((saved / "meta.json").read_text())
    assert meta["interface"] == "python"
    assert meta["command"].startswith("python: ltsim.simulate(<Experiment 'exp02'>")
    assert json.loads((cli / "meta.json").read_text())["interface"] == "cli"
    loaded = ltsim.load(saved)
    assert isinstance(loaded, ltsim.Results) and loaded.trials == 500
    assert loaded.latencies.equals(results.latencies)
    assert list(loaded.summary["scheme"]) == ["one", "uncoded", "rep2", "lt1", "lt2"]
    with pytest.raises(ltsim.BadInput, match="already exists"):
        results.save(saved)


def test_results_frames_figures_and_status():
    results = ltsim.simulate(small(), progress=False, jobs=1)
    assert results.status == "complete" and results.trials == 30 and results.error is None
    assert set(results.latencies["scheme"]) == {"one", "uncoded", "rep2", "lt1"}
    assert len(results.latencies) == 4 * 30
    assert results.tail["tail"].between(0, 1).all()
    figures = results.plot()
    assert set(figures) == {"tail", "cost"}
    assert figures["tail"].axes[0].get_ylabel() == "P(T > t)"
    assert "Results(experiment: 30 trials, complete" in repr(results)


def test_the_same_numbers_in_memory_in_a_folder_and_on_an_executor(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    exp = small(trials=40)
    memory = ltsim.simulate(exp, progress=False, jobs=1)
    with ThreadPoolExecutor(2) as pool:
        elsewhere = ltsim.simulate(exp, progress=False, executor=pool)
    folder = ltsim.simulate(exp, progress=False, jobs=2, out=tmp_path / "out")
    assert memory.latencies.equals(elsewhere.latencies)
    assert memory.latencies.equals(folder.latencies)
    extended = ltsim.simulate(exp, trials=60, progress=False, jobs=1, out=tmp_path / "out",
                              extend=True)
    assert extended.trials == 60 and extended.computed == 20


def test_sweep_in_memory_and_into_a_folder(tmp_path):
    spec = {"base": small(), "grid": {"tau": [0.01, 0.05], "delay.rate": [0.5, 2.0]}}
    memory = ltsim.sweep(spec, progress=False, jobs=1)
    assert len(memory.points) == 4 * 4 and {"tau", "delay.rate"} <= set(memory.points)
    best = memory.best("mean")
    assert len(best) == 4 and "best by mean" in best
    folder = ltsim.sweep(spec, out=tmp_path / "sw", progress=False, jobs=1)
    loaded = ltsim.load(tmp_path / "sw")
    assert isinstance(loaded, ltsim.SweepResults) and loaded.status == "complete"
    columns = ["point", "scheme", "mean", "p99", "p99_low", "p99_high"]
    assert np.allclose(loaded.points["mean"], memory.points["mean"])
    assert list(loaded.points["point"]) == list(memory.points["point"])
    import pandas as pd

    pd.testing.assert_frame_equal(folder.points[columns].reset_index(drop=True),
                                  loaded.points[columns].reset_index(drop=True),
                                  check_dtype=False)
    slug = loaded.points["point"].iloc[0]
    assert loaded.point(slug).latencies.equals(memory.point(slug).latencies)


def test_a_notebook_gets_tqdm_auto_and_no_argv(monkeypatch):
    import sys

    from ltsim.io import provenance

    monkeypatch.setattr(sys, "argv", ["ipykernel_launcher", "-f", "kernel.json"])
    assert provenance.ARGV is None
    assert "kernel.json" not in provenance.command_line()
    import inspect

    from ltsim.api import reporter

    assert "tqdm.auto" in inspect.getsource(reporter.Reporter.progress)


def test_sweep_and_execution_results_draw_the_figures_of_ltsim_plot(tmp_path):
    spec = {"base": small(trials=10), "grid": {"tau": [0.01, 0.05], "delay.rate": [0.5, 2.0]}}
    memory = ltsim.sweep(spec, progress=False, jobs=1)
    assert set(memory.plot()) == {"sweep-tau", "sweep-delay.rate", "wins"}
    folder = ltsim.sweep(spec, out=tmp_path / "sw", progress=False, jobs=1)
    texts = [t.get_text() for t in folder.plot("mean")["wins"].axes[0].texts]
    assert texts == [t.get_text() for t in memory.plot("mean")["wins"].axes[0].texts]
    from tests.helpers import small_config

    executed = ltsim.execute(small_config(), out=tmp_path / "ex")
    assert executed.status == "complete" and len(executed.executions) == 2 * 6
    figures = executed.plot()
    assert set(figures) == {"execution", "timeline"}
    assert ltsim.load(tmp_path / "ex").summary.equals(executed.summary)
