"""Cost of every trial (``worker_seconds``, ``units``) and the worker model beyond one law
(classes, speed laws, mixtures, per-worker traces): against the plain-Python references of
``tests/reference_codes.py`` trial by trial, against closed forms, and malformed configs.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ltsim.cli import main
from ltsim.model.orderstats import expected_max_of_classes
from ltsim.montecarlo.streams import CLASSES, SPEEDS, stream
from ltsim.montecarlo.trials import simulate_trials
from tests.helpers import experiment, within_sigmas
from tests.reference_codes import (
    draw_workers,
    replication_reference,
    round_half_up,
    scheme_reference,
    uncoded_reference,
)

EVERY_SCHEME = [
    {"kind": "one"},
    {"kind": "uncoded"},
    {"kind": "replication", "r": 2},
    {"kind": "lt", "r": 1, "symbols_per_worker": 2, "c": 0.1},
    {"kind": "lt", "r": 2, "symbols_per_worker": 3, "returns": "worker"},
    {"kind": "lt", "r": 1, "symbols_per_worker": 3, "returns": "worker",
     "decoder": {"threshold": 16}, "label": "lt1-threshold"},
    {"kind": "mds", "r": 2, "symbols_per_worker": 2},
    {"kind": "mds", "r": 1, "returns": "worker", "symbols_per_worker": 2, "label": "mds1w"},
    {"kind": "sum_recovery", "d": 3},
    {"kind": "sum_recovery", "d": 1, "symbols_per_worker": 3, "label": "sr1-cap"},
    {"kind": "backup", "after": 0.5, "slow_factor": 1.0},
    {"kind": "backup", "after": 0.75, "slow_factor": 1.5, "label": "backup-late"},
    {"kind": "ideal"},
]
CLASSES_AND_SPEED = {
    "classes": [{"fraction": 0.75},
                {"fraction": 0.25, "speed": 3.0,
                 "delay": {"dist": "pareto", "scale": 0.5, "shape": 2.0}}],
    "speed": {"dist": "lognormal", "mu": 0.0, "sigma": 0.2},
}
COLUMNS = ("latency", "symbols", "decoded", "worker_seconds", "units")


def cluster_draw(exp, trial: int) -> tuple[np.ndarray, np.ndarray]:
    """The workers of a trial as the package draws them (:meth:`Cluster.draw` on the trial's
    delay, class and speed streams); speeds all 1 when it returns none."""
    n, seed = exp.n_workers, exp.seed
    delays, speeds = exp.cluster().draw(n, stream(seed, trial, 0), stream(seed, trial, CLASSES),
                                        stream(seed, trial, SPEEDS))
    return delays, np.ones(n) if speeds is None else speeds


def outputs(exp, trials: int) -> dict[str, dict[str, np.ndarray]]:
    """Every per-trial output of every scheme, by scheme id."""
    result = {}
    for scheme, out in zip(exp.schemes, simulate_trials(exp, 0, trials), strict=True):
        result[scheme.scheme_id] = {"latency": out.latency, "symbols": out.symbols,
                                    "decoded": out.decoded, **out.columns}
    return result


# --------------------------------------------------------------------------------------------
# cost, trial by trial
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("system", [{}, CLASSES_AND_SPEED], ids=["plain", "classes+speed"])
def test_cost_matches_reference(system):
    """The cost model on its own: the reference cost of stopping at the simulated T. (The
    latencies are compared too, but for LT, whose reference is a test of its own below.)"""
    trials = 6
    exp = experiment(EVERY_SCHEME, m=16, tau=0.05, trials=trials, seed=21, **system)
    fast = outputs(exp, trials)
    failed = 0
    for i, scheme in enumerate(exp.schemes):
        got = fast[scheme.scheme_id]
        for t in range(trials):
            latency = float(got["latency"][t])
            ref = scheme_reference(exp, i, t, at=latency)
            where = f"{scheme.scheme_id}, trial {t}"
            seconds = float(got["worker_seconds"][t])
            assert math.isclose(ref["worker_seconds"], seconds, rel_tol=1e-12), (
                f"{where}: worker_seconds {seconds!r}, reference {ref['worker_seconds']!r}")
            assert int(got["units"][t]) == ref["units"], (
                f"{where}: units {got['units'][t]}, reference {ref['units']}")
            if scheme.kind != "lt":
                assert ref["latency"] == latency or math.isclose(
                    ref["latency"], latency, rel_tol=1e-12), (where, ref["latency"], latency)
                assert ref["symbols"] == got["symbols"][t], where
            failed += math.isinf(latency)
    # a threshold of k symbols often fails: the cost of a failed trial is exercised too
    assert failed > 0


@pytest.mark.parametrize("system", [{}, CLASSES_AND_SPEED], ids=["plain", "classes+speed"])
def test_lt_latency_matches_reference(system):
    """LT on the code ``LTCode.sample_code`` draws from the scheme's stream (the code that
    ``plan`` runs for real), peeled in arrival order, unit times scaled by the speeds."""
    trials = 6
    lt = [s for s in EVERY_SCHEME if s["kind"] == "lt"]
    exp = experiment(lt, m=16, tau=0.05, trials=trials, seed=21, **system)
    fast = outputs(exp, trials)
    for i, scheme in enumerate(exp.schemes):
        got = fast[scheme.scheme_id]
        for t in range(trials):
            ref = scheme_reference(exp, i, t)
            latency = float(got["latency"][t])
            assert ref["latency"] == latency or math.isclose(
                ref["latency"], latency, rel_tol=1e-12), (
                f"{scheme.scheme_id}, trial {t}: latency {latency!r}, reference "
                f"{ref['latency']!r}")
            assert (ref["symbols"], ref["decoded"]) == (got["symbols"][t], got["decoded"][t])


# --------------------------------------------------------------------------------------------
# closed forms and bounds
# --------------------------------------------------------------------------------------------


def test_one_and_uncoded_cost_closed_forms():
    rate, trials, m = 2.0, 3000, 20
    exp = experiment([{"kind": "one"}, {"kind": "uncoded"}],
                     delay={"dist": "exponential", "rate": rate}, m=m, tau=0.03,
                     trials=trials, seed=22)
    got = outputs(exp, trials)
    u, n, mean = exp.unit_time, m, 1.0 / rate
    ok, message = within_sigmas(got["one"]["worker_seconds"], mean + u * n)
    assert ok, "One: " + message
    ok, message = within_sigmas(got["uncoded"]["worker_seconds"], n * mean + n * u)
    assert ok, "Uncoded: " + message
    assert (got["one"]["units"] == n).all() and (got["uncoded"]["units"] == n).all()


@pytest.mark.parametrize("system", [{}, CLASSES_AND_SPEED], ids=["plain", "classes+speed"])
def test_worker_seconds_cover_the_last_needed_worker(system):
    trials = 20
    exp = experiment(EVERY_SCHEME, delay={"dist": "pareto", "scale": 0.2, "shape": 1.5},
                     m=16, tau=0.05, trials=trials, seed=23, **system)
    got = outputs(exp, trials)
    one = got["one"]
    assert np.array_equal(one["worker_seconds"], one["latency"])  # busy from 0 to T
    finish = np.array([max(x + s * exp.unit_time for x, s in zip(*draw_workers(exp, t),
                                                                 strict=True))
                       for t in range(trials)])
    assert (got["uncoded"]["worker_seconds"] >= finish * (1 - 1e-12)).all()
    for name, out in got.items():
        latency, seconds = out["latency"], out["worker_seconds"]
        done = np.isfinite(latency)
        # the worker of the last needed result (or a backup's original) ran from 0 to T
        assert (seconds[done] >= latency[done] * (1 - 1e-12)).all(), (name, seconds, latency)
        if name not in ("backup", "backup-late"):  # n workers, none busy beyond T
            assert (seconds[done] <= 16 * latency[done] * (1 + 1e-12)).all(), name


# --------------------------------------------------------------------------------------------
# worker classes and speeds
# --------------------------------------------------------------------------------------------


def test_one_plain_class_changes_nothing():
    trials = 8
    plain = outputs(experiment(EVERY_SCHEME, m=16, trials=trials, seed=24), trials)
    classed = outputs(experiment(EVERY_SCHEME, m=16, trials=trials, seed=24,
                                 classes=[{"fraction": 1.0, "speed": 1.0}]), trials)
    for name, out in plain.items():
        for column in COLUMNS:
            assert np.array_equal(out[column], classed[name][column]), (name, column)
            assert out[column].dtype == classed[name][column].dtype, (name, column)


@pytest.mark.parametrize("n", [10, 20, 30, 50, 70])
def test_slow_class_has_its_rounded_share_every_trial(n):
    exp = experiment([{"kind": "uncoded"}], m=n, trials=20, seed=25,
                     classes=[{"fraction": 0.95}, {"fraction": 0.05, "speed": 5.0}])
    expected = round_half_up(0.05, n)  # 0.5 -> 1, 1.5 -> 2, 2.5 -> 3, 3.5 -> 4
    assert expected == math.floor(n / 20 + 0.5)
    sets = set()
    for t in range(20):
        delays, speeds = cluster_draw(exp, t)
        assert int((speeds == 5.0).sum()) == expected and int((speeds == 1.0).sum()) == n - expected
        ref_delays, ref_speeds = draw_workers(exp, t)
        assert np.array_equal(delays, ref_delays) and np.array_equal(speeds, ref_speeds), t
        sets.add(tuple(np.flatnonzero(speeds == 5.0)))
    assert len(sets) > 1  # a fresh random assignment every trial


def test_class_size_rounds_the_decimal_fraction_half_up():
    exp = experiment([{"kind": "uncoded"}], m=50, trials=1,
                     classes=[{"fraction": 0.71}, {"fraction": 0.29, "speed": 2.0}])
    assert exp.cluster().counts(50) == [35, round_half_up(0.29, 50)] == [35, 15]


CLUSTERS = {
    "slow-class": {"classes": [{"fraction": 0.75}, {"fraction": 0.25, "speed": 4.0}]},
    "class-law": {"classes": [{"fraction": 0.5, "speed": 2.0},
                              {"fraction": 0.5,
                               "delay": {"dist": "shifted_exponential", "shift": 0.5,
                                         "rate": 3.0}}]},
    "three-classes": {"classes": [{"fraction": 0.5}, {"fraction": 0.3, "speed": 2.0},
                                  {"fraction": 0.2, "speed": 0.5,
                                   "delay": {"dist": "constant", "value": 0.05}}]},
    "speed-law": {"speed": {"dist": "weibull", "scale": 1.0, "shape": 2.0}},
    "both": CLASSES_AND_SPEED,
}


@pytest.mark.parametrize("name", sorted(CLUSTERS))
def test_classes_and_speeds_against_reference(name):
    trials = 10
    schemes = [{"kind": "uncoded"}, {"kind": "replication", "r": 2},
               {"kind": "replication", "r": 4}]
    exp = experiment(schemes, m=20, tau=0.1, trials=trials, seed=26, **CLUSTERS[name])
    got = outputs(exp, trials)
    for t in range(trials):
        delays, speeds = draw_workers(exp, t)
        fast_delays, fast_speeds = cluster_draw(exp, t)
        assert np.array_equal(fast_delays, delays) and np.array_equal(fast_speeds, speeds)
        u = exp.unit_time
        assert got["uncoded"]["latency"][t] == uncoded_reference(delays, speeds, u)
        for r in (2, 4):
            assert got[f"rep{r}"]["latency"][t] == replication_reference(delays, speeds, u, r)


def test_uncoded_theory_under_classes():
    trials = 2000
    classes = [{"fraction": 0.9},
               {"fraction": 0.1, "speed": 5.0, "delay": {"dist": "exponential", "rate": 0.5}}]
    exp = experiment([{"kind": "uncoded"}], m=40, tau=0.1, trials=trials, seed=27,
                     classes=classes)
    u, law = exp.unit_time, exp.delay
    theory = float(exp.schemes[0].theory_mean(exp.view()))
    direct = float(expected_max_of_classes([(law, 36, u), (exp.classes[1].delay, 4, 5 * u)]))
    assert math.isclose(theory, direct, rel_tol=1e-12), (theory, direct)
    ok, message = within_sigmas(outputs(exp, trials)["uncoded"]["latency"], theory)
    assert ok, message


MIXTURE = {"dist": "mixture", "components": [
    {"weight": 0.9, "dist": "exponential", "rate": 1.66},
    {"weight": 0.1, "dist": "pareto", "scale": 0.235, "shape": 10}]}


def test_mixture_delays():
    trials = 3000
    exp = experiment([{"kind": "one"}, {"kind": "uncoded"}], delay=MIXTURE, m=20, tau=0.01,
                     trials=trials, seed=28)
    mean = 0.9 / 1.66 + 0.1 * 10 * 0.235 / 9
    assert math.isclose(exp.delay.mean, mean, rel_tol=1e-12)
    got = outputs(exp, trials)
    delays = got["one"]["latency"] - exp.unit_time * 20  # One: T = X_1 + u n
    ok, message = within_sigmas(delays, mean)
    assert ok, "delays: " + message
    tail = float(np.mean(delays > 0.6))  # P(X > 0.6) = 0.9 e^{-0.996} + 0.1 (0.235/0.6)^10
    p = 0.9 * math.exp(-1.66 * 0.6) + 0.1 * (0.235 / 0.6) ** 10
    ok, message = within_sigmas((delays > 0.6).astype(float), p)
    assert ok, f"P(X > 0.6) = {tail}: " + message
    theory = float(exp.schemes[1].theory_mean(exp.view()))
    ok, message = within_sigmas(got["uncoded"]["latency"], theory)
    assert ok, "Uncoded: " + message


def test_per_worker_trace(tmp_path):
    n, rows = 12, []
    for i in range(5):
        for j in reversed(range(n)):  # ids in no particular order in the file; 10 > 9 > 2
            rows.append(f"{j},{j + 0.01 * i + 0.001}")
    (tmp_path / "trace.csv").write_text("worker,delay\n" + "\n".join(rows) + "\n")
    samples = {j: {j + 0.01 * i + 0.001 for i in range(5)} for j in range(n)}
    trials = 40
    exp = experiment([{"kind": "one"}, {"kind": "uncoded"}],
                     delay={"dist": "empirical", "path": str(tmp_path / "trace.csv"),
                            "worker": "worker"}, m=n, tau=0.01, trials=trials, seed=29)
    used = {j: set() for j in range(n)}
    for t in range(trials):
        delays, speeds = cluster_draw(exp, t)
        assert (speeds == 1.0).all()
        for j in range(n):
            assert delays[j] in samples[j], (t, j, delays[j])
            used[j].add(float(delays[j]))
    assert all(len(v) >= 3 for v in used.values()), used  # a resampling, not a constant
    got = outputs(exp, trials)
    u = exp.unit_time
    for t in range(trials):  # One runs on worker 0; Uncoded waits for worker n - 1
        assert any(math.isclose(got["one"]["latency"][t], x + u * n) for x in samples[0])
        assert any(math.isclose(got["uncoded"]["latency"][t], x + u) for x in samples[n - 1])


# --------------------------------------------------------------------------------------------
# malformed configs
# --------------------------------------------------------------------------------------------


DATA = Path(__file__).parent / "bad_configs" / "data"
HEAD = "name: bad\nm: 8\ntau: 0.005\ntrials: 2\nseed: 1\nschemes: [{kind: uncoded}]\n"
EXP = "delay: {dist: exponential, rate: 1.0}\n"
MALFORMED = {
    "mixture-weights": (
        "delay: {dist: mixture, components: [{weight: 0.5, dist: exponential, rate: 1}, "
        "{weight: 0.4, dist: constant, value: 1}]}\n",
        "delay.components: the weights must sum to 1, got 0.9"),
    "fraction-above-one": (EXP + "classes: [{fraction: 1.5}]\n",
                           "classes[0].fraction: must be less than or equal to 1, got 1.5"),
    "fractions-sum": (EXP + "classes: [{fraction: 0.5}, {fraction: 0.3, speed: 2}]\n",
                      "classes: the fractions must sum to 1, got 0.8"),
    "class-speed-zero": (EXP + "classes: [{fraction: 0.5}, {fraction: 0.5, speed: 0}]\n",
                         "classes[1].speed: must be greater than 0, got 0"),
    "class-speed-negative": (EXP + "classes: [{fraction: 0.5}, {fraction: 0.5, speed: -2}]\n",
                             "classes[1].speed: must be greater than 0, got -2"),
    "class-law": (EXP + "classes: [{fraction: 0.5}, "
                  "{fraction: 0.5, delay: {dist: exponential, rate: -1}}]\n",
                  "classes[1].delay.rate: must be greater than 0, got -1"),
    "trace-without-worker-column": (
        f"delay: {{dist: empirical, path: {DATA / 'good_with_header.csv'}, worker: host}}\n",
        "has no worker column 'host' (found 'delay_seconds')"),
    "trace-worker-count": (
        f"delay: {{dist: empirical, path: {DATA / 'good_two_columns.csv'}, column: delay, "
        "worker: worker}\n",
        "delay.worker: the trace has 3 workers; the system has 8, got 'worker'"),
    "trace-with-classes": (
        f"delay: {{dist: empirical, path: {DATA / 'good_two_columns.csv'}, worker: worker}}\n"
        "classes: [{fraction: 1.0}]\n",
        "delay: a per-worker trace cannot be combined with classes, got 'worker'"),
    "price-negative": (EXP + "price_per_second: -0.5\n",
                       "price_per_second: must be greater than or equal to 0, got -0.5"),
}


def refused_line(tmp_path: Path, text: str) -> tuple[Path, str]:
    """``ltsim run`` on ``text``: exit 2, one stderr line, nothing written; the line."""
    path, out = tmp_path / "bad.yaml", tmp_path / "out"
    path.write_text(text)
    result = CliRunner().invoke(main, ["run", str(path), "-o", str(out), "-q", "--jobs", "1"])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"uncaught {result.exception!r}")
    lines = result.stderr.splitlines()
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert len(lines) == 1 and "Traceback" not in result.stderr + result.stdout, lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"], "something was written"
    assert lines[0].startswith(f"ltsim: error: {path}: "), lines[0]
    return path, lines[0]


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_cluster_is_refused(tmp_path, case):
    text, fragment = MALFORMED[case]
    _, line = refused_line(tmp_path, HEAD + text)
    assert fragment in line, line


@pytest.mark.parametrize("text, key", [
    (EXP + "classes: [{fraction: 0.5}, {fraction: 0.5, delay: {dist: gamma, shape: 2}}]\n",
     "classes[1].delay.dist: must be one of exponential"),
    (EXP + "speed: {dist: normal, mu: 1}\n", "speed.dist: must be one of exponential"),
], ids=["class-delay", "speed"])
def test_unknown_law_under_classes_or_speed_names_dist(tmp_path, text, key):
    _, line = refused_line(tmp_path, HEAD + text)
    assert key in line, line
