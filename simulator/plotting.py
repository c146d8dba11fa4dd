"""Figures drawn from result files only (never by re-simulating)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

_STANDARD = [
    (re.compile(r"^one$"), lambda m: "One"),
    (re.compile(r"^uncoded$"), lambda m: "Uncoded"),
    (re.compile(r"^rep(\d+)$"), lambda m: f"{m.group(1)}-Rep"),
    (re.compile(r"^lt(\d+)$"), lambda m: f"LT-{m.group(1)}"),
]


def display_name(scheme_id: str) -> str:
    """Legend name of a scheme id as in the paper (``rep2`` -> ``2-Rep``); labels unchanged."""
    for pattern, name in _STANDARD:
        match = pattern.match(scheme_id)
        if match:
            return name(match)
    return scheme_id


def describe_delay(delay: dict) -> str:
    """Short text of a delay config, e.g. ``Exp(0.2)`` or ``Pareto(1, 1)``."""
    dist = delay.get("dist")
    params = {k: v for k, v in delay.items() if k != "dist"}
    short = {"exponential": "Exp", "pareto": "Pareto", "shifted_exponential": "ShiftedExp",
             "weibull": "Weibull", "lognormal": "LogNormal", "constant": "Const"}
    if dist == "empirical":
        return f"empirical ({Path(str(params.get('path', ''))).name})"
    values = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in params.values())
    return f"{short.get(dist, dist)}({values})"


def result_folders(path: Path) -> list[Path]:
    """``path`` itself if it holds results (``tail.csv`` of a simulation or
    ``executions.csv`` of an execution), else every results folder below it."""
    markers = ("tail.csv", "executions.csv")
    if any((path / m).is_file() for m in markers):
        return [path]
    found = {p.parent for m in markers for p in path.rglob(m)}
    return sorted(f for f in found if not any(part.startswith(".") for part in f.parts[-1:]))


def plot_tail(folder: Path) -> list[Path]:
    """Draw ``tail.png`` and ``tail.pdf``: P(T > t) on a log axis, one curve per scheme.

    Returns
    -------
    list of Path
        The files written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tail = pd.read_csv(folder / "tail.csv")
    config = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    fig, ax = plt.subplots(figsize=(6.0, 4.2), layout="constrained")
    styles = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1))]
    smallest = 1.0
    for i, (scheme, rows) in enumerate(tail.groupby("scheme", sort=False)):
        t, p = rows["t"].to_numpy(), rows["tail"].to_numpy()
        keep = p > 0
        if keep.any():
            smallest = min(smallest, p[keep].min())
        ax.step(t[keep], p[keep], where="post", linestyle=styles[i % len(styles)],
                linewidth=1.8, label=display_name(str(scheme)))
    ax.set_yscale("log")
    ax.set_ylim(max(smallest / 2, 1e-6), 1.5)
    finite = tail["t"].to_numpy()
    if finite.size and np.max(finite) > 50 * max(np.median(finite), 1e-12):
        ax.set_xscale("log")  # heavy tails (e.g. Pareto): a linear axis would hide all but one
    ax.set_xlabel("latency t (seconds)")
    ax.set_ylabel("P(T > t)")
    status = "" if meta.get("status", "complete") == "complete" else f", {meta['status']}"
    ax.set_title(
        f"{config['name']}: m = {config['m']}, tau = {config['tau']:g} s, "
        f"X ~ {describe_delay(config['delay'])}, {meta.get('trials', '?')} trials{status}",
        fontsize=9,
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    written = []
    for suffix in ("png", "pdf"):
        out = folder / f"tail.{suffix}"
        tmp = folder / f".tail.tmp.{suffix}"
        fig.savefig(tmp, dpi=150, format=suffix, metadata={"CreationDate": None}
                    if suffix == "pdf" else {"Software": None})
        tmp.replace(out)
        written.append(out)
    plt.close(fig)
    return written
