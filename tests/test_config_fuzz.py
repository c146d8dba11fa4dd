"""Random, mostly broken configs: ``ltsim run`` either succeeds and writes every result file,
or exits 2 with one ``ltsim: error:`` line and writes nothing. Never a traceback."""

from __future__ import annotations

import copy
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ltsim.api import budget as runner
from ltsim.cli import main

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BASE = yaml.safe_load((ROOT / "configs" / "exp02.yaml").read_text("utf-8"))
RESULT_FILES = {"latencies.csv", "summary.csv", "tail.csv", "config.yaml", "meta.json"}

# Values that are wrong somewhere, or right but extreme. No value here may make a run
# long or large: a huge m or trials must be refused by validation (or the memory check).
ODD_NUMBERS = [
    0, -1, 1, 2, 3, -0.5, 0.5, 1.0, 1.5, 0.999999, 1e-300, 1e300, 1.7e308,
    math.nan, math.inf, -math.inf, 10**13, 2**63, -(2**63), 10**400,
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-10, max_value=100),
    st.sampled_from(ODD_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", "one", "lt", "exponential", "empirical", "pareto", "symbol",
                     "1e-3", ".nan", "~", "data.csv", "/", "../x", "~nobody/x"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)
KNOWN_KEYS = ["name", "m", "workers", "tau", "trials", "seed", "delay", "schemes", "dist",
              "rate", "shift", "scale", "shape", "mu", "sigma", "value", "path", "kind",
              "label", "r", "symbols_per_worker", "c", "delta", "returns", "decoder",
              "threshold"]
new_keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.sampled_from(["trails", "detla", "rat"]),
                     st.text(max_size=8), st.integers(-3, 3), st.none())


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every location inside ``node`` (mapping keys and list indices), outermost first."""
    out = []
    items = node.items() if isinstance(node, dict) else (
        enumerate(node) if isinstance(node, list) else ())
    for key, value in items:
        out.append((*prefix, key))
        out.extend(paths(value, (*prefix, key)))
    return out


def containers(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Locations of the mappings and lists inside ``node``, itself included."""
    out = [prefix] if isinstance(node, (dict, list)) else []
    items = node.items() if isinstance(node, dict) else (
        enumerate(node) if isinstance(node, list) else ())
    for key, value in items:
        out.extend(containers(value, (*prefix, key)))
    return out


def at(node: Any, path: tuple) -> Any:
    for part in path:
        node = node[part]
    return node


@st.composite
def configs(draw) -> Any:
    data = copy.deepcopy(BASE)
    # mostly even (the base has r = 2 schemes), sometimes odd
    data["m"] = draw(st.sampled_from([4, 6, 8, 12, 16, 20, 24, 5, 9, 15, 21]))
    data["trials"] = draw(st.integers(1, 5))
    data["name"] = "fuzz"
    if draw(st.booleans()):
        data["delay"] = draw(st.sampled_from([
            {"dist": "pareto", "scale": 1.0, "shape": 1.5},
            {"dist": "weibull", "scale": 1.0, "shape": 0.5},
            {"dist": "lognormal", "mu": 0.0, "sigma": 1.0},
            {"dist": "shifted_exponential", "shift": 0.5, "rate": 2.0},
            {"dist": "constant", "value": 0.25},
            {"dist": "empirical", "path": "samples.csv"},
        ]))
    if draw(st.booleans()):
        lt = draw(st.sampled_from([s for s in data["schemes"] if s["kind"] == "lt"]))
        m = data["m"]  # a threshold of m fits both LT codes of the base (k = m, m / 2)
        lt["decoder"] = {"threshold": draw(st.sampled_from([m, m, m - 1, m + 1, 0]))}
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3]))):
        action = draw(st.sampled_from(["drop", "insert", "replace", "replace", "number"]))
        if action == "drop":
            where = paths(data)
            if where:
                path = draw(st.sampled_from(where))
                parent = at(data, path[:-1])
                del parent[path[-1]]
        elif action == "insert":
            path = draw(st.sampled_from(containers(data)))
            target = at(data, path)
            if isinstance(target, dict):
                target[draw(new_keys)] = draw(json_values)
            else:
                target.insert(draw(st.integers(0, len(target))), draw(json_values))
        else:
            where = paths(data)
            if not where:
                data = draw(json_values)
                continue
            path = draw(st.sampled_from(where))
            value = draw(json_values if action == "replace" else st.sampled_from(ODD_NUMBERS))
            at(data, path[:-1])[path[-1]] = value
    if draw(st.sampled_from(range(20))) == 7:
        data = draw(json_values)  # not a mapping at all, most of the time
    return data


@pytest.fixture(autouse=True)
def fixed_memory(monkeypatch):
    monkeypatch.setattr(runner, "available_memory", lambda: 4 * 2**30)


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(configs())
def test_random_config_runs_or_is_refused_in_one_line(data):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "samples.csv").write_text("delay\n0.5\n1.5\n0.25\n")
        path = folder / "config.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
                        encoding="utf-8")
        out = folder / "out"
        before = sorted(p.name for p in folder.iterdir())
        result = CliRunner().invoke(main, ["run", str(path), "-o", str(out), "--quiet",
                                           "--jobs", "1"])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"uncaught {result.exception!r} for\n{path.read_text()}"
        )
        assert "Traceback" not in result.stderr + result.stdout
        if result.exit_code == 0:
            assert RESULT_FILES <= {p.name for p in out.iterdir()}
        else:
            lines = result.stderr.splitlines()
            assert result.exit_code == 2, (result.exit_code, result.stderr)
            assert len(lines) == 1 and lines[0].startswith("ltsim: error: "), lines
            assert not out.exists()
            assert sorted(p.name for p in folder.iterdir()) == before
