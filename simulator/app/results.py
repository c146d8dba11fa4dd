"""``ltsim show`` and ``ltsim plot``: reports and figures from result folders."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from .errors import BadInput, Failure


def describe(folder: Path) -> str:
    """The header line and summary table of a results folder."""
    from ..io.report import CorruptResults, describe_folder

    if not folder.is_dir():
        raise BadInput(f"FOLDER: no such results folder, got '{folder}'")
    try:
        return describe_folder(folder)
    except CorruptResults as exc:
        raise Failure(str(exc)) from None
    except OSError as exc:
        raise Failure(f"{folder}: not a readable results folder ({exc})") from None


def plot_all(path: Path) -> Iterator[tuple[str, bool]]:
    """Draw every results folder at or below ``path``; one ``(line, ok)`` per folder (the
    files written, or why the folder could not be drawn)."""
    from ..io.folders import result_folders
    from ..io.report import CorruptResults
    from ..plots.execution import plot_execution
    from ..plots.tail import plot_tail

    if not path.exists():
        raise BadInput(f"PATH: no such folder, got '{path}'")
    folders = result_folders(path)
    if not folders:
        raise BadInput(f"PATH: no results (tail.csv or executions.csv) found, got '{path}'")
    for folder in folders:
        try:
            if (folder / "executions.csv").is_file():
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
