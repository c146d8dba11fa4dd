"""The authors' SIGMETRICS 2020 queueing figure (configs/queue-rcmv-*.sweep.yaml against the
curves they saved, docs/data/rcmv-queueing.csv): ltsim within the noise of their 1,000 jobs
per rate where the two models agree, and their own rules, re-stated in
scripts/rcmv_rules.py, for where they part (docs/queueing.md)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ltsim import Experiment, simulate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import rcmv_rules  # noqa: E402

SAVED = pd.read_csv(ROOT / "docs" / "data" / "rcmv-queueing.csv", comment="#")
THEIR_RUNS = 10


def saved(law: str, scheme: str, rate: float) -> float:
    row = SAVED[(SAVED["delay"] == law) & (SAVED["scheme"] == scheme)
                & np.isclose(SAVED["rate"], rate)]
    assert len(row) == 1, (law, scheme, rate)
    return float(row["mean_response"].iloc[0])


def z(values: np.ndarray, theirs: float) -> float:
    """Their saved mean of 10 runs against the mean of ``values`` (per-run means): the
    difference over both standard errors."""
    sd = values.std(ddof=1)
    return (theirs - values.mean()) / math.hypot(sd / math.sqrt(values.size),
                                                 sd / math.sqrt(THEIR_RUNS))


def design(law: str, rate: float, schemes: list[dict], trials: int) -> Experiment:
    """The sweep's base at one rate, with some of its schemes."""
    name = {"exp": "queue-rcmv-exp", "par": "queue-rcmv-pareto"}[law]
    base = yaml.safe_load((ROOT / "configs" / f"{name}.sweep.yaml").read_text())["base"]
    base.update(schemes=schemes, trials=trials)
    base["arrivals"]["rate"] = rate
    return Experiment.from_dict(base)


def runs(result, scheme: str) -> np.ndarray:
    frame = result.latencies
    return frame[frame["scheme"] == scheme]["latency"].to_numpy(dtype=float)


@pytest.mark.parametrize(("law", "rate"), [("exp", 0.1), ("exp", 0.5), ("par", 0.1),
                                           ("par", 0.28)])
def test_uncoded_is_their_fork_join_at_every_load(law, rate):
    """No cancellation: the two models are the same queue (lowest and highest rates)."""
    result = simulate(design(law, rate, [{"kind": "uncoded"}], 200), progress=False, jobs=2)
    assert abs(z(runs(result, "uncoded"), saved(law, "rep_1", rate))) < 4


def test_redundant_codes_and_lt_agree_at_low_load():
    """Jobs seldom queue at the lowest rate, where their cancellation rule does not matter:
    2-Replication, MDS (10, 8) and LT (alpha = 2) as saved."""
    schemes = [{"kind": "replication", "r": 2}, {"kind": "mds", "k": 8},
               {"kind": "lt", "k": 10000, "symbols_per_worker": 2000}]
    result = simulate(design("exp", 0.1, schemes, 6), progress=False, jobs=2)
    for scheme, theirs in (("rep2", "rep_2"), ("mds-k8", "mds"), ("lt-k10000", "lt_2")):
        assert abs(z(runs(result, scheme), saved("exp", theirs, 0.1))) < 4, scheme


@pytest.mark.parametrize(("law", "rate"), [("exp", 0.3), ("exp", 0.5), ("par", 0.28)])
def test_their_rules_give_their_saved_values_where_ltsim_parts(law, rate):
    """2-Replication, MDS and ideal load balancing by their rules (fork-join cancellation
    that never reaches the queue; no start-up delay for a queued ideal job) match what they
    saved; ltsim's ideal, with a start-up delay for every task, is far above it."""
    for scheme in ("rep_2", "mds", "dlb"):
        values = rcmv_rules.runs(scheme, law, rate, 400, [7, int(rate * 100)])
        assert abs(z(values, saved(law, scheme, rate))) < 4, scheme
    result = simulate(design(law, rate, [{"kind": "ideal", "k": 10000}], 40), progress=False,
                      jobs=2)
    assert z(runs(result, "ideal-k10000"), saved(law, "dlb", rate)) < -4
