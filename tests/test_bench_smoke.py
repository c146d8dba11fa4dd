"""Smoke test of benchmarks/bench_simulator.py: it imports and its decode measurement runs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_simulator.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_simulator", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_decode_measurement_and_table_at_tiny_m():
    bench = load_bench()
    d = bench.measure_decode(m=60, r=1, n_graphs=4, n_python=2)
    assert d["fast"] > 0 and d["py"] > 0
    assert 0.0 <= d["decoded"] <= 1.0
    o = bench.measure_oracle(m=60, n_graphs=1, budget=10.0)
    assert o["m"] == 60 and o["oracle"] > 0
    rows = [bench.Row("decode", "1 ms", "≤ 2 ms", True), bench.Row("info", "x")]
    table = bench.format_table(rows).splitlines()
    assert table[0].startswith("| Measurement |") and len(table) == 4
    assert "PASS" in table[2] and "| — |" in table[3]
