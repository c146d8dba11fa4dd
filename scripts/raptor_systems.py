"""RFC 5053's Raptor against the paper's LT codes on Fig. 2's systems, in the non-linear and
the linear computation (``configs/raptor-systems.sweep.yaml``): a Markdown table of every
scheme's mean latency (with its standard error) and mean worker-seconds, and with
``--figure`` grouped bars of both.

Usage::

    python scripts/raptor_systems.py results/raptor-systems [--figure PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

NAMES = {"lt1": "LT-1", "lt2": "LT-2", "raptor1": "Raptor-1", "raptor2": "Raptor-2"}
COLOURS = {"lt1": "tab:red", "lt2": "tab:orange", "raptor1": "tab:blue", "raptor2": "tab:cyan"}


def law(text: str) -> str:
    """A short name of the point's delay law."""
    return "Exp(0.2)" if "exponential" in text else "Pareto(1, 1)"


def load(folder: Path) -> pd.DataFrame:
    points = pd.read_csv(folder / "points.csv")
    points["system"] = points["delay"].map(law)
    return points


def table(points: pd.DataFrame) -> str:
    schemes = [s for s in NAMES if s in set(points["scheme"])]
    lines = ["| start-up | computation | " + " | ".join(NAMES[s] for s in schemes) + " |",
             "|---|---|" + "---|" * len(schemes)]
    for (system, computation), group in points.groupby(["system", "computation"],
                                                       sort=False):
        rows = group.set_index("scheme")
        cells = [f"{rows.loc[s, 'mean']:.3g} ± {rows.loc[s, 'sem']:.2g} s, "
                 f"{rows.loc[s, 'worker_seconds']:.4g} w·s" for s in schemes]
        lines.append(f"| {system} | {computation} | " + " | ".join(cells) + " |")
    lines += ["", "Mean latency ± its standard error, and mean worker-seconds, "
              f"{int(points['trials'].iloc[0])} trials a point."]
    return "\n".join(lines)


def draw(points: pd.DataFrame, path: Path) -> None:
    groups = list(points.groupby(["system", "computation"], sort=False))
    schemes = [s for s in NAMES if s in set(points["scheme"])]
    figure = Figure(figsize=(11, 4.2), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, 2)
    width = 0.8 / len(schemes)
    x = np.arange(len(groups))
    for i, scheme in enumerate(schemes):
        mean = [g.set_index("scheme").loc[scheme, "mean"] for _, g in groups]
        sem = [g.set_index("scheme").loc[scheme, "sem"] for _, g in groups]
        seconds = [g.set_index("scheme").loc[scheme, "worker_seconds"] for _, g in groups]
        offset = x + (i - (len(schemes) - 1) / 2) * width
        axes[0].bar(offset, mean, width, yerr=2 * np.asarray(sem), color=COLOURS[scheme],
                    label=NAMES[scheme], capsize=2)
        axes[1].bar(offset, seconds, width, color=COLOURS[scheme], label=NAMES[scheme])
    labels = [f"{system}\n{computation}" for (system, computation), _ in groups]
    for ax, title in zip(axes, ("mean latency (s), ± 2 standard errors",
                                "mean worker-seconds"), strict=True):
        ax.set_xticks(x, labels, fontsize=9)
        ax.set_title(title, fontsize=10)
        ax.grid(True, axis="y", alpha=0.3)
    axes[0].legend(fontsize=8)
    figure.suptitle("RFC 5053 Raptor against the paper's LT codes (m = n = 1000, τ = 5 ms)",
                    fontsize=11)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    figure.savefig(tmp, dpi=120, format="png")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="results of raptor-systems.sweep.yaml")
    parser.add_argument("--figure", type=Path, help="also draw the bars there (PNG)")
    args = parser.parse_args(argv)
    points = load(args.folder)
    print(table(points))
    if args.figure is not None:
        draw(points, args.figure)


if __name__ == "__main__":
    main()
