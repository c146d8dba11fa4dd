"""Text reports of result folders for the terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

COLUMNS = ["scheme", "trials", "mean", "sem", "p50", "p99", "failure_rate", "failures",
           "mismatches", "theory_mean", "theory_bound", "decode_ms"]
"""Columns shown, where the summary has them (simulations and executions differ)."""


def format_summary(summary: pd.DataFrame) -> str:
    """The main columns of ``summary.csv`` as aligned text."""
    present = [c for c in COLUMNS if c in summary.columns]
    return summary[present].to_string(index=False, float_format=lambda v: f"{v:.4g}",
                                      na_rep="-")


def describe_folder(folder: Path) -> str:
    """A header line (status, trials, why the run stopped) and the summary table."""
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    summary = pd.read_csv(folder / "summary.csv")
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
