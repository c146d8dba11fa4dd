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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..model.outcome import Outcome

SUMMARY_COLUMNS = [
    "scheme", "trials", "mean", "std", "sem", "p50", "p90", "p99", "max", "failure_rate",
    "worker_seconds", "units", "theory_mean", "theory_bound", "theory_note", "decode_ms",
    "stop_reason",
]
"""Columns of ``summary.csv`` of a simulation (``cost`` follows ``units`` when the config
has a ``price_per_second``; codes may add columns of their own, e.g. ``backups``)."""


def quantile(latency: np.ndarray, q: float) -> float:
    """Empirical quantile: the smallest observed ``x`` with ``P(T <= x) >= q``.

    Failures count as ``+inf``, so a quantile above the success rate is ``inf``.
    """
    return float(np.quantile(latency, q, method="inverted_cdf")) if latency.size else math.nan


def summary_frame(experiment, run) -> pd.DataFrame:
    """One row per scheme: moments over decoded trials, quantiles over all trials."""
    with np.errstate(over="ignore", invalid="ignore"):  # huge latencies give inf moments
        return _summary(experiment, run)


def _summary(experiment, run) -> pd.DataFrame:
    rows = []
    system = experiment.view()
    queueing = getattr(experiment, "queueing", False)
    stream = getattr(experiment, "job_stream", False)
    for scheme, outcome in zip(experiment.schemes, run.outcomes, strict=True):
        timed = outcome.decode_seconds[np.isfinite(outcome.decode_seconds)]
        if stream:  # the single job's closed forms say nothing of a queue or of rounds
            mean, bound = math.nan, math.nan
        else:
            mean, bound = scheme.theory_mean(system), scheme.theory_bound(system)
        row = {
            "scheme": scheme.scheme_id,
            **statistics(outcome.latency, outcome.decoded),
            **cost_means(outcome.columns, experiment.price_per_second),
            "theory_mean": float(mean),
            "theory_bound": float(bound),
            "theory_note": getattr(mean, "note", ""),
            "decode_ms": float(np.median(timed) * 1e3) if timed.size else math.nan,
            "stop_reason": run.stop_reason,
        }
        if queueing:
            growing = _unstable(outcome)
            row["unstable"] = "true" if growing else "false"
            if growing:  # a mean of a queue that keeps growing is not finite
                row.update(mean=math.inf, std=math.inf, sem=math.inf)
        rows.append(row)
    return pd.DataFrame(rows, columns=_columns(SUMMARY_COLUMNS, rows))


def _unstable(outcome) -> bool:
    """Whether the scheme's response times trend upward over the kept jobs (see
    :func:`ltsim.montecarlo.queue.unstable`)."""
    from ..montecarlo.queue import unstable

    return outcome.jobs is not None and unstable(outcome.jobs["response"])


def _columns(base: list[str], rows: list[dict[str, Any]]) -> list[str]:
    """``base`` with the columns some rows add (``cost``, a code's own) after ``units``."""
    extra = [k for row in rows for k in row if k not in base]
    extra = list(dict.fromkeys(extra))
    at = base.index("units") + 1
    return base[:at] + extra + base[at:]


def cost_means(columns: dict[str, np.ndarray], price: float | None) -> dict[str, float]:
    """Means of the per-trial cost columns (``worker_seconds``, ``units``, a code's own such
    as ``backups``) and, with a ``price`` per worker-second, the mean ``cost``."""
    means = {}
    for name, values in columns.items():
        values = np.asarray(values, dtype=float)
        means[name] = float(values.mean()) if values.size else math.nan
    if price is not None and "worker_seconds" in means:
        means["cost"] = price * means["worker_seconds"]
    return means


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
    """The empirical tail ``P(T > t)`` at ``t = 0`` and at every distinct finite latency (of
    a queueing run: ``P(R > t)`` over the response times of every kept job; of rounds:
    ``P(job time > t)``).

    Between two listed ``t`` the tail is constant (a right-continuous step function), so the
    table is exact, not a sampled grid. Failures keep the tail above zero.
    """
    frames = []
    for scheme, outcome in zip(experiment.schemes, run.outcomes, strict=True):
        values = (outcome.latency if outcome.jobs is None or "arrival" not in outcome.jobs
                  else outcome.jobs["response"].ravel())
        ordered = np.sort(values)
        t = np.unique(ordered[np.isfinite(ordered)])
        t = np.concatenate([[0.0], t[t > 0]])
        above = ordered.size - np.searchsorted(ordered, t, side="right")
        tail = above / ordered.size if ordered.size else np.full(t.size, math.nan)
        keep = thin_tail(tail)
        frames.append(pd.DataFrame({"scheme": scheme.scheme_id, "t": t[keep],
                                    "tail": tail[keep]}))
    return pd.concat(frames, ignore_index=True)


TAIL_POINTS = 10_000
"""Most points ``tail.csv`` keeps per scheme."""


def thin_tail(tail: np.ndarray, budget: int = TAIL_POINTS) -> np.ndarray:
    """Indices of the points of a non-increasing tail to keep: all of them up to
    ``budget``; beyond, the first point of every step of ``log(tail)`` of size
    ``delta = log(1 / smallest positive tail) / (budget - 2)``, and the last point.

    Every kept point is exact, and between two kept points the tail falls by less than a
    factor ``exp(delta)`` (0.14 % for a million trials): on the log axis of ``tail.png``
    the curve is unchanged to the eye. The extreme tail, where each trial is its own step
    larger than that, is kept whole.
    """
    n = tail.size
    if n <= budget:
        return np.arange(n)
    positive = tail[tail > 0]
    smallest = positive.min() if positive.size else 1.0
    delta = max(math.log(1.0 / smallest), 1e-12) / (budget - 2)
    with np.errstate(divide="ignore"):
        level = np.floor(-np.log(tail) / delta)
    level[~np.isfinite(level)] = np.inf
    first = np.flatnonzero(np.concatenate([[True], level[1:] != level[:-1]]))
    return np.unique(np.concatenate([first, [n - 1]]))


EXECUTION_SUMMARY_COLUMNS = ["scheme", *STATISTICS, "worker_seconds", "units", "failures",
                             "mismatches", "decode_ms"]


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
        costs = {c: sub[c].to_numpy(float) for c in ("worker_seconds", "units")
                 if not sub.empty and c in sub}
        rows.append({
            "scheme": sid,
            **stats,
            **cost_means(costs, config.price_per_second),
            "failures": int((status != "ok").sum()),
            "mismatches": int((status == "mismatch").sum()),
            "decode_ms": float(sub["decode_ms"].mean()) if not sub.empty else math.nan,
        })
    return pd.DataFrame(rows, columns=_columns(EXECUTION_SUMMARY_COLUMNS, rows))


def execution_frames(config, execution) -> dict[str, pd.DataFrame]:
    """The CSV tables of an execution, by file name."""
    frames = {
        "executions.csv": executions_frame(execution),
        "tasks.csv": pd.DataFrame(execution.tasks),
        "summary.csv": execution_summary(config, execution),
    }
    if getattr(config, "iterative", False):
        frames["rounds.csv"] = pd.DataFrame(execution.rounds, columns=[
            "trial", "scheme", "round", "start", "response", "status"])
    return frames


def write_csv(frame: pd.DataFrame, path: Path, header: bool = True, mode: str = "w") -> None:
    """CSV with full float precision (``repr``), ``inf`` spelled out, NaN as empty."""
    frame.to_csv(path, index=False, lineterminator="\n", header=header, mode=mode)


def strict(value: Any) -> Any:
    """``value`` with every non-finite float replaced by ``None``, so that it is strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    if isinstance(value, np.generic):
        return strict(value.item())
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(data: Any, path: Path) -> None:
    """Strict JSON (no NaN or Infinity anywhere: non-finite numbers become ``null``)."""
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(strict(data), fh, indent=2, allow_nan=False)
        fh.write("\n")


def write_tables(folder: Path, frames: dict[str, pd.DataFrame], resolved: dict[str, Any],
                 meta: dict[str, Any]) -> None:
    """Write CSV ``frames``, ``config.yaml`` (``resolved``) and ``meta.json`` into
    ``folder`` (a staging folder, see :class:`ltsim.io.folders.Staging`)."""
    for name, frame in frames.items():
        write_csv(frame, folder / name)
    with open(folder / "config.yaml", "w", encoding="utf-8") as fh:
        yaml.safe_dump(resolved, fh, sort_keys=False)
    write_json(meta, folder / "meta.json")


def extra_columns(outcomes: list[Outcome]) -> list[str]:
    """The columns of ``latencies.csv`` after :data:`LATENCY_COLUMNS`: every column some
    scheme reports, in scheme order (a scheme without one leaves its cells empty)."""
    return list(dict.fromkeys(name for o in outcomes for name in o.columns))


def latency_rows(scheme_id: str, start: int, outcome: Outcome,
                 extra: list[str] | None = None) -> pd.DataFrame:
    """Rows of ``latencies.csv`` for one scheme and a block of trials from ``start``, with
    the ``extra`` columns (default: the scheme's own)."""
    symbols = pd.array(outcome.symbols, dtype="Int64")
    symbols[outcome.symbols < 0] = pd.NA
    empty = pd.array([pd.NA] * outcome.trials, dtype="Float64")
    return pd.DataFrame({
        "scheme": scheme_id,
        "trial": np.arange(start, start + outcome.trials),
        "latency": outcome.latency,
        "symbols": symbols,
        "decoded": np.where(outcome.decoded, "true", "false"),
        **{name: outcome.columns.get(name, empty)
           for name in (outcome.columns if extra is None else extra)},
    })


class LatencyWriter:
    """``latencies.csv`` written block by block while a run goes on.

    Each scheme's rows go to a part file in the staging folder as soon as a block is kept
    (so a run stopped hard leaves what it computed on disk); :meth:`finish` joins the parts
    in scheme order into ``latencies.csv`` by copying bytes, never holding the rows in
    memory. The file is the same whatever the blocks: a resumed run that rewrites the trials
    it holds and appends new ones gives the bytes of a run done in one go.
    """

    def __init__(self, folder: Path, scheme_ids: list[str]) -> None:
        self.folder, self.ids = folder, scheme_ids
        self.parts = [folder / f".latencies.{i}.part" for i in range(len(scheme_ids))]
        self.columns: list[str] | None = None

    def append(self, start: int, outcomes: list[Outcome]) -> None:
        """Write the rows of trials ``start ..`` of every scheme."""
        self.append_rows(RowFormatter(self.ids)(start, outcomes), outcomes)

    def append_rows(self, rows: list[bytes], outcomes: list[Outcome]) -> None:
        """Append rows already formatted (:class:`RowFormatter`), one chunk per scheme."""
        self.columns = [*LATENCY_COLUMNS, *extra_columns(outcomes)] if outcomes else None
        for part, chunk in zip(self.parts, rows, strict=True):
            with open(part, "ab") as fh:
                fh.write(chunk)

    def finish(self) -> Path:
        """Join the parts into ``latencies.csv``."""
        out = self.folder / "latencies.csv"
        columns = self.columns or LATENCY_COLUMNS
        with open(out, "wb") as dst:
            dst.write((",".join(columns) + "\n").encode())
            for part in self.parts:
                if part.exists():
                    with open(part, "rb") as src:
                        shutil.copyfileobj(src, dst, 1 << 20)
        for part in self.parts:
            part.unlink(missing_ok=True)
        return out


LATENCY_COLUMNS = ["scheme", "trial", "latency", "symbols", "decoded"]


@dataclass(frozen=True)
class RowFormatter:
    """Formats the rows of ``latencies.csv`` for a block of trials (picklable: worker
    processes call it). The bytes are those ``latency_rows(...).to_csv()`` writes (numbers
    as Python's shortest round-trip ``repr``, missing values empty), built without pandas,
    which is ten times slower at it."""

    ids: list[str]

    def __call__(self, start: int, outcomes: list[Outcome]) -> list[bytes]:
        extra = extra_columns(outcomes)
        return [_csv_rows(sid, start, o, extra)
                for sid, o in zip(self.ids, outcomes, strict=True)]


def _cells(values: np.ndarray) -> list[str]:
    """CSV cells of a column: integers and floats as pandas writes them, NaN empty."""
    values = np.asarray(values)
    if values.dtype.kind in "iub":
        return [str(v) for v in values.tolist()]
    return ["" if v != v else repr(v) for v in values.astype(float).tolist()]


def _csv_rows(scheme_id: str, start: int, outcome: Outcome, extra: list[str]) -> bytes:
    n = outcome.trials
    columns = [
        range(start, start + n),
        _cells(outcome.latency),
        ["" if v < 0 else str(v) for v in np.asarray(outcome.symbols).tolist()],
        ["true" if v else "false" for v in np.asarray(outcome.decoded).tolist()],
    ]
    for name in extra:
        columns.append(_cells(outcome.columns[name]) if name in outcome.columns
                       else [""] * n)
    prefix = scheme_id + ","
    lines = [prefix + ",".join(map(str, row)) for row in zip(*columns, strict=True)]
    return ("\n".join(lines) + "\n").encode() if lines else b""


def read_latencies(folder: Path, scheme_ids: list[str]) -> tuple[int, list[Outcome]]:
    """The trials held in ``folder/latencies.csv``: their number and one Outcome per scheme
    (decode times unknown: NaN).

    Raises
    ------
    ValueError
        One line naming the line of the file, if the file does not hold trials ``0..N-1``
        of exactly ``scheme_ids``, or holds a row no run can write: a latency that is not a
        number, negative or NaN, a decoded trial whose latency is not finite, a failed
        trial whose latency is finite, a negative symbol count, or a cost column that is not
        a finite number >= 0.
    """
    path = folder / "latencies.csv"
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        if fh.tell() == 0:
            raise ValueError("latencies.csv is empty")
        fh.seek(-1, 2)
        if fh.read(1) != b"\n":
            raise ValueError("latencies.csv is truncated (its last line is incomplete)")
    # every cell as text: a column's type is each scheme's own (an integer column of one
    # scheme beside a fractional one of another must be rewritten as integers)
    frame = pd.read_csv(path, keep_default_na=False, na_values={"symbols": [""]}, dtype=str)
    missing = [c for c in LATENCY_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"latencies.csv lacks the column(s) {', '.join(missing)}")
    found = list(dict.fromkeys(frame["scheme"]))
    if found != list(scheme_ids):
        raise ValueError(f"latencies.csv holds the schemes {found}, the config {scheme_ids}")
    outcomes, trials = [], None
    extra = [c for c in frame.columns if c not in LATENCY_COLUMNS]
    for sid in scheme_ids:
        rows = frame[frame["scheme"] == sid]
        n = len(rows)
        if trials is None:
            trials = n
        _check(path, rows, ~rows["trial"].str.fullmatch(r"\d+").to_numpy(bool),
               "trial is not an integer")
        if n != trials or not np.array_equal(rows["trial"].astype(np.int64).to_numpy(),
                                             np.arange(n)):
            raise ValueError(f"latencies.csv does not hold trials 0..{trials - 1} of {sid}")
        decoded = rows["decoded"].astype(str).to_numpy()
        _check(path, rows, ~np.isin(decoded, ["true", "false"]), "decoded is not true/false")
        decoded = decoded == "true"
        given = rows["symbols"].notna().to_numpy()
        _check(path, rows, given & ~rows["symbols"].fillna("0").str.fullmatch(r"\d+")
               .to_numpy(bool), "symbols is not a count (an integer >= 0)")
        symbols = np.where(given, pd.to_numeric(rows["symbols"].where(given, "-1")), -1)
        _check(path, rows, ~rows["latency"].str.fullmatch(_NUMBER).to_numpy(bool),
               "latency is not a number")
        # Python's float() reads back repr() exactly: the rewritten rows are the same bytes
        latency = rows["latency"].to_numpy(object).astype(float)
        _check(path, rows, latency < 0, "latency < 0")
        _check(path, rows, decoded & ~np.isfinite(latency), "a decoded trial with an infinite "
               "latency")
        _check(path, rows, ~decoded & np.isfinite(latency),
               "a failed trial with a finite latency")
        own = [c for c in extra if rows[c].astype(str).ne("").any()]  # empty: another's
        columns = {}
        for c in own:
            values = pd.to_numeric(rows[c], errors="coerce").to_numpy(float)
            _check(path, rows, ~np.isfinite(values) | (values < 0),
                   f"{c} is not a finite number >= 0")
            # a run writes an integer array as integers and a float one by repr (with a
            # point or an exponent): read each back as it was
            integral = rows[c].str.fullmatch(r"\d+").all()
            columns[c] = rows[c].astype(np.int64).to_numpy() if integral else values
        outcomes.append(Outcome(latency, symbols.astype(np.int64), decoded,
                                np.full(n, np.nan), columns))
    return trials or 0, outcomes


_NUMBER = r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|-?inf"
"""A latency as ``repr`` writes it (never negative, never NaN; ``inf`` for a failure)."""


def _check(path: Path, rows: pd.DataFrame, bad: np.ndarray, what: str) -> None:
    """Raise ``ValueError`` naming the first line of ``latencies.csv`` where ``bad``, with
    the line as it is in the file."""
    if bad.any():
        i = int(np.argmax(bad))
        line = int(rows.index[i]) + 2  # the header is line 1
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = next((t for k, t in enumerate(fh, 1) if k == line), "").rstrip("\n")
        raise ValueError(f"latencies.csv line {line}: {what}, got {text[:120]!r}")


def result_frames(experiment, run, write_jobs: bool = False) -> dict[str, pd.DataFrame]:
    """The CSV tables of a simulation but ``latencies.csv``, by file name (``jobs.csv`` of a
    queueing run with ``write_jobs``)."""
    frames = {
        "summary.csv": summary_frame(experiment, run),
        "tail.csv": tail_frame(experiment, run),
    }
    if write_jobs and getattr(experiment, "queueing", False):
        frames["jobs.csv"] = jobs_frame(experiment, run)
    elif write_jobs and getattr(experiment, "iterative", False):
        frames["jobs.csv"] = rounds_frame(experiment, run)
    return frames


ROUND_COLUMNS = ["trial", "scheme", "round", "start", "response"]
"""Columns of ``jobs.csv`` of an iterative job: every round of every trial, its release time
(the previous round's completion; ``inf`` if never released) and its round time."""


def rounds_frame(experiment, run) -> pd.DataFrame:
    """Every round of every trial and scheme (:data:`ROUND_COLUMNS`)."""
    frames = []
    for scheme, outcome in zip(experiment.schemes, run.outcomes, strict=True):
        trials, rounds = outcome.jobs["response"].shape
        frames.append(pd.DataFrame({
            "trial": np.repeat(np.arange(trials), rounds),
            "scheme": scheme.scheme_id,
            "round": np.tile(np.arange(rounds), trials),
            "start": outcome.jobs["start"].ravel(),
            "response": outcome.jobs["response"].ravel(),
        }))
    frame = pd.concat(frames, ignore_index=True)
    return frame.sort_values(["trial"], kind="stable").reset_index(drop=True)[ROUND_COLUMNS]


JOBS_COLUMNS = ["trial", "scheme", "job", "arrival", "response", "waiting"]
"""Columns of ``jobs.csv``: every kept job of a queueing run, trial by trial."""


def jobs_frame(experiment, run) -> pd.DataFrame:
    """Every kept job of every trial and scheme: its arrival, response time and the wait of
    its first task (``job`` counts from the first job of the trial, warm-up included)."""
    frames = []
    warmup = experiment.queue_warmup
    for scheme, outcome in zip(experiment.schemes, run.outcomes, strict=True):
        jobs = outcome.jobs
        trials, kept = jobs["response"].shape
        frames.append(pd.DataFrame({
            "trial": np.repeat(np.arange(trials), kept),
            "scheme": scheme.scheme_id,
            "job": np.tile(np.arange(warmup, warmup + kept), trials),
            "arrival": jobs["arrival"].ravel(),
            "response": jobs["response"].ravel(),
            "waiting": jobs["waiting"].ravel(),
        }))
    frame = pd.concat(frames, ignore_index=True)
    return frame.sort_values(["trial"], kind="stable").reset_index(drop=True)[JOBS_COLUMNS]
