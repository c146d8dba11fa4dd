"""The figures of an ``ltsim execute`` folder: latency bars and a task timeline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .common import display_name, legend_names, pyplot, save_figure


def plot_execution(folder: Path) -> list[Path]:
    """Draw ``execution.png/.pdf`` (Fig. 2c style: mean latency ± std per scheme over decoded
    trials, failures noted) and ``timeline.png`` (every task of trial 0, one panel a scheme:
    a bar from start to finish, the injected start-up delay lighter, the decode time as a
    vertical line).

    Returns
    -------
    list of Path
        The files written.
    """
    plt = pyplot()
    runs = pd.read_csv(folder / "executions.csv")
    tasks = pd.read_csv(folder / "tasks.csv")
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    config = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    codes = legend_names(config.get("schemes"))
    schemes = list(dict.fromkeys(runs["scheme"]))
    names = [display_name(str(s), codes) for s in schemes]

    fig, ax = plt.subplots(figsize=(6.0, 4.0), layout="constrained")
    means, stds, notes = [], [], []
    for scheme in schemes:
        lat = runs.loc[runs["scheme"] == scheme, "latency"].to_numpy(float)
        ok = lat[np.isfinite(lat)]
        means.append(ok.mean() if ok.size else 0.0)
        stds.append(ok.std(ddof=1) if ok.size > 1 else 0.0)
        notes.append(f"{lat.size - ok.size} failed" if ok.size < lat.size else "")
    xs = np.arange(len(schemes))
    bars = ax.bar(xs, means, yerr=stds, capsize=4, color=[f"C{i}" for i in xs])
    for bar, note in zip(bars, notes, strict=True):
        if note:
            ax.annotate(note, (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=8, color="red")
    ax.set_xticks(xs, names)
    ax.set_xlabel("scheme")
    ax.set_ylabel("latency (seconds), mean ± std")
    ax.set_title(f"{folder.name}: {meta.get('backend', '?')} backend, "
                 f"{meta.get('trials', '?')} trials", fontsize=9)
    ax.grid(True, axis="y", alpha=0.3)
    written = save_figure(fig, folder, "execution")
    plt.close(fig)

    first = tasks[tasks["trial"] == tasks["trial"].min()]
    fig, axes = plt.subplots(len(schemes), 1, figsize=(7.0, 1.6 + 1.4 * len(schemes)),
                             layout="constrained", squeeze=False, sharex=True)
    colors = {"done": "C0", "cancelled": "C1", "failed": "C3"}
    for ax, scheme, name in zip(axes[:, 0], schemes, names, strict=True):
        rows = first[first["scheme"] == scheme]
        zero = rows["submitted"].to_numpy(float)
        start = rows["start"].to_numpy(float) - zero
        end = np.where(np.isfinite(rows["finish"]), rows["finish"], rows["stopped"]) - zero
        delay = rows["delay"].to_numpy(float)
        status = rows["status"].astype(str).to_numpy()
        y = rows["worker"].to_numpy()
        for st, color in colors.items():
            sel = (status == st) & np.isfinite(start) & np.isfinite(end)
            if sel.any():
                ax.hlines(y[sel], start[sel], end[sel], color=color, linewidth=1.2, label=st)
                ax.hlines(y[sel], start[sel], np.minimum(start[sel] + delay[sel], end[sel]),
                          color="0.8", linewidth=1.2)
        lat = runs[(runs["scheme"] == scheme) & (runs["trial"] == first["trial"].min())]
        if not lat.empty and np.isfinite(lat["latency"].iloc[0]):
            ax.axvline(lat["latency"].iloc[0], color="k", linestyle="--", linewidth=1)
        ax.set_ylabel(f"{name}\nworker", fontsize=8)
        ax.legend(fontsize=7, loc="upper right")
    axes[-1, 0].set_xlabel("time since submission (seconds)\n"
                           "grey: injected start-up delay; dashed: F(x) recovered")
    written += save_figure(fig, folder, "timeline", ("png",))
    plt.close(fig)
    return written
