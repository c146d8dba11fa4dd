"""Sweep files: a base run config and the parameters to vary, expanded into validated points.

A sweep file::

    base: configs/exp02.yaml     # a path (from the sweep file's folder) or a config mapping
    grid:                        # cartesian product
      tau: [0.0005, 0.005, 0.05]
      delay.rate: [0.02, 0.2, 2]
    zip:                         # optional: varied together, same length
      schemes[3].c: [0.01, 0.03, 0.1]
      schemes[3].delta: [0.1, 0.5, 0.9]
    trials: 500                  # or target_rel_ci / max_time per point, as in ltsim run
    seed: 7                      # optional: the sweep's seed (default: the base's)

Keys are the dotted keys of ``--set``. Each point is the base with its values set, validated
as an ``ltsim run`` config before anything runs. A point's seed is derived from the sweep's
seed and the point's parameters (not its position), so adding a value to a grid leaves the
other points' numbers unchanged.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..util.validation import ConfigError, one_line, short_repr
from . import config, overrides

SWEEP_KEYS = ("name", "base", "grid", "zip", "trials", "target_rel_ci", "max_time", "seed")


@dataclass(frozen=True)
class Point:
    """One point of a sweep: its varied values, its slug (folder name) and its config."""

    values: dict[str, Any]
    slug: str
    config: Any


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: its name, seed, stopping rules, axes and points."""

    name: str
    seed: int
    trials: int | None
    target_rel_ci: float | None
    max_time: float | None
    axes: list[list[str]]
    """The varied keys: one axis per grid key, one axis for all the zip keys."""
    points: list[Point]
    resolved: dict[str, Any]
    source: str | None = None
    """The sweep file (``None`` for a sweep given as data)."""

    @property
    def keys(self) -> list[str]:
        return [key for axis in self.axes for key in axis]


def point_seed(seed: int, values: dict[str, Any]) -> int:
    """The seed of a point: a hash of the sweep's seed and the point's values (independent of
    the point's position in the grid)."""
    text = json.dumps([seed, sorted(values.items())], sort_keys=True, default=repr)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") % 2**63


def slug(values: dict[str, Any]) -> str:
    """A folder name for a point: its key=value pairs in key order, made safe (readable,
    rounded), then a hash of the exact values (``repr`` of every number), so that distinct
    values never share a folder and the order of the keys in the sweep file does not
    matter."""
    ordered = sorted(values.items())
    text = ",".join(f"{k}={_plain(v)}" for k, v in ordered)
    safe = re.sub(r"[^A-Za-z0-9_.=,+-]+", "_", text)[:80]
    exact = json.dumps(ordered, sort_keys=True, default=repr)
    digest = hashlib.sha256(exact.encode()).hexdigest()[:12]
    return f"{safe}-{digest}" if safe else digest


def _plain(value: Any) -> str:
    if value is None:
        return "null"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _number(data: dict, key: str, kind: type, low: float) -> Any:
    value = data.get(key)
    if value is None:
        return None
    ok = isinstance(value, kind) and not isinstance(value, bool) if kind is int else (
        isinstance(value, (int, float)) and not isinstance(value, bool))
    if not ok or not math.isfinite(value) or value <= low:
        rule = "an integer >= 1" if kind is int else "a finite number > 0"
        raise ConfigError(f"{key}: must be {rule}, got {short_repr(value)}")
    return value


MAX_POINTS = 10_000
"""Most points a sweep file may have unless ``ltsim sweep --force`` is given: every point is
validated before anything runs, about 0.1 ms each, and holds a results folder."""

FIXED_KEYS = {
    "trials": "the sweep's `trials:` (or --trials) sets every point's",
    "seed": "each point's seed derives from the sweep's `seed:` and the point's values",
    "name": "the points are named by their values",
}
"""Top-level keys of a run config that a sweep may not vary, and why."""


def _canonical(value: Any) -> str:
    """A text equal for values a config reads as equal (``1`` and ``1.0``; mappings in any
    key order) and different otherwise (``True`` is not ``1``)."""

    def norm(v: Any) -> Any:
        if isinstance(v, bool) or v is None:
            return ["bool", v]
        if isinstance(v, (int, float)):
            return ["number", float(v) if abs(v) < 2**53 else repr(v)]
        if isinstance(v, dict):
            return ["map", sorted((str(k), norm(x)) for k, x in v.items())]
        if isinstance(v, list):
            return ["list", [norm(x) for x in v]]
        return ["text", str(v)]

    return json.dumps(norm(value), sort_keys=True)


def _distinct(section: dict[str, list], name: str) -> None:
    """Refuse a key whose values repeat (as a config reads them)."""
    for key, values in section.items():
        seen: dict[str, Any] = {}
        for value in values:
            text = _canonical(value)
            if text in seen:
                raise ConfigError(f"{name}.{key}: values must not repeat ({seen[text]!r} and "
                                  f"{value!r} are equal), got {short_repr(values)}")
            seen[text] = value


def _axis_values(section: Any, name: str) -> dict[str, list]:
    if section is None:
        return {}
    if not isinstance(section, dict) or not section:
        raise ConfigError(f"{name}: must be a mapping of keys to lists of values, got "
                          f"{short_repr(section)}")
    for key, values in section.items():
        if not isinstance(key, str):
            raise ConfigError(f"{name}: keys must be strings, got {short_repr(key)}")
        overrides.parse_path(key)  # a key path like delay.rate or schemes[1].r
        top = re.split(r"[.\[]", key, maxsplit=1)[0]
        if top in FIXED_KEYS:
            raise ConfigError(f"{name}.{key}: cannot be varied ({FIXED_KEYS[top]}), got "
                              f"{short_repr(key)}")
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{name}.{key}: must be a non-empty list of values, got "
                              f"{short_repr(values)}")
    return section


def load_sweep(path: Path, trials: int | None = None, seed: int | None = None,
               max_points: int | None = MAX_POINTS) -> Sweep:
    """Read and validate a sweep file and every one of its points.

    Parameters
    ----------
    path : Path
        The sweep file.
    trials, seed : int, optional
        Override the sweep's trials per point and seed.
    max_points : int or None
        Refuse a sweep of more points (counted before any is validated); ``None``: no limit.

    Raises
    ------
    ConfigError
        With one line naming the key (and, for a bad point, the point).
    """
    sweep = sweep_of(config.read_config(path), path.parent,
                     path.stem.removesuffix(".sweep"), trials, seed, max_points)
    return dataclasses.replace(sweep, source=str(path))


def sweep_of(data: Any, folder: Path, default_name: str = "sweep",
             trials: int | None = None, seed: int | None = None,
             max_points: int | None = MAX_POINTS) -> Sweep:
    """Validate the data of a sweep file (as :func:`load_sweep`), read from ``folder``
    (where a ``base`` path and empirical samples are found)."""
    path = Path(folder) / f"{default_name}.sweep.yaml"
    if not isinstance(data, dict):
        raise ConfigError("(top level): must be a mapping of keys to values")
    unknown = [k for k in data if k not in SWEEP_KEYS]
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown key of a sweep file (allowed: "
                          f"{', '.join(SWEEP_KEYS)})")
    if "base" not in data:
        raise ConfigError("base: required key is missing (a run config: a path or a mapping)")
    base, base_dir = data["base"], path.parent
    if isinstance(base, str):
        base_path = (path.parent / base).resolve() if not Path(base).is_absolute() else Path(base)
        try:
            base = config.read_config(base_path)
        except ConfigError as exc:
            raise ConfigError(f"base: {base_path}: {exc}") from None
        base_dir = base_path.parent
        if not isinstance(base, dict):
            kind = "text" if isinstance(base, str) else f"a {type(base).__name__}"
            raise ConfigError(f"base: {base_path}: must hold a run config (a mapping of keys "
                              f"to values), got {kind}")
    if not isinstance(base, dict):
        raise ConfigError(f"base: must be a path or a mapping, got a {type(base).__name__} "
                          f"{short_repr(base, 40)}")
    grid = _axis_values(data.get("grid"), "grid")
    zipped = _axis_values(data.get("zip"), "zip")
    if not grid and not zipped:
        raise ConfigError("grid: a sweep needs a grid or a zip of values to vary")
    lengths = {len(v) for v in zipped.values()}
    if len(lengths) > 1:
        raise ConfigError(f"zip: every list must have the same length, got lengths "
                          f"{sorted(lengths)}")
    both = set(grid) & set(zipped)
    if both:
        raise ConfigError(f"zip.{sorted(both)[0]}: already varied by the grid")
    trials = trials or _number(data, "trials", int, 0)
    target = _number(data, "target_rel_ci", float, 0)
    max_time = _number(data, "max_time", float, 0)
    seed = seed if seed is not None else data.get("seed", base.get("seed", 0))
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        raise ConfigError(f"seed: must be an integer from 0 to 2**63-1, got {short_repr(seed)}")
    name = data.get("name", path.stem.removesuffix(".sweep"))
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", name):
        raise ConfigError(f"name: must match the pattern ^[A-Za-z0-9][A-Za-z0-9_.-]{{0,99}}$, "
                          f"got {short_repr(name)}")
    axes = [[k] for k in grid] + ([list(zipped)] if zipped else [])
    count = math.prod(len(v) for v in grid.values()) * (len(next(iter(zipped.values())))
                                                        if zipped else 1)
    if max_points is not None and count > max_points:
        section = "grid" if grid else "zip"
        raise ConfigError(f"{section}: {count} points, more than the {max_points} a sweep may "
                          f"have (`ltsim sweep --force` runs it anyway), got {count}")
    _distinct(grid, "grid")
    _distinct(zipped, "zip")
    grid_values = [list(v) for v in grid.values()]
    zip_rows = list(zip(*zipped.values(), strict=True)) if zipped else [()]
    points = []
    for combo in itertools.product(*grid_values, zip_rows):
        values = dict(zip(grid, combo[:len(grid)], strict=True))
        values.update(zip(zipped, combo[len(grid)], strict=True))
        points.append(_point(base, base_dir, values, seed, trials))
    resolved = {"name": name, "base": base, "grid": grid or None, "zip": zipped or None,
                "trials": trials, "target_rel_ci": target, "max_time": max_time, "seed": seed}
    resolved = {k: v for k, v in resolved.items() if v is not None}
    return Sweep(name, seed, trials, target, max_time, axes, points, resolved)


def _point(base: dict, base_dir: Path, values: dict[str, Any], seed: int,
           trials: int | None) -> Point:
    shown = ", ".join(f"{k}={_plain(v)}" for k, v in values.items())
    data = overrides.set_values(base, list(values.items()))
    data["seed"] = point_seed(seed, values)
    if trials is not None:
        data["trials"] = trials
    data["name"] = str(data.get("name", "point"))
    try:
        cfg = config.validate(data, base_dir=base_dir, kind="run")
    except ConfigError as exc:
        raise ConfigError(one_line(f"point {shown}: {exc}", 400)) from None
    return Point(values, slug(values), cfg)
