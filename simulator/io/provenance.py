"""Provenance of a run: command, seed, versions, git revision, timing."""

from __future__ import annotations

import contextlib
import platform
import shlex
import subprocess
from collections.abc import Iterator
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import __version__

ARGV: list[str] | None = None
"""The arguments of the ``ltsim`` command being run, as given (set by the command line while
it runs; ``None`` for a call of the Python library)."""

CALL: list[str] = []
"""The Python call being run (``ltsim.simulate(...)``), innermost last."""


@contextlib.contextmanager
def command(args: list[str]) -> Iterator[None]:
    """Record the arguments of the ``ltsim`` command that runs in the block."""
    global ARGV
    previous, ARGV = ARGV, list(args)
    try:
        yield
    finally:
        ARGV = previous


@contextlib.contextmanager
def python_call(text: str) -> Iterator[None]:
    """Record the library call that runs in the block (when no command is running)."""
    CALL.append(text)
    try:
        yield
    finally:
        CALL.pop()

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
        "interface": interface(),
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


def call_text(function: str, subject: Any, **options: Any) -> str:
    """How a library call is recorded: ``ltsim.simulate(<Experiment 'exp02'>, jobs=2)``
    (the options given, ``None`` and ``False`` left out)."""
    name = getattr(subject, "name", None)
    shown = (f"<{type(subject).__name__} {name!r}>" if isinstance(name, str)
             else repr(str(subject)))
    given = [f"{k}={v!r}" if isinstance(v, (int, float, str, bool)) else
             f"{k}=<{type(v).__name__}>" for k, v in options.items()
             if v is not None and v is not False]
    return f"ltsim.{function}({', '.join([shown, *given])})"


def interface() -> str:
    """``cli`` while an ``ltsim`` command runs, else ``python``."""
    return "cli" if ARGV is not None else "python"


def command_line() -> str:
    """The command as typed, shell-quoted (pasted into a shell it runs again); for a call of
    the Python library, that call (``python: ltsim.simulate(...)``)."""
    if ARGV is not None:
        return shlex.join(["ltsim", *ARGV])
    return "python: " + (CALL[0] if CALL else "the ltsim library")


def resume_command(folder, flag_takes_folder: bool = True) -> str:
    """The command that resumes the folder this command was writing: the same arguments,
    ``-o``/``--output`` and ``--force`` replaced by ``--extend`` (``--extend FOLDER`` for
    ``ltsim run``; the ``-o FOLDER`` kept and ``--extend`` added for ``ltsim sweep``)."""
    if ARGV is None:
        return f"ltsim.simulate(..., out={str(folder)!r}, extend=True)"
    args, out, skip = list(ARGV), [], False
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
