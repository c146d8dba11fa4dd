"""Result files of ``ltsim execute``, written atomically as :mod:`simulator.results` does.

* ``executions.csv``: ``scheme,trial,status,latency,decode_ms,symbols,received,value,exact,
  rel_error,decoded,tasks,failed_tasks`` (latency in seconds, ``inf`` if not decoded)
* ``tasks.csv``: ``scheme,trial,worker,submitted,start,finish,stopped,units,planned_units,
  status,delay,injected_failure,error`` (``time.time()`` stamps; ``units`` = kernel terms done)
* ``summary.csv``: ``scheme,trials,mean,std,p50,p99,failures,mismatches,decode_ms``
* ``config.yaml`` (resolved) and ``meta.json``
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..results import quantile, write_folder
from .config import ExecuteConfig
from .master import Execution

SUMMARY_COLUMNS = ["scheme", "trials", "mean", "std", "p50", "p99", "failures", "mismatches",
                   "decode_ms"]


def executions_frame(execution: Execution) -> pd.DataFrame:
    """One row per scheme and trial."""
    frame = pd.DataFrame(execution.executions)
    if not frame.empty:
        frame["symbols"] = pd.array(frame["symbols"], dtype="Int64")
        frame["decoded"] = np.where(frame["decoded"], "true", "false")
    return frame


def summary_frame(config: ExecuteConfig, execution: Execution) -> pd.DataFrame:
    """Per scheme: moments over decoded trials, quantiles over all (failures count as inf)."""
    frame = pd.DataFrame(execution.executions)
    rows = []
    for scheme in config.schemes:
        sid = scheme.scheme_id
        sub = frame[frame["scheme"] == sid] if not frame.empty else frame
        latency = sub["latency"].to_numpy(float) if not sub.empty else np.empty(0)
        finite = latency[np.isfinite(latency)]
        rows.append({
            "scheme": sid,
            "trials": latency.size,
            "mean": float(finite.mean()) if finite.size else math.nan,
            "std": float(finite.std(ddof=1)) if finite.size > 1 else math.nan,
            "p50": quantile(latency, 0.50),
            "p99": quantile(latency, 0.99),
            "failures": int((sub["status"] != "ok").sum()) if not sub.empty else 0,
            "mismatches": int((sub["status"] == "mismatch").sum()) if not sub.empty else 0,
            "decode_ms": float(sub["decode_ms"].mean()) if not sub.empty else math.nan,
        })
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def write_execution(target: Path, config: ExecuteConfig, execution: Execution,
                    meta: dict[str, Any], force: bool) -> Path:
    """Write the files of an execution atomically (see :func:`simulator.results.write_folder`)."""
    frames = {
        "executions.csv": executions_frame(execution),
        "tasks.csv": pd.DataFrame(execution.tasks),
        "summary.csv": summary_frame(config, execution),
    }
    return write_folder(target, frames, config.resolved(), meta, force)
