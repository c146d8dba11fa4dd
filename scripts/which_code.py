"""Which code is fastest? Mean and p99 latency of every scheme as the unit time tau grows
against the mean start-up delay 1/mu (the paper's Remark 2), on Fig. 2a's system.

Usage::

    python scripts/which_code.py [--trials 300] [--seed 2021]

Prints a Markdown table: one row per tau * mu, the mean latency of each scheme (p99 in
brackets) and the scheme with the lowest mean.
"""

from __future__ import annotations

import argparse
import functools

import numpy as np

from simulator.io import config
from simulator.io.results import quantile
from simulator.montecarlo import engine, trials

BASE = {
    "name": "which-code",
    "m": 1000,
    "delay": {"dist": "exponential", "rate": 0.2},
    "schemes": [
        {"kind": "one"},
        {"kind": "uncoded"},
        {"kind": "replication", "r": 2},
        {"kind": "replication", "r": 4},
        {"kind": "lt", "r": 1},
        {"kind": "lt", "r": 2},
        {"kind": "lt", "r": 4},
    ],
}
TAU_MU = (0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args()
    rate = BASE["delay"]["rate"]
    header = None
    for tau_mu in TAU_MU:
        exp = config.validate({**BASE, "tau": tau_mu / rate, "trials": args.trials,
                               "seed": args.seed})
        run = engine.run(functools.partial(trials.simulate_trials, exp), len(exp.schemes),
                         engine.StopRule(exp.trials), trials.batch_size(exp),
                         jobs=engine.default_jobs())
        names = [s.display_name() for s in exp.schemes]
        if header is None:
            header = names
            print("| tau·mu | " + " | ".join(names) + " | fastest |")
            print("|---" * (len(names) + 2) + "|")
        means = [float(np.mean(o.latency[np.isfinite(o.latency)])) for o in run.outcomes]
        cells = [f"{m:.3g} ({quantile(o.latency, 0.99):.3g})"
                 for m, o in zip(means, run.outcomes, strict=True)]
        print(f"| {tau_mu:g} | " + " | ".join(cells) + f" | {names[int(np.argmin(means))]} |")


if __name__ == "__main__":
    main()
