"""The library core: what ``import ltsim`` offers and what every command is made of.

Experiments (:mod:`.experiment`), simulations (:mod:`.simulate`), sweeps (:mod:`.sweep`), real
executions (:mod:`.execute`), fits (:mod:`.fit`), their results and loading folders back
(:mod:`.results`); where trials run (:mod:`.executors`), memory and disk budgets
(:mod:`.budget`), resuming folders (:mod:`.extend`), progress and notes (:mod:`.reporter`),
signals (:mod:`.signals`). The commands of :mod:`ltsim.cli` only parse, call these and
print; errors are :class:`~ltsim.api.errors.BadInput` (exit 2) or
:class:`~ltsim.api.errors.Failure` (exit 1) with one line.
"""
