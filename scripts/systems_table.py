"""Latency and cost of every scheme on each simulated system, and which one wins.

For every results folder given (an ``ltsim run`` of a config with several schemes), prints a
Markdown table: mean and p99 latency, failure rate, mean worker-seconds per trial and its
ratio to Uncoded's, and whether the scheme is on the latency/cost frontier (no other
runnable scheme has both a lower mean latency and fewer worker-seconds). Below the table, the
winner by mean latency, by p99 and by worker-seconds. Bounds (the ideal scheme) are shown
but never win.

Usage::

    python scripts/systems_table.py results/codes-exp02 results/slow-machines ...
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from ltsim.io.report import read_config, read_meta, read_summary
from ltsim.plots.common import describe_delay, display_name, is_reference, legend_names


def number(value: float) -> str:
    """Four significant digits; ``inf`` and missing values spelled out."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if math.isinf(value):
        return "∞"
    return f"{value:.4g}"


def describe_system(config: dict) -> str:
    """One line: m, workers, tau, delay law and machine classes."""
    parts = [f"m = {config['m']}", f"n = {config.get('workers') or config['m']}",
             f"τ = {config['tau']:g}", f"X ~ {describe_delay(config.get('delay'))}"]
    for entry in config.get("classes") or []:
        speed = entry.get("speed", 1.0)
        if speed != 1.0 or entry.get("delay"):
            parts.append(f"{entry['fraction']:.0%} of the workers {speed:g}× slower"
                         + (" with their own delay law" if entry.get("delay") else ""))
    return ", ".join(parts)


def table(folder: Path) -> str:
    """The Markdown section of one results folder."""
    summary = read_summary(folder).set_index("scheme")
    config = read_config(folder)
    meta = read_meta(folder)
    codes = legend_names(config.get("schemes", []))
    base = summary["worker_seconds"].get("uncoded", math.nan)
    runnable = [s for s in summary.index if not is_reference(s, codes)]

    def dominated(scheme: str) -> bool:
        row = summary.loc[scheme]
        return any(summary.loc[o, "mean"] < row["mean"]
                   and summary.loc[o, "worker_seconds"] < row["worker_seconds"]
                   for o in runnable if o != scheme)

    lines = [f"**{config['name']}** ({describe_system(config)}; {meta['trials']} trials, "
             f"seed {meta['seed']})", "",
             "| scheme | mean (s) | p99 (s) | failure rate | worker-seconds | × Uncoded's "
             "| frontier |", "|---|---|---|---|---|---|---|"]
    for scheme, row in summary.iterrows():
        reference = is_reference(scheme, codes)
        name = display_name(scheme, codes) + (" (bound)" if reference else "")
        ratio = row["worker_seconds"] / base if base and math.isfinite(base) else math.nan
        mark = "" if reference else ("✓" if not dominated(scheme) else "")
        lines.append(f"| {name} | {number(row['mean'])} | {number(row['p99'])} | "
                     f"{row['failure_rate']:.3g} | {number(row['worker_seconds'])} | "
                     f"{number(ratio)} | {mark} |")
    lines.append("")
    wins = []
    for column, label in (("mean", "mean latency"), ("p99", "p99 latency"),
                          ("worker_seconds", "worker-seconds")):
        values = summary.loc[runnable, column]
        best = values.idxmin()
        wins.append(f"{label}: **{display_name(best, codes)}** ({number(values[best])})")
    lines.append("Fewest " + wins[2].split(": ", 1)[0] + ": " + wins[2].split(": ", 1)[1]
                 + "; lowest " + wins[0] + "; lowest " + wins[1] + ".")
    return "\n".join(lines)


def main(folders: list[str]) -> int:
    if not folders:
        print(__doc__.split("Usage::")[1].strip(), file=sys.stderr)
        return 2
    print("\n\n".join(table(Path(folder)) for folder in folders))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
