"""Reading result folders back, strictly, and reporting them in the terminal.

A result file that is truncated, header-only, or holds a cell of the wrong type is an error
(:class:`CorruptResults`, one line naming the file and what is wrong), never a table of
dashes or a traceback.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

COLUMNS = ["scheme", "trials", "mean", "sem", "p50", "p99", "failure_rate", "failures",
           "mismatches", "worker_seconds", "cost", "waiting", "utilisation", "unstable",
           "theory_mean", "theory_bound", "decode_ms", "theory_note"]
"""Columns shown, where the summary has them (simulations and executions differ)."""

NUMERIC = ("trials", "mean", "std", "sem", "p50", "p90", "p99", "max", "failure_rate",
           "theory_mean", "theory_bound", "decode_ms", "failures", "mismatches",
           "worker_seconds", "units", "cost", "backups", "p50_response", "p99_response",
           "waiting", "utilisation")
"""Summary columns that must hold numbers (or be empty)."""


class CorruptResults(ValueError):
    """A result file that cannot be trusted; ``str()`` is one line."""


def read_meta(folder: Path) -> dict[str, Any]:
    """``meta.json`` of a result folder, a JSON object."""
    path = folder / "meta.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CorruptResults(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CorruptResults(f"{path}: not readable JSON ({_gist(exc)})") from None
    if not isinstance(meta, dict):
        raise CorruptResults(f"{path}: not a JSON object")
    return meta


def read_table(path: Path, required: list[str], numeric: tuple[str, ...] = NUMERIC,
               ) -> pd.DataFrame:
    """A CSV result table with at least one row, the ``required`` columns, and numbers (or
    empty cells) in its ``numeric`` columns (``inf`` allowed)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            if fh.tell() == 0:
                raise CorruptResults(f"{path}: empty file")
            fh.seek(-1, 2)
            if fh.read(1) != b"\n":
                raise CorruptResults(f"{path}: truncated (the last line is incomplete)")
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=str)
    except CorruptResults:
        raise
    except FileNotFoundError:
        raise CorruptResults(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise CorruptResults(f"{path}: not a readable CSV table ({_gist(exc)})") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise CorruptResults(f"{path}: missing column(s) {', '.join(missing)} (truncated or "
                             "not written by ltsim)")
    if frame.empty:
        raise CorruptResults(f"{path}: no rows (truncated?)")
    for column in frame.columns:
        if column in numeric:
            values = pd.to_numeric(frame[column], errors="coerce")
            bad = values.isna() & frame[column].notna()
            if bad.any():
                row = int(np.argmax(bad.to_numpy()))
                raise CorruptResults(f"{path}: row {row + 1}, column {column}: not a number, "
                                     f"got {frame[column].iloc[row]!r}")
            frame[column] = values
    return frame


def read_summary(folder: Path) -> pd.DataFrame:
    """``summary.csv`` of a result folder, checked (see :func:`read_table`); a row per
    scheme of its ``config.yaml`` when that file is there."""
    summary = read_table(folder / "summary.csv", ["scheme", "trials", "mean"])
    if summary["trials"].isna().any():
        raise CorruptResults(f"{folder / 'summary.csv'}: a row without its trial count")
    schemes = [s for s in read_config(folder).get("schemes", []) if isinstance(s, dict)]
    if schemes and len(schemes) != len(summary):
        raise CorruptResults(f"{folder / 'summary.csv'}: {len(summary)} row(s) for the "
                             f"{len(schemes)} schemes of config.yaml (truncated?)")
    return summary


def read_config(folder: Path) -> dict[str, Any]:
    """The resolved ``config.yaml`` of a result folder (an empty mapping if absent)."""
    path = folder / "config.yaml"
    if not path.exists():
        return {}
    return read_yaml_mapping(path)


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """A YAML file ltsim wrote (``config.yaml``, ``sweep.yaml``), read with the strict
    config loader (bounded, no aliases): a mapping, else :class:`CorruptResults`."""
    from ..util.validation import ConfigError
    from .config import read_config as read_yaml

    if not path.is_file():
        raise CorruptResults(f"{path}: missing")
    try:
        data = read_yaml(path)
    except ConfigError as exc:
        raise CorruptResults(f"{path}: not readable YAML ({_gist(exc)})") from None
    if not isinstance(data, dict):
        raise CorruptResults(f"{path}: not a mapping")
    return data


def read_sweep_yaml(folder: Path) -> dict[str, Any]:
    """``sweep.yaml`` of a sweep folder, checked: a ``base`` mapping and a ``grid`` and/or
    ``zip`` mapping each varied key (a string) to a non-empty list of values."""
    path = folder / "sweep.yaml"
    data = read_yaml_mapping(path)
    if not isinstance(data.get("base"), dict):
        raise CorruptResults(f"{path}: base: not a config mapping")
    for section in ("grid", "zip"):
        axis = data.get(section)
        if axis is None:
            continue
        if not isinstance(axis, dict) or not axis:
            raise CorruptResults(f"{path}: {section}: not a mapping of keys to lists of values")
        for key, values in axis.items():
            if not isinstance(key, str) or not isinstance(values, list) or not values:
                raise CorruptResults(f"{path}: {section}.{key}: not a non-empty list of values")
    if not data.get("grid") and not data.get("zip"):
        raise CorruptResults(f"{path}: neither grid nor zip: no varied key")
    return data


def sweep_keys(folder: Path) -> list[list[str]]:
    """The varied keys of a sweep folder (its checked ``sweep.yaml``): one axis per grid
    key, one for all zip keys."""
    data = read_sweep_yaml(folder)
    axes = [[k] for k in (data.get("grid") or {})]
    if data.get("zip"):
        axes.append(list(data["zip"]))
    return axes


def check_keys(points: pd.DataFrame, keys: list[str], path: Path) -> None:
    """Refuse a ``points.csv`` without a column for every varied key."""
    missing = [k for k in keys if k not in points.columns]
    if missing:
        raise CorruptResults(f"{path}: no column for the varied key(s) {', '.join(missing)} "
                             "of sweep.yaml")


def format_summary(summary: pd.DataFrame) -> str:
    """The main columns of ``summary.csv`` as aligned text."""
    present = [c for c in COLUMNS if c in summary.columns
               and not (c == "theory_note" and summary[c].fillna("").eq("").all())]
    return summary[present].to_string(index=False, float_format=_number, na_rep="-")


def _number(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def describe_folder(folder: Path) -> str:
    """A header line (status, trials, why the run stopped) and the summary table."""
    meta = read_meta(folder)
    summary = read_summary(folder)
    status = meta.get("status", "complete")
    flag = "" if status == "complete" else f"  [PARTIAL: {status}]"
    parts = [f"{meta.get('trials', '?')} trials"]
    if "stop_reason" in meta:
        parts.append(f"stopped by {meta['stop_reason']}")
    if "backend" in meta:
        parts.append(f"executed on {meta['backend']}")
    parts.append(f"seed {meta.get('seed', '?')}")
    head = f"{folder}: {', '.join(parts)}{flag}"
    return head + "\n" + format_summary(summary)


def _gist(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:160] or type(exc).__name__
