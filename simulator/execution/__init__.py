"""Real execution of the simulated codes on a distributed engine (``ltsim execute``).

The same code graphs as the simulator (:meth:`ltsim.schemes.lt.LTCode.sample_graph` drawn
from :func:`ltsim.streams.trial_streams`) are computed for real on a Gaussian-kernel
workload, decoded by a numeric peeling decoder and timed, so that measurements can calibrate
the simulator (``ltsim fit``).

Modules: :mod:`.workload` (the computation), :mod:`.config` (validated YAML), :mod:`.plan`
(which logical worker computes what), :mod:`.worker` (the task bodies), :mod:`.decoder`
(online recovery of F(x) from real values), :mod:`.backends` (local threads, dask,
lithops), :mod:`.master` (trials), :mod:`.results` and :mod:`.plots` (outputs).
"""
