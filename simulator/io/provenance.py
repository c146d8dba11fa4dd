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


def input_files(config) -> dict[str, str]:
    """SHA-256 of the files a config reads (the samples of every ``empirical`` law: the
    delay, a mixture's components, the classes' laws, the speed law), by path."""
    import hashlib

    return {path: hashlib.sha256(Path(path).read_bytes()).hexdigest()
            for path in sorted(set(_paths(config)))}


def _paths(obj) -> list[str]:
    """The ``path`` of every empirical law inside a config object (pydantic models, lists)."""
    from pydantic import BaseModel

    found = []
    if isinstance(obj, BaseModel):
        if getattr(obj, "dist", None) == "empirical" and isinstance(getattr(obj, "path", None),
                                                                   str):
            found.append(obj.path)
        for name in type(obj).model_fields:
            found += _paths(getattr(obj, name, None))
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            found += _paths(item)
    return found


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


def resume_command(folder, flag_takes_folder: bool = True) -> str:
    """The command that resumes the folder this command was writing: the same arguments,
    ``-o``/``--output`` and ``--force`` replaced by ``--extend`` (``--extend FOLDER`` for
    ``ltsim run``; the ``-o FOLDER`` kept and ``--extend`` added for ``ltsim sweep``)."""
    args, out, skip = list(ARGV or sys.argv[1:]), [], False
    for i, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg in ("-o", "--output") and flag_takes_folder:
            skip = i + 1 < len(args)
            continue
        if (arg.startswith("--output=") and flag_takes_folder) or arg in ("--force", "--extend"):
            continue
        out.append(arg)
    out += ["--extend", str(folder)] if flag_takes_folder else ["--extend"]
    if not flag_takes_folder and not any(a in ("-o", "--output") or a.startswith("--output=")
                                         for a in out):
        out += ["-o", str(folder)]
    return shlex.join(["ltsim", *out])


def engine_versions() -> dict[str, str]:
    """Versions of the optional execution engines."""
    found = {}
    for name in ("dask", "distributed", "lithops"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found
