"""The house: the import graph of the package has no circle, data flows one way between its
layers, no module takes a private name from another layer, and every module says in its
docstring what it is for."""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "simulator"

LAYERS = {
    "util": 0, "jit": 0, "model": 1, "laws": 1, "codes": 2, "plugins": 2, "montecarlo": 3,
    "io": 4, "execution": 5, "fitting": 5, "plots": 5, "api": 6, "cli": 7, "__main__": 8,
    "__init__": 9,
}
"""Each top-level module or folder of the package and its layer: a module imports, at its
top, only from its own layer or lower ones (data flows config -> codes and model -> engine
-> results -> plots; the library core and the command line on top)."""


def modules() -> dict[str, Path]:
    """Every module of the package by its dotted name (``ltsim.io.config``)."""
    found = {}
    for path in SOURCE.rglob("*.py"):
        parts = list(path.relative_to(SOURCE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(["ltsim", *parts])] = path
    return found


def imports(name: str, path: Path, top_only: bool) -> list[tuple[str, list[str]]]:
    """``(module imported, names taken)`` of each import of a module, at its top only or
    everywhere (functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    nodes = tree.body if top_only else list(ast.walk(tree))
    found = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names]
    return [(t, names) for t, names in found if t == "ltsim" or t.startswith("ltsim.")]


def resolve(target: str, names: list[str], known: dict[str, Path]) -> list[str]:
    """The modules an import reaches: ``from ltsim.io import config`` reaches
    ``ltsim.io.config``."""
    reached = [f"{target}.{n}" for n in names if f"{target}.{n}" in known]
    return reached or ([target] if target in known else [])


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS[parts[1] if len(parts) > 1 else "__init__"]


def test_the_import_graph_has_no_circle():
    known = modules()
    graph = {m: {r for t, names in imports(m, p, top_only=True)
                 for r in resolve(t, names, known) if r != m}
             for m, p in known.items()}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt):], nxt]
                raise AssertionError("import circle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_data_flows_down_the_layers_and_no_private_name_crosses_one():
    known = modules()
    upward, private = [], []
    for module, path in known.items():
        for target, names in imports(module, path, top_only=True):
            if target == "ltsim" and all(n.startswith("__") for n in names):
                continue  # the version, from the package's face
            for reached in resolve(target, names, known) or [target]:
                if layer(reached) > layer(module):
                    upward.append(f"{module} -> {reached}")
        for target, names in imports(module, path, top_only=False):
            if target.split(".")[:2] == module.split(".")[:2]:
                continue  # within one layer's folder
            private += [f"{module}: {target}.{n}" for n in names
                        if n.startswith("_") and not n.startswith("__")]
    assert not upward, upward
    assert not private, private


def test_every_module_says_what_it_is_for():
    missing = [m for m, p in modules().items()
               if not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))]
    assert not missing, missing


def test_a_remote_worker_unpickles_its_task_without_the_codes():
    """A dask or Lithops worker unpickles a task (its :class:`TaskSpec`, what it sums) and the
    scattered arrays: that imports the execution's task and worker modules, never ltsim's
    config, codes or compiled kernels (numba alone takes about half a second to import)."""
    import pickle
    import subprocess
    import sys

    import numpy as np

    from ltsim.execution.task import TaskSpec
    from ltsim.execution.workload import KernelData
    from ltsim.model.work import Work

    spec = TaskSpec("lt1", 0, 3, 0.1, None, (Work(np.arange(4)),), True, 5.0)
    data = KernelData(np.zeros((4, 2)), np.zeros(2), 1.0)
    blob = pickle.dumps((spec, data)).hex()
    probe = ("import pickle, sys\n"
             "import ltsim.execution.backends.dask, ltsim.execution.worker\n"
             f"spec, data = pickle.loads(bytes.fromhex({blob!r}))\n"
             "assert spec.units == 4 and data.a.shape == (4, 2)\n"
             "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
             "('numba', 'pydantic', 'scipy', 'pandas', 'distributed') or "
             "m.startswith(('ltsim.codes', 'ltsim.io', 'ltsim.montecarlo')))\n"
             "print(heavy)\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
