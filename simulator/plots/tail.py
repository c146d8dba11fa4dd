"""The tail figure of a simulation folder: P(T > t) per scheme, as the paper's Fig. 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io.report import read_config, read_meta, read_table
from .common import describe_delay, display_name, legend_names, pyplot, save_figure


def plot_tail(folder: Path) -> list[Path]:
    """Draw ``tail.png`` and ``tail.pdf``: P(T > t) on a log axis, one curve per scheme.

    Returns
    -------
    list of Path
        The files written.
    """
    tail = read_table(folder / "tail.csv", ["scheme", "t", "tail"], ("t", "tail"))
    config = read_config(folder)
    meta = read_meta(folder)
    plt = pyplot()
    codes = legend_names(config.get("schemes"))
    fig, ax = plt.subplots(figsize=(6.0, 4.2), layout="constrained")
    styles = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1))]
    smallest = 1.0
    for i, (scheme, rows) in enumerate(tail.groupby("scheme", sort=False)):
        t, p = rows["t"].to_numpy(), rows["tail"].to_numpy()
        keep = p > 0
        if keep.any():
            smallest = min(smallest, p[keep].min())
        ax.step(t[keep], p[keep], where="post", linestyle=styles[i % len(styles)],
                linewidth=1.8, label=display_name(str(scheme), codes))
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
    written = save_figure(fig, folder, "tail")
    plt.close(fig)
    return written
