"""``ltsim sweep``: run every point of a design space, resumably, and tabulate them.

A sweep folder holds ``sweep.yaml`` (the resolved sweep), ``meta.json``, ``points/<slug>/``
(each point's result folder, as ``ltsim run`` writes it) and ``points.csv`` (one row per
point and scheme: the varied values, then every ``summary.csv`` column, then a
distribution-free 95 % confidence interval of p99). Points are run one after the other,
each on the engine of the command (local processes or a Dask cluster). A point whose folder
is complete is never run again: an interrupted sweep, or one extended with new values
(``--extend``), computes only what is missing.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..codes import CODES
from ..io import folders, provenance, results
from ..io.report import CorruptResults, read_meta, read_summary
from ..io.sweep import Sweep, load_sweep
from ..montecarlo import engine
from ..util.validation import ConfigError
from .errors import BadInput, Failure
from .run import Held, dask_engine, held_trials, memory_problem, simulate_into


@dataclass(frozen=True)
class SweepRequest:
    """What the user asked for on the command line."""

    sweep_path: Path
    output: Path | None = None
    trials: int | None = None
    seed: int | None = None
    jobs: int | None = None
    address: str | None = None
    force: bool = False
    extend: bool = False
    quiet: bool = False


def run_sweep(request: SweepRequest, echo=print) -> int:
    """Carry out ``ltsim sweep``; returns the exit code (0, or 130 if interrupted)."""
    try:
        sweep = load_sweep(request.sweep_path, request.trials, request.seed)
    except ConfigError as exc:
        raise BadInput(f"{request.sweep_path}: {exc}") from None
    jobs = request.jobs or engine.default_jobs()
    for point in sweep.points:
        problem = memory_problem(point.config, jobs)
        if problem:
            raise BadInput(f"{request.sweep_path}: point {point.slug}: {problem}")
    target = request.output or Path("results") / sweep.name
    try:
        folders.check_target(target, request.force and not request.extend, request.extend)
    except folders.TargetError as exc:
        raise BadInput(str(exc)) from None
    if request.extend:
        _check_same_sweep(target, sweep)
    elif target.exists():  # --force on an ltsim folder (or an empty one): start afresh
        with folders.Staging(target) as stage:
            stage.publish()  # an empty folder replaces the old one atomically
    target.mkdir(parents=True, exist_ok=True)
    _write_yaml(target / "sweep.yaml", sweep.resolved)
    started, clock = provenance.now(), time.perf_counter()
    _write_json(provenance.meta(status="running", config_file=request.sweep_path,
                                seed=sweep.seed, trials=sweep.trials,
                                trials_requested=sweep.trials, points=len(sweep.points),
                                started=started), target / "meta.json")
    status, done = "complete", []
    with dask_engine(request.address, jobs) as where, _pool(where, jobs) as where:
        for i, point in enumerate(sweep.points):
            folder = target / "points" / point.slug
            if _complete(folder, point.config):
                done.append(point)
                continue
            if not request.quiet:
                echo(f"point {i + 1}/{len(sweep.points)}: "
                     + ", ".join(f"{k}={v}" for k, v in point.values.items()), file=sys.stderr)
            held = Held()
            extend = folder.exists()
            if extend:
                try:
                    held = held_trials(folder, point.config)
                except BadInput:  # a point folder this sweep cannot resume: run it afresh
                    extend = False
            written = simulate_into(point.config, folder, where, sweep.target_rel_ci,
                                    sweep.max_time, True, held,
                                    "--extend" if extend else "-o",
                                    config_file=request.sweep_path, extend=extend)
            if written is not None and written.status == "complete":
                done.append(point)
            if written is None or written.status != "complete" or written.late_interrupt:
                status = "interrupted"
                break
    table = points_table(target, sweep)
    meta = provenance.meta(
        status=status, config_file=request.sweep_path, seed=sweep.seed,
        trials=sweep.trials, trials_requested=sweep.trials, points=len(sweep.points),
        points_done=len(done), engine=where.name, jobs=where.jobs, started=started,
        wall_seconds=round(time.perf_counter() - clock, 6))
    try:
        _write_csv(table, target / "points.csv")
        _write_json(meta, target / "meta.json")
    except OSError as exc:
        raise Failure(f"writing {target} failed ({exc.strerror or exc}); the points are kept "
                      f"in {target / 'points'}") from None
    if not request.quiet and not table.empty:
        bounds = {c.scheme_id for c in sweep.points[0].config.schemes if c.reference}
        echo(format_best(best_table(table, sweep.keys, "p99", bounds)))
    note = (f" (interrupted after {len(done)} of {len(sweep.points)} points)"
            if status != "complete" else "")
    echo(f"results in {target}{note}", file=sys.stderr)
    return 130 if status != "complete" else 0


@contextlib.contextmanager
def _pool(where, jobs: int):
    """One process pool for every point of the sweep (or the Dask executor as given)."""
    if where.executor is not None or jobs <= 1:
        yield where
        return
    from concurrent.futures import ProcessPoolExecutor

    from ..montecarlo.engine import _ignore_sigint, _pool_context

    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=_pool_context(),
                               initializer=_ignore_sigint)
    try:
        yield type(where)(jobs, pool, 2 * jobs, "processes")
    finally:
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()


def _complete(folder: Path, config) -> bool:
    """Whether ``folder`` holds the complete result of exactly this point."""
    try:
        meta = read_meta(folder)
        old = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    except (CorruptResults, OSError, yaml.YAMLError):
        return False
    return meta.get("status") == "complete" and old == config.resolved()


def _check_same_sweep(target: Path, sweep: Sweep) -> None:
    """``--extend`` adds points (or trials) to a sweep of the same base, seed and keys."""
    try:
        old = yaml.safe_load((target / "sweep.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise BadInput(f"--extend: {target} is not a sweep folder ({exc}), got "
                       f"'{target}'") from None
    new = sweep.resolved
    differ = [k for k in ("base", "seed", "target_rel_ci", "max_time")
              if old.get(k) != new.get(k)]
    keys_old = sorted([*(old.get("grid") or {}), *(old.get("zip") or {})])
    if keys_old != sorted(sweep.keys):
        differ.append("the varied keys")
    if differ:
        raise BadInput(f"--extend: the sweep differs from the one in the folder in "
                       f"{', '.join(differ)} (only values and trials may be added), got "
                       f"'{target}'")


def points_table(target: Path, sweep: Sweep) -> pd.DataFrame:
    """One row per point and scheme: the varied values, the point's ``summary.csv`` row and
    a distribution-free 95 % confidence interval of p99 (order statistics of the point's
    latencies). Points without a result folder are left out."""
    frames = []
    for point in sweep.points:
        folder = target / "points" / point.slug
        try:
            summary = read_summary(folder)
        except (CorruptResults, OSError):
            continue
        summary = summary.assign(**_p99_interval(folder, summary))
        for key, value in reversed(point.values.items()):
            summary.insert(0, key, _cell(value))
        summary.insert(0, "point", point.slug)
        frames.append(summary)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _cell(value):
    return value if isinstance(value, (int, float, str)) else yaml.safe_dump(
        value, default_flow_style=True).strip()


def _p99_interval(folder: Path, summary: pd.DataFrame) -> dict[str, list[float]]:
    """95 % CI of each scheme's p99 from the order statistics: ranks from the Binomial(n,
    0.99) quantiles (exact coverage >= 95 %, no assumption on the law)."""
    from scipy import stats

    lat = pd.read_csv(folder / "latencies.csv", usecols=["scheme", "latency"],
                      dtype={"scheme": str})
    low, high = [], []
    for scheme in summary["scheme"].astype(str):
        x = np.sort(lat.loc[lat["scheme"] == scheme, "latency"].to_numpy(float))
        n = x.size
        if n < 2:
            low.append(math.nan)
            high.append(math.nan)
            continue
        lo = int(stats.binom.ppf(0.025, n, 0.99))
        hi = int(stats.binom.ppf(0.975, n, 0.99)) + 1
        low.append(float(x[max(lo, 1) - 1]))
        high.append(float(x[hi - 1]) if hi <= n else math.inf)
    return {"p99_low": low, "p99_high": high}


def reference_ids(schemes: list[dict[str, Any]]) -> set[str]:
    """The scheme ids of the bounds (e.g. ``ideal``) among the ``schemes`` of a config
    mapping: they are drawn for comparison but never win."""
    ids = set()
    for entry in schemes or []:
        cls = CODES.get(entry.get("kind")) if isinstance(entry, dict) else None
        if cls is not None and cls.reference:
            with contextlib.suppress(ValueError):
                ids.add(cls.model_validate(entry).scheme_id)
    return ids


def best_table(points: pd.DataFrame, keys: list[str], metric: str,
               bounds: set[str] = frozenset()) -> pd.DataFrame:
    """The best scheme (lowest ``metric``) at every point, with the runner-up; the schemes
    in ``bounds`` are left out."""
    rows = []
    points = points[~points["scheme"].astype(str).isin(bounds)]
    for _, group in points.groupby("point", sort=False):
        ranked = group.sort_values(metric, kind="stable")
        first = ranked.iloc[0]
        row = {k: first[k] for k in keys if k in group}
        row[f"best by {metric}"] = first["scheme"]
        row[metric] = first[metric]
        if len(ranked) > 1:
            row["runner-up"] = ranked.iloc[1]["scheme"]
            row[f"its {metric}"] = ranked.iloc[1][metric]
        rows.append(row)
    return pd.DataFrame(rows)


def format_best(table: pd.DataFrame) -> str:
    """The best-scheme table as aligned text."""
    return table.to_string(index=False, float_format=lambda v: f"{v:.4g}", na_rep="-")


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.parent / f".{path.name}.tmp"
    results.write_csv(frame, tmp)
    tmp.replace(path)


def _write_json(data, path: Path) -> None:
    tmp = path.parent / f".{path.name}.tmp"
    results.write_json(data, tmp)
    tmp.replace(path)


def _write_yaml(path: Path, data) -> None:
    tmp = path.parent / f".{path.name}.tmp"
    tmp.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    tmp.replace(path)
