"""ltsim's queueing runs of the SIGMETRICS 2020 figure against the curves its authors saved
(``docs/data/rcmv-queueing.csv``): a Markdown table, and with ``--figure`` a drawing.

Each sweep (``configs/queue-rcmv-exp.sweep.yaml``, ``configs/queue-rcmv-pareto.sweep.yaml``)
repeats the authors' experiment (100 jobs from an empty system, the mean response time over
all of them) 200 times per rate: its mean is the expectation of their statistic within a
few percent. Their saved value is one draw of the mean of 10 such runs, so its standard
error is the per-run standard deviation over sqrt(10). ``z`` is the difference over the two
standard errors combined; ``|z| < 4`` is within the noise of their 1,000 jobs.

Where they part, ``scripts/rcmv_rules.py`` re-states the authors' own rules and sets their
saved values against them.

Usage::

    python scripts/compare_rcmv.py results/queue-rcmv-exp results/queue-rcmv-pareto \
        [--figure results/figures/queue-rcmv.png]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from matplotlib import ticker
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from rcmv_rules import RULES, runs

ROOT = Path(__file__).resolve().parents[1]
ANCHORS = ROOT / "docs" / "data" / "rcmv-queueing.csv"
THEIR_RUNS = 10
"""Runs of 100 jobs behind each saved value."""
SCHEMES = {"uncoded": ("rep_1", "Uncoded"), "rep2": ("rep_2", "2-Rep"),
           "mds-k8": ("mds", "MDS (10, 8)"), "lt-k10000": ("lt_2", "LT (α = 2)"),
           "ideal-k10000": ("dlb", "Ideal")}
"""ltsim's scheme id -> (the authors' name, legend)."""
COLOURS = {"uncoded": "tab:blue", "rep2": "tab:orange", "mds-k8": "tab:green",
           "lt-k10000": "tab:red", "ideal-k10000": "black"}


def load_sweep(folder: Path) -> pd.DataFrame:
    """One row per point and scheme: the rate and the per-run responses' mean, standard
    deviation and count, from each point's ``latencies.csv`` (a run's ``latency`` is the
    mean response time of its jobs)."""
    meta = yaml.safe_load((folder / "sweep.yaml").read_text(encoding="utf-8"))
    rows = []
    for point in sorted((folder / "points").iterdir()):
        config = yaml.safe_load((point / "config.yaml").read_text(encoding="utf-8"))
        rate = float(config["arrivals"]["rate"])
        runs = pd.read_csv(point / "latencies.csv")
        for scheme, group in runs.groupby("scheme", sort=False):
            values = group["latency"].to_numpy(dtype=float)
            rows.append({"rate": rate, "scheme": scheme, "runs": values.size,
                         "mean": values.mean(), "std": values.std(ddof=1)})
    if not rows:
        raise SystemExit(f"{folder}: no points (run `ltsim sweep` of {meta.get('name')})")
    return pd.DataFrame(rows).sort_values(["rate", "scheme"], kind="stable")


def anchors(delay: str) -> pd.DataFrame:
    table = pd.read_csv(ANCHORS, comment="#")
    return table[table["delay"] == delay]


def compare(ours: pd.DataFrame, delay: str) -> pd.DataFrame:
    """Ours beside theirs, with ``z`` (see the module docstring)."""
    theirs = anchors(delay)
    out = []
    for row in ours.itertuples():
        if row.scheme not in SCHEMES:
            continue
        name = SCHEMES[row.scheme][0]
        match = theirs[(theirs["scheme"] == name) & np.isclose(theirs["rate"], row.rate)]
        if match.empty:
            continue
        saved = float(match["mean_response"].iloc[0])
        se_ours = row.std / math.sqrt(row.runs)
        se_theirs = row.std / math.sqrt(THEIR_RUNS)
        z = (row.mean - saved) / math.hypot(se_ours, se_theirs)
        out.append({"rate": row.rate, "scheme": row.scheme, "ours": row.mean,
                    "se": se_ours, "theirs": saved, "their_se": se_theirs, "z": z})
    return pd.DataFrame(out)


def table(panels: list[tuple[str, pd.DataFrame]]) -> str:
    """A Markdown table: a row per start-up law and rate, a column per scheme: ltsim's mean
    / the saved value (z)."""
    schemes = list(SCHEMES)
    lines = ["| start-up | λ | " + " | ".join(SCHEMES[s][1] for s in schemes) + " |",
             "|---|---|" + "---|" * len(schemes)]
    total = within = 0
    for law, compared in panels:
        for rate, group in compared.groupby("rate"):
            cells = []
            for scheme in schemes:
                row = group[group["scheme"] == scheme]
                if row.empty:
                    cells.append("")
                    continue
                r = row.iloc[0]
                total += 1
                within += abs(r["z"]) < 4
                mark = "" if abs(r["z"]) < 4 else " **≠**"
                cells.append(f"{r['ours']:.3g} / {r['theirs']:.3g} ({r['z']:+.1f}){mark}")
            lines.append(f"| {law} | {rate:g} | " + " | ".join(cells) + " |")
    lines += ["", f"ltsim's mean / the saved value (z): {within} of {total} within 4 standard "
              "errors (≠: beyond)."]
    return "\n".join(lines)


def draw(panels: list[tuple[str, str, pd.DataFrame]], path: Path, rules: int = 0) -> None:
    """Mean response time against the arrival rate, one panel per start-up law: ltsim's
    lines (a band of 2 standard errors of its mean), the saved values (open squares; their
    noise is in the table) and, with ``rules``, the authors' rules re-stated
    (``scripts/rcmv_rules.py``, dashed, ``rules`` runs per rate)."""
    figure = Figure(figsize=(11, 4.6), layout="constrained")
    FigureCanvasAgg(figure)
    axes = np.atleast_1d(figure.subplots(1, len(panels)))
    for ax, (title, law, compared) in zip(axes, panels, strict=True):
        for scheme, (name, legend) in SCHEMES.items():
            rows = compared[compared["scheme"] == scheme].sort_values("rate")
            if rows.empty:
                continue
            colour = COLOURS[scheme]
            x, y, se = rows["rate"].to_numpy(), rows["ours"], rows["se"]
            ax.plot(x, y, color=colour, marker="o", ms=3.5, lw=1.4, label=f"{legend}: ltsim")
            ax.fill_between(x, np.maximum(y - 2 * se, y / 10), y + 2 * se, color=colour,
                            alpha=0.2, lw=0)
            ax.plot(x, rows["theirs"], "s", mfc="none", color=colour, ms=6,
                    label=f"{legend}: saved by the authors")
            if rules and name in RULES:
                seed = [2020, ("exp", "par").index(law), list(RULES).index(name)]
                ys = [runs(name, law, float(rate), rules, [*seed, ri]).mean()
                      for ri, rate in enumerate(x)]
                ax.plot(x, ys, "--", color=colour, lw=1.0,
                        label=f"{legend}: the authors' rules")
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_xlabel("arrival rate λ (jobs / s)")
        ax.set_ylabel("mean response time (s)")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside right center", fontsize=8)
    figure.suptitle("Jobs on a loaded cluster (10 workers, 10,000 rows): ltsim against the "
                    "SIGMETRICS 2020 curves", fontsize=11)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    figure.savefig(tmp, dpi=120, format="png")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("exp", type=Path, help="results of queue-rcmv-exp.sweep.yaml")
    parser.add_argument("pareto", type=Path, help="results of queue-rcmv-pareto.sweep.yaml")
    parser.add_argument("--figure", type=Path, help="also draw the figure there (PNG)")
    parser.add_argument("--rules", type=int, default=0, metavar="RUNS",
                        help="draw the authors' rules too, RUNS runs per rate")
    args = parser.parse_args(argv)
    panels = [("exponential", compare(load_sweep(args.exp), "exp")),
              ("Pareto", compare(load_sweep(args.pareto), "par"))]
    print(table(panels))
    if args.figure is not None:
        titles = ["exponential start-up (mean 1 s), τ = 1 ms a row",
                  "Pareto(1, 3) start-up, τ = 3 ms a row"]
        draw([(t, law, c) for t, law, (_, c) in zip(titles, ("exp", "par"), panels,
                                                     strict=True)], args.figure, args.rules)


if __name__ == "__main__":
    main()
