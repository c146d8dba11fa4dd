"""The job time of an iterative job against the persistence of slow machines, from a sweep
over ``persistence.stay`` (``configs/rounds-persistent.sweep.yaml``): a Markdown table of
every scheme's mean job time and its standard deviation across trials, a row per ``stay``,
and the ranking by mean and by p99 at the two ends.

Usage::

    python scripts/rounds_table.py results/rounds-persistent
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ltsim import load


def table(folder: Path) -> str:
    """The Markdown table and the ranking lines."""
    results = load(folder)
    points = results.points
    key = "persistence.stay"
    first = results.point(str(points["point"].iloc[0]))
    names = {s.scheme_id: s.display_name() for s in first.experiment.config.schemes}
    schemes = list(dict.fromkeys(points["scheme"]))
    lines = ["| stay | " + " | ".join(names.get(s, s) for s in schemes) + " |",
             "|---|" + "---|" * len(schemes)]
    for stay, group in points.groupby(key, sort=True):
        rows = group.set_index("scheme")
        cells = []
        for s in schemes:
            failed = rows.loc[s, "failure_rate"]
            note = f" ({failed:.1%} never completed)" if failed > 0 else ""
            cells.append(f"{rows.loc[s, 'mean']:.4g} ± {rows.loc[s, 'std']:.3g}{note}")
        lines.append(f"| {stay:g} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Mean job time ± its standard deviation across trials (seconds; over the "
                 "jobs that completed).  ")
    for metric in ("mean", "p99"):
        for stay in (points[key].min(), points[key].max()):
            rows = points[points[key] == stay].sort_values(metric, kind="stable")
            order = " < ".join(names.get(s, s) for s in rows["scheme"])
            lines.append(f"By {metric} at stay {stay:g}: {order}.  ")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="results of a sweep over persistence.stay")
    print(table(parser.parse_args(argv).folder))


if __name__ == "__main__":
    main()
