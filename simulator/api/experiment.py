"""The experiment a user builds in Python: keyword arguments validated exactly as a YAML
config of ``ltsim run`` is.

>>> import ltsim
>>> exp = ltsim.Experiment(m=1000, tau=0.005, trials=500, seed=2021,
...                        delay=ltsim.laws.Exponential(rate=0.2),
...                        schemes=[ltsim.codes.One(), ltsim.codes.LT(r=2)])
>>> exp.replace(tau=0.05).tau
0.05

An :class:`Experiment` is immutable. It keeps the values it was given (so that
:meth:`Experiment.replace` of ``m`` lets ``workers`` follow it, as in a YAML file) and the
validated config the engine runs (:attr:`Experiment.config`); :meth:`Experiment.to_yaml`
writes the resolved config, every default filled in, which ``ltsim run`` reads back to the
same experiment.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from ..io import config as configs
from ..io import overrides
from ..util.validation import ConfigError

FIELDS = ("name", "m", "workers", "tau", "trials", "seed", "computation", "arrivals", "jobs",
          "warmup", "rounds", "cancel_delay", "persistence", "delay", "classes", "speed",
          "skew", "price_per_second", "schemes")
"""The keys of a run config, in their order in a YAML file."""


def plain(value: Any) -> Any:
    """``value`` as the plain data a YAML file holds: codes and laws as their mappings,
    NumPy scalars as Python numbers, tuples as lists."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


class Experiment:
    """A Monte-Carlo experiment: ``m`` functions of ``tau`` seconds each on ``workers``
    workers whose start-up delays follow ``delay``, and the ``schemes`` (codes) to compare.

    Parameters
    ----------
    m, tau, trials, delay, schemes
        As in a YAML config (docs/model.md): the number of functions, the time of one, the
        trials, the delay law (an ``ltsim.laws`` object or its mapping) and the codes (a list
        of ``ltsim.codes`` objects or mappings).
    name : str
        The name of the results folder (default ``"experiment"``; a YAML file must give it).
    seed, workers, classes, speed, price_per_second
        Optional, as in a YAML config.
    computation, arrivals, jobs, warmup, cancel_delay, rounds, persistence
        Optional: a linear computation; a queueing run; an iterative job of ``rounds``
        rounds; machines whose class persists (docs/model.md, docs/queueing.md).
    skew : mapping, optional
        Heavy tasks, ``{"fraction": f, "work": w}`` (docs/speculation.md).
    base_dir : path, optional
        The folder relative file names (empirical delay samples) are read from.

    Raises
    ------
    ConfigError
        One line naming the key, the rule and the value, exactly as ``ltsim run`` reports a
        YAML file (``tau: must be greater than or equal to 0, got -1``).
    """

    __slots__ = ("_base_dir", "_config", "_data")

    def __init__(self, *, m: int, tau: float, trials: int, delay: Any, schemes: list,
                 name: str = "experiment", seed: int = 0, workers: int | None = None,
                 classes: list | None = None, speed: Any = None,
                 price_per_second: float | None = None, computation: str | None = None,
                 arrivals: Any = None, jobs: int | None = None, warmup: int | None = None,
                 cancel_delay: float | None = None, rounds: int | None = None,
                 persistence: Any = None, skew: Any = None,
                 base_dir: str | Path | None = None) -> None:
        given = {"name": name, "m": m, "workers": workers, "tau": tau, "trials": trials,
                 "seed": seed, "computation": computation, "arrivals": arrivals, "jobs": jobs,
                 "warmup": warmup, "rounds": rounds, "cancel_delay": cancel_delay,
                 "persistence": persistence, "delay": delay,
                 "classes": classes, "speed": speed, "skew": skew,
                 "price_per_second": price_per_second,
                 "schemes": schemes}
        data = {k: plain(v) for k, v in given.items() if v is not None}
        self._init(data, Path(base_dir) if base_dir is not None else None)

    def _init(self, data: dict[str, Any], base_dir: Path | None) -> None:
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_base_dir", base_dir)
        object.__setattr__(self, "_config", configs.validate(copy.deepcopy(data),
                                                             base_dir=base_dir, kind="run"))

    @classmethod
    def _from_data(cls, data: dict[str, Any], base_dir: Path | None = None) -> Experiment:
        experiment = cls.__new__(cls)
        experiment._init(data, base_dir)
        return experiment

    @classmethod
    def from_yaml(cls, path: str | Path, *, sets: tuple[str, ...] | list[str] = (),
                  **changes: Any) -> Experiment:
        """The experiment of an ``ltsim run`` config file, with ``--set``-style ``sets``
        (``"delay.rate=0.5"``) and keyword ``changes`` (``trials=2000``) applied.

        Raises
        ------
        ConfigError
            The file cannot be read, or it (with the changes) is not a valid run config.
        """
        path = Path(path)
        data = configs.read_config(path)
        if not isinstance(data, dict):
            configs.validate(data, kind="run")  # raises the one-line error
        if data.get("workload") is not None:
            configs.validate(data, kind="run")  # an execute config: says which command
        data = overrides.apply(data, list(sets))
        return cls._from_data(data, path.parent).replace(
            **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_dict(cls, data: dict[str, Any], base_dir: str | Path | None = None) -> Experiment:
        """The experiment of plain data (a YAML file's mapping)."""
        return cls._from_data(plain(data), Path(base_dir) if base_dir else None)

    @property
    def config(self):
        """The validated, frozen config the engine runs (a ``RunConfig`` of the registered
        codes)."""
        return self._config

    def replace(self, **changes: Any) -> Experiment:
        """A new experiment with ``changes`` applied and validated as a whole: top-level keys
        (``tau=0.05``) or key paths as ``--set`` writes them
        (``**{"delay.rate": 0.5, "schemes[1].r": 4}``); ``None`` removes an optional key.

        Raises
        ------
        ConfigError
            As the constructor.
        """
        if not changes:
            return self
        data = copy.deepcopy(self._data)
        nested = []
        for key, value in changes.items():
            if "." in key or "[" in key:
                nested.append((key, plain(value)))
            elif value is None:
                data.pop(key, None)
            else:
                data[key] = plain(value)
        if nested:
            data = overrides.set_values(data, nested)
        return type(self)._from_data(data, self._base_dir)

    @property
    def base_dir(self) -> Path | None:
        """The folder relative file names are read from."""
        return self._base_dir

    def to_dict(self, resolved: bool = True) -> dict[str, Any]:
        """The config as plain data: resolved (every default filled in), or as given."""
        return self._config.resolved() if resolved else copy.deepcopy(self._data)

    def to_yaml(self, path: str | Path | None = None) -> str:
        """The resolved config as YAML text (what ``ltsim run`` reads back to the same
        experiment); also written to ``path`` when given."""
        import yaml

        text = yaml.safe_dump(self.to_dict(), sort_keys=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return getattr(self._config, name)
        except AttributeError:
            raise AttributeError(f"'Experiment' object has no attribute {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("an Experiment is immutable; use .replace(...)")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Experiment):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def __repr__(self) -> str:
        data = self.to_dict()
        parts = [f"{k}={data[k]!r}" for k in FIELDS if k in data and k != "schemes"]
        schemes = ", ".join(s.scheme_id for s in self._config.schemes)
        return f"Experiment({', '.join(parts)}, schemes=[{schemes}])"

    def __reduce__(self):
        return type(self)._from_data, (self._data, self._base_dir)


def as_experiment(value: Any) -> Experiment:
    """An :class:`Experiment` from an experiment, a validated run config, a YAML path or a
    mapping."""
    if isinstance(value, Experiment):
        return value
    if isinstance(value, (str, Path)):
        return Experiment.from_yaml(value)
    if isinstance(value, dict):
        return Experiment.from_dict(value)
    if isinstance(value, configs.RunConfig):
        return Experiment.from_dict(value.resolved())
    raise ConfigError(f"experiment: must be an ltsim.Experiment, a run config file or a "
                      f"mapping, got {type(value).__name__}")
