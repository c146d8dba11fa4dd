"""``ltsim show`` and ``ltsim plot``: reports and figures from result folders."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from .errors import BadInput, Failure


def describe(folder: Path, metric: str = "p99") -> str:
    """The header line and summary table of a results folder; for a sweep, the best scheme
    (by ``metric``) at every point. A folder that holds no results itself but folders of
    results below it (``results/``) is described folder by folder."""
    from ..io.folders import result_folders
    from ..io.report import CorruptResults, describe_folder

    if not folder.is_dir():
        raise BadInput(f"FOLDER: no such results folder, got '{folder}'")
    try:
        if (folder / "sweep.yaml").is_file():
            return _describe_sweep(folder, metric)
        if not (folder / "meta.json").is_file():
            below = [f for f in result_folders(folder) if f != folder]
            if below:
                return "\n\n".join(describe(f, metric) for f in below)
            raise BadInput(f"FOLDER: not a results folder (no meta.json) and none below it; "
                           f"show takes a folder written by ltsim run, sweep or execute, got "
                           f"'{folder}'")
        return describe_folder(folder)
    except CorruptResults as exc:
        raise Failure(str(exc)) from None
    except OSError as exc:
        raise Failure(f"{folder}: not a readable results folder ({exc})") from None


def _describe_sweep(folder: Path, metric: str) -> str:
    from ..io.folders import sweep_owner
    from ..io.ranking import best_table, format_best, point_bounds, reference_ids
    from ..io.report import check_keys, read_meta, read_sweep_yaml, read_table
    from ..plots.common import shown_value
    from ..plots.sweep import sweep_axes

    meta = read_meta(folder)
    data = read_sweep_yaml(folder)
    keys = [k for axis in sweep_axes(folder) for k in axis]
    status = meta.get("status", "complete")
    if status == "running" and sweep_owner(folder, meta) is None:
        status = "killed (its process is gone; `ltsim sweep --extend` resumes it)"
    flag = "" if status == "complete" else f"  [PARTIAL: {status}]"
    head = (f"{folder}: sweep of {meta.get('points', '?')} points over "
            f"{', '.join(keys)}, seed {meta.get('seed', '?')}{flag}")
    if not (folder / "points.csv").is_file():
        return head + "\nno point has finished yet (no points.csv)"
    points = read_table(folder / "points.csv", ["point", "scheme", metric],
                        ("mean", "sem", "p50", "p90", "p99", "max", "trials", "failure_rate"))
    check_keys(points, keys, folder / "points.csv")
    base = data.get("base")
    fallback = reference_ids(base.get("schemes")) if isinstance(base, dict) else set()
    table = best_table(points, keys, metric, point_bounds(folder, points["point"], fallback))
    for key in keys:
        if key in table and not pd.api.types.is_numeric_dtype(table[key]):
            raw = list(dict.fromkeys(table[key]))
            shown = {v: shown_value(v) for v in raw}
            if len(set(shown.values())) == len(raw):  # short forms only if still distinct
                table[key] = table[key].map(shown)
    marked = _engine_defaults(table, keys, base)
    text = format_best(table, keys)
    if marked is not None:
        lines = text.splitlines()
        lines = [lines[0] + "  default"] + [
            line + ("        *" if is_default else "")
            for line, is_default in zip(lines[1:], marked, strict=True)]
        text = "\n".join(lines) + "\n* the engine's defaults"
    return head + "\n" + text


def _engine_defaults(table: pd.DataFrame, keys: list[str], base) -> list[bool] | None:
    """For a sweep over the parameters of an engine's speculation policy
    (``schemes[i].policy.<name>``): whether each row holds every swept parameter at the
    engine's default; ``None`` when no key is such a parameter."""
    import re

    from ..codes.backup import policy_default

    defaults = {}
    for key in keys:
        match = re.fullmatch(r"schemes\[(\d+)\]\.policy\.(\w+)", key)
        schemes = base.get("schemes") if isinstance(base, dict) else None
        if match and isinstance(schemes, list) and int(match[1]) < len(schemes):
            value = policy_default(schemes[int(match[1])], match[2])
            if value is not None:
                defaults[key] = value
    if not defaults:
        return None
    rows = []
    for _, row in table.iterrows():
        rows.append(all(key in row and float(row[key]) == float(value)
                        for key, value in defaults.items()))
    return rows


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
