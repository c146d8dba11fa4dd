"""Provenance of a run: command, seed, versions, git revision, timing."""

from __future__ import annotations

import platform
import shlex
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import __version__

ARGV: list[str] = []
"""The arguments of the command being run, as given (set by the command line)."""

PACKAGES = ("numpy", "numba", "scipy", "pandas", "pydantic", "pyyaml", "click", "matplotlib",
            "tqdm")


def versions() -> dict[str, str]:
    """Versions of Python, ltsim and its dependencies."""
    found = {"ltsim": __version__, "python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def git_revision(path: Path | None = None) -> dict[str, Any] | None:
    """Commit and dirty flag of the git checkout holding ltsim's source, if any."""
    where = path or Path(__file__).resolve().parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                             text=True, timeout=5)
        if rev.returncode != 0:
            return None
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                cwd=where, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": rev.stdout.strip(), "dirty": bool(status.stdout.strip())}


def input_files(delay) -> dict[str, str]:
    """SHA-256 of the files a config reads (empirical delay samples), by path."""
    import hashlib

    path = getattr(delay, "path", None)
    if path is None:
        return {}
    return {path: hashlib.sha256(Path(path).read_bytes()).hexdigest()}


def meta(status: str, config_file, seed: int, trials: int, trials_requested: int,
         versions_extra: dict[str, str] | None = None, **fields: Any) -> dict[str, Any]:
    """The ``meta.json`` of a result folder, the same for every command: what wrote it
    (``generator``: how ltsim recognises its own folders), the status, the exact command
    (pasted into a shell it runs again), the config file, seed and trials, then the
    command's own ``fields``, the versions and the git revision of ltsim's source.
    ``None`` fields are left out."""
    data: dict[str, Any] = {
        "generator": "ltsim",
        "status": status,
        "command": command_line(),
        "config_file": str(config_file),
        "seed": seed,
        "trials": trials,
        "trials_requested": trials_requested,
    }
    data.update({k: v for k, v in fields.items() if v is not None})
    data["versions"] = {**versions(), **(versions_extra or {})}
    data["git"] = git_revision()
    return data


def now() -> str:
    """The current time, UTC, ISO 8601."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def command_line() -> str:
    """The command as typed, shell-quoted: pasted into a shell it runs again."""
    return shlex.join(["ltsim", *(ARGV or sys.argv[1:])])


def engine_versions() -> dict[str, str]:
    """Versions of the optional execution engines."""
    found = {}
    for name in ("dask", "distributed", "lithops"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found
