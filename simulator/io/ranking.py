"""Which scheme wins at a point of a sweep: ranking by what a metric means.

A scheme is ranked by its metric as the metric is defined over all its trials, failures
included: quantiles already count a failed trial as ``+inf``; a mean over the decoded trials
of a scheme that failed some is the mean of a latency that is sometimes infinite, so it ranks
as ``+inf``. A bound (``ideal``) is drawn beside the schemes but never wins; which schemes are
bounds is read from each point's own config, since ``schemes`` may be a varied key.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..codes import CODES
from ..plugins import load_plugins

MOMENTS = ("mean", "std", "sem", "worker_seconds", "units", "cost")
"""Metrics computed over the decoded trials only: infinite when some trials fail."""


def ranked_value(rows: pd.DataFrame, metric: str) -> np.ndarray:
    """The value by which each row's scheme ranks under ``metric``: the metric, ``+inf``
    where it is missing or where failures make it infinite (see the module docstring)."""
    values = pd.to_numeric(rows[metric], errors="coerce").to_numpy(float)
    if metric in MOMENTS and "failure_rate" in rows:
        failing = pd.to_numeric(rows["failure_rate"], errors="coerce").to_numpy(float) > 0
        values = np.where(failing, math.inf, values)
    return np.where(np.isnan(values), math.inf, values)


def reference_ids(schemes: list[dict[str, Any]] | None) -> set[str]:
    """The scheme ids of the bounds (e.g. ``ideal``) among the ``schemes`` of a config
    mapping: they are drawn for comparison but never win."""
    load_plugins()
    ids = set()
    for entry in schemes or []:
        cls = CODES.get(entry.get("kind")) if isinstance(entry, dict) else None
        if cls is not None and cls.reference:
            with contextlib.suppress(ValueError):
                ids.add(cls.model_validate(entry).scheme_id)
    return ids


def point_bounds(folder: Path, slugs, fallback: set[str] = frozenset()) -> dict[str, set[str]]:
    """The bounds of every point of the sweep folder ``folder``, from each point's
    ``config.yaml`` (``fallback`` for a point without one)."""
    from .report import read_config

    bounds = {}
    for slug in dict.fromkeys(slugs):
        config = read_config(folder / "points" / str(slug))
        bounds[str(slug)] = reference_ids(config.get("schemes")) if config else set(fallback)
    return bounds


def best_table(points: pd.DataFrame, keys: list[str], metric: str,
               bounds: dict[str, set[str]] | None = None) -> pd.DataFrame:
    """The best scheme at every point (lowest :func:`ranked_value` of ``metric``) with the
    runner-up, the bounds of each point (``bounds[point]``) left out. When some scheme
    fails some trials, the failure rates of both are shown too."""
    bounds = bounds or {}
    rows = []
    show_failures = "failure_rate" in points and bool(
        (pd.to_numeric(points["failure_rate"], errors="coerce") > 0).any())
    for point, group in points.groupby("point", sort=False):
        group = group[~group["scheme"].astype(str).isin(bounds.get(str(point), set()))]
        if group.empty:
            continue
        value = ranked_value(group, metric)
        order = np.argsort(value, kind="stable")
        first = group.iloc[order[0]]
        row = {k: first[k] for k in keys if k in group}
        row[f"best by {metric}"] = first["scheme"]
        row[metric] = value[order[0]]
        if show_failures:
            row["failure_rate"] = first["failure_rate"]
        if len(order) > 1:
            second = group.iloc[order[1]]
            row["runner-up"] = second["scheme"]
            row[f"its {metric}"] = value[order[1]]
            if show_failures:
                row["its failure_rate"] = second["failure_rate"]
        rows.append(row)
    return pd.DataFrame(rows)


def exact_text(value: Any) -> str:
    """A swept value as text that tells distinct values apart: numbers by their shortest
    exact ``repr``."""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    return str(value)


def format_best(table: pd.DataFrame, keys: list[str] = ()) -> str:
    """The best-scheme table as aligned text: the varied ``keys`` exactly, the metrics to
    four significant digits."""
    table = table.copy()
    for key in keys:
        if key in table:
            table[key] = table[key].map(exact_text)
    return table.to_string(index=False, float_format=lambda v: f"{v:.4g}", na_rep="-")
