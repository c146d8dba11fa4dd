"""Result tables: exact tail, quantiles, summary columns."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ltsim.io.results import (
    SUMMARY_COLUMNS,
    RowFormatter,
    extra_columns,
    latency_rows,
    quantile,
    summary_frame,
    tail_frame,
)
from ltsim.model.outcome import Outcome
from ltsim.montecarlo.engine import RunResult
from tests.helpers import experiment


def run_of(*latencies, decoded=None):
    outs = []
    for lat in latencies:
        lat = np.asarray(lat, dtype=float)
        ok = np.isfinite(lat)
        outs.append(Outcome(lat, np.where(ok, 5, 8), ok, np.full(lat.size, 0.001)))
    return RunResult(outs, len(latencies[0]), "trials", 0.0)


def test_tail_is_the_exact_empirical_survival_function():
    exp = experiment([{"kind": "lt"}], m=4)
    tail = tail_frame(exp, run_of([3.0, 1.0, 2.0, 2.0, math.inf]))
    assert tail["t"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert tail["tail"].tolist() == [1.0, 0.8, 0.4, 0.2]  # failure keeps the tail at 1/5


def test_quantile_is_inverted_cdf_and_counts_failures():
    x = np.array([1.0, 2.0, 3.0, 4.0, math.inf])
    assert quantile(x, 0.5) == 3.0
    assert quantile(x, 0.8) == 4.0
    assert quantile(x, 0.81) == math.inf


def test_summary_moments_over_decoded_trials():
    exp = experiment([{"kind": "lt"}], m=4)
    row = summary_frame(exp, run_of([1.0, 2.0, 3.0, math.inf])).iloc[0]
    assert list(summary_frame(exp, run_of([1.0])).columns) == SUMMARY_COLUMNS
    assert row["mean"] == 2.0 and row["std"] == 1.0
    assert row["sem"] == pytest.approx(1 / math.sqrt(3))
    assert row["failure_rate"] == 0.25 and row["max"] == math.inf
    assert row["decode_ms"] == pytest.approx(1.0)
    assert row["theory_bound"] > 0 and math.isnan(row["theory_mean"])


def test_tail_csv_keeps_at_most_10k_exact_points_and_the_curve():
    from ltsim.io.results import TAIL_POINTS, thin_tail

    rng = np.random.default_rng(3)
    latency = np.concatenate([rng.lognormal(0, 1, 400_000), [math.inf] * 7])
    exp = experiment([{"kind": "lt"}], m=4)
    ordered = np.sort(latency)
    t = np.concatenate([[0.0], np.unique(ordered[np.isfinite(ordered)])])
    exact = (ordered.size - np.searchsorted(ordered, t, side="right")) / ordered.size
    keep = thin_tail(exact)
    assert keep.size <= TAIL_POINTS and keep[0] == 0 and keep[-1] == exact.size - 1
    # between two kept points the tail falls by less than a factor exp(delta)
    drop = np.log(exact[keep][:-1]) - np.log(exact[np.r_[keep[1:] - 1]])
    delta = math.log(1 / exact[exact > 0].min()) / (TAIL_POINTS - 2)
    assert drop.max() <= delta * (1 + 1e-9)
    assert (np.diff(keep)[-500:] == 1).all()  # the extreme tail is kept whole
    thinned = tail_frame(exp, run_of(latency))
    assert len(thinned) == keep.size and list(thinned.columns) == ["scheme", "t", "tail"]
    assert np.array_equal(thinned["t"].to_numpy(), t[keep])
    assert np.array_equal(thinned["tail"].to_numpy(), exact[keep])


finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=64)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.data())
def test_rows_are_formatted_as_pandas_writes_them(data):
    """The fast ``latencies.csv`` formatter gives the bytes of ``DataFrame.to_csv``."""
    n = data.draw(st.integers(0, 12))
    floats = st.lists(finite_or_not, min_size=n, max_size=n)

    def outcome(extra: dict) -> Outcome:
        return Outcome(np.array(data.draw(floats)),
                       np.array(data.draw(st.lists(st.integers(-1, 10**6), min_size=n,
                                                   max_size=n)), dtype=np.int64),
                       np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)),
                                dtype=bool),
                       np.full(n, np.nan), extra)

    ints = st.lists(st.integers(0, 10**9), min_size=n, max_size=n)
    outcomes = [outcome({"worker_seconds": np.array(data.draw(floats)),
                         "units": np.array(data.draw(ints), dtype=np.int64)}),
                outcome({"worker_seconds": np.array(data.draw(floats)),
                         "units": np.array(data.draw(floats)),
                         "backups": np.array(data.draw(ints), dtype=np.int64)})]
    start = data.draw(st.integers(0, 10**6))
    fast = RowFormatter(["lt1", "backup"])(start, outcomes)
    extra = extra_columns(outcomes)
    slow = [latency_rows(sid, start, o, extra).to_csv(index=False, header=False,
                                                      lineterminator="\n").encode()
            for sid, o in zip(["lt1", "backup"], outcomes, strict=True)]
    assert fast == slow
