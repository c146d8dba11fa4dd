"""Result files of ``ltsim run`` and ``ltsim execute``: tidy CSVs, the resolved config and
provenance.

The files are a contract read by other tools (see ``docs/results.md``):

* ``ltsim run``: ``latencies.csv`` (``scheme,trial,latency,symbols,decoded``),
  ``summary.csv`` (``scheme`` + :data:`STATISTICS` + ``theory_mean,theory_bound,decode_ms,
  stop_reason``), ``tail.csv`` (``scheme,t,tail``, the empirical P(T > t));
* ``ltsim execute``: ``executions.csv`` (one row per scheme and trial), ``tasks.csv`` (one row
  per task), ``summary.csv`` (``scheme`` + :data:`STATISTICS` + ``failures,mismatches,
  decode_ms``);
* both: ``config.yaml`` (resolved) and ``meta.json``.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

SUMMARY_COLUMNS = [
    "scheme", "trials", "mean", "std", "sem", "p50", "p90", "p99", "max", "failure_rate",
    "theory_mean", "theory_bound", "decode_ms", "stop_reason",
]


def quantile(latency: np.ndarray, q: float) -> float:
    """Empirical quantile: the smallest observed ``x`` with ``P(T <= x) >= q``.

    Failures count as ``+inf``, so a quantile above the success rate is ``inf``.
    """
    return float(np.quantile(latency, q, method="inverted_cdf")) if latency.size else math.nan


def latencies_frame(experiment, run) -> pd.DataFrame:
    """One row per scheme and trial."""
    frames = []
    for scheme, outcome in zip(experiment.schemes, run.outcomes, strict=True):
        symbols = pd.array(outcome.symbols, dtype="Int64")
        symbols[outcome.symbols < 0] = pd.NA
        frames.append(pd.DataFrame({
            "scheme": scheme.scheme_id,
            "trial": np.arange(outcome.latency.size),
            "latency": outcome.latency,
            "symbols": symbols,
            "decoded": np.where(outcome.decoded, "true", "false"),
        }))
    return pd.concat(frames, ignore_index=True)


def summary_frame(experiment, run) -> pd.DataFrame:
    """One row per scheme: moments over decoded trials, quantiles over all trials."""
    with np.errstate(over="ignore", invalid="ignore"):  # huge latencies give inf moments
        return _summary(experiment, run)


def _summary(experiment, run) -> pd.DataFrame:
    rows = []
    system = experiment.view()
    for scheme, outcome in zip(experiment.schemes, run.outcomes, strict=True):
        timed = outcome.decode_seconds[np.isfinite(outcome.decode_seconds)]
        rows.append({
            "scheme": scheme.scheme_id,
            **statistics(outcome.latency, outcome.decoded),
            "theory_mean": scheme.theory_mean(system),
            "theory_bound": scheme.theory_bound(system),
            "decode_ms": float(np.median(timed) * 1e3) if timed.size else math.nan,
            "stop_reason": run.stop_reason,
        })
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


STATISTICS = ["trials", "mean", "std", "sem", "p50", "p90", "p99", "max", "failure_rate"]
"""The statistics of every summary, simulated or measured."""


def statistics(latency: np.ndarray, decoded: np.ndarray) -> dict[str, float]:
    """:data:`STATISTICS` of one scheme: mean, std and standard error over the decoded
    (finite) trials; quantiles (``inverted_cdf``) and max over all trials, failures counting
    as ``+inf``; the failure rate as a count ratio."""
    finite = latency[np.isfinite(latency)]
    std = float(finite.std(ddof=1)) if finite.size > 1 else math.nan
    return {
        "trials": latency.size,
        "mean": float(finite.mean()) if finite.size else math.nan,
        "std": std,
        "sem": std / math.sqrt(finite.size) if finite.size > 1 else math.nan,
        "p50": quantile(latency, 0.50),
        "p90": quantile(latency, 0.90),
        "p99": quantile(latency, 0.99),
        "max": float(latency.max()) if latency.size else math.nan,
        "failure_rate": (float(np.count_nonzero(~decoded) / latency.size)
                         if latency.size else math.nan),
    }


def tail_frame(experiment, run) -> pd.DataFrame:
    """The empirical tail ``P(T > t)`` at ``t = 0`` and at every distinct finite latency.

    Between two listed ``t`` the tail is constant (a right-continuous step function), so the
    table is exact, not a sampled grid. Failures keep the tail above zero.
    """
    frames = []
    for scheme, outcome in zip(experiment.schemes, run.outcomes, strict=True):
        ordered = np.sort(outcome.latency)
        t = np.unique(ordered[np.isfinite(ordered)])
        t = np.concatenate([[0.0], t[t > 0]])
        above = ordered.size - np.searchsorted(ordered, t, side="right")
        tail = above / ordered.size if ordered.size else np.full(t.size, math.nan)
        frames.append(pd.DataFrame({"scheme": scheme.scheme_id, "t": t, "tail": tail}))
    return pd.concat(frames, ignore_index=True)


EXECUTION_SUMMARY_COLUMNS = ["scheme", *STATISTICS, "failures", "mismatches", "decode_ms"]


def executions_frame(execution) -> pd.DataFrame:
    """One row per scheme and trial of an execution."""
    frame = pd.DataFrame(execution.executions)
    if not frame.empty:
        frame["symbols"] = pd.array(frame["symbols"], dtype="Int64")
        frame["decoded"] = np.where(frame["decoded"], "true", "false")
    return frame


def execution_summary(config, execution) -> pd.DataFrame:
    """Per scheme: :func:`statistics` of the measured latencies, with the failures by
    status and the mean decoding time."""
    frame = pd.DataFrame(execution.executions)
    rows = []
    for scheme in config.schemes:
        sid = scheme.scheme_id
        sub = frame[frame["scheme"] == sid] if not frame.empty else frame
        latency = sub["latency"].to_numpy(float) if not sub.empty else np.empty(0)
        status = sub["status"].astype(str).to_numpy() if not sub.empty else np.empty(0, str)
        with np.errstate(over="ignore", invalid="ignore"):
            stats = statistics(latency, status == "ok")
        rows.append({
            "scheme": sid,
            **stats,
            "failures": int((status != "ok").sum()),
            "mismatches": int((status == "mismatch").sum()),
            "decode_ms": float(sub["decode_ms"].mean()) if not sub.empty else math.nan,
        })
    return pd.DataFrame(rows, columns=EXECUTION_SUMMARY_COLUMNS)


def execution_frames(config, execution) -> dict[str, pd.DataFrame]:
    """The CSV tables of an execution, by file name."""
    return {
        "executions.csv": executions_frame(execution),
        "tasks.csv": pd.DataFrame(execution.tasks),
        "summary.csv": execution_summary(config, execution),
    }


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV with full float precision (``repr``), ``inf`` spelled out, NaN as empty."""
    frame.to_csv(path, index=False, lineterminator="\n")


class ResultsExist(FileExistsError):
    """The target folder exists and ``force`` was not given."""


def check_target(target: Path, force: bool) -> None:
    """Refuse, before any work is done, to overwrite results without ``force``."""
    if target.exists() and not force:
        raise ResultsExist(
            f"results folder {target} already exists; pass --force to replace it"
        )
    if target.exists() and not target.is_dir():
        raise ResultsExist(f"{target} exists and is not a folder")


def result_frames(experiment, run) -> dict[str, pd.DataFrame]:
    """The CSV tables of a simulation, by file name."""
    return {
        "latencies.csv": latencies_frame(experiment, run),
        "summary.csv": summary_frame(experiment, run),
        "tail.csv": tail_frame(experiment, run),
    }


def write_folder(target: Path, frames: dict[str, pd.DataFrame], resolved: dict[str, Any],
                 meta: dict[str, Any], force: bool) -> Path:
    """Write CSV ``frames``, ``config.yaml`` (``resolved``) and ``meta.json`` into a temporary
    folder beside ``target``, then rename it into place, so that ``target`` is always either
    the old complete folder or the new one."""
    check_target(target, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.tmp-{_unique()}"
    staging.mkdir()
    try:
        for name, frame in frames.items():
            write_csv(frame, staging / name)
        with open(staging / "config.yaml", "w", encoding="utf-8") as fh:
            yaml.safe_dump(resolved, fh, sort_keys=False)
        with open(staging / "meta.json", "w", encoding="utf-8") as fh:
            json.dump(meta, fh, indent=2, default=str)
            fh.write("\n")
        replace_folder(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def replace_folder(staging: Path, target: Path) -> None:
    """Move ``staging`` to ``target``, replacing an existing ``target`` folder."""
    if target.exists():
        old = target.parent / f".{target.name}.old-{_unique()}"
        target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(target)


def _unique() -> str:
    import os
    import uuid

    return f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
