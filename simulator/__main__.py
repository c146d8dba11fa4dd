"""``python -m ltsim`` runs the ``ltsim`` command line."""

from .cli import main

main(prog_name="ltsim")
