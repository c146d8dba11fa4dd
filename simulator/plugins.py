"""Codes and delay laws from other packages, found through entry points.

A package adds a code or a law to ltsim by declaring an entry point in the group
``ltsim.codes`` or ``ltsim.laws`` that names its class (a :class:`~ltsim.codes.base.Code` or a
:class:`~ltsim.model.laws.DelayLaw` subclass)::

    [project.entry-points."ltsim.codes"]
    halves = "my_package.codes:Halves"

Once the package is installed, its ``kind`` (or ``dist``) is accepted in every config, by
``validate``, ``run``, ``sweep``, ``show``, ``plot`` and ``execute``, with no change to ltsim.
The entry points are read once, the first time a config is validated. One that cannot be
loaded, or names something else, is skipped with a warning naming it.
"""

from __future__ import annotations

import warnings
from importlib import metadata

GROUPS = ("ltsim.codes", "ltsim.laws")
"""The entry point groups read."""

_loaded: list[bool] = []


def load_plugins() -> list[str]:
    """Register the codes and laws of every installed plugin (once); returns the entry
    points registered by this call (``group:name``)."""
    if _loaded:
        return []
    _loaded.append(True)
    from .codes import Code
    from .codes import register as register_code
    from .model.laws import DelayLaw
    from .model.laws import register as register_law

    done = []
    points = metadata.entry_points()  # every distribution read once, for both groups
    for group, base, register in (("ltsim.codes", Code, register_code),
                                  ("ltsim.laws", DelayLaw, register_law)):
        for point in points.select(group=group):
            try:
                cls = point.load()
                if not (isinstance(cls, type) and issubclass(cls, base)):
                    raise TypeError(f"{point.value} is not a {base.__name__} subclass")
                register(cls)
            except Exception as exc:  # a broken plugin must not break ltsim
                warnings.warn(f"ltsim: plugin {group}:{point.name} ({point.value}) skipped: "
                              f"{type(exc).__name__}: {exc}", RuntimeWarning, stacklevel=2)
                continue
            done.append(f"{group}:{point.name}")
    return done
