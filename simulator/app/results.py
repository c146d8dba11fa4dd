"""``ltsim show`` and ``ltsim plot``: reports and figures from result folders."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import yaml

from .errors import BadInput, Failure


def describe(folder: Path, metric: str = "p99") -> str:
    """The header line and summary table of a results folder; for a sweep, the best scheme
    (by ``metric``) at every point."""
    from ..io.report import CorruptResults, describe_folder

    if not folder.is_dir():
        raise BadInput(f"FOLDER: no such results folder, got '{folder}'")
    try:
        if (folder / "points.csv").is_file():
            return _describe_sweep(folder, metric)
        return describe_folder(folder)
    except CorruptResults as exc:
        raise Failure(str(exc)) from None
    except OSError as exc:
        raise Failure(f"{folder}: not a readable results folder ({exc})") from None


def _describe_sweep(folder: Path, metric: str) -> str:
    import pandas as pd

    from ..app.sweep import best_table, format_best, reference_ids
    from ..io.report import read_meta, read_table
    from ..plots.common import shown_value
    from ..plots.sweep import sweep_axes

    meta = read_meta(folder)
    points = read_table(folder / "points.csv", ["point", "scheme", metric],
                        ("mean", "sem", "p50", "p90", "p99", "max", "trials"))
    keys = [k for axis in sweep_axes(folder) for k in axis]
    status = meta.get("status", "complete")
    flag = "" if status == "complete" else f"  [PARTIAL: {status}]"
    head = (f"{folder}: sweep of {meta.get('points', '?')} points over "
            f"{', '.join(keys)}, seed {meta.get('seed', '?')}{flag}")
    base = yaml.safe_load((folder / "sweep.yaml").read_text(encoding="utf-8")).get("base")
    bounds = reference_ids(base.get("schemes", [])) if isinstance(base, dict) else set()
    table = best_table(points, keys, metric, bounds)
    for key in keys:
        if key in table and not pd.api.types.is_numeric_dtype(table[key]):
            table[key] = table[key].map(shown_value)
    return head + "\n" + format_best(table)


def plot_all(path: Path, metric: str = "p99") -> Iterator[tuple[str, bool]]:
    """Draw every results folder at or below ``path``; one ``(line, ok)`` per folder (the
    files written, or why the folder could not be drawn)."""
    from ..io.folders import result_folders
    from ..io.report import CorruptResults
    from ..plots.execution import plot_execution
    from ..plots.sweep import plot_sweep
    from ..plots.tail import plot_tail

    if not path.exists():
        raise BadInput(f"PATH: no such folder, got '{path}'")
    folders = result_folders(path)
    if not folders:
        raise BadInput(f"PATH: no results (tail.csv or executions.csv) found, got '{path}'")
    for folder in folders:
        try:
            if (folder / "points.csv").is_file():
                files = plot_sweep(folder, metric)
            elif (folder / "executions.csv").is_file():
                files = plot_execution(folder)
            else:
                files = plot_tail(folder)
        except CorruptResults as exc:
            yield f"ltsim: error: {exc}", False
            continue
        except (OSError, KeyError, ValueError, TypeError) as exc:
            gist = " ".join(str(exc).split())[:200]
            yield f"ltsim: error: {folder}: cannot read results ({gist})", False
            continue
        yield " ".join(str(f) for f in files), True
        note = _partial_note(folder)
        if note:
            yield note, True


def _partial_note(folder: Path) -> str | None:
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("status", "complete") != "complete":
        return (f"note: {folder} holds a partial run ({meta['status']}, "
                f"{meta.get('trials', '?')} trials)")
    return None
