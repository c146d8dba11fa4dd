"""The overhead curves of ``configs/raptor-overhead.yaml``: P(decoding fails with K + h
symbols received), h = 0 ... 20, for RFC 5053's R10 over GF(2) and over the rationals and for
LT with the paper's Robust Soliton, at each K of the run, from its ``latencies.csv`` (a
trial's ``symbols``: how many symbols decoding needed; ``symbols_gf2`` for GF(2), 0 when
GF(2) never decoded).

Prints a Markdown table; ``--figure PATH`` also draws the curves (log scale; a curve ends
where no trial failed).

Usage::

    python scripts/raptor_overhead.py results/raptor-overhead [--figure PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from matplotlib import ticker
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

H = np.arange(21)
MODEL = 0.85 * 0.567 ** H
"""The failure probability reported for R10 with K + h symbols, 0.85 x 0.567^h (Luby,
Gasiba, Stockhammer and Watson, "Reliable multimedia download delivery in cellular broadcast
networks", IEEE Trans. Broadcasting 53(1), 2007, for the 3GPP MBMS Raptor code)."""
SHOWN = (0, 1, 2, 5, 10, 20)
"""The overheads the table shows."""


def curves(folder: Path) -> list[dict]:
    """One entry per K and decoder: the failure probability at every h and the trials."""
    config = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    rows = pd.read_csv(folder / "latencies.csv")
    out = []
    for scheme in config["schemes"]:
        K = int(scheme["k"])
        sid = f"{scheme['kind']}-k{K}"
        mine = rows[rows["scheme"] == sid]
        trials = len(mine)
        decoded = mine["decoded"].astype(str).str.lower().eq("true").to_numpy()
        needed = np.where(decoded, mine["symbols"].to_numpy(float), np.inf)
        if scheme["kind"] == "raptor":
            gf2 = mine["symbols_gf2"].to_numpy(float)
            gf2 = np.where(gf2 > 0, gf2, np.inf)
            out.append({"K": K, "code": "R10 over GF(2)", "needed": gf2, "trials": trials})
            out.append({"K": K, "code": "R10 over the rationals", "needed": needed,
                        "trials": trials})
        else:
            out.append({"K": K, "code": "LT (Robust Soliton)", "needed": needed,
                        "trials": trials})
    for entry in out:
        entry["fail"] = np.array([(entry["needed"] > entry["K"] + h).mean() for h in H])
    return sorted(out, key=lambda e: (e["K"], e["code"]))


def table(entries: list[dict]) -> str:
    head = "| K | decoder | trials | " + " | ".join(f"h = {h}" for h in SHOWN) + " |"
    lines = [head, "|---|---|---|" + "---|" * len(SHOWN)]
    for e in entries:
        cells = []
        for h in SHOWN:
            p = e["fail"][h]
            cells.append(f"< {1 / e['trials']:.0e}" if p == 0 else f"{p:.3g}")
        lines.append(f"| {e['K']} | {e['code']} | {e['trials']} | " + " | ".join(cells) + " |")
    cells = " | ".join(f"{MODEL[h]:.3g}" for h in SHOWN)
    lines.append(f"| any | R10, the published model 0.85 · 0.567^h | — | {cells} |")
    lines += ["", "P(decoding fails with K + h symbols received), symbols in a uniformly random "
              "order; `< x`: no failure in the trials."]
    return "\n".join(lines)


def draw(entries: list[dict], path: Path) -> None:
    ks = sorted({e["K"] for e in entries})
    figure = Figure(figsize=(12, 4.2), layout="constrained")
    FigureCanvasAgg(figure)
    axes = np.atleast_1d(figure.subplots(1, len(ks), sharey=True))
    style = {"R10 over GF(2)": ("tab:blue", "o"), "R10 over the rationals": ("tab:green", "s"),
             "LT (Robust Soliton)": ("tab:red", "^")}
    for ax, K in zip(axes, ks, strict=True):
        for e in (e for e in entries if e["K"] == K):
            colour, marker = style[e["code"]]
            seen = e["fail"] > 0
            ax.plot(H[seen], e["fail"][seen], color=colour, marker=marker, ms=4, lw=1.3,
                    label=e["code"])
        ax.plot(H, MODEL, color="tab:blue", ls="--", lw=1.0,
                label="R10, published model 0.85·0.567^h")
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_xlabel("symbols received beyond K (h)")
        ax.set_title(f"K = {K}", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("P(decoding fails with K + h symbols)")
    axes[0].legend(fontsize=8, loc="lower left")
    trials = max(e["trials"] for e in entries)
    figure.suptitle(f"Decoding overhead: RFC 5053 Raptor (R10) against LT, {trials} trials "
                    "each (a curve ends where no trial failed)", fontsize=11)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    figure.savefig(tmp, dpi=120, format="png")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="results of configs/raptor-overhead.yaml")
    parser.add_argument("--figure", type=Path, help="also draw the curves there (PNG)")
    args = parser.parse_args(argv)
    entries = curves(args.folder)
    print(table(entries))
    if args.figure is not None:
        draw(entries, args.figure)


if __name__ == "__main__":
    main()
