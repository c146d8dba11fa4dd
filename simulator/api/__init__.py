"""What each command does, apart from parsing its arguments: the orchestration layer.

The click commands in :mod:`ltsim.cli` parse and report; the functions here load
configs, check outputs, run engines and write results, raising :class:`~ltsim.api.errors.
BadInput` (exit 2) or :class:`~ltsim.api.errors.Failure` (exit 1) with one line.
"""
