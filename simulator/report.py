"""Text reports of result folders for the terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

COLUMNS = ["scheme", "trials", "mean", "sem", "p50", "p99", "failure_rate", "theory_mean",
           "theory_bound", "decode_ms"]


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
    head = (f"{folder}: {meta.get('trials', '?')} trials, stopped by "
            f"{meta.get('stop_reason', '?')}, seed {meta.get('seed', '?')}{flag}")
    return head + "\n" + format_summary(summary)
