"""What each command does, apart from parsing its arguments: the orchestration layer.

The click commands in :mod:`simulator.cli` parse and report; the functions here load
configs, check outputs, run engines and write results, raising :class:`~simulator.app.errors.
BadInput` (exit 2) or :class:`~simulator.app.errors.Failure` (exit 1) with one line.
"""
