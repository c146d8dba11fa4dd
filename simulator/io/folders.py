"""Result folders: what ltsim may replace, and writing them so that nothing is ever lost.

Rules (every command that writes a folder follows them):

* an existing folder is replaced only with ``force`` (or extended with ``--extend``), and only
  if ltsim wrote it (its ``meta.json`` says so) or it is empty; anything else is refused;
* ``.``, ``..``, the current folder's ancestors, the filesystem root, the home folder and the
  ``results/`` folder itself are always refused;
* that the target can be created is checked before any work (the nearest existing ancestor
  must be a writable folder; no part of the path may be a file);
* one run at a time per target: a lock file ``.<name>.lock`` beside it holds the writer's
  process id (a lock whose process is gone is taken over); a sweep holds its folder's lock
  for its whole run, each point's run the point's;
* a target that is a symbolic link is written where the link points (the link stays);
* results are written into a staging folder beside the target and renamed into place at the
  end; if that fails, the staging folder is kept (renamed ``.<name>.kept-...``) and named,
  never deleted. Staging folders of killed runs (their process gone) are removed by the next
  run that publishes the same target.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
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
    if target.is_symlink():
        if not target.exists():
            raise TargetError(f"{option}: is a broken link, got '{where}'")
        target = target.resolve()  # the folder it points to is the one written
    holder = locked_ancestor(target)
    if holder is not None:
        raise TargetError(f"{option}: inside {shown(holder[0])}, which another ltsim process "
                          f"(pid {holder[1]}) is writing, got '{where}'")
    if target.exists():
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


_HELD: dict[Path, int] = {}
"""The locks this process holds, with how many times each is taken."""


class Lock:
    """One writer per target: the file ``.<name>.lock`` beside ``target`` holds the writer's
    process id while the block runs (a lock whose process is gone is taken over).

    Re-entrant within a process: a sweep holds its folder's lock for its whole run, and the
    steps that replace or publish that folder take it again.
    """

    def __init__(self, target: Path, option: str = "-o") -> None:
        self.target, self.option = target, option
        self.path = target.parent / f".{target.name}.lock"
        self._key = self.path.absolute()

    def __enter__(self) -> Lock:
        if _HELD.get(self._key):
            _HELD[self._key] += 1
            return self
        holder = locked_ancestor(self.target)
        if holder is not None:
            folder, pid = holder
            raise TargetError(f"{self.option}: inside {shown(folder)}, which another ltsim "
                              f"process (pid {pid}) is writing, got '{shown(self.target)}'")
        self.target.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pid = _lock_owner(self.path)
                if pid is not None and pid != os.getpid() and _alive(pid):
                    raise TargetError(
                        f"{self.option}: another ltsim process (pid {pid}) is writing this "
                        f"folder (lock {shown(self.path)}), got '{shown(self.target)}'"
                    ) from None
                self.path.unlink(missing_ok=True)  # stale: its process is gone
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{os.getpid()}\n")
            _HELD[self._key] = 1
            return self
        raise TargetError(f"{self.option}: cannot take the lock {shown(self.path)}, got "
                          f"'{shown(self.target)}'")

    def __exit__(self, *exc) -> None:
        count = _HELD.get(self._key, 0) - 1
        if count > 0:
            _HELD[self._key] = count
            return
        _HELD.pop(self._key, None)
        if _lock_owner(self.path) == os.getpid():
            self.path.unlink(missing_ok=True)


def locked_ancestor(target: Path) -> tuple[Path, int] | None:
    """The nearest folder above ``target`` that another live ltsim process holds the lock of
    (a sweep being written), with that process's id; ``None`` if there is none."""
    try:
        folder = target.absolute().parent
    except OSError:
        return None
    for _ in range(64):
        if folder.parent == folder:
            return None
        pid = _lock_owner(folder.parent / f".{folder.name}.lock")
        if pid is not None and pid != os.getpid() and _alive(pid):
            return folder, pid
        folder = folder.parent
    return None


def real_target(target: Path) -> Path:
    """The folder to write for ``target``: the folder a symbolic link points to (the link
    is kept and then points to the new results), else ``target`` itself."""
    return target.resolve() if target.is_symlink() else target


class Staging:
    """A result folder being written: lock, staging folder, atomic publication.

    Use as ``with Staging(target) as stage:`` ... ``stage.publish()``. Leaving the block
    without publishing keeps the staging folder if it holds anything, renamed
    ``.<name>.kept-<pid>-<id>`` (see :meth:`keep`, :attr:`kept`), and releases the lock. A
    staging folder ``.<name>.tmp-<pid>-<id>`` whose process is gone was left by a killed
    run; the next run that publishes ``target`` removes it.
    """

    def __init__(self, target: Path, option: str = "-o") -> None:
        self.shown_target, self.option = target, option
        self.target = real_target(target)
        self.lock = Lock(self.target, option)
        self.path = self.target.parent / (f".{self.target.name}.tmp-{os.getpid()}-"
                                          f"{uuid.uuid4().hex[:8]}")
        self.published = False
        self.kept: Path | None = None

    def __enter__(self) -> Staging:
        try:
            self.lock.__enter__()
        except OSError as exc:
            raise TargetError(f"{self.option}: cannot create {shown(self.lock.path)} "
                              f"({exc.strerror or exc}), got '{shown(self.shown_target)}'"
                              ) from None
        try:
            self.path.mkdir()
        except OSError as exc:
            self.lock.__exit__(None, None, None)
            raise TargetError(f"{self.option}: cannot create {shown(self.path)} "
                              f"({exc.strerror or exc}), got '{shown(self.shown_target)}'"
                              ) from None
        return self

    def publish(self) -> Path:
        """Rename the staging folder to the target, replacing an older ltsim folder there,
        then remove the staging folders that killed runs left for this target."""
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
        remove_stale_staging(target)
        return target

    def discard(self) -> None:
        """Remove the staging folder: nothing in it is worth keeping."""
        shutil.rmtree(self.path, ignore_errors=True)

    def keep(self) -> Path:
        """Keep the unpublished staging folder under a name no later run removes
        (``.<name>.kept-<pid>-<id>``); returns where it is (its old name if renaming
        fails)."""
        if self.kept is None:
            kept = self.path.with_name(self.path.name.replace(".tmp-", ".kept-", 1))
            try:
                self.path.rename(kept)
            except OSError:
                kept = self.path
            self.kept = kept
        return self.kept

    def __exit__(self, *exc) -> None:
        try:
            if not self.published and self.kept is None and self.path.exists():
                if any(self.path.iterdir()):
                    self.keep()
                else:
                    self.path.rmdir()
        finally:
            self.lock.__exit__(None, None, None)


STAGING = re.compile(r"^\.(?P<name>.+)\.tmp-(?P<pid>\d+)-[0-9a-f]{8}$")


def remove_stale_staging(target: Path) -> list[Path]:
    """Remove the staging folders of ``target`` left by ltsim processes that are gone
    (killed before they could publish or keep them); returns those removed."""
    removed = []
    with contextlib.suppress(OSError):
        for entry in target.parent.iterdir():
            match = STAGING.match(entry.name)
            if (match and match["name"] == target.name and int(match["pid"]) != os.getpid()
                    and not _alive(int(match["pid"])) and entry.is_dir()
                    and not entry.is_symlink()):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
    return removed


def replace_with_empty(target: Path, option: str = "-o") -> None:
    """Replace the ltsim folder (or empty folder) ``target`` by an empty one, under its
    lock (``--force`` on a sweep folder)."""
    target = real_target(target)
    with Lock(target, option):
        if not target.exists():
            target.mkdir(parents=True)
            return
        if not (written_by_ltsim(target) or (target.is_dir() and not any(target.iterdir()))):
            raise TargetError(f"{option}: exists and was not written by ltsim (no ltsim "
                              f"meta.json); ltsim replaces only its own folders, got "
                              f"'{shown(target)}'")
        old = target.parent / f".{target.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        target.rename(old)
        target.mkdir()
        shutil.rmtree(old, ignore_errors=True)


def sweep_owner(folder: Path, meta: dict) -> int | None:
    """The process id of the live ltsim process writing the sweep ``folder`` (whose
    ``meta.json`` is ``meta``), or ``None`` if that process is gone."""
    pid = meta.get("pid")
    owner = _lock_owner(folder.parent / f".{folder.name}.lock")
    for candidate in (owner, pid):
        if isinstance(candidate, int) and candidate != os.getpid() and _alive(candidate):
            return candidate
    return None


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
