"""The rules of the authors' SIGMETRICS 2020 queueing simulators, re-stated, to explain where
their saved curves and ltsim's queueing model part.

Mallick, Chaudhari and Joshi simulate their figure with ``fj_queueing_sim.py`` (Uncoded,
2-Replication, MDS) and ``lt_queueing_sim.py`` (LT, and ideal load balancing as its
``alpha = inf`` path) in ankurmallick/RCMV, ``Simulations/SIGMETRICS_2020/``. Read closely,
two of their rules differ from the model of ``docs/model.md``:

* **Fork-join cancellation never reaches the queue.** ``update_one`` takes
  ``time_dep_old = time_dep[past_job, :]``, a numpy *view* of the row it then truncates in
  place, so ``time_dep_diff = time_dep_old - time_dep[past_job, :]`` is zero and the
  departures of the jobs queued behind a finished job keep the uncancelled times. A job that
  arrives later is queued behind the departures known at its arrival: the cancelled ones if
  the job ahead was already seen complete (their queues are only updated at arrivals), the
  full ones otherwise. A finished group (a replica pair, or an MDS worker) is cut at its first
  member's end, the job at its ``k``-th group; both cuts at the end of the row in progress.
* **Ideal load balancing pays no start-up delay in a queue.** With ``alpha = inf``,
  ``update_one`` sets ``start_times[past_job + 1] = lt_times``: the next job, if it arrived
  while this one ran, starts on every worker where this one stopped, without drawing a
  start-up delay; a job arriving at an empty system draws one per worker. ltsim's ``ideal``
  draws a fresh start-up delay for every task, as every other code does (``docs/model.md``).
  (Their last update, at t = inf, passes the global ``decthresh``, their pool of saved LT
  thresholds, for the ``alpha = inf`` run too: the jobs not yet complete at the last arrival
  need ``decthresh[job]`` rows instead of 10,000; :func:`runs` gives them the pool's mean,
  :data:`POOL_MEAN`.)

:func:`runs` runs those rules (compiled; 100 jobs from an empty system per run, as theirs),
and the script prints their saved values (``docs/data/rcmv-queueing.csv``) against the
rules' means, with ``z`` as in ``scripts/compare_rcmv.py``. Checked against their scripts
themselves, run by run (same numpy draws): equal to 1e-11.

Usage::

    python scripts/rcmv_rules.py [RUNS]    # RUNS runs per rate (default 2000; ~30 s)
Rows are whole as in theirs: a cancelled worker stops at the end of its row in progress.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd
from numba import njit

ANCHORS = Path(__file__).resolve().parents[1] / "docs" / "data" / "rcmv-queueing.csv"
THEIR_RUNS = 10
"""Runs of 100 jobs behind each saved value."""


@njit(cache=True)
def _cut(times, t_set, tau):
    """Their ``set_time``: every time beyond ``t_set`` is cut to the end of its row in
    progress at ``t_set``."""
    for i in range(times.size):
        late = times[i] - t_set
        if late > 0:
            times[i] -= tau * math.floor(late / tau)


@njit(cache=True)
def _fork_join_run(arrivals, setup, work, group, k, tau):
    jobs, n = setup.shape
    groups = n // group
    depart = np.zeros((jobs, n))
    stop = np.zeros(jobs)
    pending = np.empty(jobs, np.int64)
    count = 0
    ends = np.empty(groups)
    for j in range(jobs + 1):
        now = arrivals[j] if j < jobs else np.inf
        kept = 0
        for q in range(count):
            p = pending[q]
            done = 0
            for g in range(groups):
                row = depart[p, g * group:(g + 1) * group]
                first = row.min()
                if first < now:
                    _cut(row, first, tau)
                    ends[done] = first
                    done += 1
            if done >= k:
                stop[p] = np.sort(ends[:done])[k - 1]
                _cut(depart[p], stop[p], tau)
            else:
                pending[kept] = p
                kept += 1
        count = kept
        if j == jobs:
            break
        for w in range(n):
            depart[j, w] = arrivals[j] + setup[j, w] + work
            if count > 0:
                depart[j, w] += max(0.0, depart[pending[count - 1], w] - arrivals[j])
        pending[count] = j
        count += 1
    return stop - arrivals


@njit(cache=True)
def _rows_done(starts, rows, tau):
    """The time the workers starting at ``starts`` have ended ``rows`` rows of ``tau``
    seconds between them, none idle, and the end of each one's row then in progress (where
    their loop leaves it: the last row's worker at that time, a worker not yet started one
    row after its start)."""
    order = np.sort(starts)
    fill = np.inf                    # continuous water-filling: min_i (work + sum s_(<=i)) / i
    acc = 0.0
    for i in range(order.size):
        acc += order[i]
        fill = min(fill, (rows * tau + acc) / (i + 1))
    ended = np.zeros(starts.size)
    total = 0.0
    for w in range(starts.size):
        ended[w] = max(0.0, math.floor((fill - starts[w]) / tau))
        total += ended[w]
    nxt = starts + (ended + 1.0) * tau
    stop = -np.inf
    while total < rows:              # fewer than n rows short of the continuous fill
        w = np.argmin(nxt)
        stop = nxt[w]
        total += 1
        nxt[w] += tau
    if stop == -np.inf:              # the floors already reach the rows: back off to the last
        w = np.argmax(starts + ended * tau)
        stop = starts[w] + ended[w] * tau
        nxt[w] = stop
    else:
        nxt[np.argmin(np.abs(nxt - tau - stop))] = stop
    return stop, nxt


@njit(cache=True)
def _ideal_run(arrivals, setup, rows, tau, last_rows):
    jobs, n = setup.shape
    stop = np.empty(jobs)
    free = np.full(n, -np.inf)
    previous = -np.inf
    for j in range(jobs):
        if arrivals[j] > previous:          # an empty system: a start-up delay per worker
            starts = arrivals[j] + setup[j]
        else:                               # queued: where the job ahead stopped, no delay
            starts = free
        previous, free = _rows_done(starts, rows, tau)
        if previous > arrivals[jobs - 1]:   # finished in their last update: another threshold
            previous, free = _rows_done(starts, last_rows[j], tau)
        stop[j] = previous
    return stop - arrivals


POOL_MEAN = 10442.326
"""The mean of their saved LT decoding thresholds (``encnum_10000.npy``, 500 values)."""


def _draw(rng: np.random.Generator, law: str, size) -> np.ndarray:
    """Their start-up delays: numpy exponential(scale=1) (``exp``) or 1 + pareto(a=3)
    (``par``)."""
    if law == "exp":
        return rng.exponential(1.0, size=size)
    return 1.0 + rng.pareto(3.0, size=size)


def runs(kind: str, law: str, rate: float, count: int, seed, *, jobs: int = 100,
         workers: int = 10, rows: int = 10000) -> np.ndarray:
    """Per-run mean response times of ``count`` runs of ``jobs`` jobs under their rules.

    Parameters
    ----------
    kind : {"rep_1", "rep_2", "mds", "dlb"}
        Their scheme names: Uncoded, 2-Replication, the (10, 8) MDS code, ideal load
        balancing.
    law : {"exp", "par"}
        Their start-up law (exponential of mean 1 with τ = 1 ms, or Pareto(1, 3) with
        τ = 3 ms).
    rate : float
        Poisson arrival rate.
    count : int
        Runs.
    seed : int or sequence of int
        The seed of numpy's default generator.
    """
    tau = 0.001 if law == "exp" else 0.003
    rng = np.random.default_rng(seed)
    out = np.empty(count)
    group, k = {"rep_1": (1, workers), "rep_2": (2, workers // 2), "mds": (1, 8),
                "dlb": (1, workers)}[kind]
    for r in range(count):
        arrivals = np.cumsum(rng.exponential(1.0 / rate, size=jobs))
        setup = _draw(rng, law, (jobs, workers))
        if kind == "dlb":
            response = _ideal_run(arrivals, setup, rows, tau, np.full(jobs, POOL_MEAN))
        else:
            response = _fork_join_run(arrivals, setup, tau * rows / k, group, k, tau)
        out[r] = response.mean()
    return out


RULES = {"rep_1": "Uncoded", "rep_2": "2-Rep", "mds": "MDS (10, 8)", "dlb": "Ideal"}
"""The schemes :mod:`rcmv_rules` re-states."""


def rules_table(count: int) -> str:
    """Their saved values against their own rules re-stated (``count`` runs per rate, a
    fixed seed per cell): the rules' mean / the saved value (z)."""
    saved = pd.read_csv(ANCHORS, comment="#")
    lines = ["| start-up | λ | " + " | ".join(RULES.values()) + " |",
             "|---|---|" + "---|" * len(RULES)]
    total = within = 0
    for li, (law, label) in enumerate((("exp", "exp"), ("par", "Pareto"))):
        table = saved[saved["delay"] == law]
        for ri, rate in enumerate(sorted(table["rate"].unique())):
            cells = []
            for si, name in enumerate(RULES):
                match = table[(table["scheme"] == name) & np.isclose(table["rate"], rate)]
                if match.empty:
                    cells.append("")
                    continue
                values = runs(name, law, float(rate), count, [2020, li, ri, si])
                mean, sd = values.mean(), values.std(ddof=1)
                theirs = float(match["mean_response"].iloc[0])
                z = (theirs - mean) / math.hypot(sd / math.sqrt(count),
                                                 sd / math.sqrt(THEIR_RUNS))
                total += 1
                within += abs(z) < 4
                mark = "" if abs(z) < 4 else " **≠**"
                cells.append(f"{mean:.3g} / {theirs:.3g} ({z:+.1f}){mark}")
            lines.append(f"| {label} | {rate:g} | " + " | ".join(cells) + " |")
    lines += ["", f"Their rules' mean over {count} runs / the saved value (z): {within} of "
              f"{total} within 4 standard errors (≠: beyond)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="?", type=int, default=2000,
                        help="runs of 100 jobs per rate (default 2000)")
    print(rules_table(parser.parse_args(argv).runs))


if __name__ == "__main__":
    main()
