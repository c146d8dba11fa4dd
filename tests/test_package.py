"""The package: one import name, ``ltsim``, for the source folder ``simulator/``; every
subpackage listed in ``pyproject.toml``; nothing imports the same files a second time as
``simulator`` (two copies would mean two registries of codes and laws)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import tomllib

import ltsim

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {"ltsim" + ("." + ".".join(p.parent.relative_to(ROOT / "simulator").parts)
                        if p.parent != ROOT / "simulator" else "")
             for p in (ROOT / "simulator").rglob("__init__.py")}
    assert listed == found
    assert config["tool"]["setuptools"]["package-dir"] == {"ltsim": "simulator"}


def test_ltsim_is_the_source_folder_and_simulator_is_never_imported():
    assert Path(ltsim.__file__).resolve().parent == ROOT / "simulator"
    for module in pkgutil.walk_packages(ltsim.__path__, "ltsim."):
        if not module.name.endswith("__main__"):
            __import__(module.name)
    assert not [name for name in sys.modules if name.split(".")[0] == "simulator"]


def test_python_m_ltsim_runs_the_command_line():
    result = subprocess.run([sys.executable, "-m", "ltsim", "--version"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0 and result.stdout.startswith("ltsim, version")
