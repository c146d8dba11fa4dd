"""The figures of an ``ltsim execute`` folder: latency bars and a task timeline."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from ..io.report import read_config, read_meta, read_table
from .common import display_name, legend_names, pyplot, save_figure


def mean_interval(latency: np.ndarray, seed: int = 0) -> tuple[float, float, float]:
    """Mean of the finite latencies and its 95 % confidence interval (bootstrap percentile,
    :func:`scipy.stats.bootstrap`, seeded): it lies within the observed values, so it never
    reaches below zero; NaN bounds for fewer than two trials."""
    from scipy import stats

    ok = latency[np.isfinite(latency)]
    if ok.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(ok.mean())
    if ok.size < 2 or np.ptp(ok) == 0:
        return mean, mean if ok.size >= 2 else math.nan, mean if ok.size >= 2 else math.nan
    res = stats.bootstrap((ok,), np.mean, confidence_level=0.95, n_resamples=2000,
                          method="percentile", rng=np.random.default_rng(seed))
    return mean, float(res.confidence_interval.low), float(res.confidence_interval.high)


def plot_execution(folder: Path) -> list[Path]:
    """Draw ``execution.png/.pdf`` (Fig. 2c style: the mean latency of every scheme over its
    decoded trials with a 95 % confidence interval; failures noted, a scheme whose every
    trial failed said so in the legend) and ``timeline.png`` (every task of the first trial,
    one panel a scheme: a bar from start to finish, the injected start-up delay lighter,
    the time F(x) was recovered as a dashed line).

    Returns
    -------
    list of Path
        The files written.
    """
    runs = read_table(folder / "executions.csv", ["scheme", "trial", "status", "latency"],
                      ("trial", "latency"))
    tasks = read_table(folder / "tasks.csv", ["scheme", "trial", "worker", "submitted",
                                              "start", "finish", "stopped", "status", "delay"],
                       ("trial", "worker", "submitted", "start", "finish", "stopped", "delay"))
    figures = execution_figures(runs, tasks, read_config(folder), read_meta(folder),
                                folder.name)
    return (save_figure(figures["execution"], folder, "execution")
            + save_figure(figures["timeline"], folder, "timeline", ("png",)))


def execution_figures(runs, tasks, config: dict, meta: dict, name: str) -> dict[str, Any]:
    """The figures of an execution, by file stem: ``execution`` (mean latency per scheme
    with its 95 % confidence interval) and ``timeline`` (the tasks of the first trial), from
    the rows of ``executions.csv`` and ``tasks.csv``, the config and ``meta.json``."""
    codes = legend_names(config.get("schemes"))
    schemes = list(dict.fromkeys(runs["scheme"]))
    names = [display_name(str(s), codes) for s in schemes]
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(6.0, 4.0), layout="constrained")
    for i, (scheme, name) in enumerate(zip(schemes, names, strict=True)):
        lat = runs.loc[runs["scheme"] == scheme, "latency"].to_numpy(float)
        mean, low, high = mean_interval(lat)
        failed = int(lat.size - np.isfinite(lat).sum())
        if math.isnan(mean):
            ax.bar(i, 0.0, color="none", edgecolor=f"C{i}", hatch="//",
                   label=f"{name}: all {lat.size} trials failed")
            continue
        label = name + (f" ({failed} of {lat.size} failed)" if failed else "")
        err = None
        if math.isfinite(low):
            err = [[mean - low], [high - mean]]
        ax.bar(i, mean, yerr=err, capsize=4, color=f"C{i}", label=label)
    ax.set_xticks(np.arange(len(schemes)), names)
    ax.set_xlabel("scheme")
    ax.set_ylabel("latency (seconds): mean, 95 % CI")
    ax.set_ylim(bottom=0)
    ax.set_title(f"{name}: {meta.get('backend', '?')} backend, "
                 f"{meta.get('trials', '?')} trials (decoded trials only)", fontsize=9)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=7)
    figures = {"execution": fig}

    trial = int(tasks["trial"].min())
    first = tasks[tasks["trial"] == trial]
    fig, axes = plt.subplots(len(schemes), 1, figsize=(7.0, 1.6 + 1.4 * len(schemes)),
                             layout="constrained", squeeze=False, sharex=True)
    colors = {"done": "C0", "cancelled": "C1", "failed": "C3"}
    for ax, scheme, name in zip(axes[:, 0], schemes, names, strict=True):
        rows = first[first["scheme"] == scheme]
        zero = rows["submitted"].to_numpy(float)
        start = rows["start"].to_numpy(float) - zero
        finish = rows["finish"].to_numpy(float)
        end = np.where(np.isfinite(finish), finish, rows["stopped"].to_numpy(float)) - zero
        delay = rows["delay"].to_numpy(float)
        status = rows["status"].astype(str).to_numpy()
        y = rows["worker"].to_numpy(float)
        for st, color in colors.items():
            sel = (status == st) & np.isfinite(start) & np.isfinite(end)
            if sel.any():
                ax.hlines(y[sel], start[sel], end[sel], color=color, linewidth=1.2, label=st)
                ax.hlines(y[sel], start[sel], np.minimum(start[sel] + delay[sel], end[sel]),
                          color="0.8", linewidth=1.2)
        lat = runs[(runs["scheme"] == scheme) & (runs["trial"] == trial)]
        if not lat.empty and np.isfinite(lat["latency"].iloc[0]):
            ax.axvline(lat["latency"].iloc[0], color="k", linestyle="--", linewidth=1)
        top = max(float(np.nanmax(y)) if y.size else 0.0, 0.0)
        ax.set_ylim(-0.5, top + 0.5)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True, min_n_ticks=1))
        ax.set_yticks([t for t in ax.get_yticks() if 0 <= t <= top])
        ax.set_ylabel(f"{name}\nworker", fontsize=8)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="upper right")
    axes[0, 0].set_title(f"{name}: tasks of trial {trial}", fontsize=9)
    axes[-1, 0].set_xlabel("time since submission (seconds)\n"
                           "grey: injected start-up delay; dashed: F(x) recovered")
    figures["timeline"] = fig
    return figures
