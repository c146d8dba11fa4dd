"""The example notebook runs, cell by cell, in a real Jupyter kernel, and the committed one
holds the cells of ``scripts/make_notebook.py`` (so the docs' notebook never goes stale)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("make_notebook", ROOT / "scripts" /
                                              "make_notebook.py")
make_notebook = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_notebook)


def test_the_committed_notebook_has_the_scripts_cells():
    committed = nbformat.read(make_notebook.NOTEBOOK, as_version=4)
    assert [c.source for c in committed.cells] == [text for _, text in make_notebook.CELLS]


@pytest.mark.slow
def test_the_notebook_runs_in_a_kernel(tmp_path):
    nb = make_notebook.execute(make_notebook.build(), tmp_path)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    text = "".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "best by mean" in text and "python: ltsim.simulate" in text
    assert any("image/png" in o.get("data", {}) for o in outputs)
