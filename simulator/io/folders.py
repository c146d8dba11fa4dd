"""Result folders: what ltsim may replace, and writing them so that nothing is ever lost.

Rules (every command that writes a folder follows them):

* an existing folder is replaced only with ``force`` (or extended with ``--extend``), and only
  if ltsim wrote it (its ``meta.json`` says so) or it is empty; anything else is refused;
* ``.``, ``..``, the current folder's ancestors, the filesystem root, the home folder and the
  ``results/`` folder itself are always refused;
* that the target can be created is checked before any work (the nearest existing ancestor
  must be a writable folder; no part of the path may be a file);
* one run at a time per target: a lock file ``.<name>.lock`` beside it holds the writer's
  process id (a lock whose process is gone is taken over);
* results are written into a staging folder beside the target and renamed into place at the
  end; if that fails, the staging folder is kept and named, never deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from pathlib import Path

from ..util.text import shown

GENERATOR = "ltsim"
"""The ``generator`` of every ``meta.json`` ltsim writes: how it recognises its folders."""


class TargetError(ValueError):
    """The output cannot or must not be written; ``str()`` is one line."""


def written_by_ltsim(folder: Path) -> bool:
    """Whether ``folder`` holds a ``meta.json`` written by ltsim (this version or an older
    one, which recorded ltsim in its ``versions``)."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(meta, dict):
        return False
    versions = meta.get("versions")
    return meta.get("generator") == GENERATOR or (
        isinstance(versions, dict) and "ltsim" in versions and "command" in meta)


def _protected(target: Path) -> str | None:
    """Why ``target`` may never be replaced, or ``None``."""
    resolved = target.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        return "is the current folder or one of its ancestors"
    if resolved == Path(resolved.anchor):
        return "is the root of the filesystem"
    with contextlib.suppress(RuntimeError, KeyError):
        if resolved == Path.home().resolve():
            return "is the home folder"
    if resolved == (cwd / "results").resolve():
        return "is the results folder itself (give a folder inside it)"
    return None


def check_target(target: Path, force: bool = False, extend: bool = False,
                 option: str = "-o") -> None:
    """Refuse, before any work, a target that must not or cannot be written.

    Parameters
    ----------
    target : Path
        The folder to write.
    force : bool
        Replace an existing folder (ltsim's own or empty only).
    extend : bool
        The folder is to be extended: it must exist and be ltsim's.
    option : str
        The option that named the target, for messages.

    Raises
    ------
    TargetError
        With one line ``<option>: <rule>, got '<target>'``.
    """
    where = shown(target)
    why = _protected(target)
    if why:
        raise TargetError(f"{option}: {why}; never replaced, got '{where}'")
    if target.exists() or target.is_symlink():
        if not target.is_dir():
            raise TargetError(f"{option}: exists and is not a folder, got '{where}'")
        empty = not any(target.iterdir())
        ours = written_by_ltsim(target)
        if extend and not ours:
            raise TargetError(f"{option}: not a results folder written by ltsim, got '{where}'")
        if not (force or extend):
            raise TargetError(f"{option}: results folder already exists; pass --force to "
                              f"replace it, got '{where}'")
        if not (ours or empty):
            raise TargetError(f"{option}: exists and was not written by ltsim (no ltsim "
                              f"meta.json); ltsim replaces only its own folders, got '{where}'")
    elif extend:
        raise TargetError(f"{option}: no such results folder, got '{where}'")
    check_creatable(target, option)


def check_creatable(target: Path, option: str = "-o") -> None:
    """Refuse (:class:`TargetError`) a ``target`` whose nearest existing ancestor is not a
    folder we can write into."""
    where = shown(target)
    probe = target.parent
    while not probe.exists():
        if probe.is_symlink():
            raise TargetError(f"{option}: {shown(probe)} is a broken link, got '{where}'")
        probe = probe.parent
    if not probe.is_dir():
        raise TargetError(f"{option}: {shown(probe)} is a file, not a folder, got '{where}'")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise TargetError(f"{option}: cannot write into {shown(probe)} (permission denied), "
                          f"got '{where}'")


class Staging:
    """A result folder being written: lock, staging folder, atomic publication.

    Use as ``with Staging(target) as stage:`` ... ``stage.publish()``. Leaving the block
    without publishing keeps the staging folder if it holds anything (see :attr:`kept`) and
    releases the lock.
    """

    def __init__(self, target: Path, option: str = "-o") -> None:
        self.target, self.option = target, option
        self.lock = target.parent / f".{target.name}.lock"
        self.path = target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.published = False
        self.kept: Path | None = None

    def __enter__(self) -> Staging:
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self._take_lock()
            self.path.mkdir()
        except OSError as exc:
            self._release()
            reason = exc.strerror or str(exc)
            raise TargetError(f"{self.option}: cannot create {shown(self.path)} ({reason}), "
                              f"got '{shown(self.target)}'") from None
        return self

    def _take_lock(self) -> None:
        for _ in range(2):
            try:
                fd = os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pid = _lock_owner(self.lock)
                if pid is not None and pid != os.getpid() and _alive(pid):
                    raise TargetError(
                        f"{self.option}: another ltsim process (pid {pid}) is writing this "
                        f"folder (lock {shown(self.lock)}), got '{shown(self.target)}'") from None
                self.lock.unlink(missing_ok=True)  # stale: its process is gone
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{os.getpid()}\n")
            return
        raise TargetError(f"{self.option}: cannot take the lock {shown(self.lock)}, got "
                          f"'{shown(self.target)}'")

    def publish(self) -> Path:
        """Rename the staging folder to the target, replacing an older ltsim folder there."""
        target = self.target
        if target.exists():
            if not (written_by_ltsim(target) or (target.is_dir() and not any(target.iterdir()))):
                raise OSError(f"{target} appeared meanwhile and was not written by ltsim")
            old = target.parent / f".{target.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            target.rename(old)
            try:
                self.path.rename(target)
            except OSError:
                old.rename(target)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            self.path.rename(target)
        self.published = True
        return target

    def discard(self) -> None:
        """Remove the staging folder: nothing in it is worth keeping."""
        shutil.rmtree(self.path, ignore_errors=True)

    def __exit__(self, *exc) -> None:
        if not self.published and self.path.exists():
            if any(self.path.iterdir()):
                self.kept = self.path
            else:
                self.path.rmdir()
        self._release()

    def _release(self) -> None:
        if _lock_owner(self.lock) == os.getpid():
            self.lock.unlink(missing_ok=True)


def _lock_owner(lock: Path) -> int | None:
    try:
        return int(lock.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def result_folders(path: Path) -> list[Path]:
    """``path`` itself if it holds results (the tables of a simulation, an execution or a
    sweep), else every results folder below it: staging folders and the points of sweeps
    (a sweep is drawn as a whole) excluded."""
    markers = ("tail.csv", "executions.csv", "points.csv")
    if any((path / m).is_file() for m in markers):
        return [path]
    found = {p.parent for m in markers for p in path.rglob(m)}
    sweeps = {f for f in found if (f / "points.csv").is_file()}
    return sorted(f for f in found
                  if not any(part.startswith(".") for part in f.relative_to(path).parts)
                  and not any(s in f.parents for s in sweeps))  # a sweep's points: its own
