"""Reading delay-sample files (``dist: empirical``): CSV tables of measured delays, one
column or a trace with a ``worker`` column, checked cell by cell with one-line reasons.

Here, below the model, because a law reads its file when a config is validated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .text import UnreadableFile, read_text, shown

MAX_SAMPLES_BYTES = 64 << 20
"""Largest delay-sample file (``dist: empirical``) read."""


class SamplesError(ValueError):
    """A delay-sample file that cannot be used; reported under the key ``path``."""


def cached_samples(path: Path, column: str | int | None, worker: str | None = None,
                   iteration: str | None = None):
    """:func:`read_samples` (or :func:`read_trace` with a ``worker`` column), remembered for
    the file's current size and modification time."""
    def read():
        return (read_samples(path, column) if worker is None
                else read_trace(path, column, worker, iteration))

    try:
        stat = path.stat()
        key = (str(path), column, worker, iteration, stat.st_size, stat.st_mtime_ns)
    except OSError:
        return read()
    if key not in _SAMPLES:
        if len(_SAMPLES) > 8:
            _SAMPLES.clear()
        _SAMPLES[key] = read()
    return _SAMPLES[key]


_SAMPLES: dict[tuple, Any] = {}


def _read_table(path: Path) -> tuple[list[str] | None, list[list[str]], str]:
    """The header (or ``None``) and rows of a CSV file of samples, and its name to show."""
    where = shown(path)
    try:
        text = read_text(path, MAX_SAMPLES_BYTES, "file")
    except UnreadableFile as exc:
        message = str(exc)
        if message == "file not found":
            raise SamplesError(f"file not found: {where}") from None
        if message == "file is not a regular file":
            raise SamplesError(f"not a regular file: {where}") from None
        raise SamplesError(f"cannot read {where} as text ({message})") from None
    lines = [line for line in text.splitlines() if line.strip()]
    rows = [[cell.strip() for cell in line.split(",")] for line in lines]
    header = None
    if rows and not all(_is_number(cell) for cell in rows[0]):
        header, rows = rows[0], rows[1:]
    return header, rows, where


def _column_index(header, rows, where, column, role: str = "delays") -> int:
    width = max((len(r) for r in ([header] if header else []) + rows), default=1)
    if column is None:
        if width > 1:
            names = ", ".join(repr(h) for h in header) if header else f"{width} unnamed columns"
            raise SamplesError(f"{where} has {width} columns ({names}); give `column:` (a name "
                               f"or a 0-based position) to say which holds the {role}")
        return 0
    if isinstance(column, str):
        if header is None or column not in header:
            found = ", ".join(repr(h) for h in header) if header else "no header line"
            raise SamplesError(f"{where} has no column {column!r} (found {found})")
        return header.index(column)
    if column >= width:
        raise SamplesError(f"{where} has {width} column(s); column {column} does not exist")
    return column


def _values(rows, index: int, where: str) -> np.ndarray:
    if not rows:
        raise SamplesError(f"no samples in {where}")
    values = []
    for lineno, row in enumerate(rows, start=1):
        cell = row[index] if index < len(row) else ""
        if not _is_number(cell):
            raise SamplesError(f"sample {lineno} of {where} is not a number: {cell[:30]!r}")
        values.append(float(cell))
    samples = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(samples) | (samples < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise SamplesError(
            f"samples must be finite and >= 0; sample {i + 1} of {where} is {float(samples[i])!r}"
        )
    return samples


def read_samples(path: Path, column: str | int | None = None) -> np.ndarray:
    """Read delay samples from a CSV file; raise :class:`SamplesError` naming what is wrong.

    Parameters
    ----------
    path : Path
        The CSV file: one sample per line, a header line allowed.
    column : str or int, optional
        The column to read when the file has several (header name or 0-based position).
    """
    header, rows, where = _read_table(path)
    return _values(rows, _column_index(header, rows, where, column), where)


def read_trace(path: Path, column: str | int | None, worker: str,
               iteration: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Delay samples of a trace with a ``worker`` column: the samples grouped by worker (in
    the order of the worker ids) and the offsets of each worker's group (CSR). With an
    ``iteration`` column, each worker's samples are in the order of their iterations (numbers,
    each at most once per worker)."""
    header, rows, where = _read_table(path)
    for role, name in (("worker", worker), ("iteration", iteration)):
        if name is not None and (header is None or name not in header):
            found = ", ".join(repr(h) for h in header) if header else "no header line"
            raise SamplesError(f"{where} has no {role} column {name!r} (found {found})")
    index = _column_index(header, rows, where, column if column is not None else
                          next((h for h in header if h not in (worker, iteration)), None),
                          "delays")
    samples = _values(rows, index, where)
    ids = [row[header.index(worker)] if header.index(worker) < len(row) else ""
           for row in rows]
    keys = sorted(set(ids), key=lambda v: (not _is_number(v), float(v) if _is_number(v)
                                           else 0.0, v))
    position = {key: i for i, key in enumerate(keys)}
    owner = np.array([position[v] for v in ids])
    if iteration is None:
        order = np.argsort(owner, kind="stable")
    else:
        at = header.index(iteration)
        cells = [row[at] if at < len(row) else "" for row in rows]
        for lineno, cell in enumerate(cells, start=1):
            if not _is_number(cell):
                raise SamplesError(f"iteration of sample {lineno} of {where} is not a number: "
                                   f"{cell[:30]!r}")
        steps = np.array([float(c) for c in cells])
        order = np.lexsort((steps, owner))
        same = (np.diff(owner[order]) == 0) & (np.diff(steps[order]) == 0)
        if same.any():
            i = order[int(np.argmax(same)) + 1]
            raise SamplesError(f"{where} holds iteration {cells[i]} of worker {ids[i]} twice")
    ptr = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=len(keys)), out=ptr[1:])
    return samples[order], ptr


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
