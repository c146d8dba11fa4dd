"""Write ``docs/examples/quickstart.ipynb`` from the cells below and execute it in place (the
outputs shown are those of this run): ``python scripts/make_notebook.py``.

The test suite executes the same notebook with a real kernel (``tests/test_notebook.py``),
so it never goes stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "examples" / "quickstart.ipynb"

CELLS = [
    ("markdown", """# ltsim from Python

Build an experiment in code, simulate it, look at the tables, plot, sweep two parameters,
save and reload. The same numbers as `ltsim run` for the same config and seed."""),
    ("code", """import ltsim
from ltsim.codes import LT, One, Replication, Uncoded
from ltsim.laws import Exponential

exp = ltsim.Experiment(
    name="quickstart", m=1000, tau=0.005, trials=100, seed=2021,
    delay=Exponential(rate=0.2),                  # start-up delay of every worker
    schemes=[One(), Uncoded(), Replication(r=2), LT(r=1), LT(r=2)],
)
exp"""),
    ("markdown", """`simulate` returns `Results`: pandas DataFrames for the summary, the tail and
every trial's latency, and the provenance."""),
    ("code", """results = ltsim.simulate(exp, progress=False)
results.summary[["scheme", "trials", "mean", "p99", "worker_seconds", "theory_mean"]]"""),
    ("code", """results.latencies.groupby("scheme")["latency"].describe()"""),
    ("code", """figures = results.plot()      # the figures of `ltsim plot`: tail and cost
figures["tail"]"""),
    ("markdown", """An experiment is immutable; `replace` makes a validated variant (keys as
`--set` writes them). A sweep runs every point of a grid; its `points` table has the varied
keys as columns, and `best` ranks the schemes at each point (a mean with failed trials
counts as infinite; bounds never win)."""),
    ("code", """grid = {"base": exp.replace(trials=50),
        "grid": {"tau": [0.005, 0.05], "delay.rate": [0.2, 2.0]}}
sweep = ltsim.sweep(grid, progress=False)
sweep.best("mean")"""),
    ("markdown", """`save` writes the folder `ltsim run` writes, byte for byte; `ltsim.load` reads
any result folder back (runs, sweeps, executions)."""),
    ("code", """import pathlib
import tempfile

folder = pathlib.Path(tempfile.mkdtemp()) / "quickstart"
results.save(folder)
again = ltsim.load(folder)
assert again.latencies.equals(results.latencies)
again.meta["command"]"""),
]


def build() -> nbformat.NotebookNode:
    """The notebook of :data:`CELLS`, not yet executed."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    for kind, text in CELLS:
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(make(text))
    return nb


def execute(nb: nbformat.NotebookNode, cwd: Path, timeout: int = 300) -> nbformat.NotebookNode:
    """Run every cell with a real kernel (an error in a cell raises)."""
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def main() -> int:
    nb = execute(build(), ROOT)
    NOTEBOOK.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, NOTEBOOK)
    print(f"wrote {NOTEBOOK.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
