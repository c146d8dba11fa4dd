"""Figures of a sweep folder: metrics against each varied parameter, and which code wins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..io.ranking import ranked_value, reference_ids
from ..io.report import check_keys, read_config, read_table, sweep_keys
from .common import (
    display_name,
    is_reference,
    legend_names,
    plain_log_ticks,
    pyplot,
    save_figure,
    shown_value,
)

Z95 = 1.959963984540054


def sweep_axes(folder: Path) -> list[list[str]]:
    """The varied keys of a sweep folder: one axis per grid key, one for all zip keys."""
    return sweep_keys(folder)


def plot_sweep(folder: Path, metric: str = "p99") -> list[Path]:
    """Draw ``<key>.png`` for every varied key (mean and p99 against it, one line per
    scheme, 95 % bands: the mean's from its standard error, p99's from order statistics;
    one panel per value of a second varied key) and, for a grid of two or more keys,
    ``wins.png``: the best scheme by ``metric`` at every point of the first two.
    """
    points = read_table(folder / "points.csv", ["point", "scheme", "mean", "p99"],
                        ("mean", "sem", "p99", "p99_low", "p99_high", "trials",
                         "failure_rate", "worker_seconds"))
    axes = sweep_axes(folder)
    check_keys(points, [k for axis in axes for k in axis], folder / "points.csv")
    for axis in axes:  # numbers read back as numbers (points.csv is text)
        for key in axis:
            if key in points:
                converted = pd.to_numeric(points[key], errors="coerce")
                if converted.notna().all():
                    points[key] = converted
    schemes = {slug: read_config(folder / "points" / slug).get("schemes")
               for slug in dict.fromkeys(points["point"].astype(str))}
    written = []
    for stem, fig in sweep_figures(points, axes, schemes, folder.name, metric).items():
        written += save_figure(fig, folder, stem, ("png",))
    return written


def sweep_figures(points: pd.DataFrame, axes: list[list[str]], schemes: dict[str, Any],
                  name: str, metric: str = "p99") -> dict[str, Any]:
    """The figures of a sweep, by file stem: ``sweep-<key>`` for every varied key and, for
    two keys or more, ``wins``.

    Parameters
    ----------
    points : DataFrame
        The rows of ``points.csv`` (the varied values as numbers where they are numbers).
    axes : list of list of str
        The varied keys (one axis per grid key, one for all zip keys).
    schemes : dict
        Each point's ``schemes`` (its resolved config's), by slug: legend names and bounds
        (``schemes`` may be a varied key).
    name : str
        The sweep's name, for the titles.
    metric : str
        What decides the winner in ``wins``.
    """
    codes, bounds = {}, {}
    for slug, entries in schemes.items():
        codes.update(legend_names(entries))
        bounds[slug] = reference_ids(entries)
    figures = {}
    for i, axis in enumerate(axes):
        others = [a for j, a in enumerate(axes) if j != i]
        figures.update([_lines(name, points, axis, others, codes)])
    if len(axes) >= 2:
        figures.update([_wins(name, points, axes[0], axes[1], axes[2:], metric, codes,
                              bounds)])
    frontier = _frontier(name, points, [k for axis in axes for k in axis], schemes, codes)
    if frontier is not None:
        figures.update([frontier])
    return figures


def _frontier(name, points, keys, schemes, codes):
    """For a sweep over an engine's speculation settings (``schemes[i].policy.<key>``):
    ``frontier``, the swept scheme's mean latency against its mean worker-seconds at every
    point (the engine's defaults starred), beside the other schemes' (their mean over the
    points); ``None`` for any other sweep or without worker-seconds."""
    import re

    from ..codes.backup import POLICIES

    if "worker_seconds" not in points:
        return None
    swept = [(key, re.fullmatch(r"schemes\[(\d+)\]\.policy\.(\w+)", key)) for key in keys]
    swept = [(key, int(m[1]), m[2]) for key, m in swept if m]
    if not swept or len({i for _, i, _ in swept}) != 1:
        return None
    index = swept[0][1]
    first = next(iter(schemes.values())) or []
    if index >= len(first) or not isinstance(first[index].get("policy"), dict):
        return None
    scheme = first[index]
    model = POLICIES.get(scheme["policy"].get("engine"))
    if model is None:
        return None
    sid = scheme.get("label") or f"backup-{scheme['policy']['engine']}"
    defaults = {key: model.model_fields[param].default for key, _, param in swept
                if param in model.model_fields}
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    mine = points[points["scheme"] == sid]
    is_default = np.ones(len(mine), dtype=bool)
    for key, value in defaults.items():
        is_default &= np.isclose(pd.to_numeric(mine[key]).to_numpy(float), float(value))
    ax.plot(mine["worker_seconds"], mine["mean"], "o", color="C0",
            label=f"{display_name(sid, codes)}, settings swept")
    if is_default.any():
        ax.plot(mine["worker_seconds"][is_default], mine["mean"][is_default], "*",
                color="C3", markersize=14, label="the engine's defaults")
    others = points[points["scheme"] != sid].groupby("scheme", sort=False)[
        ["worker_seconds", "mean"]].mean()
    for k, (other, row) in enumerate(others.iterrows()):
        ax.plot([row["worker_seconds"]], [row["mean"]], "s", color=f"C{(k + 4) % 10}",
                label=f"{display_name(str(other), codes)} (mean over the points)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_log_ticks(ax.xaxis)
    plain_log_ticks(ax.yaxis)
    ax.set_xlabel("mean worker-seconds per job")
    ax.set_ylabel("mean latency (seconds)")
    ax.set_title(f"{name}: {display_name(sid, codes)} at every setting swept", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    return "frontier", fig


def tick_label(value) -> str:
    """A swept value as a tick label: :func:`shown_value`; a list of schemes as their legend
    names; anything long wrapped on at most three lines of 18 characters."""
    import textwrap

    text = shown_value(value)
    if text.startswith("[") and "kind" in text:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            data = None
        if isinstance(data, list):
            names = legend_names(data)
            if len(names) == len(data):
                text = " + ".join(display_name(k, names) for k in names)
    lines = textwrap.wrap(text, 18) or [text]
    return "\n".join(lines[:3]) + ("…" if len(lines) > 3 else "")


def _fixed(points: pd.DataFrame, axes: list[list[str]]) -> pd.DataFrame:
    """The rows where every key of ``axes`` takes its first value."""
    for axis in axes:
        key = axis[0]
        points = points[points[key] == points[key].iloc[0]] if not points.empty else points
    return points


def _numeric(values) -> bool:
    return all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
               for v in values)


def _lines(name, points, axis, others, codes) -> tuple[str, Any]:
    plt = pyplot()
    key = axis[0]
    panel_axis = others[0] if others else None
    panel_values = list(dict.fromkeys(points[panel_axis[0]])) if panel_axis else [None]
    panel_values = panel_values[:4]
    rest = others[1:] if others else []
    fig, axs = plt.subplots(1, len(panel_values), figsize=(5.2 * len(panel_values), 4.2),
                            layout="constrained", squeeze=False, sharey=True)
    marked = False
    for ax, value in zip(axs[0], panel_values, strict=True):
        rows = points if value is None else points[points[panel_axis[0]] == value]
        rows = _fixed(rows, rest)
        for n, (scheme, group) in enumerate(rows.groupby("scheme", sort=False)):
            group = group.sort_values(key) if _numeric(group[key]) else group
            x = group[key].to_numpy()
            xs = x if _numeric(x) else np.arange(x.size)
            ref = is_reference(str(scheme), codes)
            color = "black" if ref else f"C{n % 10}"
            legend = display_name(str(scheme), codes)
            mean = ranked_value(group, "mean")  # +inf where failures make it infinite
            sem = group["sem"].to_numpy(float) if "sem" in group else np.zeros_like(mean)
            sem = np.where(np.isfinite(mean), np.nan_to_num(sem), np.nan)
            ax.plot(xs, np.where(np.isfinite(mean), mean, np.nan), "-o", color=color,
                    markersize=3, linewidth=0.9 if ref else 1.5, label=legend)
            low = np.clip(mean - Z95 * sem, mean * 1e-3, None)
            ax.fill_between(xs, low, mean + Z95 * sem, color=color, alpha=0.15, linewidth=0)
            p99 = ranked_value(group, "p99")
            ax.plot(xs, np.where(np.isfinite(p99), p99, np.nan), "--", color=color,
                    linewidth=0.9 if ref else 1.2)
            infinite = ~np.isfinite(mean) | ~np.isfinite(p99)
            if infinite.any():  # drawn at the top edge, never silently left out
                ax.plot(xs[infinite], np.full(infinite.sum(), 0.97), "^", color=color,
                        markersize=6, transform=ax.get_xaxis_transform(), clip_on=False)
                marked = True
            if {"p99_low", "p99_high"} <= set(group):
                ax.fill_between(xs, group["p99_low"].to_numpy(float),
                                group["p99_high"].to_numpy(float), color=color, alpha=0.08,
                                linewidth=0)
        if _numeric(points[key]) and (points[key] > 0).all() and \
                points[key].max() > 10 * points[key].min():
            ax.set_xscale("log")
            plain_log_ticks(ax.xaxis)
        elif not _numeric(points[key]):
            labels = list(dict.fromkeys(points[key]))
            ax.set_xticks(np.arange(len(labels)), [tick_label(v) for v in labels], fontsize=7,
                          rotation=30 if len(labels) > 3 else 0, ha="right" if len(labels) > 3
                          else "center")
        ax.set_yscale("log")
        plain_log_ticks(ax.yaxis)
        ax.set_xlabel(" = ".join(axis) if len(axis) == 1 else f"{key} (zipped with "
                      f"{', '.join(axis[1:])})")
        if panel_axis:
            ax.set_title(f"{panel_axis[0]} = {shown_value(value)}", fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
    axs[0, 0].set_ylabel("latency (seconds), 95 % bands")
    title = "solid: mean\ndashed: p99"
    if marked:
        title += "\n▲ at the top: infinite\n(failed trials, or a\nqueue that keeps growing)"
    axs[0, -1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1),
                      title=title, title_fontsize=7)
    fig.suptitle(f"{name}: latency against {key}", fontsize=10)
    stem = "".join(c if c.isalnum() or c in "._-" else "_" for c in key)
    return f"sweep-{stem}", fig


def _wins(name, points, xaxis, yaxis, rest, metric, codes, bounds) -> tuple[str, Any]:
    plt = pyplot()
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    rows = _fixed(points, rest)
    rows = rows[[str(s) not in bounds.get(str(p), ()) and not is_reference(str(s), codes)
                 for p, s in zip(rows["point"], rows["scheme"], strict=True)]]
    xk, yk = xaxis[0], yaxis[0]
    xs, ys = list(dict.fromkeys(rows[xk])), list(dict.fromkeys(rows[yk]))
    if _numeric(xs):
        xs = sorted(xs)
    if _numeric(ys):
        ys = sorted(ys)
    schemes = list(dict.fromkeys(rows["scheme"]))
    grid = np.full((len(ys), len(xs)), -1)
    label = np.full((len(ys), len(xs)), "", dtype=object)
    for (xv, yv), group in rows.groupby([xk, yk], sort=False):
        value = ranked_value(group, metric)
        k = int(np.argsort(value, kind="stable")[0])
        best = group.iloc[k]
        i, j = ys.index(yv), xs.index(xv)
        grid[i, j] = schemes.index(best["scheme"])
        label[i, j] = f"{display_name(str(best['scheme']), codes)}\n{value[k]:.3g}"
        failure = float(best.get("failure_rate", 0) or 0)
        if failure > 0:
            label[i, j] += f"\nfails {failure:.1%}"
    colors = [f"C{k % 10}" for k in range(len(schemes))]
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * len(xs), 1.2 + 0.8 * len(ys)),
                           layout="constrained")
    masked = np.ma.masked_less(grid, 0)
    ax.imshow(masked, cmap=ListedColormap(colors), vmin=-0.5, vmax=len(schemes) - 0.5,
              aspect="auto", origin="lower")
    for i in range(len(ys)):
        for j in range(len(xs)):
            ax.text(j, i, label[i, j], ha="center", va="center", fontsize=7, color="white")
    ax.set_xticks(np.arange(len(xs)), [tick_label(v) for v in xs], fontsize=7,
                  rotation=30 if len(xs) > 3 else 0, ha="right" if len(xs) > 3 else "center")
    ax.set_yticks(np.arange(len(ys)), [tick_label(v) for v in ys], fontsize=7)
    ax.set_xlabel(xk)
    ax.set_ylabel(yk)
    used = sorted({int(v) for v in grid.ravel() if v >= 0})
    ax.legend(handles=[Patch(color=colors[k], label=display_name(str(schemes[k]), codes))
                       for k in used], fontsize=7, loc="upper left", bbox_to_anchor=(1, 1))
    ax.set_title(f"{name}: which code wins (lowest {metric}; its value in s)",
                 fontsize=9)
    return "wins", fig
