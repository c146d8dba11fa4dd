"""Smoke test of benchmarks/bench_simulator.py: its table, its docs block and its cheap
measurement functions at tiny sizes (the full benchmark is ``make bench``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_simulator.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_simulator", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_table_has_the_five_columns_and_statuses(bench):
    rows = [bench.Row("a", "1 ms", "≤ 2 ms", True), bench.Row("b", "3 ms", "≤ 2 ms", False),
            bench.Row("c | d", "x")]
    lines = bench.format_table(rows).splitlines()
    assert lines[0] == "| Measurement | Value | Target | Status | Notes |"
    assert lines[1] == "|---|---|---|---|---|"
    assert [line.split(" | ")[3] for line in lines[2:]] == ["PASS", "MISS", "—"]
    assert "c \\| d" in lines[4] and all(line.count(" | ") == 4 for line in lines[2:])
    assert bench.tally(rows) == "1 PASS, 1 MISS, 1 information rows"


def test_docs_block_is_replaced_between_the_markers(bench, tmp_path):
    page = tmp_path / "docs" / "performance.md"
    bench.write_docs("first table", page)  # created from the template
    bench.write_docs("second table", page)
    text = page.read_text()
    assert text.startswith("# Performance") and "first" not in text
    assert f"{bench.BEGIN}\nsecond table\n{bench.END}" in text
    with pytest.raises(ValueError):
        bench.replace_block("no markers here", "x")


@pytest.mark.slow
def test_lt_kernel_measurements_at_tiny_m(bench):
    seconds, symbols = bench.time_lt_trials(60, 1, 0.005, reps=3)
    assert len(seconds) == 3 and min(seconds) > 0
    assert all(60 <= s <= 120 for s in symbols)  # at least k, at most all symbols
    _, first = bench.time_lt_trials(60, 2, 0.005, reps=2, threshold=1)
    assert first == [1, 1]
    assert min(bench.heap_merge_seconds(60, 80, reps=2)) > 0
    peel, edges = bench.time_peel(60, graphs=2)
    assert min(peel) > 0 and edges >= 30
    assert bench.growth_exponent([10, 100, 1000], [1.0, 10.0, 100.0]) == pytest.approx(1.0)


def test_main_prints_the_machine_line_then_the_table(bench, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(bench, "measure_all", lambda quick: [bench.Row("m", "1 s", "≤ 2 s",
                                                                       True)])
    page = tmp_path / "performance.md"
    monkeypatch.setattr(bench, "DOCS", page)
    assert bench.main(["--quick", "--write-docs", "--out", str(tmp_path / "out.md")]) == 0
    out = capsys.readouterr().out
    first, table = out.split("\n\n")[:2]
    assert first.startswith("Machine: ") and "usable cores" in first
    for name in ("numpy", "numba", "scipy", "pandas", "dask", "distributed", "ltsim", "git"):
        assert f"{name} " in first
    assert "Command: `" in first and "--quick" in first
    assert table.splitlines()[2] == "| m | 1 s | ≤ 2 s | PASS |  |"
    assert (tmp_path / "out.md").read_text().strip() == out.strip()
    assert table in page.read_text()
