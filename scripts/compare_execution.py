"""Measured (``ltsim execute``) versus simulated (``ltsim run`` of the fitted config)
latency per scheme, as a Markdown table.

Usage::

    python scripts/compare_execution.py results/execute-small results/execute-small-sim
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import yaml

from ltsim.plots.common import display_name, legend_names


def main(measured: Path, simulated: Path) -> None:
    real = pd.read_csv(measured / "summary.csv").set_index("scheme")
    sim = pd.read_csv(simulated / "summary.csv").set_index("scheme")
    config = yaml.safe_load((measured / "config.yaml").read_text(encoding="utf-8"))
    codes = legend_names(config["schemes"])
    print("| scheme | measured mean ± SE (s) | simulated mean (s) | (measured − simulated) / SE "
          "| measured p99 (s) | simulated p99 (s) | trials measured / simulated |")
    print("|---|---|---|---|---|---|---|")
    for scheme in real.index:
        r, s = real.loc[scheme], sim.loc[scheme]
        se = r["sem"]
        name = display_name(str(scheme), codes)
        print(f"| {name} | {r['mean']:.4f} ± {se:.4f} | {s['mean']:.4f} | "
              f"{(r['mean'] - s['mean']) / se:+.1f} | {r['p99']:.4f} | {s['p99']:.4f} | "
              f"{int(r['trials'])} / {int(s['trials'])} |")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
