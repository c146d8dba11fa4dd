"""The tail figure of a simulation folder: P(T > t) per scheme, as the paper's Fig. 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io.report import read_config, read_meta, read_summary, read_table
from .common import (
    describe_delay,
    is_reference,
    legend_label,
    legend_names,
    plain_log_ticks,
    pyplot,
    save_figure,
)


def plot_tail(folder: Path) -> list[Path]:
    """Draw ``tail.png`` and ``tail.pdf``: P(T > t) on a log axis, one curve per scheme;
    then ``cost.png`` and ``cost.pdf`` (:func:`cost_figure`).

    Parameters
    ----------
    folder : Path
        A simulation folder (``tail.csv``, ``summary.csv``, ``config.yaml``, ``meta.json``).

    Returns
    -------
    list of Path
        The files written.
    """
    tail = read_table(folder / "tail.csv", ["scheme", "t", "tail"], ("t", "tail"))
    config = read_config(folder)
    meta = read_meta(folder)
    plt = pyplot()
    fig = tail_figure(tail, config, meta)
    written = save_figure(fig, folder, "tail")
    plt.close(fig)
    fig = cost_figure(read_summary(folder), config, meta)
    if fig is not None:
        written += save_figure(fig, folder, "cost")
        plt.close(fig)
    return written


def tail_figure(tail, config: dict, meta: dict):
    """The figure of ``tail.png``: P(T > t) per scheme, from the rows of ``tail.csv``, the
    resolved config and ``meta.json``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    codes = legend_names(config.get("schemes"))
    fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    styles = ["-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1))]
    smallest = 1.0
    drawn = 0
    for scheme, rows in tail.groupby("scheme", sort=False):
        t, p = rows["t"].to_numpy(), rows["tail"].to_numpy()
        keep = p > 0
        if keep.any():
            smallest = min(smallest, p[keep].min())
        name = legend_label(str(scheme), codes)
        if is_reference(str(scheme), codes):  # a bound, not a scheme: thin, dashed, black
            ax.step(t[keep], p[keep], where="post", linestyle=(0, (4, 2)), linewidth=0.9,
                    color="black", label=name)
            continue
        ax.step(t[keep], p[keep], where="post", linestyle=styles[drawn % len(styles)],
                linewidth=1.8, color=f"C{drawn % 10}", label=name)
        drawn += 1
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
    ax.legend(fontsize=8, ncol=2 if drawn > 6 else 1)
    return fig


MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
"""Marker shapes of the cost figure, one per run of ten schemes (colours cycle by ten)."""


def cost_figure(summary, config: dict, meta: dict):
    """The figure of ``cost.png``: mean latency (filled marker) and p99 (open marker) against
    mean worker-seconds, one point per scheme: the latency/cost frontier.

    Both axes are logarithmic with plain tick labels (:func:`plain_log_ticks`); legend names
    are those of ``tail.png`` (:func:`legend_label`).

    Parameters
    ----------
    summary : DataFrame
        The rows of ``summary.csv``.
    config, meta : dict
        The resolved config and ``meta.json``.

    Returns
    -------
    matplotlib.figure.Figure or None
        ``None`` for a summary without costs (folders written before costs were recorded).
    """
    if "worker_seconds" not in summary.columns:
        return None
    codes = legend_names(config.get("schemes"))
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    drawn = 0
    for row in summary.itertuples(index=False):
        scheme = str(row.scheme)
        x, mean, p99 = row.worker_seconds, row.mean, row.p99
        if not (np.isfinite(x) and np.isfinite(mean)):
            continue
        name = legend_label(scheme, codes)
        color = "black" if is_reference(scheme, codes) else f"C{drawn % 10}"
        marker = MARKERS[(drawn // 10) % len(MARKERS)]  # past 10 schemes the colours repeat
        drawn += not is_reference(scheme, codes)
        ax.plot([x], [mean], marker, color=color, markersize=7, label=name)
        if np.isfinite(p99):
            ax.plot([x, x], [mean, p99], "-", color=color, linewidth=0.8)
            ax.plot([x], [p99], marker, mfc="none", color=color, markersize=7)
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_log_ticks(ax.xaxis)
    plain_log_ticks(ax.yaxis)
    ax.set_xlabel("mean worker-seconds per job (busy time of every started worker)")
    ax.set_ylabel("latency (seconds): mean (filled), p99 (open)")
    ax.set_title(f"{config.get('name', '?')}: latency against cost, "
                 f"{meta.get('trials', '?')} trials", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2 if drawn > 6 else 1)
    return fig
